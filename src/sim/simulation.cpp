// The simulation driver: simulated processes (a scheduler and a second dispatcher over one
// faulting store), the fault schedule, the step loop from wake-up to wake-up, and the checks.
#include "simulation.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <wakeplane/replay.hpp>
#include <wakeplane/scheduler.hpp>
#include <wakeplane/stores/memory.hpp>
#include <wakeplane/stores/rocksdb.hpp>
#include <wakeplane/stores/sqlite.hpp>
#include <wakeplane/testing/failing_backend.hpp>
#include <wakeplane/testing/temp_dir.hpp>
#include <wakeplane/validate.hpp>

#include "invariants.hpp"
#include "prng.hpp"
#include "sim_executor.hpp"
#include "workload.hpp"

namespace wakeplane::sim {

std::optional<store_kind> parse_store_kind(std::string_view name) noexcept {
    if (name == "memory") {
        return store_kind::memory;
    }
    if (name == "sqlite") {
        return store_kind::sqlite;
    }
    if (name == "rocksdb") {
        return store_kind::rocksdb;
    }
    return std::nullopt;
}

namespace {

using namespace std::chrono_literals;

constexpr duration lease_ttl = 5min;
constexpr duration stop_grace = 1min;
/// Steps at one instant before the driver calls it a livelock.
constexpr std::size_t max_steps_per_instant = 10'000;

/// Start days whose first weeks hold DST transitions in the workload's zones (New York,
/// Berlin, Lord Howe, Chatham, St John's, Dublin change in March/April and September-November).
constexpr std::array<std::string_view, 6> start_days{"2026-03-05T00:00:00Z", "2026-03-24T00:00:00Z",
                                                     "2026-09-24T00:00:00Z", "2026-10-21T00:00:00Z",
                                                     "2027-03-09T00:00:00Z", "2027-10-28T00:00:00Z"};

/// The planner's lookahead of a run with faults: none, the daemon's default (1 s), or longer,
/// a quarter of the seeds each. Drawn from a stream of its own so the other draws of a seed stay
/// as they were. The scale check (no faults) plans without lookahead.
duration lookahead_of(const sim_options& options) {
    if (!options.faults) {
        return duration{0};
    }
    prng own{mix64(options.seed ^ 0x6c6f6f6b61686561ULL)};
    constexpr std::array<std::int64_t, 4> seconds{0, 1, 5, 120};
    return std::chrono::seconds{own.pick(seconds)};
}

/// The faults, drawn at random instants.
enum class fault { crash, write_failure, clock_forward, clock_backward, operate, pause_dispatcher, stale_probe };
constexpr std::array<std::uint64_t, 7> fault_weights{6, 12, 6, 6, 50, 6, 14};

/// What the simulated operator does.
enum class action { pause, resume, edit, remove, trigger, cancel, create };
constexpr std::array<std::uint64_t, 7> action_weights{8, 10, 12, 2, 10, 5, 4};

/// Counters printed at the end.
struct tallies {
    std::size_t crashes = 0, write_failures = 0, clock_steps = 0, operator_actions = 0, dispatcher_pauses = 0,
                stale_probes = 0;
};

std::string hex(std::uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

/// The driver over one backend type. `Disk` opens a backend on what survives a crash.
template <class Backend, class Disk>
class driver {
public:
    using store_type = basic_store<testing::failing_backend<Backend>>;
    using scheduler_type = default_scheduler<store_type, manual_clock>;
    using dispatcher_type = dispatcher<store_type, manual_clock>;

    driver(const sim_options& options, Disk disk, std::ostream& out)
        : options_(options),
          disk_(std::move(disk)),
          out_(out),
          rng_(options.seed),
          clock_(parse_rfc3339(rng_.pick(start_days)).value() + std::chrono::minutes{rng_.between(0, 1439)}),
          lookahead_(lookahead_of(options)),
          checker_({lease_ttl, stop_grace, lookahead_}) {}

    sim_report run() {
        const auto start = clock_.now();
        const auto end = start + std::chrono::hours{24 * options_.days};
        second_dispatcher_ = options_.faults && rng_.chance(600);
        out_ << "seed " << options_.seed << " days " << options_.days << " schedules " << options_.schedules
             << " dispatchers " << (second_dispatcher_ ? 2 : 1)
             << (lookahead_ > duration{0} ? " lookahead " + std::to_string(lookahead_ / 1s) + "s" : "")
             << (options_.workload == workload_kind::scale ? " workload scale" : "") << "\n";
        out_ << "from " << format_rfc3339(start) << " to " << format_rfc3339(end) << "\n";
        boot();
        for (auto& in : generate_schedules(rng_, options_.schedules, start, end, options_.workload)) {
            create(std::move(in));
        }
        next_fault_ = draw_fault_time();
        loop(end);
        if (!checker_.failure()) {
            observe();
            final_checks();
        }
        shutdown();
        return report();
    }

private:
    /// One simulated process: a scheduler (planner and dispatcher "a") and, when enabled, a
    /// second dispatcher "b" over the same store object. Members die in reverse order: b first.
    struct process {
        std::stop_source killed;
        std::shared_ptr<executor_world> world_a, world_b;
        std::unique_ptr<scheduler_type> sched;
        std::unique_ptr<id_generator> ids_b;
        std::unique_ptr<dispatcher_type> b;
    };

    // ---- processes ------------------------------------------------------------------------

    std::shared_ptr<executor_world> world_for(std::string worker, std::stop_token killed) {
        auto w = std::make_shared<executor_world>();
        w->clock = clock_;
        w->seed = options_.seed;
        w->workload = options_.workload;
        w->log = log_;
        w->worker = std::move(worker);
        w->killed = std::move(killed);
        return w;
    }

    static std::shared_ptr<executor_registry> registry_for(std::shared_ptr<const executor_world> world) {
        auto reg = std::make_shared<executor_registry>();
        reg->add(sim_executor{std::move(world)});
        return reg;
    }

    dispatcher_options dispatching(std::string worker) const {
        dispatcher_options d;
        d.worker_id = std::move(worker);
        d.lease_ttl = lease_ttl;
        d.stop_grace = stop_grace;
        d.max_workers = 1000;  // the workload's concurrency, never the bottleneck
        d.claim_ahead = lookahead_;  // as the daemon configures it
        return d;
    }

    /// Starts a process on what the disk holds: a new generation with its own id seeds.
    void boot() {
        ++generation_;
        a_paused_until_ = time_point::min();
        proc_ = std::make_unique<process>();
        auto& p = *proc_;
        p.world_a = world_for("a", p.killed.get_token());
        scheduler_options so;
        so.id_seed = mix64(options_.seed + 2 * generation_);
        so.dispatching = dispatching("a");
        so.planning.lookahead = lookahead_;
        p.sched = std::make_unique<scheduler_type>(store_type{testing::failing_backend<Backend>{disk_(), budget_}},
                                                   clock_, registry_for(p.world_a), so);
        store_type* store = &p.sched->store();
        auto read_run = [store](std::string_view id) -> std::optional<wakeplane::run> {
            auto r = store->get_run(id);
            return r ? *r : std::nullopt;
        };
        p.world_a->read_run = read_run;
        if (second_dispatcher_) {
            p.world_b = world_for("b", p.killed.get_token());
            p.world_b->read_run = read_run;
            p.ids_b = std::make_unique<id_generator>(mix64(options_.seed + 2 * generation_ + 1));
            p.b = std::make_unique<dispatcher_type>(*store, p.sched->clock(), registry_for(p.world_b), *p.ids_b,
                                                    dispatching("b"));
        }
    }

    /// A crash: every execution of the process dies, every object is dropped, and after the
    /// downtime a new process opens the disk. SQLite and RocksDB keep only their files; the
    /// memory store keeps its memory_state, the stand-in for a disk.
    void crash(duration downtime) {
        ++tallies_.crashes;
        kill();
        clock_.set(clock_.now() + downtime);
        checker_.excuse(downtime);
        boot();
        check_ledger_prefix();
    }

    void kill() {
        proc_->killed.request_stop();
        clock_.wait_until([&](std::size_t) { return threads() == 0; });
        proc_.reset();
    }

    void shutdown() {
        if (proc_) {
            kill();
        }
    }

    std::size_t threads() const {
        return proc_->sched->dispatcher().running_threads() + (proc_->b ? proc_->b->running_threads() : 0);
    }

    /// Lets every execution run until it has ended or sleeps on the manual clock.
    void settle() {
        clock_.wait_until([&](std::size_t sleeping) { return threads() <= sleeping; });
    }

    store_type& store() { return proc_->sched->store(); }

    // ---- the loop -------------------------------------------------------------------------

    void loop(time_point end) {
        std::size_t same_instant = 0;
        while (!checker_.failure()) {
            ++steps_;
            if (clock_.now() >= next_fault_) {
                inject();
                next_fault_ = draw_fault_time();
            }
            step_all();
            observe();
            if (clock_.now() >= end || checker_.failure()) {
                return;
            }
            const auto next = next_instant(end);
            if (next > clock_.now()) {
                clock_.set(next);
                same_instant = 0;
            } else if (++same_instant > max_steps_per_instant) {
                checker_.fail("progress", "more than " + std::to_string(max_steps_per_instant) + " steps at " +
                                              format_rfc3339(clock_.now()));
            }
        }
    }

    /// The planner, then dispatcher a (unless paused), then b, each followed by a settle. A
    /// step that hits an injected write failure returns it; the process crashes right after
    /// when the fault said so (a crash in the middle of a write).
    void step_all() {
        settle();
        const int failures_before = budget_->failures;
        const auto now = clock_.now();
        (void)proc_->sched->plan();
        dispatched_ok_ = false;
        if (now >= a_paused_until_) {
            dispatched_ok_ = proc_->sched->dispatch().has_value();
            settle();
        }
        if (proc_->b) {
            dispatched_ok_ = proc_->b->step().has_value();
            settle();
        }
        if (budget_->failures != failures_before && crash_after_failure_) {
            crash_after_failure_ = false;
            observe();
            crash(std::chrono::minutes{rng_.between(0, 30)});
            dispatched_ok_ = false;
        }
    }

    time_point next_instant(time_point end) {
        std::optional<time_point> best = std::min(end, next_fault_);
        auto consider = [&](const result<std::optional<time_point>>& t) {
            if (!t) {
                best = clock_.now();  // a failed read: look again at once
            } else if (*t && (!best || **t < *best)) {
                best = *t;
            }
        };
        consider(proc_->sched->planner().next_wakeup());
        if (clock_.now() >= a_paused_until_) {
            consider(proc_->sched->dispatcher().next_wakeup());
        } else {
            consider(std::optional<time_point>{a_paused_until_});
        }
        if (proc_->b) {
            consider(proc_->b->next_wakeup());
        }
        consider(std::optional<time_point>{clock_.earliest_sleeper()});
        return *best;
    }

    // ---- faults ---------------------------------------------------------------------------

    time_point draw_fault_time() {
        if (!options_.faults) {
            return time_point::max();
        }
        return clock_.now() + std::chrono::minutes{rng_.between(5, 360)};
    }

    void inject() {
        switch (static_cast<fault>(weighted(rng_, fault_weights))) {
        case fault::crash:
            crash(std::chrono::minutes{rng_.between(0, 180)});
            break;
        case fault::write_failure:
            ++tallies_.write_failures;
            budget_->arm(static_cast<int>(rng_.between(1, 12)), rng_.chance(300));
            crash_after_failure_ = rng_.chance(400);
            break;
        case fault::clock_forward: {
            ++tallies_.clock_steps;
            const auto d = std::chrono::minutes{rng_.between(1, 180)};
            clock_.set(clock_.now() + d);
            checker_.excuse(d);
            break;
        }
        case fault::clock_backward:
            ++tallies_.clock_steps;
            clock_.set(clock_.now() - std::chrono::minutes{rng_.between(1, 120)});
            break;
        case fault::pause_dispatcher:
            if (proc_->b) {
                ++tallies_.dispatcher_pauses;
                a_paused_until_ = clock_.now() + lease_ttl * rng_.between(1, 4);
            }
            break;
        case fault::stale_probe:
            probe_stale_token();
            break;
        case fault::operate:
            operate();
            break;
        }
    }

    /// The simulated operator's action on a random schedule.
    void operate() {
        ++tallies_.operator_actions;
        if (schedules_.empty()) {
            return;
        }
        auto& s = *proc_->sched;
        const auto id = schedules_[rng_.below(schedules_.size())];
        switch (static_cast<action>(weighted(rng_, action_weights))) {
        case action::pause:
            (void)s.pause(id);
            break;
        case action::resume:
            (void)s.resume(id);
            break;
        case action::edit:
            if (auto cur = s.store().get_schedule(id); cur && *cur) {
                (void)s.replace_schedule(id, edit_schedule(rng_, input_of(**cur), clock_.now()));
            }
            break;
        case action::remove:
            if (s.remove(id)) {
                std::erase(schedules_, id);
            }
            break;
        case action::cancel:
            cancel_one();
            break;
        case action::create: {
            auto fresh = generate_schedules(rng_, 1, clock_.now(), clock_.now() + 7 * 24h, options_.workload);
            create(std::move(fresh.front()));
            break;
        }
        case action::trigger:
            (void)s.trigger(id, "simulated operator");
            break;
        }
    }

    void create(schedule_input in) {
        in.name = "sim-" + std::to_string(created_++);
        if (auto s = proc_->sched->create_schedule(std::move(in))) {
            schedules_.push_back(s->id);
        }
    }

    /// Cancels a random running run through whichever dispatcher executes it.
    void cancel_one() {
        auto running = store().list_runs(run_filter{std::nullopt, run_status::running}, page_request{std::nullopt, 50});
        if (!running || running->items.empty()) {
            return;
        }
        const auto& victim = running->items[rng_.below(running->items.size())];
        auto r = proc_->sched->cancel(victim.id, "simulated operator");
        if (r && !is_terminal(r->status) && proc_->b) {
            (void)proc_->b->cancel(victim.id, "simulated operator");
        }
    }

    /// Writes with the fencing token of an earlier execution whose lease is gone: the store
    /// must refuse each, and the run and the ledger must stay as they were.
    void probe_stale_token() {
        std::vector<const std::pair<run_id, std::int64_t>*> stale;
        for (const auto& e : executed_) {
            const wakeplane::run* r = checker_.shadow_run(e.first);
            if (r != nullptr && (r->fencing_token != e.second || is_terminal(r->status))) {
                stale.push_back(&e);
            }
        }
        if (stale.empty()) {
            return;
        }
        ++tallies_.stale_probes;
        const auto [id, token] = *stale[rng_.below(stale.size())];
        const auto before = run_reader(store())(id);
        const auto seq = store().last_seq().value_or(-1);
        finish_request f;
        f.run = id;
        f.fencing_token = token;
        f.at = clock_.now();
        f.outcome = run_status::succeeded;
        const auto finished = store().finish_run(f);
        const auto renewed = store().renew_lease(id, token, clock_.now(), clock_.now() + lease_ttl);
        const bool refused = (!finished && finished.error().code == errc::stale_fence) &&
                             (!renewed && renewed.error().code == errc::stale_fence);
        if (!refused || run_reader(store())(id) != before || store().last_seq().value_or(-1) != seq) {
            checker_.fail("a stale fencing token never changes a run",
                          "a write to run " + id + " with token " + std::to_string(token) + " was not refused");
        }
    }

    // ---- checks ---------------------------------------------------------------------------

    /// Feeds the checker the ledger events and executions since the last look, then checks
    /// rows, horizons and progress.
    void observe() {
        for (;;) {
            auto events = store().read_ledger(ledger_query{checker_.last_seq(), 4096, std::nullopt, std::nullopt});
            if (!events) {
                checker_.fail("ledger is readable", events.error().message);
                return;
            }
            if (events->empty()) {
                break;
            }
            checker_.observe(*events);
        }
        for (const auto& e : log_->take()) {
            checker_.observe_execution(e);
            if (options_.faults) {  // only the stale-token probes, a fault, read it
                executed_.emplace_back(e.run, e.fencing_token);
            }
        }
        if (!options_.check_every_step) {
            return;
        }
        checker_.check_rows(run_reader(store()), schedule_reader(store()));
        checker_.check_horizons(clock_.now());
        if (dispatched_ok_) {
            check_progress();
        }
    }

    /// After a successful dispatcher step, no eligible run may wait while its schedule has
    /// no active run: a free slot is always taken (the retry horizon holds).
    void check_progress() {
        const auto now = clock_.now();
        auto eligible = store().eligible_runs(now, 256);
        if (!eligible || eligible->size() >= 256) {
            return;  // more than one claim batch: the rest is claimed next step
        }
        for (const auto& r : *eligible) {
            if (checker_.active_runs(r.schedule) == 0) {
                checker_.fail("no run waits past its horizon",
                              "run " + r.id + " (" + r.occurrence_key + " attempt " + std::to_string(r.attempt) +
                                  ") is eligible at " + format_rfc3339(now) +
                                  " and its schedule runs nothing, yet no dispatcher claimed it");
                return;
            }
        }
    }

    /// After a crash, the reopened store's ledger must hold every event seen so far, unchanged.
    void check_ledger_prefix() {
        std::uint64_t digest = 0;
        std::int64_t after = 0;
        while (after < checker_.last_seq()) {
            const auto want = static_cast<std::size_t>(std::min<std::int64_t>(4096, checker_.last_seq() - after));
            auto events = store().read_ledger(ledger_query{after, want, std::nullopt, std::nullopt});
            if (!events || events->empty()) {
                break;
            }
            digest = invariant_checker::digest_of(*events, digest);
            after = events->back().seq;
        }
        if (after != checker_.last_seq() || digest != checker_.digest()) {
            checker_.fail("the ledger only grows", "after a restart the ledger up to seq " +
                                                       std::to_string(checker_.last_seq()) + " differs (read up to " +
                                                       std::to_string(after) + ")");
        }
    }

    template <class S>
    static auto run_reader(S& s) {
        return [&s](std::string_view id) -> std::optional<wakeplane::run> {
            auto r = s.get_run(id);
            return r ? *r : std::nullopt;
        };
    }

    template <class S>
    static auto schedule_reader(S& s) {
        return [&s](std::string_view id) -> std::optional<schedule> {
            auto r = s.get_schedule(id);
            return r ? *r : std::nullopt;
        };
    }

    /// Every row against the store, then the ledger replayed by the library into a fresh
    /// memory backend against the same rows.
    void final_checks() {
        checker_.check_rows(run_reader(store()), schedule_reader(store()), true);
        stores::memory_backend replayed;
        if (auto r = replay_ledger(store(), replayed); !r) {
            checker_.fail("replaying the ledger reproduces the projection", "replay failed: " + r.error().message);
            return;
        }
        checker_.check_rows(run_reader(replayed), schedule_reader(replayed), true);
    }

    sim_report report() {
        sim_report r;
        r.ok = !checker_.failure();
        r.digest = checker_.digest();
        r.steps = steps_;
        r.occurrences = checker_.occurrences();
        r.executions = checker_.executions();
        r.claims_ahead = checker_.claims_ahead();
        r.events = checker_.last_seq();
        out_ << "steps " << r.steps << " events " << r.events << " occurrences " << r.occurrences << " executions "
             << r.executions << " claimed_ahead " << r.claims_ahead << "\n";
        out_ << "faults: crashes " << tallies_.crashes << " write_failures " << tallies_.write_failures
             << " clock_steps " << tallies_.clock_steps << " operator_actions " << tallies_.operator_actions
             << " dispatcher_pauses " << tallies_.dispatcher_pauses << " stale_token_probes " << tallies_.stale_probes
             << "\n";
        if (const auto& f = checker_.failure()) {
            out_ << "FAILED seed " << options_.seed << " step " << steps_ << " at " << format_rfc3339(clock_.now())
                 << "\ninvariant: " << f->invariant << "\n" << f->message << "\nlast events:\n";
            for (const auto& e : checker_.recent()) {
                out_ << "  " << e.seq << " " << format_rfc3339(e.at) << " " << to_string(e.kind) << " " << e.schedule
                     << (e.run ? " " + *e.run : "") << (e.occurrence_key ? " " + *e.occurrence_key : "")
                     << (e.attempt ? " attempt " + std::to_string(*e.attempt) : "") << "\n";
            }
        } else {
            out_ << "ok: every invariant held\n";
        }
        out_ << "digest " << hex(r.digest) << "\n";
        return r;
    }

    const sim_options& options_;
    Disk disk_;
    std::ostream& out_;
    prng rng_;
    manual_clock clock_;
    duration lookahead_;  ///< the planner's; before checker_, which is built with it
    invariant_checker checker_;
    std::shared_ptr<execution_log> log_ = std::make_shared<execution_log>();
    std::shared_ptr<testing::failure_budget> budget_ = std::make_shared<testing::failure_budget>(0, false);
    std::unique_ptr<process> proc_;
    bool second_dispatcher_ = false;
    std::uint64_t generation_ = 0;
    std::vector<schedule_id> schedules_;
    std::size_t created_ = 0;
    std::vector<std::pair<run_id, std::int64_t>> executed_;  ///< (run, token) of every execution
    time_point next_fault_{};
    time_point a_paused_until_{};
    bool crash_after_failure_ = false;
    bool dispatched_ok_ = false;
    std::size_t steps_ = 0;
    tallies tallies_;
};

template <class Backend, class Disk>
sim_report drive(const sim_options& options, Disk disk, std::ostream& out) {
    return driver<Backend, Disk>(options, std::move(disk), out).run();
}

}  // namespace

sim_report run_simulation(const sim_options& options, std::ostream& out) {
    switch (options.store) {
    case store_kind::memory: {
        auto state = std::make_shared<stores::memory_state>();
        return drive<stores::memory_backend>(options, [state] { return stores::memory_backend{state}; }, out);
    }
    case store_kind::sqlite: {
        testing::temp_dir dir{"wakeplane-sim"};
        auto file = dir.path() / "wakeplane.db";
        return drive<stores::sqlite_backend>(
            options, [file] { return stores::sqlite_backend::open(stores::sqlite_options{file}).value(); }, out);
    }
    case store_kind::rocksdb: {
        testing::temp_dir dir{"wakeplane-sim"};
        auto path = dir.path() / "db";
        return drive<stores::rocksdb_backend>(
            options, [path] { return stores::rocksdb_backend::open({.path = path}).value(); }, out);
    }
    }
    return {};
}

}  // namespace wakeplane::sim
