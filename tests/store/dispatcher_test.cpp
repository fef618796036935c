// Dispatcher scenarios on a manual clock over every store: overlap, retries, timeouts,
// recovery after crashes, replace, and racing dispatchers.
#include <wakeplane/scheduler.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include <catch2/catch.hpp>

#include <wakeplane/testing/run_until.hpp>

#include "../support.hpp"
#include "fixtures.hpp"

using namespace wakeplane;
using namespace wakeplane::testing;
using namespace std::chrono_literals;

namespace {

const time_point t0 = at("2026-03-12T10:00:00Z");

/// A workflow executor whose behaviour the test scripts: every execution is recorded, and the
/// script decides the result, optionally taking simulated time on the manual clock.
struct scripted {
    static constexpr std::string_view kind = "workflow";
    struct shared_log {
        std::mutex mutex;
        std::vector<std::pair<std::string, std::int64_t>> executions;  // (occurrence key, attempt)
        std::multiset<std::pair<std::string, std::int64_t>> seen;
    };
    std::shared_ptr<shared_log> log = std::make_shared<shared_log>();
    std::function<execution_result(const run_context&)> script;

    execution_result execute(const target_spec&, const run_context& ctx) {
        {
            std::lock_guard lock{log->mutex};
            log->executions.emplace_back(ctx.occurrence_key, ctx.attempt);
            log->seen.emplace(ctx.occurrence_key, ctx.attempt);
        }
        return script(ctx);
    }
};

execution_result ok() {
    execution_result r;
    r.ok = true;
    r.result_json = R"({"done":true})";
    r.receipts.push_back({"workflow_result", "application/json", R"({"done":true})", false});
    return r;
}

execution_result failed(std::string why) {
    execution_result r;
    r.error_text = std::move(why);
    return r;
}

template <class Fixture>
using sched_t = default_scheduler<typename Fixture::store_type, manual_clock>;

/// A scheduler over the fixture's store (moved in), with `script` as its workflow executor.
template <class Fixture>
std::unique_ptr<sched_t<Fixture>> make(Fixture& fx, manual_clock& clock, scripted exec, std::string worker = "w1",
                                       std::uint64_t seed = 1) {
    auto reg = std::make_shared<executor_registry>();
    reg->add(std::move(exec));
    scheduler_options o;
    o.id_seed = seed;
    o.dispatching.worker_id = std::move(worker);
    o.dispatching.lease_ttl = 30s;
    o.dispatching.stop_grace = 10s;
    fx.close();
    return std::make_unique<sched_t<Fixture>>(std::move(*fx.open()), clock, reg, o);
}

schedule_input workflow_input(std::string name, std::int64_t every_seconds, std::string overlap = "forbid",
                              std::int64_t max_concurrency = 1) {
    schedule_input in;
    in.name = std::move(name);
    in.timezone = "UTC";
    in.schedule.kind = "interval";
    in.schedule.every_seconds = every_seconds;
    in.schedule.anchor_at = t0;
    in.target.kind = "workflow";
    in.target.workflow_id = "job";
    in.policy.overlap = std::move(overlap);
    in.policy.max_concurrency = max_concurrency;
    in.policy.misfire = "catch_up";
    return in;
}

template <class S>
std::vector<run> all_runs(S& s) {
    auto p = s.store().list_runs(run_filter{}, page_request{std::nullopt, 10000});
    REQUIRE(p.has_value());
    auto v = p->items;
    std::sort(v.begin(), v.end(), [](const run& a, const run& b) {
        return std::tie(a.nominal_time, a.attempt, a.created_at) < std::tie(b.nominal_time, b.attempt, b.created_at);
    });
    return v;
}

template <class S>
std::map<std::string, int> status_counts(S& s) {
    std::map<std::string, int> out;
    for (const auto& r : all_runs(s)) {
        ++out[std::string(to_string(r.status))];
    }
    return out;
}

}  // namespace

