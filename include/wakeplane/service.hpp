// wakeplane::service<Scheduler>: hosts a scheduler in a process — one loop thread that sleeps
// until the scheduler's next wake-up, early wake-ups, graceful drain, and what operators see.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>

#include <wakeplane/ledger.hpp>
#include <wakeplane/log.hpp>
#include <wakeplane/observations.hpp>
#include <wakeplane/result.hpp>
#include <wakeplane/scheduler.hpp>
#include <wakeplane/store.hpp>
#include <wakeplane/time.hpp>

namespace wakeplane {

/// Tuning of a service.
struct service_options {
    /// The planner's safety tick: the longest the loop sleeps without planning, whatever
    /// next_wakeup() says (a schedule written by another process is seen within it).
    duration planner_interval = std::chrono::seconds{5};
    /// The dispatcher's safety tick (runs queued by another process are seen within it).
    duration dispatcher_interval = std::chrono::seconds{2};
    /// Real time a drain may overrun its deadline while stopped executions exit (the
    /// dispatcher abandons them after its stop grace, so this is only a last resort).
    duration drain_overrun = std::chrono::seconds{15};
};

/// Hosts a scheduler: a loop thread calls plan() and dispatch() and then sleeps until the
/// scheduler's next wake-up, capped by the safety tick (min of the two intervals). It is woken
/// early when an execution ends (the dispatcher's on_wake) and by wake(), which hosts call after
/// writes that create work (an API create, update, resume, trigger or cancel). The loop is the
/// only thread that steps the scheduler; step(), exclusive() and shutdown() share its mutex, so
/// the dispatcher's single-thread calls (cancel(), active()) are safe from any thread.
///
/// Thread safety: every member may be called from any thread.
///
/// Example:
///     wakeplane::service<my_scheduler> svc{sched, {}, log};
///     svc.start();
///     ...                                  // serve the API; call svc.wake() after writes
///     svc.shutdown(std::chrono::seconds{30});   // SIGTERM: drain, then stop the loop
template <class Scheduler>
class service {
public:
    /// Hosts `sched`, which must outlive the service; the loop starts with start(). Events go
    /// to `log` (the lifecycle messages of docs/operations.md).
    service(Scheduler& sched, service_options options = {}, logger log = {})
        : sched_(&sched), options_(options), log_(std::move(log)), started_at_(sched.clock().now()),
          observer_(initial_seq(sched)) {
        sched_->dispatcher().on_wake([this] { wake(); });
    }

    service(const service&) = delete;
    service& operator=(const service&) = delete;

    /// Stops the loop without draining (shutdown() drains) and detaches from the dispatcher.
    ~service() {
        stop_loop();
        sched_->dispatcher().on_wake(nullptr);
    }

    /// The hosted scheduler. Its thread-safe operations (create, pause, trigger, store reads...)
    /// may be called directly; step it only through this service.
    [[nodiscard]] Scheduler& scheduler() noexcept { return *sched_; }

    /// Starts the loop thread (once).
    void start() {
        std::lock_guard lock{thread_mutex_};
        if (!thread_.joinable()) {
            thread_ = std::thread([this] { run_loop(); });
        }
    }

    /// Makes the loop pass again at once (or as soon as its current pass ends).
    void wake() {
        std::lock_guard lock{wake_mutex_};
        woken_ = true;
        wake_source_.request_stop();
    }

    /// One pass on the caller's thread (dispatch, plan unless draining, dispatch what it made due), serialized with the
    /// loop. Hosts without a loop thread (tests on a manual clock) drive the scheduler with it.
    result<step_report> step() {
        auto out = pass().report;
        observe();
        return out;
    }

    /// Calls `f(scheduler)` serialized with the loop: for the dispatcher's single-thread
    /// operations such as cancel().
    template <class F>
    decltype(auto) exclusive(F&& f) {
        std::lock_guard lock{loop_mutex_};
        return std::forward<F>(f)(*sched_);
    }

