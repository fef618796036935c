// Claiming ahead of the due time (dispatcher_options::claim_ahead) on a manual clock over every
// store: the run starts at its due time exactly, the policies that must wait for it do, and a
// drain, a cancel, a delete, a crash and a second dispatcher never make a run claimed ahead
// execute twice or not at all.
#include <wakeplane/scheduler.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include <wakeplane/testing/run_until.hpp>

#include "../support.hpp"
#include "fixtures.hpp"

using namespace wakeplane;
using namespace wakeplane::testing;
using namespace std::chrono_literals;

namespace {

const time_point t0 = at("2026-03-12T10:00:00Z");

/// Counts executions per (occurrence key, attempt); succeeds unless `hold` says to wait (on the
/// manual clock) until stopped.
struct counting {
    static constexpr std::string_view kind = "workflow";
    struct shared_log {
        std::mutex mutex;
        std::multiset<std::pair<std::string, std::int64_t>> seen;
    };
    std::shared_ptr<shared_log> log = std::make_shared<shared_log>();
    std::optional<manual_clock> hold;  ///< set: wait on it until the execution is stopped

    execution_result execute(const target_spec&, const run_context& ctx) {
        {
            std::lock_guard lock{log->mutex};
            log->seen.emplace(ctx.occurrence_key, ctx.attempt);
        }
        if (hold) {
            hold->sleep_until(hold->now() + 24h, ctx.stop);  // real-time ok: a manual clock, simulated time
        }
        execution_result r;
        r.ok = true;
        return r;
    }

    [[nodiscard]] std::size_t executions() const {
        std::lock_guard lock{log->mutex};
        return log->seen.size();
    }
    [[nodiscard]] bool each_once() const {
        std::lock_guard lock{log->mutex};
        return std::all_of(log->seen.begin(), log->seen.end(), [&](const auto& k) { return log->seen.count(k) == 1; });
    }
};

template <class Fixture>
using sched_t = default_scheduler<typename Fixture::store_type, manual_clock>;

/// A scheduler planning and claiming one second ahead, as the daemon does by default.
template <class Fixture>
std::unique_ptr<sched_t<Fixture>> make(Fixture& fx, manual_clock& clock, counting exec, std::string worker = "w1") {
    auto reg = std::make_shared<executor_registry>();
    reg->add(std::move(exec));
    scheduler_options o;
    o.id_seed = 5;
    o.dispatching.worker_id = std::move(worker);
    o.dispatching.lease_ttl = 30s;
    o.dispatching.stop_grace = 10s;
    o.planning.lookahead = 1s;
    o.dispatching.claim_ahead = 1s;
    fx.close();
    return std::make_unique<sched_t<Fixture>>(std::move(*fx.open()), clock, reg, o);
}

/// A minutely workflow schedule from t0.
schedule_input job(std::string name, std::string overlap = "allow", std::int64_t max_concurrency = 3) {
    schedule_input in;
    in.name = std::move(name);
    in.timezone = "UTC";
    in.schedule.kind = "interval";
    in.schedule.every_seconds = 60;
    in.schedule.anchor_at = t0;
    in.target.kind = "workflow";
    in.target.workflow_id = "job";
    in.policy.overlap = std::move(overlap);
    in.policy.max_concurrency = max_concurrency;
    return in;
}

/// The schedule's only run with nominal time `nominal`.
template <class S>
run run_at(S& s, const schedule& sc, time_point nominal) {
    run_filter f;
    f.schedule = sc.id;
    auto page = s.store().list_runs(f, page_request{std::nullopt, 1000});
    REQUIRE(page.has_value());
    for (const auto& r : page->items) {
        if (r.nominal_time == nominal && r.attempt == 1) {
            return r;
        }
    }
    FAIL("no run at " << format_rfc3339(nominal));
    return {};
}

/// The ledger's kinds for one run, oldest first.
template <class S>
std::vector<std::string> kinds_of(S& s, const run_id& id) {
    ledger_query q;
    q.limit = 100000;
    q.run = id;
    auto events = s.store().read_ledger(q);
    REQUIRE(events.has_value());
    std::vector<std::string> out;
    for (const auto& e : *events) {
        out.emplace_back(to_string(e.kind));
    }
    return out;
}

}  // namespace