TEMPLATE_TEST_CASE("a due run is claimed, executed and recorded with its receipts", "[dispatcher]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    manual_clock clock{t0 - 1s};
    scripted exec;
    exec.script = [](const run_context&) { return ok(); };
    auto log = exec.log;
    auto s = make(fx, clock, exec);
    auto created = s->create_schedule(workflow_input("job", 60));
    REQUIRE(created.has_value());
    CHECK(created->next_run_at == t0);
    REQUIRE(run_until(*s, t0 + 2min + 30s).has_value());
    auto runs = all_runs(*s);
    REQUIRE(runs.size() == 3);
    for (const auto& r : runs) {
        CHECK(r.status == run_status::succeeded);
        CHECK(r.started_at == r.nominal_time);   // no lateness on a manual clock
        CHECK(s->store().list_receipts(r.id).value().size() == 1);
    }
    CHECK(log->executions.size() == 3);
    CHECK(s->store().get_schedule(created->id).value()->last_run_at == t0 + 2min);
}

TEMPLATE_TEST_CASE("one step claims batch after batch until no run is eligible or no worker is free",
                   "[dispatcher][batch]", WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    manual_clock clock{t0 - 1s};
    scripted exec;
    std::stop_source release;  // every execution waits (on the manual clock) until released
    exec.script = [clock, token = release.get_token()](const run_context&) {
        clock.sleep_until(t0 + 1h, token);  // real-time ok: a manual clock, simulated time
        return ok();
    };
    auto reg = std::make_shared<executor_registry>();
    reg->add(exec);
    scheduler_options o;
    o.id_seed = 3;
    o.dispatching.claim_batch = 2;
    o.dispatching.max_workers = 5;
    fx.close();
    sched_t<TestType> s{std::move(*fx.open()), clock, reg, o};
    for (int i = 0; i < 7; ++i) {
        REQUIRE(s.create_schedule(workflow_input("job" + std::to_string(i), 3600)).has_value());
    }
    clock.set(t0);
    REQUIRE(s.plan().value().materialized == 7);
    auto step = s.dispatch();
    REQUIRE(step.has_value());
    CHECK(step->claimed == 5);  // batches of 2, 2 and 1: every free worker, in one step
    CHECK(s.dispatcher().active() == 5);
    CHECK(status_counts(s) == std::map<std::string, int>{{"pending", 2}, {"running", 5}});
    release.request_stop();
    REQUIRE(run_until(s, t0 + 1min).has_value());
    CHECK(status_counts(s) == std::map<std::string, int>{{"succeeded", 7}});
}

TEMPLATE_TEST_CASE("a failing run is retried with backoff and then dead-lettered", "[dispatcher][retry]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    manual_clock clock{t0};
    scripted exec;
    exec.script = [](const run_context&) { return failed("boom"); };
    auto s = make(fx, clock, exec);
    auto in = workflow_input("job", 3600);
    in.retry = {3, "exponential", 10, 15};
    REQUIRE(s->create_schedule(in).has_value());
    REQUIRE(run_until(*s, t0 + 1min).has_value());
    auto runs = all_runs(*s);
    REQUIRE(runs.size() == 3);
    CHECK(runs[0].status == run_status::failed);
    CHECK(runs[1].status == run_status::failed);
    CHECK(runs[1].attempt == 2);
    CHECK(runs[1].started_at == t0 + 10s);   // 10 s after the first failure
    CHECK(runs[2].status == run_status::dead_lettered);
    CHECK(runs[2].started_at == t0 + 25s);   // then min(20, 15) = 15 s
    CHECK(runs[2].error_text == "boom");
    auto letters = s->store().list_dead_letters({}, {}).value().items;
    REQUIRE(letters.size() == 1);
    CHECK(letters[0].run == runs[2].id);
}

