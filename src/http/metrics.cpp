// /v1/metrics: the Prometheus text exposition format 0.0.4 (DECISIONS 29). The original's twelve
// metrics come first, in its order, with its three mis-named gauges renamed; then the families
// this process measures itself (from the ledger, see observations.hpp).
#include <chrono>

#include "internal.hpp"

namespace wakeplane::http::detail {
namespace {

/// Writes metric families: every family has `# HELP` and `# TYPE`, its samples follow it.
class exposition {
public:
    void family(std::string_view name, std::string_view type, std::string_view help) {
        out_ += "# HELP ";
        out_ += name;
        out_ += ' ';
        out_ += help;
        out_ += "\n# TYPE ";
        out_ += name;
        out_ += ' ';
        out_ += type;
        out_ += '\n';
    }

    /// One sample; `labels` is `{a="b",...}` or empty.
    void sample(std::string_view name, std::string_view labels, std::string_view value) {
        out_ += name;
        out_ += labels;
        out_ += ' ';
        out_ += value;
        out_ += '\n';
    }

    void gauge(std::string_view name, std::string_view help, std::int64_t value) {
        family(name, "gauge", help);
        sample(name, "", std::to_string(value));
    }

    void counter(std::string_view name, std::string_view help, std::int64_t value) {
        family(name, "counter", help);
        sample(name, "", std::to_string(value));
    }

    /// The samples of one histogram: cumulative `_bucket`s up to `+Inf`, `_sum`, `_count`.
    /// `labels` are the series' own labels without braces (`executor="shell"`), or empty.
    void histogram_samples(std::string_view name, const std::string& labels, const histogram& h) {
        const std::string sep = labels.empty() ? "" : ",";
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i <= h.bounds.size(); ++i) {
            cumulative += h.counts[i];
            const std::string le = i < h.bounds.size() ? format_decimal(h.bounds[i]) : std::string{"+Inf"};
            sample(std::string(name) + "_bucket", "{" + labels + sep + "le=\"" + le + "\"}", std::to_string(cumulative));
        }
        const std::string own = labels.empty() ? "" : "{" + labels + "}";
        sample(std::string(name) + "_sum", own, format_decimal(h.sum));
        sample(std::string(name) + "_count", own, std::to_string(h.count));
    }

    [[nodiscard]] std::string done() { return std::move(out_); }

private:
    std::string out_;
};

/// A label value with `\`, `"` and newlines escaped.
std::string label_value(std::string_view v) {
    std::string out;
    for (const char c : v) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::int64_t count_of(const store_counts& c, run_status s) { return c.by_status[static_cast<std::size_t>(s)]; }

/// The original's twelve, from the store (they survive restarts).
void store_families(exposition& x, const store_counts& c, const service_status& st) {
    x.gauge("schedules", "Live schedules (deleted ones excluded).", c.schedules);
    x.gauge("schedules_enabled", "Live schedules that are enabled.", c.schedules_enabled);
    x.counter("runs_total", "Run rows: every attempt of every occurrence.", c.runs);
    x.gauge("runs_due", "Waiting runs that are eligible now.", c.runs_due);
    x.gauge("runs_running", "Runs executing now, on any worker.", count_of(c, run_status::running));
    x.counter("runs_failed_total", "Attempts that failed and were retried.", count_of(c, run_status::failed));
    x.counter("runs_succeeded_total", "Runs that succeeded.", count_of(c, run_status::succeeded));
    x.gauge("runs_retry_queued", "Retry attempts waiting for their time.", count_of(c, run_status::retry_scheduled));
    x.counter("dead_letters_total", "Dead letters written.", c.dead_letters);
    x.gauge("worker_leases_active", "Runs held by a lease (claimed or running).", c.leases_active);
    x.gauge("claimed_but_expired", "Leased runs whose lease has expired.", c.claimed_but_expired);
    const std::int64_t tick =
        st.last_tick_at ? std::chrono::duration_cast<std::chrono::seconds>(st.last_tick_at->time_since_epoch()).count() : 0;
    x.gauge("scheduler_last_tick_unix", "Unix time of this process's last planner pass; 0 before the first.", tick);
}

/// What this process measured since it started, by executor in name order.
void process_families(exposition& x, const service_status& st) {
    x.family("executor_runs_total", "counter", "Attempts this process saw finish, by executor and final status.");
    for (const auto& [key, n] : st.runs.finished) {
        x.sample("executor_runs_total",
                 "{executor=\"" + label_value(key.first) + "\",status=\"" + label_value(key.second) + "\"}",
                 std::to_string(n));
    }
    x.family("executor_execution_duration_seconds", "histogram",
             "Start to finish of attempts this process saw finish, by executor.");
    for (const auto& [executor, h] : st.runs.duration_by_executor) {
        x.histogram_samples("executor_execution_duration_seconds", "executor=\"" + label_value(executor) + "\"", h);
    }
    x.family("firing_lateness_seconds", "histogram", "Nominal time to start of first attempts started by any worker.");
    x.histogram_samples("firing_lateness_seconds", "", st.runs.lateness);
    x.gauge("workers_active", "Executions in flight in this process.", static_cast<std::int64_t>(st.active));
}

}  // namespace

response metrics(const call& c) {
    auto counts = c.ctl.counts(c.ctl.now());
    if (!counts) {
        return error_response(counts.error());
    }
    const service_status st = c.ctl.status();
    exposition x;
    store_families(x, *counts, st);
    process_families(x, st);
    response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = x.done();
    return r;
}

}  // namespace wakeplane::http::detail