    /// Graceful shutdown (DECISIONS 15): stops claiming at once, lets running work finish until
    /// now + `timeout`, then has the dispatcher stop what still runs (each interrupted attempt ends
    /// `cancelled` with a requeued attempt); stops the loop. True when nothing was left running.
    /// Without start() nobody steps the scheduler, so this only stops claiming.
    bool shutdown(duration timeout) {
        emit(log_, log_level::info, "shutdown requested");
        std::int64_t drain_seq = 0;
        std::size_t active = 0;
        const auto deadline = sched_->clock().now() + timeout;
        {
            std::lock_guard lock{loop_mutex_};
            sched_->dispatcher().begin_drain(deadline);
            draining_ = true;
            drain_deadline_ = deadline;
            active = sched_->dispatcher().active();
            drain_seq = observer_seq();
        }
        const std::int64_t timeout_seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout).count();
        emit(log_, log_level::info, "draining: shutting down dispatcher",
             {{"active", active}, {"timeout_seconds", timeout_seconds}});
        const bool running = loop_running();
        if (running) {
            wake();
            sched_->clock().sleep_until(deadline + options_.drain_overrun, drained_source_.get_token());  // wall-clock ok: through the injected clock
        }
        emit(log_, log_level::info, "draining: waiting for run loop to stop");
        stop_loop();
        emit(log_, log_level::info, "run loop stopped");
        std::size_t remaining = 0;
        {
            std::lock_guard lock{loop_mutex_};
            remaining = sched_->dispatcher().active();
        }
        log_interrupted(drain_seq);
        if (remaining > 0) {
            emit(log_, log_level::warn, "dispatcher shutdown timeout: active work did not drain",
                 {{"remaining", remaining}});
            return false;
        }
        emit(log_, log_level::info, "dispatcher shutdown complete");
        return true;
    }

    /// What /v1/status and /v1/metrics report; catches up with the ledger first.
    [[nodiscard]] service_status status() {
        observe();
        service_status s;
        s.started_at = started_at_;
        s.worker_id = sched_->dispatcher().options().worker_id;
        s.planner_interval = options_.planner_interval;
        {
            std::lock_guard lock{state_mutex_};
            s.last_tick_at = last_tick_;
            s.active = active_;
        }
        std::lock_guard lock{observe_mutex_};
        s.runs = observer_.data();
        return s;
    }

private:
    /// The outcome of one pass: its report (or the first error) and when to pass next.
    struct pass_outcome {
        result<step_report> report;
        time_point next;
    };

    /// The ledger position to observe from: what was written before this service started is
    /// not this process's to report (its counters start at zero, as Prometheus expects).
    static std::int64_t initial_seq(Scheduler& sched) {
        if constexpr (requires { sched.store().last_seq(); }) {
            auto seq = sched.store().last_seq();
            return seq ? *seq : 0;
        } else {
            return 0;
        }
    }

    /// Adds the counts of a dispatcher step to those of the pass.
    static void accumulate(dispatch_report& into, const dispatch_report& step) {
        into.at = step.at;
        into.claimed += step.claimed;
        into.claimed_ahead += step.claimed_ahead;
        into.finished += step.finished;
        into.superseded += step.superseded;
        into.recovered += step.recovered;
        into.timed_out += step.timed_out;
        into.cancelled += step.cancelled;
        into.abandoned += step.abandoned;
        into.lost_leases += step.lost_leases;
    }

    /// Dispatches, plans (unless draining) and dispatches what the pass made due, then works out
    /// the next wake-up.
    pass_outcome pass() {
        std::lock_guard lock{loop_mutex_};
        const auto now = sched_->clock().now();
        step_report report;
        std::optional<error> failure;
        auto dispatch = [&] {
            if (auto d = sched_->dispatch(); d) {
                accumulate(report.dispatched, *d);
            } else {
                emit(log_, log_level::error, "dispatcher tick failed", {{"error", d.error().message}});
                failure = failure ? failure : d.error();
            }
        };
        // Claim what is due before planning: with a lookahead, the pass at one occurrence's due
        // time also writes the next ones, and those writes must not delay these claims.
        dispatch();
        if (!draining_) {
            if (auto p = sched_->plan(); p) {
                report.planned = *p;
                std::lock_guard state{state_mutex_};
                last_tick_ = p->at;
            } else {
                emit(log_, log_level::error, "planner loop tick failed", {{"error", p.error().message}});
                failure = failure ? failure : p.error();
            }
        }
        if (report.planned.materialized > 0 && !failure) {
            dispatch();  // what the pass wrote may be due already (no lookahead, or late)
        }
        {
            std::lock_guard state{state_mutex_};
            active_ = sched_->dispatcher().active();
        }
        if (draining_ && sched_->dispatcher().drained()) {
            drained_source_.request_stop();
        }
        const duration tick = std::min(options_.planner_interval, options_.dispatcher_interval);
        if (failure) {
            // The store failed: what is due stays due, so wait a little instead of spinning.
            return {tl::unexpected(*failure), now + std::min(tick, duration{std::chrono::seconds{1}})};
        }
        time_point next = now + tick;
        // A draining loop does not plan, so only the dispatcher's wake-ups count then (a due
        // schedule would otherwise wake it again and again).
        auto w = draining_ ? sched_->dispatcher().next_wakeup() : sched_->next_wakeup();
        if (!w) {
            emit(log_, log_level::error, "scheduler wake-up failed", {{"error", w.error().message}});
        } else if (*w) {
            next = std::min(next, **w);
        }
        if (draining_ && drain_deadline_ > now) {
            next = std::min(next, drain_deadline_);  // the dispatcher stops running work then
        }
        return {report, next};
    }