TEMPLATE_TEST_CASE("a run that exceeds its timeout fails and is retried", "[dispatcher][timeout]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    manual_clock clock{t0};
    scripted exec;
    exec.script = [clock](const run_context& ctx) {
        if (ctx.attempt == 1) {
            clock.sleep_until(clock.now() + 1h, ctx.stop);  // real-time ok: a manual clock, simulated time; hangs until stopped
            execution_result r;
            r.stopped = true;
            r.error_text = "stopped";
            return r;
        }
        return ok();
    };
    auto s = make(fx, clock, exec);
    auto in = workflow_input("job", 86400);
    in.policy.timeout_seconds = 30;
    in.retry = {2, "exponential", 5, 5};
    REQUIRE(s->create_schedule(in).has_value());
    REQUIRE(run_until(*s, t0 + 2min).has_value());
    auto runs = all_runs(*s);
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].status == run_status::failed);
    CHECK(runs[0].error_text == "timed out after 30s");
    CHECK(runs[0].finished_at == t0 + 30s);
    CHECK(runs[1].status == run_status::succeeded);
    CHECK(runs[1].started_at == t0 + 35s);
}

TEMPLATE_TEST_CASE("overlap policies under max_concurrency 1 and 3", "[dispatcher][overlap]", WAKEPLANE_STORE_FIXTURES) {
    const std::string policy = GENERATE("allow", "forbid", "queue_latest", "replace");
    const std::int64_t max = GENERATE(1, 3);
    CAPTURE(policy, max);
    TestType fx;
    manual_clock clock{t0};
    scripted exec;
    // Every execution takes 150 s of simulated time, so a minutely schedule overlaps itself;
    // executions stop early when asked (cooperative).
    exec.script = [clock](const run_context& ctx) {
        if (!clock.sleep_until(clock.now() + 150s, ctx.stop)) {  // real-time ok: a manual clock, simulated time
            execution_result r;
            r.stopped = true;
            r.error_text = "stopped";
            return r;
        }
        return ok();
    };
    auto log = exec.log;
    auto s = make(fx, clock, exec);
    auto in = workflow_input("job", 60, policy, max);
    in.policy.timeout_seconds = 3600;
    REQUIRE(s->create_schedule(in).has_value());
    REQUIRE(run_until(*s, t0 + 10min).has_value());
    auto c = status_counts(*s);
    CAPTURE(c);
    const int started = static_cast<int>(log->executions.size());
    // Never two executions of one (occurrence, attempt).
    for (const auto& k : log->seen) {
        CHECK(log->seen.count(k) == 1);
    }
    if (policy == "allow") {
        // Up to `max` at once: with 3 slots every minutely occurrence starts on time.
        // 150 s each, every 60 s, until 10:10 inclusive: one slot starts at 0, 150, 300, 450,
        // 600 s; three slots start all eleven occurrences on time.
        CHECK(started == (max == 1 ? 5 : 11));
        CHECK(c["skipped"] == 0);
    } else if (policy == "forbid") {
        CHECK(started == 5);          // one at a time, back to back, nothing dropped
        CHECK(c["skipped"] == 0);
        CHECK(c["pending"] >= 6);     // the rest waits its turn
    } else if (policy == "queue_latest") {
        CHECK((c["skipped"] > 0) == (max == 1));  // at capacity, waiting ones collapse into the newest
        CHECK(c["pending"] <= 1);
        CHECK(started == (max == 1 ? 5 : 11));
    } else if (max == 1) {
        CHECK(c["cancelled"] > 0);    // the newest replaces the active run
        CHECK(c["pending"] <= 1);
    } else {
        CHECK(c["cancelled"] == 0);   // never at capacity (2.5 overlap < 3): nothing to replace
        CHECK(started == 11);
    }
}

