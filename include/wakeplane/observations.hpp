// What a hosted scheduler reports to operators: firing lateness and execution durations, learned
// by reading the ledger (every figure comes from what was durably recorded), and the service status.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <wakeplane/ledger.hpp>
#include <wakeplane/model.hpp>
#include <wakeplane/time.hpp>

namespace wakeplane {

/// A histogram with fixed upper bounds, as Prometheus exposes one: per-bucket counts (the last
/// bucket is +Inf), a sum and a count.
struct histogram {
    std::vector<double> bounds;         ///< upper bounds, ascending; +Inf is implicit
    std::vector<std::uint64_t> counts;  ///< one per bound, then one for +Inf; not cumulative
    double sum = 0;
    std::uint64_t count = 0;

    explicit histogram(std::vector<double> upper_bounds = {})
        : bounds(std::move(upper_bounds)), counts(bounds.size() + 1, 0) {}

    /// Counts `value` in the first bucket whose bound is >= value.
    void observe(double value) {
        const auto it = std::lower_bound(bounds.begin(), bounds.end(), value);
        ++counts[static_cast<std::size_t>(it - bounds.begin())];
        sum += value;
        ++count;
    }
};

/// One started run, as /v1/status lists the latest ones.
struct run_start {
    run_id run;
    schedule_id schedule;
    time_point nominal_time{};
    time_point started_at{};
    double lateness_seconds = 0;  ///< started_at - nominal_time
};

/// What a host process has seen of its runs since it started.
///
/// - Firing lateness is nominal time → start, for first attempts only: a retry starts late on
///   purpose (its backoff), so counting it would hide the figure that matters, how late the
///   scheduler fires. A jittered occurrence counts its jitter (it is late by design, but late).
/// - Execution duration is start → finish of every attempt that started, by executor (the
///   schedule's target kind), whatever its outcome.
/// - Finished attempts are counted by executor and final status.
struct run_observations {
    /// Seconds; buckets from 5 ms (a punctual loop) to 10 min (an outage caught up).
    static std::vector<double> lateness_bounds() {
        return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600};
    }
    /// Seconds; buckets from 10 ms (a fast HTTP call) to 1 h (a nightly batch).
    static std::vector<double> duration_bounds() {
        return {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600};
    }
    /// How many run starts /v1/status lists.
    static constexpr std::size_t recent_limit = 10;

    histogram lateness{lateness_bounds()};
    std::map<std::string, histogram> duration_by_executor;
    std::map<std::pair<std::string, std::string>, std::uint64_t> finished;  ///< (executor, status) → count
    std::deque<run_start> recent;  ///< newest first, at most recent_limit
    std::int64_t last_seq = 0;     ///< the last ledger entry consumed
};

/// Folds ledger events into run_observations. Not thread-safe: its owner serializes calls.
class run_observer {
public:
    /// Finds the target kind of a schedule that no consumed event described (one created before
    /// the observer started); "" when unknown.
    using kind_lookup = std::function<std::string(const schedule_id&)>;

    explicit run_observer(std::int64_t after_seq = 0) { data_.last_seq = after_seq; }

    /// Consumes `events` (seq order, each after the last one consumed).
    void consume(std::span<const ledger_event> events, const kind_lookup& lookup) {
        for (const auto& e : events) {
            if (e.seq <= data_.last_seq) {
                continue;
            }
            data_.last_seq = e.seq;
            if (const auto* s = std::get_if<schedule>(&e.payload)) {
                remember_kind(s->id, s->target.kind);
            } else if (const auto* change = std::get_if<run_change>(&e.payload)) {
                consume_run(e.kind, change->row, lookup);
            }
        }
    }

    [[nodiscard]] const run_observations& data() const noexcept { return data_; }

private:
    void consume_run(event_kind kind, const run& r, const kind_lookup& lookup) {
        if (kind == event_kind::run_started && r.started_at && r.attempt == 1) {
            const double late = seconds_between(r.nominal_time, *r.started_at);
            data_.lateness.observe(std::max(0.0, late));
            data_.recent.push_front(run_start{r.id, r.schedule, r.nominal_time, *r.started_at, late});
            if (data_.recent.size() > run_observations::recent_limit) {
                data_.recent.pop_back();
            }
            return;
        }
        const bool ends = kind == event_kind::run_finished || kind == event_kind::lease_recovered;
        if (!ends || !is_terminal(r.status) || !r.started_at || !r.finished_at) {
            return;  // a waiting run cancelled or a claim put back: nothing executed
        }
        const std::string executor = kind_of(r.schedule, lookup);
        auto [it, added] = data_.duration_by_executor.try_emplace(executor, run_observations::duration_bounds());
        it->second.observe(std::max(0.0, seconds_between(*r.started_at, *r.finished_at)));
        ++data_.finished[{executor, std::string(to_string(r.status))}];
    }

    std::string kind_of(const schedule_id& id, const kind_lookup& lookup) {
        if (auto it = kinds_.find(id); it != kinds_.end()) {
            return it->second;
        }
        std::string kind = lookup ? lookup(id) : std::string{};
        if (kind.empty()) {
            kind = "unknown";
        }
        remember_kind(id, kind);
        return kind;
    }

    void remember_kind(const schedule_id& id, const std::string& kind) {
        if (kinds_.size() >= max_remembered) {  // a cache: forgetting only costs a lookup
            kinds_.clear();
        }
        kinds_[id] = kind;
    }

    static double seconds_between(time_point from, time_point to) {
        return std::chrono::duration<double>(to - from).count();
    }

    static constexpr std::size_t max_remembered = 100'000;

    run_observations data_;
    std::map<schedule_id, std::string> kinds_;
};

/// What a service (service.hpp) reports about itself: /v1/status and /v1/metrics.
struct service_status {
    time_point started_at{};
    std::optional<time_point> last_tick_at;  ///< the last planner pass; nullopt before the first
    std::string worker_id;
    duration planner_interval{};             ///< the planner's safety tick
    std::size_t active = 0;                  ///< executions in flight in this process
    run_observations runs;
};

}  // namespace wakeplane