TEMPLATE_TEST_CASE("a run claimed ahead starts exactly at its due time", "[dispatcher][ahead]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    manual_clock clock{t0 - 10s};
    counting exec;
    auto s = make(fx, clock, exec);
    auto sc = s->create_schedule(job("job")).value();
    clock.set(t0 - 1s);
    REQUIRE(s->plan().value().materialized == 1);
    auto ahead = s->dispatch();
    REQUIRE(ahead.has_value());
    CHECK(ahead->claimed_ahead == 1);
    CHECK(ahead->claimed == 0);
    CHECK(s->dispatcher().claimed_ahead() == 1);
    CHECK(s->dispatcher().active() == 0);
    auto held = run_at(*s, sc, t0);
    CHECK(held.status == run_status::claimed);
    CHECK(held.claim_expires_at == t0 + 29s);
    CHECK_FALSE(held.started_at.has_value());
    CHECK(s->next_wakeup().value() == t0);  // its start
    clock.set(t0 - 1ms);
    REQUIRE(s->dispatch().value().claimed == 0);  // not yet due
    CHECK(exec.executions() == 0);
    clock.set(t0);
    auto due = s->dispatch();
    REQUIRE(due.has_value());
    CHECK(due->claimed == 1);
    CHECK(s->dispatcher().claimed_ahead() == 0);
    auto started = run_at(*s, sc, t0);
    CHECK(started.status == run_status::running);
    CHECK(started.started_at == t0);
    CHECK(started.claim_expires_at == t0 + 29s);  // the claim's lease, renewed halfway through it
    CHECK(started.fencing_token == 1);
    CHECK(kinds_of(*s, started.id) == std::vector<std::string>{"occurrence_materialized", "run_claimed", "run_started"});
    // Three more minutes: every occurrence claimed ahead, started on time, run once.
    REQUIRE(run_until(*s, t0 + 3min + 30s).has_value());
    for (int m = 0; m <= 3; ++m) {
        auto r = run_at(*s, sc, t0 + std::chrono::minutes{m});
        CHECK(r.status == run_status::succeeded);
        CHECK(r.started_at == r.nominal_time);
    }
    CHECK(exec.executions() == 4);
    CHECK(exec.each_once());
}

TEMPLATE_TEST_CASE("runs whose decision depends on their due time are not claimed ahead", "[dispatcher][ahead]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    manual_clock clock{t0 - 10s};
    counting exec;
    exec.hold = clock;  // executions run until stopped
    auto s = make(fx, clock, exec);
    auto forbid = s->create_schedule(job("forbid", "forbid", 1)).value();
    auto replace = s->create_schedule(job("replace", "replace", 1)).value();
    auto full = s->create_schedule(job("full", "allow", 1)).value();
    auto roomy = s->create_schedule(job("roomy", "allow", 2)).value();
    // t0's runs: none is active yet, so all but `replace` are claimed ahead.
    clock.set(t0 - 1s);
    REQUIRE(s->plan().value().materialized == 4);
    REQUIRE(s->dispatch().value().claimed_ahead == 3);
    CHECK(run_at(*s, replace, t0).status == run_status::pending);  // newest wins: decided when due
    clock.set(t0);
    REQUIRE(s->dispatch().value().claimed == 4);  // three started, `replace` claimed and started
    // t0+60s's runs, one second ahead, while t0's still run: only `roomy` has a free slot.
    clock.set(t0 + 59s);
    REQUIRE(s->plan().value().materialized == 4);
    REQUIRE(s->dispatch().value().claimed_ahead == 1);
    CHECK(run_at(*s, roomy, t0 + 60s).status == run_status::claimed);
    CHECK(run_at(*s, forbid, t0 + 60s).status == run_status::pending);
    CHECK(run_at(*s, full, t0 + 60s).status == run_status::pending);
    CHECK(run_at(*s, replace, t0 + 60s).status == run_status::pending);
    // At the due time `replace` cancels its active run, as it would have without claiming ahead,
    // and t0's run of `replace` was not cancelled a second early.
    CHECK(run_at(*s, replace, t0).status == run_status::running);
    clock.set(t0 + 60s);
    auto due = s->dispatch();
    REQUIRE(due.has_value());
    CHECK(due->claimed == 1);    // roomy's
    CHECK(due->cancelled == 1);  // replace's t0 run is asked to stop
    CHECK(run_at(*s, roomy, t0 + 60s).started_at == t0 + 60s);
}