    void run_loop() {
        while (!stopping()) {
            const auto next = pass().next;
            observe();
            sleep_until(next);  // wall-clock ok: through the injected clock
        }
    }

    /// Sleeps until `t` unless woken (or already woken since the last pass).
    void sleep_until(time_point t) {  // wall-clock ok: through the injected clock
        std::stop_token token;
        {
            std::lock_guard lock{wake_mutex_};
            if (woken_ || stopping_) {
                woken_ = false;
                return;
            }
            token = wake_source_.get_token();
        }
        sched_->clock().sleep_until(t, token);  // wall-clock ok: through the injected clock
        // A wake-up from now on is served by the pass that follows.
        std::lock_guard lock{wake_mutex_};
        woken_ = false;
        wake_source_ = std::stop_source{};
    }

    [[nodiscard]] bool stopping() {
        std::lock_guard lock{wake_mutex_};
        return stopping_;
    }

    [[nodiscard]] bool loop_running() {
        std::lock_guard lock{thread_mutex_};
        return thread_.joinable();
    }

    void stop_loop() {
        std::lock_guard lock{thread_mutex_};
        if (!thread_.joinable()) {
            return;
        }
        {
            std::lock_guard wake_lock{wake_mutex_};
            stopping_ = true;
        }
        wake();
        thread_.join();
    }

    std::int64_t observer_seq() {
        std::lock_guard lock{observe_mutex_};
        return observer_.data().last_seq;
    }

    /// Folds the ledger entries written since the last call into the observations.
    void observe() {
        constexpr std::size_t batch = 500;
        std::lock_guard lock{observe_mutex_};
        auto kind_of = [this](const schedule_id& id) {
            auto s = sched_->store().get_schedule(id);
            return s && *s ? (*s)->target.kind : std::string{};
        };
        for (;;) {
            ledger_query q;
            q.after = observer_.data().last_seq;
            q.limit = batch;
            auto events = sched_->store().read_ledger(q);
            if (!events) {
                emit(log_, log_level::warn, "reading the ledger failed", {{"error", events.error().message}});
                return;
            }
            observer_.consume(*events, kind_of);
            if (events->size() < batch) {
                return;
            }
        }
    }

    /// Logs every attempt the drain interrupted (their requeued attempts run at the next start).
    void log_interrupted(std::int64_t after_seq) {
        ledger_query q;
        q.after = after_seq;
        q.limit = 10'000;
        auto events = sched_->store().read_ledger(q);
        if (!events) {
            return;
        }
        for (const auto& e : *events) {
            if (e.kind == event_kind::run_requeued && e.run) {
                emit(log_, log_level::warn, "run interrupted by shutdown; requeued",
                     {{"schedule_id", e.schedule},
                      {"requeued_run_id", *e.run},
                      {"occurrence_key", e.occurrence_key.value_or("")},
                      {"attempt", e.attempt.value_or(0)}});
            }
        }
    }

    Scheduler* sched_;
    service_options options_;
    logger log_;
    time_point started_at_;

    std::mutex loop_mutex_;  ///< held while the scheduler is stepped
    bool draining_ = false;
    time_point drain_deadline_{};
    std::stop_source drained_source_;  ///< stopped once draining and nothing runs

    std::mutex state_mutex_;  ///< last_tick_, active_: read by status() without waiting for a pass
    std::optional<time_point> last_tick_;
    std::size_t active_ = 0;

    std::mutex wake_mutex_;
    std::stop_source wake_source_;
    bool woken_ = false;
    bool stopping_ = false;

    std::mutex thread_mutex_;
    std::thread thread_;

    std::mutex observe_mutex_;
    run_observer observer_;
};

}  // namespace wakeplane
