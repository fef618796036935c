// Overlap policies: what happens to a waiting run while other runs of its schedule are active.
#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>

namespace wakeplane {

/// What the dispatcher knows when it considers one waiting run (pending and due, or a retry
/// that is available) of a schedule.
struct overlap_state {
    std::int64_t active = 0;           ///< runs of the schedule claimed or running, by any worker
    std::int64_t max_concurrency = 1;  ///< the schedule's policy.max_concurrency (>= 1)
    bool newest_waiting = true;        ///< no newer occurrence of the schedule is waiting
    bool retry = false;                ///< the run is a retry attempt (attempt > 1)
};

/// The decision for that run.
enum class overlap_action {
    claim,          ///< claim it now
    wait,           ///< leave it pending; decide again when a slot frees
    supersede,      ///< record it as superseded by a newer occurrence; it never runs
    cancel_active,  ///< cancel the schedule's active runs, then claim this one once they exit
};

/// An overlap policy decides for one waiting run. Pure and noexcept: no clock, no I/O.
/// DECISIONS 13: `forbid` never skips, `allow` runs up to max_concurrency, `queue_latest` keeps
/// only the newest waiting occurrence, `replace` cancels active runs even at max_concurrency 1.
/// A retry attempt is never superseded: it is the same occurrence, not an older one.
template <class P>
concept overlap_policy = std::semiregular<P> && requires(const P& p, overlap_state s) {
    { P::name } -> std::convertible_to<std::string_view>;
    { p.decide(s) } noexcept -> std::same_as<overlap_action>;
};

namespace overlap {

/// Runs alongside active runs, up to max_concurrency.
struct allow {
    static constexpr std::string_view name = "allow";
    [[nodiscard]] overlap_action decide(overlap_state s) const noexcept {
        return s.active < s.max_concurrency ? overlap_action::claim : overlap_action::wait;
    }
};

/// Never overlaps and never drops anything: waits until no run of the schedule is active.
struct forbid {
    static constexpr std::string_view name = "forbid";
    [[nodiscard]] overlap_action decide(overlap_state s) const noexcept {
        return s.active == 0 ? overlap_action::claim : overlap_action::wait;
    }
};

/// Runs up to max_concurrency; of the runs that have to wait, only the newest occurrence is
/// kept, the older ones are superseded.
struct queue_latest {
    static constexpr std::string_view name = "queue_latest";
    [[nodiscard]] overlap_action decide(overlap_state s) const noexcept {
        if (s.active < s.max_concurrency) {
            return overlap_action::claim;
        }
        return s.newest_waiting || s.retry ? overlap_action::wait : overlap_action::supersede;
    }
};

/// The newest occurrence wins: at capacity it cancels the active runs and starts as soon as
/// they exit; older waiting occurrences are superseded.
struct replace {
    static constexpr std::string_view name = "replace";
    [[nodiscard]] overlap_action decide(overlap_state s) const noexcept {
        if (s.active < s.max_concurrency) {
            return overlap_action::claim;
        }
        if (s.newest_waiting) {
            return overlap_action::cancel_active;
        }
        return s.retry ? overlap_action::wait : overlap_action::supersede;
    }
};

}  // namespace overlap
}  // namespace wakeplane
