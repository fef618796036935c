// Time travel for tests and embedders: drives a scheduler on a manual clock from wake-up to wake-up.
#pragma once

#include <cstddef>

#include <wakeplane/clock.hpp>
#include <wakeplane/result.hpp>
#include <wakeplane/time.hpp>

namespace wakeplane::testing {

/// Lets in-flight executions run until each has ended or sleeps on the manual clock (simulated
/// work waiting for simulated time). This is a wait on a condition, never on wall-clock time.
template <class Scheduler>
void settle(Scheduler& s) {
    s.clock().wait_until([&](std::size_t sleeping) { return s.dispatcher().running_threads() <= sleeping; });
}

/// Advances the scheduler's manual_clock to `until`, stopping at every wake-up on the way (an
/// occurrence falling due, a run becoming eligible, a timeout, a lease renewal or expiry, or
/// simulated work finishing) and stepping the planner and dispatcher there, as FoundationDB's
/// simulator jumps its clock from timer to timer. Returns the number of steps taken.
///
/// Example:
///     testing::run_until(sched, sched.clock().now() + std::chrono::hours{24 * 7});  // a week, in milliseconds
template <class Scheduler>
result<std::size_t> run_until(Scheduler& s, time_point until, std::size_t max_steps = 10'000'000) {
    auto& clock = s.clock();
    std::size_t steps = 0;
    for (;;) {
        if (++steps > max_steps) {
            return fail(errc::internal, "run_until: more than " + std::to_string(max_steps) + " steps");
        }
        if (auto r = s.step(); !r) {
            return tl::unexpected(r.error());
        }
        settle(s);
        auto wake = s.next_wakeup();
        if (!wake) {
            return tl::unexpected(wake.error());
        }
        std::optional<time_point> next = *wake;
        if (auto sleeper = clock.earliest_sleeper(); sleeper && (!next || *sleeper < *next)) {
            next = sleeper;
        }
        const auto now = clock.now();
        if (next && *next <= now) {
            continue;  // more work at this same instant (an execution ended)
        }
        if (now >= until) {
            return steps;
        }
        clock.set(next && *next < until ? *next : until);
    }
}

}  // namespace wakeplane::testing