TEMPLATE_TEST_CASE("a drain gives claims made ahead back and the next process runs them once",
                   "[dispatcher][ahead][drain]", WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    manual_clock clock{t0 - 10s};
    counting first;
    schedule sc;
    {
        auto s = make(fx, clock, first);
        sc = s->create_schedule(job("job")).value();
        clock.set(t0 - 1s);
        REQUIRE(s->step().value().dispatched.claimed_ahead == 1);
        s->dispatcher().begin_drain(t0 + 10s);
        CHECK_FALSE(s->dispatcher().drained());
        CHECK(s->dispatcher().next_wakeup().value() == t0 - 1s);  // at once: claims to give back
        REQUIRE(s->dispatch().has_value());
        CHECK(s->dispatcher().drained());
        auto back = run_at(*s, sc, t0);
        CHECK(back.status == run_status::pending);
        CHECK(back.fencing_token == 1);
        CHECK_FALSE(back.claimed_by_worker_id.has_value());
        CHECK(kinds_of(*s, back.id).back() == "claim_released");
        clock.set(t0 + 1s);
        REQUIRE(s->dispatch().value().claimed == 0);  // draining: nothing starts
    }
    CHECK(first.executions() == 0);
    fx.reopen();
    counting second;
    auto s = make(fx, clock, second, "w2");
    REQUIRE(run_until(*s, t0 + 30s).has_value());
    auto r = run_at(*s, sc, t0);
    CHECK(r.status == run_status::succeeded);
    CHECK(r.claimed_by_worker_id == "w2");
    CHECK(r.fencing_token == 2);
    CHECK(r.attempt == 1);
    CHECK(second.executions() == 1);
}

TEMPLATE_TEST_CASE("a cancel or a delete ends a run claimed ahead before it starts", "[dispatcher][ahead][cancel]",
                   WAKEPLANE_STORE_FIXTURES) {
    const std::string how = GENERATE("cancel", "delete");
    CAPTURE(how);
    TestType fx;
    manual_clock clock{t0 - 10s};
    counting exec;
    auto s = make(fx, clock, exec);
    auto sc = s->create_schedule(job("job")).value();
    clock.set(t0 - 1s);
    REQUIRE(s->step().value().dispatched.claimed_ahead == 1);
    const auto id = run_at(*s, sc, t0).id;
    if (how == "cancel") {
        auto c = s->cancel(id, "not today");
        REQUIRE(c.has_value());
        CHECK(c->status == run_status::cancelled);
        CHECK(s->dispatcher().claimed_ahead() == 0);
    } else {
        REQUIRE(s->remove(sc.id).has_value());
        CHECK(s->dispatcher().claimed_ahead() == 1);  // it learns at the start that the claim is gone
    }
    clock.set(t0);
    auto due = s->dispatch();
    REQUIRE(due.has_value());
    CHECK(due->claimed == 0);
    CHECK(s->dispatcher().claimed_ahead() == 0);
    auto r = run_at(*s, sc, t0);
    CHECK(r.status == run_status::cancelled);
    CHECK(r.error_text == (how == "cancel" ? "not today" : "schedule deleted"));
    CHECK_FALSE(r.started_at.has_value());
    REQUIRE(run_until(*s, t0 + 5s).has_value());
    CHECK(exec.executions() == 0);
}

TEMPLATE_TEST_CASE("a crash while runs are claimed ahead runs each once after their leases expire",
                   "[dispatcher][ahead][crash]", WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    manual_clock clock{t0 - 10s};
    std::vector<schedule> scs;
    {
        counting exec;
        auto s = make(fx, clock, exec, "crashing");
        for (int i = 0; i < 3; ++i) {
            scs.push_back(s->create_schedule(job("job" + std::to_string(i))).value());
        }
        clock.set(t0 - 1s);
        REQUIRE(s->step().value().dispatched.claimed_ahead == 3);
        CHECK(exec.executions() == 0);
        // The crash: the scheduler is gone without a drain; the store keeps the claims.
    }
    fx.reopen();
    counting exec;
    auto s = make(fx, clock, exec, "restarted");
    clock.set(t0);
    REQUIRE(s->dispatch().value().claimed == 0);  // held by the crashed worker until t0+29s
    REQUIRE(run_until(*s, t0 + 40s).has_value());
    for (const auto& sc : scs) {
        auto r = run_at(*s, sc, t0);
        CHECK(r.status == run_status::succeeded);
        CHECK(r.claimed_by_worker_id == "restarted");
        CHECK(r.fencing_token == 2);
        CHECK(r.started_at == t0 + 29s);  // recovered when the lease from t0-1s expired
        CHECK(kinds_of(*s, r.id) == std::vector<std::string>{"occurrence_materialized", "run_claimed", "lease_recovered",
                                                             "run_claimed", "run_started", "run_finished"});
    }
    CHECK(exec.executions() == 3);
    CHECK(exec.each_once());
}

