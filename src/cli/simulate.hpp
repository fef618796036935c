// `wakeplane simulate`: what the scheduler would do around an outage or an edit, offline.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <wakeplane/model.hpp>
#include <wakeplane/result.hpp>
#include <wakeplane/time.hpp>

namespace wakeplane::cli {

/// A span of time [from, to), as `--outage` gives it.
struct time_window {
    time_point from{};
    time_point to{};
};

/// `--edit <manifest>@<instant>`: the manifest replaces the schedule at that instant, as a PUT would.
struct timed_edit {
    std::filesystem::path manifest;
    time_point at{};
};

/// What `wakeplane simulate` was asked. Unset bounds take the defaults of default_bounds().
struct simulate_request {
    std::filesystem::path manifest;
    std::optional<time_window> outage;          ///< the scheduler is down during [from, to)
    std::vector<timed_edit> edits;              ///< applied in order of their instants
    std::optional<time_point> from;             ///< start of the simulation (the schedule is created then)
    std::optional<time_point> to;               ///< end of the simulation
    duration work{0};                           ///< how long every execution takes, in simulated time
};

/// `[from, to]` of a request: given bounds as they are; otherwise one day before the first
/// disturbance (outage start or edit) and one day after the last one (outage end or edit).
/// Without a disturbance both bounds must be given (check_request).
[[nodiscard]] time_window default_bounds(const simulate_request& req);

/// Checks a request before anything runs: an outage with to > from, a window with to > from,
/// disturbances inside the window, no edit inside the outage (the API is down too). Errors name the flag.
[[nodiscard]] result<void> check_request(const simulate_request& req);

/// What became of one nominal occurrence, read from what the store recorded. A summary line
/// (occurrences folded into one ledger event past catch_up_limit) covers `count` occurrences
/// from `nominal` to `last`.
struct occurrence_account {
    enum class fate {
        ran,        ///< its last attempt succeeded
        failed,     ///< its last attempt failed or was dead-lettered (error in `reason`)
        cancelled,  ///< cancelled, e.g. replaced by a newer occurrence (reason in `reason`)
        skipped,    ///< the planner recorded it skipped (reason in `reason`)
        coalesced,  ///< superseded by a newer waiting occurrence (`into`)
        summarized, ///< skipped, counted in an occurrences_skipped_summary event
        open,       ///< still pending, waiting for a retry or running when the simulation ended
    };
    time_point nominal{};
    fate what = fate::open;
    std::optional<time_point> planned_at;    ///< when the planner wrote its run row
    std::optional<time_point> due;           ///< nominal time plus jitter
    std::optional<time_point> started_at;    ///< start of its last attempt
    std::optional<time_point> finished_at;   ///< end of its last attempt
    std::int64_t attempts = 0;
    std::string reason;                      ///< the recorded error_text or skip reason
    std::string earlier_error;               ///< the error of the attempt before the last one
    std::optional<time_point> into;          ///< coalesced: the occurrence that took its place
    std::int64_t count = 1;                  ///< summarized: how many occurrences
    std::optional<time_point> last;          ///< summarized: the newest of them
    run_status status = run_status::pending; ///< of its last attempt
    policy_spec policy;                      ///< the schedule's policies when it was planned
};

/// The outcome of a simulation.
struct simulation_account {
    schedule initial;                         ///< the schedule as created, defaults applied
    std::vector<schedule> edited;             ///< the schedule after each edit
    time_window window;                       ///< what was simulated
    std::vector<occurrence_account> occurrences;  ///< by nominal time
};

/// Runs the real scheduler (planner and dispatcher) over a memory store on a manual clock from
/// `from` to `to`: the manifest is created at `from`; at the outage start the scheduler process
/// stops (in-flight executions are abandoned, as in a crash) and a new one starts on the same
/// store at the outage end; each edit goes through scheduler::replace_schedule(). Every
/// execution succeeds after `req.work` of simulated time (a timeout shorter than that fails it).
/// The account is read back from the ledger. Errors: an invalid manifest or request, naming
/// the field or flag.
[[nodiscard]] result<simulation_account> simulate(const simulate_request& req);

/// The occurrences worth showing: with both bounds defaulted, the three before the first
/// disturbance, every one during the disturbances and the three after the last one; with a
/// bound given, every one in the window.
[[nodiscard]] std::vector<occurrence_account> shown_occurrences(const simulate_request& req,
                                                                const simulation_account& account);

/// The human-readable report: a header (schedule, policies, outage, edits, window), one line
/// per occurrence (`2026-03-12T10:00:00Z  ran at 2026-03-12T10:00:00Z (on time)`), a summary count.
[[nodiscard]] std::string format_report(const simulate_request& req, const simulation_account& account);

/// JSON Lines: one object per shown occurrence, oldest first.
[[nodiscard]] std::string format_json_lines(const simulate_request& req, const simulation_account& account);

}  // namespace wakeplane::cli
