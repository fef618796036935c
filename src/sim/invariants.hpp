// The simulator's invariant checker: it replays the ledger as it grows into a shadow projection
// and checks every event, every execution and the store's rows against the hard constraints.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <wakeplane/ledger.hpp>
#include <wakeplane/model.hpp>

#include "sim_executor.hpp"

namespace wakeplane::sim {

/// A broken invariant: its name and what was seen.
struct violation {
    std::string invariant;
    std::string message;
};

/// The dispatcher settings the horizons depend on.
struct checker_limits {
    duration lease_ttl{};
    duration stop_grace{};
    /// The planner's lookahead: a pass plans every occurrence up to its instant plus this.
    duration lookahead{};
};

/// Checks, event by event (call order: observe() for the new ledger events of a step, then
/// observe_execution() for its executions, then the row and horizon checks):
/// - ledger: sequence numbers gapless from 1, the ledger only grows (prefix_digest());
/// - exactly once: never two executions of one (occurrence key, attempt);
/// - durable claim: each execution's run was running under its token in the store, and the
///   ledger holds the claim with that token;
/// - fencing and state machine: a claim raises the token by one, every later write of the run
///   carries the current token, nothing changes a terminal run;
/// - accounting: each planning pass for a schedule writes every nominal occurrence from its
///   next_run_at up to the pass exactly once (a row, a counted summary, or a row written
///   before), moves next_run_at to the next occurrence, and runs or skips the missed ones as
///   the misfire policy says; overlap decisions respect max_concurrency, `forbid` and
///   supersede only under `queue_latest`/`replace`;
/// - projection: the rows the ledger rebuilds equal the store's rows;
/// - horizon: no run stays claimed or running longer than its timeout + stop grace + lease TTL
///   (plus the time no dispatcher was up).
/// The first violation is kept; later ones are ignored.
class invariant_checker {
public:
    explicit invariant_checker(checker_limits limits) : limits_(limits) {}

    /// The next ledger events, oldest first (seq > last_seq()).
    void observe(std::span<const ledger_event> events);
    /// An execution that started.
    void observe_execution(const execution_record& e);
    /// Compares the rows touched since the last call with the store's, read through `run_of`
    /// and `schedule_of`. `all` compares every row the ledger ever wrote.
    void check_rows(const std::function<std::optional<run>(std::string_view)>& run_of,
                    const std::function<std::optional<schedule>(std::string_view)>& schedule_of, bool all = false);
    /// Checks that no claimed or running run is older than its horizon at `now`.
    void check_horizons(time_point now);
    /// Time during which no dispatcher could act (a crash's downtime, a forward clock step):
    /// horizons of runs active now are extended by it.
    void excuse(duration d) { excused_ += d; }

    /// Records a violation found elsewhere (the driver's probes).
    void fail(std::string invariant, std::string message);

    [[nodiscard]] const std::optional<violation>& failure() const noexcept { return failure_; }
    [[nodiscard]] std::int64_t last_seq() const noexcept { return last_seq_; }
    /// The digest of the events observed so far (seq 1..last_seq()), over their encoded form.
    [[nodiscard]] std::uint64_t digest() const noexcept { return digest_; }
    /// The digest of `events` as digest() computes it, to compare a reopened store's prefix.
    [[nodiscard]] static std::uint64_t digest_of(std::span<const ledger_event> events, std::uint64_t from = 0);
    /// The last events observed (at most 12), for failure reports.
    [[nodiscard]] const std::deque<ledger_event>& recent() const noexcept { return recent_; }
    /// The shadow row of a run (the ledger's view), for probes.
    [[nodiscard]] const run* shadow_run(const std::string& id) const;
    /// Claimed or running runs of a schedule in the shadow projection.
    [[nodiscard]] std::size_t active_runs(const std::string& schedule) const;
    /// Counters for the summary line.
    [[nodiscard]] std::size_t executions() const noexcept { return executed_.size(); }
    [[nodiscard]] std::size_t occurrences() const noexcept { return occurrence_rows_.size(); }
    /// Claims made before the run was eligible (a dispatcher's claim-ahead window).
    [[nodiscard]] std::size_t claims_ahead() const noexcept { return claims_ahead_; }

private:
    /// What one planning pass wrote for one schedule so far (rows and summary before its
    /// schedule_planned event).
    struct plan_batch {
        time_point at{};
        std::vector<run> rows;
        std::optional<skipped_summary> summary;
    };

    struct lease_clock {
        time_point claimed_at{};
        duration timeout{};
        duration excused_at_claim{};
    };

    void observe_one(const ledger_event& e);
    void on_run_change(const ledger_event& e, const run_change& change);
    void on_schedule(const ledger_event& e, const schedule& s);
    /// A planner pass moved next_run_at (a schedule_planned event or the pass's last run event).
    void on_planned(const ledger_event& e, const next_run_change& change);
    void check_plan(const schedule& before, const schedule& after, const plan_batch& batch, time_point at);
    void check_claim(const ledger_event& e, const run& prev, const run& row);
    void set_run(const run& row);

    checker_limits limits_;
    std::optional<violation> failure_;
    std::int64_t last_seq_ = 0;
    std::uint64_t digest_ = 0;
    std::deque<ledger_event> recent_;
    duration excused_{};

    std::map<schedule_id, schedule> schedules_;
    std::unordered_map<run_id, run> runs_;
    std::map<schedule_id, std::set<run_id>> active_;
    std::unordered_map<run_id, lease_clock> leases_;
    std::set<std::pair<run_id, std::int64_t>> claims_;
    std::map<std::pair<std::string, std::int64_t>, run_id> executed_;  ///< (occurrence key, attempt) → run
    std::set<std::string> occurrence_rows_;
    std::size_t claims_ahead_ = 0;
    std::map<schedule_id, plan_batch> batches_;
    std::set<run_id> touched_runs_;
    std::set<schedule_id> touched_schedules_;
};

}  // namespace wakeplane::sim
