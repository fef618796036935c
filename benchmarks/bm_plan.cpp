// Planner throughput: one durable pass with N schedules due, against the store's own batched
// insert of the same rows (and of everything the pass writes), and the cost of a pass when most
// schedules are not due.
#include <benchmark/benchmark.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <wakeplane/planner.hpp>
#include <wakeplane/stores/memory.hpp>
#include <wakeplane/stores/rocksdb.hpp>
#include <wakeplane/stores/sqlite.hpp>

#include "bm_stores.hpp"

namespace {

using namespace wakeplane;
using namespace wakeplane::bench;
using namespace std::chrono_literals;

/// N minutely schedules all due at t0, and `idle` more due only in a year.
template <class Kind>
std::unique_ptr<typename Kind::store_type> loaded(Kind& kind, std::int64_t due, std::int64_t idle) {
    auto store = kind.open();
    bulk_schedules(*store, due, idle);
    return store;
}

/// One planner pass with N schedules all due: N occurrences materialized, durably.
template <class Kind>
void bm_plan_due(benchmark::State& state) {
    Kind kind;
    const auto n = state.range(0);
    auto store = loaded(kind, n, 0);
    manual_clock clock{t0 + 1s};
    id_generator ids{1};
    planner<typename Kind::store_type, manual_clock> p{*store, clock, ids, planner_options{1024, 1'000'000}};
    for (auto _ : state) {
        auto r = p.plan();
        if (!r || r->materialized != static_cast<std::size_t>(n)) {
            state.SkipWithError("the pass did not materialize every schedule");
            break;
        }
        state.PauseTiming();
        clock.advance(1min);  // every schedule is due again, one minute later
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * n);
    state.counters["occurrences_per_s"] = benchmark::Counter(static_cast<double>(state.iterations() * n),
                                                             benchmark::Counter::kIsRate);
}

/// N rows a round written straight through the backend, `write(tx, i, position, round)` for each
/// i in id order (in_id_order) at its position in that order, one durable transaction per 1024
/// rows; reports rows per second.
template <class Store, class Write>
void write_rounds(benchmark::State& state, Store& store, Write&& write) {
    const auto n = state.range(0);
    const auto order = in_id_order(n);
    std::int64_t round = 0;
    for (auto _ : state) {
        ++round;
        for (std::int64_t done = 0; done < n;) {
            auto tx = store.backend().begin();
            if (!tx) {
                state.SkipWithError("begin failed");
                return;
            }
            for (const auto end = std::min<std::int64_t>(n, done + 1024); done < end; ++done) {
                if (!write(*tx, order[static_cast<std::size_t>(done)], done, round)) {
                    state.SkipWithError("write failed");
                    return;
                }
            }
            if (!tx->commit()) {
                state.SkipWithError("commit failed");
                return;
            }
        }
    }
    state.SetItemsProcessed(state.iterations() * n);
    state.counters["rows_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations() * n), benchmark::Counter::kIsRate);
}

/// The same N run rows written with the backend's own batched, durable insert: one transaction
/// per 1024 rows, no planner, no ledger. The ceiling the planner is measured against.
template <class Kind>
void bm_store_raw_insert(benchmark::State& state) {
    Kind kind;
    auto store = loaded(kind, state.range(0), 0);
    write_rounds(state, *store, [](auto& tx, std::int64_t i, std::int64_t position, std::int64_t round) {
        return tx.insert_run(bench_run(i, position, t0 + std::chrono::minutes{round}, round)).value_or(false);
    });
}

/// Everything a pass writes, written straight through the backend's transactions, with no
/// planner: per schedule the run row, its ledger event and the move of next_run_at, one
/// transaction per 1024 schedules, as a pass chunks them. Not the ceiling of the goal
/// (bm_store_raw_insert is); beside the planner it separates what the planner's output costs
/// to write from what its own work (the due query, the plan, the checks) adds. Unlike a pass,
/// it appends each event right after its rows, and builds no list of events first.
template <class Kind>
void bm_store_raw_pass(benchmark::State& state) {
    Kind kind;
    auto store = loaded(kind, state.range(0), 0);
    auto seq = store->backend().last_seq().value();
    write_rounds(state, *store, [&seq](auto& tx, std::int64_t i, std::int64_t position, std::int64_t round) {
        const auto due = t0 + std::chrono::minutes{round - 1};
        auto r = bench_run(i, position, due, round);
        ledger_event e;
        e.seq = ++seq;
        e.at = due;
        e.kind = event_kind::occurrence_materialized;
        e.schedule = r.schedule;
        e.run = r.id;
        e.occurrence_key = r.occurrence_key;
        e.attempt = r.attempt;
        e.payload = run_change{.row = r, .next_run = next_run_change{due + 1min}};
        return tx.move_next_run_at(r.schedule, due, due + 1min).value_or(false) &&
               tx.insert_run(r).value_or(false) && tx.append(e).has_value();
    });
}

/// The goal's ratio measured in pairs: each iteration runs one planner pass (as bm_plan_due) and
/// writes the same N run rows with the raw insert (as bm_store_raw_insert), each on a store of
/// its own loaded alike, and times both, after a first pair that is reported apart.
/// bm_plan_due and bm_store_raw_insert run minutes apart, and on a machine whose speed drifts by
/// more than the margin in that time their ratio measures the drift as much as the code. The two
/// halves therefore take turns by transaction: the pass's first chunk (planner_options::chunk
/// schedules, one transaction), then the raw insert's first 1,024 rows (one transaction), then
/// the pass's second chunk, and so on, so both halves see the machine within a few hundred
/// milliseconds of each other. The pass is the same pass: a planner limited to one chunk per
/// plan() call, called until it has nothing more due at the same instant, does what one plan()
/// does, chunk for chunk. Reports the planner's time as the iteration time, and the raw
/// insert's time and `planner_vs_raw` (raw time / planner time: the planner's throughput as a
/// fraction of the raw insert's, the goal being at least 0.5) as counters, and
/// `first_planner_vs_raw`, the ratio of the first pair alone. The turns are not free: each half
/// runs amid the other's caches and background work, which costs the two stores' halves unequally
/// (docs/performance.md, fourteenth session), so bm_plan_due and bm_store_raw_insert stay the goal's
/// own measure, run with --benchmark_enable_random_interleaving and repetitions so that the
/// machine's drift falls on both (fifteenth session).
template <class Kind>
void bm_plan_paired(benchmark::State& state) {
    using steady = std::chrono::steady_clock;
    constexpr std::int64_t chunk = 1024;
    const auto n = state.range(0);
    Kind plan_kind;
    Kind raw_kind;
    auto plan_store = loaded(plan_kind, n, 0);
    auto raw_store = loaded(raw_kind, n, 0);
    manual_clock clock{t0 + 1s};
    id_generator ids{3};
    planner<typename Kind::store_type, manual_clock> p{*plan_store, clock, ids, planner_options{chunk, 1}};
    const auto order = in_id_order(n);
    std::int64_t round = 0;
    /// One pass and its raw round, chunk by chunk in turns, their times added to the two
    /// durations; false (the state told why) when either failed.
    const auto pair = [&](steady::duration& planner_time, steady::duration& raw_time) {
        ++round;
        std::size_t materialized = 0;
        std::int64_t written = 0;
        for (bool more = true; more || written < n;) {
            if (more) {
                const auto start = steady::now();
                auto r = p.plan();
                planner_time += steady::now() - start;
                if (!r) {
                    state.SkipWithError("the pass failed");
                    return false;
                }
                materialized += r->materialized;
                more = r->more;
            }
            if (written < n) {
                const auto start = steady::now();
                auto tx = raw_store->backend().begin();
                bool ok = tx.has_value();
                for (const auto end = std::min(n, written + chunk); ok && written < end; ++written) {
                    const auto i = order[static_cast<std::size_t>(written)];
                    ok = tx->insert_run(bench_run(i, written, t0 + std::chrono::minutes{round}, round)).value_or(false);
                }
                if (!ok || !tx->commit()) {
                    state.SkipWithError("the raw insert failed");
                    return false;
                }
                raw_time += steady::now() - start;
            }
        }
        if (materialized != static_cast<std::size_t>(n)) {
            state.SkipWithError("the pass did not materialize every schedule");
            return false;
        }
        clock.advance(1min);
        return true;
    };
    // One pair first, untimed: a process's first pass decodes every due schedule, later passes
    // take them from the store's schedule cache. A daemon plans pass after pass, so the
    // iterations measure the passes after the first; the first is reported as counters.
    steady::duration first_planner{};
    steady::duration first_raw{};
    if (!pair(first_planner, first_raw)) {
        return;
    }
    steady::duration planner_total{};
    steady::duration raw_total{};
    for (auto _ : state) {
        steady::duration planner_time{};
        steady::duration raw_time{};
        if (!pair(planner_time, raw_time)) {
            break;
        }
        planner_total += planner_time;
        raw_total += raw_time;
        state.SetIterationTime(std::chrono::duration<double>(planner_time).count());
    }
    const auto ms = [&state](steady::duration d) {
        return std::chrono::duration<double, std::milli>(d).count() / static_cast<double>(state.iterations());
    };
    state.counters["raw_ms"] = ms(raw_total);
    state.counters["planner_vs_raw"] = std::chrono::duration<double>(raw_total).count() /
                                       std::chrono::duration<double>(planner_total).count();
    state.counters["first_planner_vs_raw"] = std::chrono::duration<double>(first_raw).count() /
                                             std::chrono::duration<double>(first_planner).count();
}

/// A pass with 1,000 schedules due among `range(0)` schedules: its cost must follow the due
/// ones, not all of them.
template <class Kind>
void bm_plan_idle(benchmark::State& state) {
    Kind kind;
    const std::int64_t due = 1000;
    const auto total = state.range(0);
    auto store = loaded(kind, due, total - due);
    manual_clock clock{t0 + 1s};
    id_generator ids{2};
    planner<typename Kind::store_type, manual_clock> p{*store, clock, ids, planner_options{1024, 1'000'000}};
    for (auto _ : state) {
        auto r = p.plan();
        if (!r || r->materialized != static_cast<std::size_t>(due)) {
            state.SkipWithError("the pass did not materialize every due schedule");
            break;
        }
        state.PauseTiming();
        clock.advance(1min);
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * due);
}

/// N = 1k, 10k and 100k schedules, in milliseconds.
void n_schedules(benchmark::internal::Benchmark* b) {
    b->RangeMultiplier(10)->Range(1000, 100000)->Unit(benchmark::kMillisecond);
}

/// n_schedules in wall-clock time (a durable pass waits for fsync).
void over_n(benchmark::internal::Benchmark* b) { n_schedules(b->UseRealTime()); }

}  // namespace

#define WAKEPLANE_PLAN_BENCHMARKS(kind)                                                                \
    BENCHMARK_TEMPLATE(bm_plan_due, kind)->Name("bm_plan_due/" #kind)->Apply(over_n);                  \
    BENCHMARK_TEMPLATE(bm_store_raw_insert, kind)->Name("bm_store_raw_insert/" #kind)->Apply(over_n);  \
    BENCHMARK_TEMPLATE(bm_store_raw_pass, kind)->Name("bm_store_raw_pass/" #kind)->Apply(over_n);      \
    BENCHMARK_TEMPLATE(bm_plan_paired, kind)->Name("bm_plan_paired/" #kind)->Apply(n_schedules)->UseManualTime(); \
    BENCHMARK_TEMPLATE(bm_plan_idle, kind)->Name("bm_plan_idle/" #kind)->Arg(1000)->Arg(1000000)      \
        ->Unit(benchmark::kMillisecond)->UseRealTime()

WAKEPLANE_PLAN_BENCHMARKS(memory);
WAKEPLANE_PLAN_BENCHMARKS(sqlite);
WAKEPLANE_PLAN_BENCHMARKS(rocksdb);

BENCHMARK_MAIN();