TEMPLATE_TEST_CASE("replace cancels a cooperative run and waits out a non-cooperative one", "[dispatcher][replace]",
                   WAKEPLANE_STORE_FIXTURES) {
    const bool cooperative = GENERATE(true, false);
    CAPTURE(cooperative);
    TestType fx;
    manual_clock clock{t0};
    scripted exec;
    exec.script = [clock, cooperative](const run_context& ctx) {
        // Cooperative: stops when asked. Non-cooperative: ignores the stop token.
        const bool finished = clock.sleep_until(clock.now() + 150s, cooperative ? ctx.stop : std::stop_token{});  // real-time ok: a manual clock, simulated time
        if (!finished) {
            execution_result r;
            r.stopped = true;
            r.error_text = "stopped";
            return r;
        }
        return ok();
    };
    auto s = make(fx, clock, exec);
    auto in = workflow_input("job", 60, "replace", 1);
    in.policy.timeout_seconds = 3600;
    REQUIRE(s->create_schedule(in).has_value());
    REQUIRE(run_until(*s, t0 + 1min + 30s).has_value());
    auto runs = all_runs(*s);
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].status == run_status::cancelled);
    CHECK(runs[0].error_text == "replaced by a newer occurrence");
    if (cooperative) {
        CHECK(runs[0].finished_at == t0 + 1min);         // exits at once
        CHECK(runs[1].status == run_status::running);
        CHECK(runs[1].started_at == t0 + 1min);          // the replacement starts as soon as it exits
    } else {
        // It never exits: after the 10 s stop grace the run is finished without it, and the
        // replacement starts then.
        CHECK(runs[0].finished_at == t0 + 1min + 10s);
        CHECK(runs[1].status == run_status::running);
        CHECK(runs[1].started_at == t0 + 1min + 10s);
    }
}

TEMPLATE_TEST_CASE("a crash at any point of a run's life loses nothing and runs nothing twice",
                   "[dispatcher][crash]", WAKEPLANE_STORE_FIXTURES) {
    // claimed: crash between claim and start; running: crash during execution;
    // finishing: the executor returned but the result was never written.
    const std::string point = GENERATE("claimed", "running", "finishing");
    CAPTURE(point);
    TestType fx;
    manual_clock clock{t0};
    std::string run_id;
    {
        scripted exec;
        exec.script = [clock](const run_context& ctx) {
            clock.sleep_until(clock.now() + 1h, ctx.stop);  // real-time ok: a manual clock, simulated time
            return ok();
        };
        auto s = make(fx, clock, exec, "crashing");
        auto in = workflow_input("job", 86400);
        in.retry = {3, "exponential", 5, 5};
        REQUIRE(s->create_schedule(in).has_value());
        REQUIRE(s->plan().has_value());
        auto pending = s->store().eligible_runs(t0, 10).value();
        REQUIRE(pending.size() == 1);
        run_id = pending[0].id;
        if (point == "claimed") {
            auto c = s->store().claim_run(run_id, "crashing", t0, 30s,
                                          [](overlap_state) noexcept { return overlap_action::claim; });
            REQUIRE(c.has_value());
        } else {
            REQUIRE(s->dispatch().has_value());  // claims, marks running, starts the executor
            CHECK(s->store().get_run(run_id).value()->status == run_status::running);
            if (point == "finishing") {
                clock.advance(1h);               // the executor returns; its result is not collected
                settle(*s);
            }
        }
        // The crash: the scheduler and its threads' results are gone; only the store survives.
    }
    fx.reopen();
    scripted exec;
    exec.script = [](const run_context&) { return ok(); };
    auto log = exec.log;
    clock.set(t0 + 2h);
    auto s = make(fx, clock, exec, "restarted");
    REQUIRE(run_until(*s, t0 + 3h).has_value());
    auto runs = all_runs(*s);
    if (point == "claimed") {
        REQUIRE(runs.size() == 1);                     // back to pending, then run by the new worker
        CHECK(runs[0].status == run_status::succeeded);
        CHECK(runs[0].claimed_by_worker_id == "restarted");
        CHECK(runs[0].fencing_token == 2);
    } else {
        REQUIRE(runs.size() == 2);                     // attempt 1 failed by recovery, attempt 2 ran
        CHECK(runs[0].status == run_status::failed);
        CHECK(runs[0].error_text == "worker lease expired during execution");
        CHECK(runs[1].attempt == 2);
        CHECK(runs[1].status == run_status::succeeded);
    }
    for (const auto& k : log->seen) {
        CHECK(log->seen.count(k) == 1);
    }
}

