// The dispatcher: claims eligible runs under their overlap policy, executes them, renews their
// leases, enforces timeouts, and records every outcome with retries and dead letters.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include <wakeplane/clock.hpp>
#include <wakeplane/detail/worker_pool.hpp>
#include <wakeplane/executor.hpp>
#include <wakeplane/ids.hpp>
#include <wakeplane/model.hpp>
#include <wakeplane/policy/set.hpp>
#include <wakeplane/store.hpp>

namespace wakeplane {

/// Tuning of a dispatcher.
struct dispatcher_options {
    /// This dispatcher's identity in leases. Unique per process (DECISIONS 17); the daemon passes
    /// `<host>:<pid>`.
    std::string worker_id = "wakeplane";
    /// How long a claim holds without renewal. Renewed every ttl/2 while the run executes.
    duration lease_ttl = std::chrono::seconds{30};
    /// Executions in flight at most, across schedules.
    std::size_t max_workers = 64;
    /// After a stop request (timeout, cancel, replace, shutdown), how long an execution may take to
    /// exit before it is abandoned: its run is finished without its result, which fencing then
    /// refuses should it ever arrive.
    duration stop_grace = std::chrono::seconds{10};
    /// Runs examined per claim transaction. A step claims batch after batch while runs are
    /// eligible and workers free, starting each batch's executors as soon as it is committed, so
    /// a burst's first runs do not wait for the whole burst's claims.
    std::size_t claim_batch = 256;
    /// Expired leases recovered per step at most.
    std::size_t recover_batch = 256;
    /// How long before its due time a run may be claimed (durably, with its lease), so that at
    /// the due time only marking it running stands between it and its executor: a burst's
    /// claims are then paid ahead of the burst. Zero claims runs only once they are due. A run
    /// whose schedule uses `replace`, or whose overlap decision is anything but `claim` when
    /// looked at ahead, is decided again at its due time. Capped at a quarter of lease_ttl, so
    /// a claim made ahead never needs renewal before it starts. Set it to the planner's
    /// lookahead: a run is claimed ahead only once the planner has written it.
    duration claim_ahead{};
};

/// What one step did.
struct dispatch_report {
    time_point at{};
    std::size_t claimed = 0;       ///< claimed and started, now or ahead of this step
    std::size_t claimed_ahead = 0; ///< claimed ahead of their due time, not started yet
    std::size_t finished = 0;
    std::size_t superseded = 0;
    std::size_t recovered = 0;
    std::size_t timed_out = 0;
    std::size_t cancelled = 0;     ///< stop requests for operator cancel or `replace`
    std::size_t abandoned = 0;
    std::size_t lost_leases = 0;
};

/// Why an execution was asked to stop.
enum class stop_reason { none, timeout, cancel, replace, shutdown, lost_lease };

/// The dispatcher (ARCHITECTURE "The flow", step 3). step() reads the clock once and, in order:
/// records executions that ended, enforces timeouts and renews leases, recovers expired leases
/// of any worker, starts the runs it claimed ahead that are due, claims eligible runs and
/// starts them, and claims ahead the runs due within its claim-ahead window (a draining
/// dispatcher instead gives those claims back). A claim is a durable store transaction that
/// checks overlap and max_concurrency against committed state, and the run is marked running
/// (also durably) before its executor starts on a pool thread. step() never sleeps;
/// next_wakeup() says when it has work again, and on_wake() (a callback) signals an execution
/// that ended so a host loop need not poll.
template <store Store, clock Clock, class OverlapSet = overlap::all, class RetrySet = retry::all>
class dispatcher {
public:
    dispatcher(Store& store, const Clock& clock, std::shared_ptr<const executor_registry> executors, id_generator& ids,
               dispatcher_options options = {})
        : store_(&store),
          clock_(&clock),
          executors_(std::move(executors)),
          ids_(&ids),
          options_(std::move(options)),
          shared_(std::make_shared<shared_state>()),
          pool_(detail::worker_pool::create(options_.max_workers)) {
        shared_->notify_clock = notifier();
    }

    dispatcher(const dispatcher&) = delete;
    dispatcher& operator=(const dispatcher&) = delete;

