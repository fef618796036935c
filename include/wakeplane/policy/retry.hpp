// Retry policies: whether and when a failed attempt is tried again.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string_view>

#include <wakeplane/model.hpp>
#include <wakeplane/time.hpp>

namespace wakeplane {

/// A retry policy tells, for the attempt that just failed (1 for the first), the delay before
/// the next attempt, or nullopt when there is none and the run is dead-lettered.
/// Pure and noexcept: no clock, no I/O.
template <class P>
concept retry_policy = std::semiregular<P> && requires(const P& p, std::int64_t failed_attempt) {
    { P::name } -> std::convertible_to<std::string_view>;
    { p.delay_after(failed_attempt) } noexcept -> std::same_as<std::optional<duration>>;
};

namespace retry {

/// Never retries.
struct none {
    static constexpr std::string_view name = "none";
    [[nodiscard]] std::optional<duration> delay_after(std::int64_t /*failed_attempt*/) const noexcept {
        return std::nullopt;
    }
};

/// delay = min(initial × 2^(attempt−1), max) while attempt < max_attempts; `max_attempts`
/// counts every attempt, the first included, so 0 and 1 mean no retry.
/// With initial 30 s and max 900 s: 30, 60, 120, 240, 480, 900, 900, …
struct exponential {
    static constexpr std::string_view name = "exponential";
    std::int64_t max_attempts = 0;
    std::chrono::seconds initial{30};
    std::chrono::seconds max{900};

    [[nodiscard]] static exponential from(const retry_spec& r) noexcept {
        return exponential{r.max_attempts, std::chrono::seconds{r.initial_delay_seconds > 0 ? r.initial_delay_seconds : 30},
                           std::chrono::seconds{r.max_delay_seconds > 0 ? r.max_delay_seconds : 900}};
    }

    [[nodiscard]] std::optional<duration> delay_after(std::int64_t failed_attempt) const noexcept {
        if (failed_attempt < 1 || failed_attempt >= max_attempts) {
            return std::nullopt;
        }
        auto delay = initial;
        // Doubling stops at the cap, so large attempt numbers cannot overflow.
        for (std::int64_t k = 1; k < failed_attempt && delay < max; ++k) {
            delay *= 2;
        }
        return std::chrono::duration_cast<duration>(delay < max ? delay : max);
    }
    friend bool operator==(const exponential&, const exponential&) = default;
};

}  // namespace retry
}  // namespace wakeplane