TEMPLATE_TEST_CASE("two dispatchers and many threads racing never execute one attempt twice",
                   "[dispatcher][contention]", WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    manual_clock clock{t0};
    auto reg = std::make_shared<executor_registry>();
    scripted exec;
    exec.script = [](const run_context&) { return ok(); };
    auto log = exec.log;
    reg->add(exec);
    fx.close();
    auto store = fx.open();
    id_generator ids{77};
    dispatcher_options a_opts;
    a_opts.worker_id = "a";
    dispatcher_options b_opts;
    b_opts.worker_id = "b";
    dispatcher<typename TestType::store_type, manual_clock> a{*store, clock, reg, ids, a_opts};
    dispatcher<typename TestType::store_type, manual_clock> b{*store, clock, reg, ids, b_opts};
    auto sch = interval_schedule("sch_race", "race", t0);
    sch.policy.overlap = "allow";
    sch.policy.max_concurrency = 1000;
    REQUIRE(store->create_schedule(sch).has_value());
    constexpr int runs = 60;
    for (int i = 0; i < runs; ++i) {
        REQUIRE(store->trigger(pending_run(sch, "run_" + std::to_string(i), t0 + std::chrono::milliseconds{i}, t0))
                    .has_value());
    }
    clock.set(t0 + 1s);
    auto all_done = [&] {
        auto c = store->counts(clock.now()).value();
        return c.by_status[static_cast<std::size_t>(run_status::succeeded)] == runs;
    };
    // Catch2 assertions are not thread-safe (ThreadSanitizer saw them race on its counters): the
    // threads count their failed calls, and the test thread checks the count after joining them.
    std::atomic<int> failed_calls{0};
    // Each dispatcher steps on its own thread until every run has ended.
    auto drive = [&](auto& d) {
        for (int i = 0; i < 200'000 && !all_done(); ++i) {
            if (!d.step()) {
                ++failed_calls;
                return;
            }
            std::this_thread::yield();
        }
    };
    // Two more threads claim directly through the store, as a third and fourth worker would,
    // and execute what they win.
    auto rogue = [&](std::string worker) {
        for (int i = 0; i < runs; ++i) {
            const auto id = "run_" + std::to_string(i);
            auto c = store->claim_run(id, worker, clock.now(), 30s,
                                      [](overlap_state) noexcept { return overlap_action::claim; });
            if (!c || !c->claimed) {
                continue;
            }
            run_context ctx;
            ctx.occurrence_key = c->claimed->occurrence_key;
            ctx.attempt = c->claimed->attempt;
            scripted mine{log, [](const run_context&) { return ok(); }};
            if (!store->start_run(id, c->claimed->fencing_token, clock.now())) {
                ++failed_calls;
                return;
            }
            mine.execute(target_spec{}, ctx);
            finish_request f;
            f.run = id;
            f.fencing_token = c->claimed->fencing_token;
            f.at = clock.now();
            f.outcome = run_status::succeeded;
            if (!store->finish_run(f)) {
                ++failed_calls;
                return;
            }
        }
    };
    std::thread ta([&] { drive(a); });
    std::thread tb([&] { drive(b); });
    std::thread tc([&] { rogue("c"); });
    std::thread td([&] { rogue("d"); });
    ta.join();
    tb.join();
    tc.join();
    td.join();
    REQUIRE(failed_calls == 0);
    REQUIRE(all_done());
    CHECK(log->executions.size() == static_cast<std::size_t>(runs));
    for (const auto& k : log->seen) {
        CHECK(log->seen.count(k) == 1);
    }
    std::set<std::string> workers;
    for (int i = 0; i < runs; ++i) {
        workers.insert(*store->get_run("run_" + std::to_string(i)).value()->claimed_by_worker_id);
    }
    CHECK_FALSE(workers.empty());
}