    /// Asks every execution to stop; executions still running become abandoned threads that
    /// write nothing (their runs are recovered through lease expiry by the next dispatcher).
    ~dispatcher() {
        for (auto& [id, e] : active_) {
            e->stop.request_stop();
        }
        pool_->close();  // idle threads exit now, busy ones when their execution returns
        // Threads that outlive us must not call back into a host or clock that may be gone.
        std::lock_guard lock{shared_->mutex};
        shared_->wake = nullptr;
        shared_->notify_clock = nullptr;
    }

    /// Called from an execution's thread when it ends (and from nowhere else), so a host loop can
    /// wake at once. Must be cheap and thread-safe.
    void on_wake(std::function<void()> f) {
        std::lock_guard lock{shared_->mutex};
        shared_->wake = std::move(f);
    }

    /// One dispatch step at the clock's current time.
    result<dispatch_report> step() {
        dispatch_report report;
        report.at = clock_->now();
        last_step_ = report.at;
        again_ = false;
        if (auto r = collect_finished(report); !r) {
            return tl::unexpected(r.error());
        }
        if (auto r = supervise(report); !r) {
            return tl::unexpected(r.error());
        }
        if (auto r = recover(report); !r) {
            return tl::unexpected(r.error());
        }
        if (draining_) {
            if (auto r = release_parked(report.at); !r) {
                return tl::unexpected(r.error());
            }
        } else {
            if (auto r = start_parked(report); !r) {
                return tl::unexpected(r.error());
            }
            if (auto r = claim(report); !r) {
                return tl::unexpected(r.error());
            }
            if (auto r = claim_ahead(report); !r) {
                return tl::unexpected(r.error());
            }
        }
        return report;
    }

    /// When step() has work next: now when an execution ended, a slot freed outside one, or
    /// claims made ahead are to be given back (draining); else the earliest of a run claimed
    /// ahead falling due, a run becoming eligible, a run entering the claim-ahead window, a
    /// timeout, a lease renewal, a stop grace running out and a lease (of any worker) expiring.
    /// nullopt when nothing is pending at all.
    result<std::optional<time_point>> next_wakeup() {
        std::optional<time_point> best;
        auto consider = [&](std::optional<time_point> t) {
            if (t && (!best || *t < *best)) {
                best = t;
            }
        };
        {
            std::lock_guard lock{shared_->mutex};
            if (!shared_->ended.empty()) {
                return std::optional<time_point>{clock_->now()};
            }
        }
        if (again_ || (draining_ && !parked_.empty())) {
            return std::optional<time_point>{clock_->now()};  // a freed slot, or claims to give back
        }
        for (const auto& [id, p] : parked_) {
            consider(p.due);
        }
        for (const auto& [id, e] : active_) {
            if (e->abandoned) {
                continue;
            }
            consider(e->reason == stop_reason::none ? e->deadline : e->hard_deadline);
            consider(e->next_renewal);
        }
        if (!draining_) {
            auto eligible = store_->next_eligible_after(last_step_);
            if (!eligible) {
                return tl::unexpected(eligible.error());
            }
            consider(*eligible);
            if (const auto ahead = claim_window(); ahead > duration::zero()) {
                // Runs beyond the last step's window are claimed ahead once it reaches them.
                auto later = store_->next_eligible_after(last_step_ + ahead);
                if (!later) {
                    return tl::unexpected(later.error());
                }
                if (*later) {
                    consider(**later - ahead);
                }
            }
        }
        auto lease = store_->next_lease_expiry();
        if (!lease) {
            return tl::unexpected(lease.error());
        }
        consider(*lease);
        return best;
    }

    /// Stops claiming (DECISIONS 15). Running work continues until `deadline`, when it is asked
    /// to stop; each interrupted attempt ends cancelled with `interrupted by shutdown` and a fresh
    /// pending attempt is written in the same transaction.
    void begin_drain(time_point deadline) {
        draining_ = true;
        drain_deadline_ = deadline;
    }

    /// True once draining, every claim made ahead given back, and no execution in flight
    /// (abandoned threads aside).
    [[nodiscard]] bool drained() const noexcept {
        return draining_ && parked_.empty() &&
               std::all_of(active_.begin(), active_.end(), [](const auto& kv) { return kv.second->abandoned; });
    }

