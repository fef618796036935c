// Small builders shared by the tests: instants, schedules and runs with sensible defaults.
#pragma once

#include <string>
#include <string_view>

#include <wakeplane/ids.hpp>
#include <wakeplane/model.hpp>
#include <wakeplane/time.hpp>

namespace wakeplane::testing {

/// An instant from RFC 3339 text; a typo in a test fails loudly.
inline time_point at(std::string_view text) {
    auto t = parse_rfc3339(text);
    if (!t) {
        throw std::invalid_argument(t.error().message);
    }
    return *t;
}

/// A valid, enabled interval schedule with the defaults applied.
inline schedule interval_schedule(std::string id, std::string name, time_point created, std::int64_t every_seconds = 60) {
    schedule s;
    s.id = std::move(id);
    s.name = std::move(name);
    s.enabled = true;
    s.timezone = "UTC";
    s.spec.kind = "interval";
    s.spec.every_seconds = every_seconds;
    s.spec.anchor_at = created;
    s.target.kind = "workflow";
    s.target.workflow_id = "noop";
    s.policy = {"forbid", "run_once_if_late", 300, 1, 60, 100, 0};
    s.retry = {0, "exponential", 30, 900};
    s.next_run_at = created;
    s.created_at = created;
    s.updated_at = created;
    return s;
}

/// A pending scheduled run of `s` for `nominal`.
inline run pending_run(const schedule& s, std::string id, time_point nominal, time_point created) {
    run r;
    r.id = std::move(id);
    r.schedule = s.id;
    r.occurrence_key = occurrence_key(s.id, nominal);
    r.nominal_time = nominal;
    r.due_time = nominal;
    r.status = run_status::pending;
    r.attempt = 1;
    r.created_at = created;
    r.updated_at = created;
    return r;
}

}  // namespace wakeplane::testing