TEMPLATE_TEST_CASE("two dispatchers claiming ahead while the clock moves never execute one attempt twice",
                   "[dispatcher][ahead][contention]", WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    manual_clock clock{t0};
    auto reg = std::make_shared<executor_registry>();
    counting exec;
    reg->add(exec);
    fx.close();
    auto store = fx.open();
    id_generator ids{78};
    auto opts = [](std::string worker) {
        dispatcher_options o;
        o.worker_id = std::move(worker);
        o.claim_ahead = 1s;
        o.claim_batch = 7;  // several batches per step
        return o;
    };
    dispatcher<typename TestType::store_type, manual_clock> a{*store, clock, reg, ids, opts("a")};
    dispatcher<typename TestType::store_type, manual_clock> b{*store, clock, reg, ids, opts("b")};
    auto sch = interval_schedule("sch_race", "race", t0);
    sch.policy.overlap = "allow";
    sch.policy.max_concurrency = 1000;
    REQUIRE(store->create_schedule(sch).has_value());
    constexpr int runs = 60;
    for (int i = 0; i < runs; ++i) {  // due over two seconds, most of them ahead of the clock
        REQUIRE(store->trigger(pending_run(sch, "run_" + std::to_string(i), t0 + std::chrono::milliseconds{i * 33}, t0))
                    .has_value());
    }
    auto all_done = [&] {
        auto c = store->counts(clock.now()).value();
        return c.by_status[static_cast<std::size_t>(run_status::succeeded)] == runs;
    };
    std::atomic<int> failed_calls{0};  // Catch2 assertions are not thread-safe: counted, checked after
    auto drive = [&](auto& d) {
        for (int i = 0; i < 200'000 && !all_done(); ++i) {
            if (!d.step()) {
                ++failed_calls;
                return;
            }
            std::this_thread::yield();
        }
    };
    std::thread ta([&] { drive(a); });
    std::thread tb([&] { drive(b); });
    std::thread tick([&] {  // the clock moves on while they race, 10 ms at a time
        for (int i = 0; i < 300 && !all_done(); ++i) {
            clock.advance(10ms);
            std::this_thread::yield();
        }
    });
    tick.join();
    ta.join();
    tb.join();
    REQUIRE(failed_calls == 0);
    REQUIRE(all_done());
    CHECK(exec.executions() == static_cast<std::size_t>(runs));
    CHECK(exec.each_once());
    for (int i = 0; i < runs; ++i) {
        auto r = store->get_run("run_" + std::to_string(i)).value().value();
        CHECK(*r.started_at >= r.due_time);  // never before it was due
    }
}

TEMPLATE_TEST_CASE("a schedule turned `replace` cancels its run claimed ahead, which never starts",
                   "[dispatcher][ahead][replace]", WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    manual_clock clock{t0 - 10s};
    counting exec;
    exec.hold = clock;
    auto s = make(fx, clock, exec);
    auto sc = s->create_schedule(job("flip", "allow", 1)).value();
    clock.set(t0 - 1s);
    REQUIRE(s->step().value().dispatched.claimed_ahead == 1);
    const auto ahead = run_at(*s, sc, t0).id;
    // Inside the window the schedule becomes `replace` and a run is triggered, due at once.
    REQUIRE(s->replace_schedule(sc.id, job("flip", "replace", 1)).has_value());
    clock.set(t0 - 500ms);
    auto triggered = s->trigger(sc.id, "by hand");
    REQUIRE(triggered.has_value());
    auto first = s->dispatch();
    REQUIRE(first.has_value());
    CHECK(first->cancelled == 1);
    CHECK(s->dispatcher().claimed_ahead() == 0);
    auto cancelled = s->store().get_run(ahead).value().value();
    CHECK(cancelled.status == run_status::cancelled);
    CHECK(cancelled.error_text == "replaced by a newer occurrence");
    CHECK(s->dispatcher().next_wakeup().value() == t0 - 500ms);  // its slot is free: step again at once
    REQUIRE(s->dispatch().value().claimed == 1);
    CHECK(s->store().get_run(triggered->id).value()->status == run_status::running);
    clock.set(t0 + 1s);
    REQUIRE(s->dispatch().has_value());
    settle(*s);
    CHECK(exec.executions() == 1);  // the triggered run only
}