    /// Cancels a run for an operator. A local execution is asked to stop and ends cancelled; a
    /// run that has not started (waiting, or claimed ahead) is cancelled at once; a terminal run
    /// is errc::conflict.
    result<run> cancel(std::string_view id, std::string_view reason) {
        if (auto it = active_.find(std::string(id)); it != active_.end() && !it->second->abandoned) {
            request_stop(*it->second, stop_reason::cancel, clock_->now());
            it->second->cancel_text = std::string(reason);
            return it->second->claimed;
        }
        auto done = store_->cancel_waiting_run(id, clock_->now(), reason);
        if (done && done->status == run_status::cancelled) {
            parked_.erase(std::string(id));
            again_ = true;  // a slot of its schedule may have freed
        }
        return done;
    }

    /// Runs claimed ahead of their due time by this dispatcher, not started yet.
    [[nodiscard]] std::size_t claimed_ahead() const noexcept { return parked_.size(); }

    /// Executions in flight in this process (abandoned ones excluded): /v1/status workers.active.
    [[nodiscard]] std::size_t active() const noexcept {
        return static_cast<std::size_t>(
            std::count_if(active_.begin(), active_.end(), [](const auto& kv) { return !kv.second->abandoned; }));
    }

    /// Threads still running an executor, abandoned ones included.
    [[nodiscard]] std::size_t running_threads() const noexcept { return shared_->threads.load(); }

    [[nodiscard]] const dispatcher_options& options() const noexcept { return options_; }

private:
    /// One execution in flight. The thread holds it through a shared_ptr, so an abandoned
    /// execution outlives the dispatcher safely.
    struct execution {
        run claimed;                       ///< the run as claimed and started (its fencing token)
        std::shared_ptr<const schedule> sched;  ///< as the claim transaction read it (never null)
        std::stop_source stop;
        stop_reason reason = stop_reason::none;
        std::string cancel_text;
        time_point deadline{};             ///< started + timeout
        time_point hard_deadline{};        ///< after a stop request: when it is abandoned
        std::optional<time_point> next_renewal;
        bool abandoned = false;
        execution_result result;           ///< written by the thread before it reports the end
    };

    /// What execution threads share with the dispatcher.
    struct shared_state {
        std::mutex mutex;
        std::vector<std::string> ended;    ///< run ids whose executor returned
        std::function<void()> wake;        ///< the host's wake-up; called under `mutex`
        std::function<void()> notify_clock;  ///< tells a manual clock's observers; under `mutex`
        std::atomic<std::size_t> threads{0};
    };

    /// A run claimed ahead of its due time, waiting for it.
    struct parked_run {
        run claimed;                            ///< as claimed (its fencing token)
        std::shared_ptr<const schedule> sched;  ///< as the claim read it (never null)
        time_point due{};                       ///< when it becomes eligible: it starts then
    };

    // ---- step phases --------------------------------------------------------------------------

    /// Records every execution whose executor returned since the last step, all in one
    /// group-committed transaction.
    result<void> collect_finished(dispatch_report& report) {
        std::vector<std::string> ended;
        {
            std::lock_guard lock{shared_->mutex};
            ended.swap(shared_->ended);
        }
        // Threads report in the order they happen to end; recording in run id order instead makes
        // the ledger a function of what ended, not of thread timing (simulations replay byte for byte).
        std::sort(ended.begin(), ended.end());
        std::vector<finish_request> batch;
        std::vector<std::string> batch_ids;
        for (const auto& id : ended) {
            auto it = active_.find(id);
            if (it == active_.end()) {
                continue;
            }
            auto& e = *it->second;
            if (e.abandoned || e.reason == stop_reason::lost_lease) {
                active_.erase(it);
                continue;  // its run was finished or taken over already: write nothing
            }
            batch.push_back(finish_for(e, &e.result, report.at));
            batch_ids.push_back(id);
        }
        if (batch.empty()) {
            return {};
        }
        auto done = store_->finish_runs(batch);
        if (!done) {
            // A store failure must not lose results (DECISIONS 16): keep these executions for the
            // next step; their leases keep being renewed meanwhile.
            std::lock_guard lock{shared_->mutex};
            shared_->ended.insert(shared_->ended.end(), batch_ids.begin(), batch_ids.end());
            return tl::unexpected(done.error());
        }
        for (const auto& id : batch_ids) {
            active_.erase(id);
        }
        report.finished += batch.size();  // stale ones included: their runs were recovered meanwhile
        return {};
    }