TEMPLATE_TEST_CASE("a dispatcher whose lease was taken over writes nothing", "[dispatcher][fence]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    manual_clock clock{t0};
    scripted exec;
    // Takes 100 s of simulated time, whatever anyone says.
    exec.script = [clock](const run_context&) {
        clock.sleep_until(clock.now() + 100s);  // real-time ok: a manual clock, simulated time
        return ok();
    };
    auto log = exec.log;
    auto reg = std::make_shared<executor_registry>();
    reg->add(exec);
    fx.close();
    auto store = fx.open();
    id_generator ids{5};
    dispatcher_options slow_opts;
    slow_opts.worker_id = "stalled";
    slow_opts.lease_ttl = 30s;
    dispatcher_options other_opts = slow_opts;
    other_opts.worker_id = "other";
    dispatcher<typename TestType::store_type, manual_clock> stalled{*store, clock, reg, ids, slow_opts};
    dispatcher<typename TestType::store_type, manual_clock> other{*store, clock, reg, ids, other_opts};
    auto sch = interval_schedule("sch_f", "fence", t0);
    sch.policy.timeout_seconds = 3600;
    sch.retry = {3, "exponential", 1, 1};
    REQUIRE(store->create_schedule(sch).has_value());
    REQUIRE(store->trigger(pending_run(sch, "run_1", t0, t0)).has_value());
    // Executions start on threads of their own: let them reach their simulated work before
    // time moves (a condition, not a wall-clock wait).
    auto settle_both = [&] {
        clock.wait_until(
            [&](std::size_t sleeping) { return stalled.running_threads() + other.running_threads() <= sleeping; });
    };
    REQUIRE(stalled.step().has_value());                 // claims and starts run_1 (token 1)
    settle_both();
    CHECK(store->get_run("run_1").value()->status == run_status::running);
    // The stalled dispatcher does not step for 40 s (a GC pause, a frozen VM): its lease lapses.
    clock.set(t0 + 40s);
    REQUIRE(other.step().has_value());                   // recovers run_1: failed, retry scheduled
    CHECK(store->get_run("run_1").value()->status == run_status::failed);
    clock.set(t0 + 41s);
    REQUIRE(other.step().has_value());                   // runs the retry (attempt 2)
    settle_both();
    // The stalled one wakes up: its renewal is refused, it stops, and it writes nothing.
    auto r = stalled.step();
    REQUIRE(r.has_value());
    CHECK(r->lost_leases == 1);
    clock.set(t0 + 200s);                                // both executions return
    clock.wait_until([&](std::size_t) { return stalled.running_threads() + other.running_threads() == 0; });
    REQUIRE(other.step().has_value());                   // records attempt 2 before its lease looks stale
    REQUIRE(stalled.step().has_value());
    auto first = store->get_run("run_1").value().value();
    CHECK(first.status == run_status::failed);           // untouched by the stalled worker's success
    CHECK(first.error_text == "worker lease expired during execution");
    auto all = store->list_runs(run_filter{"sch_f", std::nullopt}, {}).value().items;
    REQUIRE(all.size() == 2);
    CHECK(all[0].attempt == 2);
    CHECK(all[0].status == run_status::succeeded);
    CHECK(all[0].claimed_by_worker_id == "other");
    auto events = store->read_ledger(ledger_query{0, 1000, std::nullopt, std::string("run_1")}).value();
    for (const auto& e : events) {
        if (e.kind == event_kind::run_finished) {
            FAIL("the stalled worker's result reached the ledger");
        }
    }
}
