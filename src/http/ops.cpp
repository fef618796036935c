// Operational routes: /healthz, /readyz and /v1/status (ORIGINAL-BEHAVIOR §7.2-7.3, DECISIONS 27).
#include <chrono>

#include <wakeplane/codec.hpp>

#include "internal.hpp"

namespace wakeplane::http::detail {
namespace {

/// `"2026-03-12T10:00:00Z"`: /v1/status reports instants in whole seconds, as the original does.
std::string seconds_text(time_point t) { return encode_json_string(format_rfc3339_seconds(t)); }

std::int64_t count_of(const store_counts& c, run_status s) { return c.by_status[static_cast<std::size_t>(s)]; }

/// `scheduler`: the original's keys, next_due_* omitted when nothing waits.
std::string scheduler_object(const service_status& st, const store_counts& counts, const std::optional<run>& next) {
    object_writer w;
    w.number("loop_interval_seconds", std::chrono::duration_cast<std::chrono::seconds>(st.planner_interval).count());
    w.raw("last_tick_at", st.last_tick_at ? seconds_text(*st.last_tick_at) : std::string{"\"\""});
    w.number("due_runs", counts.runs_due);
    if (next) {
        const auto at = next->status == run_status::retry_scheduled && next->retry_available_at ? *next->retry_available_at
                                                                                                : next->due_time;
        w.text("next_due_schedule_id", next->schedule);
        w.raw("next_due_run_at", seconds_text(at));
    }
    return w.done();
}

/// `lateness`: our addition, the latest first attempts to start, newest first.
std::string lateness_object(const run_observations& runs) {
    std::string recent = "[";
    for (const auto& s : runs.recent) {
        recent += recent.size() > 1 ? "," : "";
        recent += object_writer{}
                      .text("run_id", s.run)
                      .text("schedule_id", s.schedule)
                      .time("nominal_time", s.nominal_time)
                      .time("started_at", s.started_at)
                      .decimal("seconds", s.lateness_seconds)
                      .done();
    }
    recent += ']';
    return object_writer{}.number("observed", static_cast<std::int64_t>(runs.lateness.count)).raw("recent", recent).done();
}

}  // namespace

response healthz(const call&) { return json_response(200, R"({"ok":true})"); }

response readyz(const call& c) {
    if (auto ok = c.ctl.ping(); !ok) {
        return json_response(503, R"({"ok":false,"storage":"error"})");
    }
    return json_response(200, R"({"ok":true,"storage":"ok"})");
}

response status(const call& c) {
    auto counts = c.ctl.counts(c.ctl.now());
    if (!counts) {
        return error_response(counts.error());
    }
    auto next = c.ctl.next_waiting_run();
    if (!next) {
        return error_response(next.error());
    }
    const service_status st = c.ctl.status();
    object_writer w;
    w.text("service", "wakeplane").text("version", c.options.version).raw("started_at", seconds_text(st.started_at));
    w.raw("database",
          object_writer{}.text("driver", c.options.database_driver).text("path", c.options.database_path).done());
    w.raw("scheduler", scheduler_object(st, *counts, *next));
    w.raw("workers", object_writer{}
                         .number("active", static_cast<std::int64_t>(st.active))
                         .number("claimed_but_expired", counts->claimed_but_expired)
                         .text("worker_id", st.worker_id)
                         .done());
    w.raw("runs", object_writer{}
                      .number("running", count_of(*counts, run_status::running))
                      .number("failed", count_of(*counts, run_status::failed))
                      .number("retry_queued", count_of(*counts, run_status::retry_scheduled))
                      .number("dead_letter", counts->dead_letters)
                      .done());
    w.raw("lateness", lateness_object(st.runs));
    return json_response(200, w.done());
}

}  // namespace wakeplane::http::detail