    /// Timeouts, stop graces, drain deadline and lease renewals of executions in flight.
    result<void> supervise(dispatch_report& report) {
        const auto now = report.at;
        for (auto& [id, ep] : active_) {
            auto& e = *ep;
            if (e.abandoned) {
                continue;
            }
            if (e.reason == stop_reason::none && draining_ && now >= drain_deadline_) {
                request_stop(e, stop_reason::shutdown, now);
            }
            if (e.reason == stop_reason::none && now >= e.deadline) {
                request_stop(e, stop_reason::timeout, now);
                ++report.timed_out;
            }
            if (e.reason != stop_reason::none && e.reason != stop_reason::lost_lease && now >= e.hard_deadline) {
                // It did not exit in time: finish the run without its result and let the thread go.
                e.abandoned = true;
                ++report.abandoned;
                const std::array<finish_request, 1> one{finish_for(e, nullptr, now)};
                if (auto r = store_->finish_runs(one); !r) {
                    e.abandoned = false;  // not recorded: try again at the next step
                    return tl::unexpected(r.error());
                }
                continue;
            }
            if (e.next_renewal && now >= *e.next_renewal) {
                auto renewed = store_->renew_lease(e.claimed.id, e.claimed.fencing_token, now, now + options_.lease_ttl);
                if (renewed) {
                    e.next_renewal = now + options_.lease_ttl / 2;
                } else if (renewed.error().code == errc::stale_fence || renewed.error().code == errc::not_found) {
                    // Someone recovered the run: stop, and write nothing (the store would refuse it).
                    request_stop(e, stop_reason::lost_lease, now);
                    e.abandoned = true;
                    e.next_renewal.reset();
                    ++report.lost_leases;
                } else {
                    // A transient store error: the result is still ours to write (DECISIONS 16);
                    // try again next step.
                    e.next_renewal = now;
                }
            }
        }
        return {};
    }

    /// Recovers expired leases of any worker (a crashed dispatcher's runs).
    result<void> recover(dispatch_report& report) {
        auto n = store_->recover_expired(
            report.at, options_.recover_batch,
            [](const schedule& s, std::int64_t attempt) { return retry_delay(s, attempt, 0); },
            [this, now = report.at](auto kind) {
                return ids_->next(kind == Store::id_kind::run ? id_prefix::run : id_prefix::dead_letter, now);
            });
        if (!n) {
            return tl::unexpected(n.error());
        }
        report.recovered += *n;
        return {};
    }

    /// The claim-ahead window in effect (see dispatcher_options::claim_ahead).
    [[nodiscard]] duration claim_window() const noexcept {
        return std::min(options_.claim_ahead, options_.lease_ttl / 4);
    }

