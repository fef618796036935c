// Dispatcher throughput: claim, execute a no-op workflow and finish, every claim and finish
// durable, with 10,000 eligible runs; and the cost of starting a burst at its due time, with and
// without claiming ahead.
#include <benchmark/benchmark.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <wakeplane/dispatcher.hpp>
#include <wakeplane/scheduler.hpp>

#include "bm_stores.hpp"

namespace {

using namespace wakeplane;
using namespace wakeplane::bench;
using namespace std::chrono_literals;

/// Does nothing, successfully: the dispatcher's own cost is what is measured.
struct noop_workflow {
    static constexpr std::string_view kind = "workflow";
    execution_result execute(const target_spec&, const run_context&) {
        execution_result r;
        r.ok = true;
        return r;
    }
};

/// Loads `n` pending runs, all due at t0, of one schedule that allows them all at once.
template <class Store>
void load_runs(Store& store, std::int64_t n, std::int64_t round) {
    auto s = bench_schedule(0, t0);
    s.policy.overlap = "allow";
    s.policy.max_concurrency = 1'000'000;
    auto tx = store.backend().begin();
    if (!tx || !tx->put_schedule(s, std::nullopt)) {
        throw std::runtime_error("cannot load the schedule");
    }
    for (std::int64_t i = 0; i < n; ++i) {
        auto r = bench_run(i, i, t0 + std::chrono::microseconds{i}, round);
        r.schedule = s.id;
        r.occurrence_key = occurrence_key(s.id, r.nominal_time);
        if (!tx->insert_run(r)) {
            throw std::runtime_error("cannot load a run");
        }
    }
    if (!tx->commit()) {
        throw std::runtime_error("cannot commit the runs");
    }
}

/// One round's store, dispatcher and wake-up signal. A round is torn down while the timer is
/// paused: closing a store (RocksDB flushes its memtable) is no part of dispatching.
template <class Kind>
struct dispatch_round {
    Kind kind;
    std::unique_ptr<typename Kind::store_type> store = kind.open();
    manual_clock clock{t0 + 1s};
    id_generator ids{1};
    std::mutex m;
    std::condition_variable cv;
    bool woken = false;
    std::unique_ptr<dispatcher<typename Kind::store_type, manual_clock>> d;

    explicit dispatch_round(std::int64_t runs) {
        load_runs(*store, runs, 1);
        auto reg = std::make_shared<executor_registry>();
        reg->add(noop_workflow{});
        dispatcher_options o;
        o.worker_id = "bench";
        o.max_workers = 512;
        o.claim_batch = 512;
        d = std::make_unique<dispatcher<typename Kind::store_type, manual_clock>>(*store, clock, reg, ids, o);
        d->on_wake([this] {
            std::lock_guard lock{m};
            woken = true;
            cv.notify_one();
        });
    }

    /// Waits for an execution to end (a condition, woken by the dispatcher).
    void wait() {
        std::unique_lock lock{m};
        cv.wait(lock, [&] { return woken; });
        woken = false;
    }
};

template <class Kind>
void bm_dispatch(benchmark::State& state) {
    constexpr std::int64_t runs = 10'000;
    std::unique_ptr<dispatch_round<Kind>> round;
    for (auto _ : state) {
        state.PauseTiming();
        round.reset();  // the previous round's teardown, unmeasured; the last one's follows the loop
        round = std::make_unique<dispatch_round<Kind>>(runs);
        auto& d = *round->d;
        state.ResumeTiming();

        std::size_t finished = 0;
        while (finished < static_cast<std::size_t>(runs)) {
            auto r = d.step();
            if (!r) {
                state.SkipWithError(r.error().message.c_str());
                return;
            }
            finished += r->finished;
            if (finished >= static_cast<std::size_t>(runs)) {
                break;
            }
            if (d.active() == 0 && r->claimed == 0) {
                continue;  // nothing in flight: step again at once
            }
            round->wait();
        }
        state.PauseTiming();
        auto c = round->store->counts(round->clock.now()).value();
        if (c.by_status[static_cast<std::size_t>(run_status::succeeded)] != runs) {
            state.SkipWithError("not every run succeeded");
        }
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * runs);
    state.counters["runs_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations() * runs), benchmark::Counter::kIsRate);
}

/// A burst on a manual clock: 1,000 schedules due in the same second, planned one second ahead
/// (and, with range(0) = 1, claimed ahead then too, as the daemon does), then timed: the one
/// dispatcher step at the due second that claims (or only starts) them and hands them to
/// workers. The per-run cost of what stands between a burst's due time and its executors.
template <class Kind>
void bm_burst_start(benchmark::State& state) {
    constexpr int schedules = 1000;
    const bool ahead = state.range(0) == 1;
    Kind kind;
    manual_clock clock{t0};
    auto reg = std::make_shared<executor_registry>();
    reg->add(noop_workflow{});
    scheduler_options o;
    o.id_seed = 7;
    o.dispatching.max_workers = 2 * schedules;
    o.planning.lookahead = 1s;
    o.dispatching.claim_ahead = ahead ? 1s : 0s;
    default_scheduler<typename Kind::store_type, manual_clock> sched{std::move(*kind.open()), clock, reg, o};
    const auto first = t0 + 10s;
    for (int i = 0; i < schedules; ++i) {
        // Not "s" + std::to_string(i): GCC 12 inlines that operator+ into a memcpy it then reports
        // as overlapping (-Wrestrict, a known false positive of that release).
        if (!sched.create_schedule(every_second(std::string{"s"}.append(std::to_string(i)), first))) {
            state.SkipWithError("create failed");
            return;
        }
    }
    std::int64_t started = 0;
    auto due = first;
    for (auto _ : state) {
        state.PauseTiming();
        clock.set(due - 1s);
        auto planned = sched.step();  // writes (and claims ahead) the second's runs
        clock.set(due);
        state.ResumeTiming();
        auto burst = sched.dispatch();
        state.PauseTiming();
        if (!planned || !burst || burst->claimed != static_cast<std::size_t>(schedules)) {
            state.SkipWithError("the burst did not start every run");
            return;
        }
        started += static_cast<std::int64_t>(burst->claimed);
        while (sched.dispatcher().active() > 0) {  // the executions end; record them, untimed
            std::this_thread::yield();
            if (!sched.dispatch()) {
                state.SkipWithError("finishing failed");
                return;
            }
        }
        due += 1s;
        state.ResumeTiming();
    }
    state.counters["runs_per_s"] = benchmark::Counter(static_cast<double>(started), benchmark::Counter::kIsRate);
    state.counters["us_per_run"] =
        benchmark::Counter(static_cast<double>(started), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace

BENCHMARK_TEMPLATE(bm_burst_start, sqlite)->Name("bm_burst_start/sqlite")->ArgName("ahead")->Arg(0)->Arg(1)
    ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(20);
BENCHMARK_TEMPLATE(bm_burst_start, rocksdb)->Name("bm_burst_start/rocksdb")->ArgName("ahead")->Arg(0)->Arg(1)
    ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(20);
BENCHMARK_TEMPLATE(bm_dispatch, memory)->Name("bm_dispatch/memory")->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK_TEMPLATE(bm_dispatch, sqlite)->Name("bm_dispatch/sqlite")->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK_TEMPLATE(bm_dispatch, rocksdb)->Name("bm_dispatch/rocksdb")->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

BENCHMARK_MAIN();
