// Planner output built by hand, for store tests that write a pass without a planner.
#pragma once

#include <string>

#include <wakeplane/store.hpp>

#include "../support.hpp"

namespace wakeplane::testing {

/// A plan that materializes one pending run of `s` at its next_run_at, created `now`, and
/// moves next_run_at on by `every`.
inline schedule_plan plan_one(const schedule& s, const std::string& run_id, duration every, time_point now) {
    schedule_plan p;
    p.schedule = s.id;
    p.expected_next_run_at = s.next_run_at;
    p.next_run_at = *s.next_run_at + every;
    p.runs.push_back(pending_run(s, run_id, *s.next_run_at, now));
    return p;
}

}  // namespace wakeplane::testing