    /// Starts the runs claimed ahead that are due: marks them running, claim_batch runs per
    /// durable transaction, and starts each batch's executors once it is committed (so the first
    /// runs of a burst do not wait for the last ones' writes). A run whose claim is gone
    /// (cancelled, its schedule deleted, or recovered by another worker) is dropped unstarted.
    result<void> start_parked(dispatch_report& report) {
        const auto now = report.at;
        std::vector<std::pair<time_point, claim_ticket>> by_due;
        for (const auto& [id, p] : parked_) {
            if (p.due <= now) {
                by_due.emplace_back(p.due, claim_ticket{id, p.claimed.fencing_token});
            }
        }
        if (by_due.empty()) {
            return {};
        }
        // Oldest first, as claims go (then by run id): the ledger follows due times.
        std::stable_sort(by_due.begin(), by_due.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        std::vector<claim_ticket> due;
        due.reserve(by_due.size());
        for (auto& [at, ticket] : by_due) {
            due.push_back(std::move(ticket));
        }
        const std::size_t batch = std::max<std::size_t>(options_.claim_batch, 1);
        for (std::size_t from = 0; from < due.size(); from += batch) {
            const std::span<const claim_ticket> chunk{due.data() + from, std::min(batch, due.size() - from)};
            // started_at is the real start (DECISIONS 20): a later batch starts later.
            const auto at = from == 0 ? now : std::max(now, clock_->now());
            auto started = store_->start_claimed(chunk, at, options_.lease_ttl);
            if (!started) {
                return tl::unexpected(started.error());
            }
            for (std::size_t i = 0; i < chunk.size(); ++i) {
                auto node = parked_.extract(chunk[i].run);
                if ((*started)[i]) {
                    start(*(*started)[i], std::move(node.mapped().sched), at);
                    ++report.claimed;
                }
            }
        }
        return {};
    }

    /// Draining: gives back every claim made ahead, so the runs are pending again for whoever
    /// dispatches next.
    result<void> release_parked(time_point now) {
        if (parked_.empty()) {
            return {};
        }
        std::vector<claim_ticket> tickets;
        for (const auto& [id, p] : parked_) {
            tickets.push_back(claim_ticket{id, p.claimed.fencing_token});
        }
        if (auto r = store_->release_claims(tickets, now); !r) {
            return tl::unexpected(r.error());
        }
        parked_.clear();
        return {};
    }

    /// Claims, without starting them, the runs that fall due within the claim-ahead window and
    /// whose overlap decision is `claim` already (see dispatcher_options::claim_ahead).
    result<void> claim_ahead(dispatch_report& report) {
        const auto ahead = claim_window();
        if (ahead <= duration::zero()) {
            return {};
        }
        const auto now = report.at;
        const auto until = now + ahead;
        std::size_t capacity = options_.max_workers > active() + parked_.size()
                                   ? options_.max_workers - active() - parked_.size()
                                   : 0;
        while (capacity > 0) {
            auto eligible = store_->eligible_runs(until, options_.claim_batch);
            if (!eligible) {
                return tl::unexpected(eligible.error());
            }
            // Runs due by now were decided by claim() and are left waiting; if they fill the
            // batch, nothing is claimed ahead this step (the due-time claim still happens).
            std::vector<run_id> ids;
            std::vector<time_point> due;  // when each becomes eligible: it starts then
            for (auto& candidate : *eligible) {
                if (const auto from = eligible_from(candidate); from && *from > now) {
                    ids.push_back(std::move(candidate.id));
                    due.push_back(*from);
                }
            }
            if (ids.empty()) {
                return {};
            }
            std::size_t granted = 0;
            auto decide = [&](const run&, const schedule* s, overlap_state st) noexcept {
                if (s == nullptr || granted >= capacity) {
                    return overlap_action::wait;
                }
                auto policy = OverlapSet::resolve(s->policy.overlap, s->policy);
                if (!policy) {
                    return overlap_action::wait;
                }
                // `replace` promises that the newest occurrence wins: a run held ahead could be
                // cancelled by an older one triggered meanwhile, so it is decided when due.
                const auto action = std::visit(
                    [&](const auto& p) {
                        return p.name == overlap::replace::name ? overlap_action::wait : p.decide(st);
                    },
                    *policy);
                granted += action == overlap_action::claim ? 1 : 0;
                return action;
            };
            auto outcomes = store_->claim_ahead(ids, options_.worker_id, now, until, options_.lease_ttl, decide);
            if (!outcomes) {
                return tl::unexpected(outcomes.error());
            }
            for (std::size_t i = 0; i < outcomes->size(); ++i) {
                auto& outcome = (*outcomes)[i];
                if (outcome.action == overlap_action::claim && outcome.claimed) {
                    parked_.insert_or_assign(ids[i], parked_run{*std::move(outcome.claimed), std::move(outcome.sched), due[i]});
                    ++report.claimed_ahead;
                }
            }
            // A short batch means every run in the window was looked at; a batch that claimed
            // nothing would be looked at again unchanged.
            if (eligible->size() < options_.claim_batch || granted == 0) {
                return {};
            }
            capacity -= std::min(capacity, granted);
        }
        return {};
    }

    /// Claims eligible runs, oldest first, batch by batch while workers are free (see
    /// claim_batch).
    result<void> claim(dispatch_report& report) {
        for (;;) {
            const std::size_t claimed_before = report.claimed;
            auto full = claim_one_batch(report);
            if (!full) {
                return tl::unexpected(full.error());
            }
            // A batch that came back short, or claimed nothing (all waiting on overlap), ends the step.
            if (!*full || report.claimed == claimed_before) {
                return {};
            }
        }
    }

    /// One batch: claims eligible runs, oldest first, in one group-committed transaction that
    /// also marks them running, and then starts their executors. True when the batch was full
    /// (more runs may be eligible).
    result<bool> claim_one_batch(dispatch_report& report) {
        const auto now = report.at;
        const std::size_t busy = active() + parked_.size();  // claims made ahead hold their worker
        const std::size_t capacity = options_.max_workers > busy ? options_.max_workers - busy : 0;
        if (capacity == 0) {
            return false;
        }
        auto eligible = store_->eligible_runs(now, options_.claim_batch);
        if (!eligible) {
            return tl::unexpected(eligible.error());
        }
        if (eligible->empty()) {
            return false;
        }
        const bool full = eligible->size() == options_.claim_batch;
        std::vector<run_id> ids;
        ids.reserve(eligible->size());
        for (auto& candidate : *eligible) {
            ids.push_back(std::move(candidate.id));
        }
        std::size_t granted = 0;
        auto decide = [&](const run&, const schedule* s, overlap_state st) noexcept {
            if (s == nullptr) {
                return overlap_action::wait;  // a run without its schedule cannot run: left for an operator
            }
            auto policy = OverlapSet::resolve(s->policy.overlap, s->policy);
            // A policy outside this scheduler's set never overlaps.
            auto action = policy ? std::visit([&](const auto& p) { return p.decide(st); }, *policy)
                                 : overlap::forbid{}.decide(st);
            if (action == overlap_action::claim && granted >= capacity) {
                return overlap_action::wait;  // no worker free: it stays pending for the next step
            }
            granted += action == overlap_action::claim ? 1 : 0;
            return action;
        };
        auto outcomes = store_->claim_runs(ids, options_.worker_id, now, options_.lease_ttl, decide, true);
        if (!outcomes) {
            return tl::unexpected(outcomes.error());
        }
        std::vector<run_id> parked_victims;  // cancelled once every claimed run has started
        for (auto& outcome : *outcomes) {
            switch (outcome.action) {
            case overlap_action::claim:
                start(*outcome.claimed, outcome.sched, now);
                ++report.claimed;
                break;
            case overlap_action::supersede:
                ++report.superseded;
                break;
            case overlap_action::cancel_active:
                for (const auto& victim : outcome.cancel) {
                    auto it = active_.find(victim);
                    if (it != active_.end() && it->second->reason == stop_reason::none) {
                        request_stop(*it->second, stop_reason::replace, now);
                        ++report.cancelled;
                    } else if (parked_.contains(victim)) {
                        parked_victims.push_back(victim);
                    }
                }
                break;
            case overlap_action::wait:
                break;
            }
        }
        // Claimed ahead under another policy before the schedule became `replace`: they have not
        // started, so they end at once and their slots are free at the next step.
        for (const auto& victim : parked_victims) {
            auto done = store_->cancel_waiting_run(victim, now, "replaced by a newer occurrence");
            if (!done && done.error().code != errc::conflict && done.error().code != errc::not_found) {
                return tl::unexpected(done.error());  // still parked: its start will find out
            }
            parked_.erase(victim);
            again_ = true;
            report.cancelled += done ? 1 : 0;
        }
        return full;
    }

    // ---- executions ---------------------------------------------------------------------------

    /// Starts the executor of a run that is durably claimed and marked running.
    void start(const run& running, std::shared_ptr<const schedule> s, time_point now) {
        auto e = std::make_shared<execution>();
        e->claimed = running;
        const auto timeout = std::chrono::seconds{s->policy.timeout_seconds > 0 ? s->policy.timeout_seconds : 300};
        e->sched = std::move(s);
        e->deadline = now + timeout;
        // Halfway through the lease: a run claimed ahead may keep the lease its claim took.
        e->next_renewal = now + options_.lease_ttl / 2;
        if (running.claim_expires_at) {
            e->next_renewal = std::min(*e->next_renewal, *running.claim_expires_at - options_.lease_ttl / 2);
        }
        active_.emplace(running.id, e);

        run_context ctx;
        ctx.run = running.id;
        ctx.schedule = running.schedule;
        ctx.occurrence_key = running.occurrence_key;
        ctx.attempt = running.attempt;
        ctx.nominal_time = running.nominal_time;
        ctx.fencing_token = running.fencing_token;
        ctx.trigger_reason = running.trigger_reason;
        ctx.stop = e->stop.get_token();

        shared_->threads.fetch_add(1);
        pool_->submit([e, ctx = std::move(ctx), executors = executors_, shared = shared_]() mutable {
            e->result = executors->execute(e->sched->target, ctx);
            e->result.stopped = e->result.stopped || ctx.stop.stop_requested();
            std::lock_guard lock{shared->mutex};
            shared->ended.push_back(e->claimed.id);
            shared->threads.fetch_sub(1);
            // Called under the lock so that a dispatcher being destroyed can switch them off.
            if (shared->wake) {
                shared->wake();
            }
            if (shared->notify_clock) {
                shared->notify_clock();
            }
        });
    }

    /// A function that tells a manual clock's observers that a thread ended (run_until settles
    /// on it); a no-op for clocks without observers.
    std::function<void()> notifier() const {
        if constexpr (requires(const Clock& c) { c.notify_waiters(); }) {
            return [c = clock_] { c->notify_waiters(); };
        } else {
            return [] {};
        }
    }

    void request_stop(execution& e, stop_reason why, time_point now) {
        if (e.reason != stop_reason::none) {
            return;
        }
        e.reason = why;
        e.hard_deadline = now + options_.stop_grace;
        e.stop.request_stop();
    }

    /// The finish request of an execution: its outcome by stop reason and result. `result` is
    /// null for an abandoned execution (nothing of its output is known).
    finish_request finish_for(const execution& e, const execution_result* result, time_point now) {
        finish_request f;
        f.run = e.claimed.id;
        f.fencing_token = e.claimed.fencing_token;
        f.at = now;
        f.new_run_id = ids_->next(id_prefix::run, now);
        f.dead_letter_id = ids_->next(id_prefix::dead_letter, now);
        if (result != nullptr) {
            f.http_status_code = result->http_status_code;
            f.exit_code = result->exit_code;
            f.result_json = result->result_json;
            f.error_text = result->error_text;
            for (const auto& rb : result->receipts) {
                f.receipts.push_back(
                    receipt{ids_->next(id_prefix::receipt, now), e.claimed.id, rb.kind, rb.content_type, rb.body, rb.truncated, now});
            }
        }
        switch (e.reason) {
        case stop_reason::timeout: {
            const auto secs = std::chrono::duration_cast<std::chrono::seconds>(e.deadline - *e.claimed.started_at);
            f.outcome = run_status::failed;
            f.error_text = "timed out after " + std::to_string(secs.count()) + "s";
            f.retry_delay = retry_delay(*e.sched, e.claimed.attempt, e.claimed.requeued_attempts);
            break;
        }
        case stop_reason::cancel:
            f.outcome = run_status::cancelled;
            f.error_text = e.cancel_text.empty() ? std::string("cancelled by operator") : e.cancel_text;
            break;
        case stop_reason::replace:
            f.outcome = run_status::cancelled;
            f.error_text = "replaced by a newer occurrence";
            break;
        case stop_reason::shutdown:
            f.outcome = run_status::cancelled;
            f.error_text = "interrupted by shutdown";
            f.requeue = true;
            break;
        case stop_reason::lost_lease:  // not reached: collect_finished skips runs whose lease was lost
        case stop_reason::none:
            if (result != nullptr && result->ok) {
                f.outcome = run_status::succeeded;
                f.error_text.reset();
            } else {
                f.outcome = run_status::failed;
                if (!f.error_text) {
                    f.error_text = "execution failed";
                }
                f.retry_delay = retry_delay(*e.sched, e.claimed.attempt, e.claimed.requeued_attempts);
            }
            break;
        }
        return f;
    }

    /// The schedule's retry delay after `attempt` failed, not counting attempts a drain requeued.
    static std::optional<duration> retry_delay(const schedule& s, std::int64_t attempt, std::int64_t requeued) {
        auto policy = RetrySet::resolve(s.retry.strategy, s.retry);
        if (!policy) {
            return std::nullopt;
        }
        return std::visit([&](const auto& p) { return p.delay_after(attempt - requeued); }, *policy);
    }

    Store* store_;
    const Clock* clock_;
    std::shared_ptr<const executor_registry> executors_;
    id_generator* ids_;
    dispatcher_options options_;
    std::shared_ptr<shared_state> shared_;
    std::shared_ptr<detail::worker_pool> pool_;  ///< threads executions run on, reused
    std::map<std::string, std::shared_ptr<execution>> active_;
    std::map<std::string, parked_run, std::less<>> parked_;  ///< claimed ahead, by run id
    bool again_ = false;  ///< a slot freed outside an execution's end: step again at once
    time_point last_step_{};
    bool draining_ = false;
    time_point drain_deadline_{};
};

}  // namespace wakeplane
