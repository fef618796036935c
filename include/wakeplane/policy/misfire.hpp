// Misfire policies: which missed occurrences of a schedule still run after an outage.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>

#include <wakeplane/model.hpp>
#include <wakeplane/time.hpp>

namespace wakeplane {

/// Nominal instants that fell due while nobody was planning (DECISIONS 8: seen later than the
/// grace window), oldest first.
using missed = std::span<const time_point>;

/// A misfire policy picks the subspan of the missed occurrences to run; the planner records the
/// rest as skipped with the policy's name as the reason. Pure and noexcept: no clock, no I/O.
template <class P>
concept misfire_policy = std::semiregular<P> && requires(const P& p, missed m) {
    { P::name } -> std::convertible_to<std::string_view>;
    { p.select(m) } noexcept -> std::same_as<missed>;
};

namespace misfire {

/// Nothing missed runs; the cadence resumes at the next punctual occurrence.
struct skip {
    static constexpr std::string_view name = "skip";
    [[nodiscard]] missed select(missed m) const noexcept { return m.first(0); }
};

/// One run stands in for the whole gap: the newest missed occurrence.
struct run_once_if_late {
    static constexpr std::string_view name = "run_once_if_late";
    [[nodiscard]] missed select(missed m) const noexcept { return m.empty() ? m : m.last(1); }
};

/// Replays the gap, at most the newest `limit` occurrences, oldest first (DECISIONS 9).
struct catch_up {
    static constexpr std::string_view name = "catch_up";
    std::size_t limit = 100;  // a year of minutely runs is never what anyone wants

    /// Takes `policy.catch_up_limit` from the schedule.
    [[nodiscard]] static catch_up from(const policy_spec& p) noexcept {
        return catch_up{p.catch_up_limit > 0 ? static_cast<std::size_t>(p.catch_up_limit) : 100};
    }
    [[nodiscard]] missed select(missed m) const noexcept { return m.last(std::min(m.size(), limit)); }
    friend bool operator==(const catch_up&, const catch_up&) = default;
};

}  // namespace misfire
}  // namespace wakeplane
