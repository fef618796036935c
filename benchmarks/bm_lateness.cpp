// Firing lateness on the real clock: nominal time to executor start, with the SQLite store
// (synchronous=FULL) and the service loop the daemon uses. Real time passes here on purpose.
// Lateness is read by the executor itself when it begins, so it includes the claim's commit
// and the hand-over to a worker thread, not only the moment the dispatcher stamped started_at.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

#include <wakeplane/scheduler.hpp>
#include <wakeplane/service.hpp>

#include "bm_stores.hpp"

namespace {

using namespace wakeplane;
using namespace wakeplane::bench;
using namespace std::chrono_literals;

using sqlite_scheduler = default_scheduler<stores::sqlite_store, system_clock>;

/// What the executions saw: lateness in milliseconds at executor start, one per execution.
struct lateness_log {
    std::mutex mutex;
    std::vector<double> ms;
    std::atomic<std::int64_t> done{0};
};

/// Records its own lateness (now − nominal time) as its first act, then succeeds.
struct measuring_workflow {
    static constexpr std::string_view kind = "workflow";
    std::shared_ptr<lateness_log> log;
    execution_result execute(const target_spec&, const run_context& ctx) {
        const auto late = std::chrono::duration<double, std::milli>(system_clock{}.now() - ctx.nominal_time).count();
        {
            std::lock_guard lock{log->mutex};
            log->ms.push_back(late);
        }
        log->done.fetch_add(1);
        execution_result r;
        r.ok = true;
        return r;
    }
};

/// Runs `schedules` schedules every second until `occurrences` runs have started, then reports
/// p50/p99/max of started_at - nominal_time over those runs.
void measure(benchmark::State& state, std::int64_t schedules, std::int64_t occurrences, duration lookahead) {
    for (auto _ : state) {
        sqlite kind;
        auto store = kind.open();
        auto log = std::make_shared<lateness_log>();
        auto reg = std::make_shared<executor_registry>();
        reg->add(measuring_workflow{log});
        scheduler_options o;
        // The daemon's batches and chunks; only enough workers for a whole burst at once.
        o.dispatching.max_workers = 2048;
        o.planning.lookahead = lookahead;
        o.dispatching.claim_ahead = lookahead;  // as the daemon configures it
        sqlite_scheduler sched{std::move(*store), system_clock{}, reg, o};
        // Anchored at the next whole second + 1 s, so every schedule is due at the same instants.
        const auto start = std::chrono::ceil<std::chrono::seconds>(system_clock{}.now()) + 1s;
        for (std::int64_t i = 0; i < schedules; ++i) {
            if (!sched.create_schedule(every_second("s" + std::to_string(i), start))) {
                state.SkipWithError("create failed");
                return;
            }
        }
        service<sqlite_scheduler> svc{sched};
        svc.start();
        while (log->done.load() < occurrences) {
            system_clock{}.sleep_until(system_clock{}.now() + 50ms);  // real-time ok: a benchmark on the real clock
        }
        svc.shutdown(5s);
        std::vector<double> late;
        {
            std::lock_guard lock{log->mutex};
            late = log->ms;
        }
        late.resize(static_cast<std::size_t>(occurrences));  // the first ones: later seconds may have begun
        std::sort(late.begin(), late.end());
        const auto at = [&](double q) { return late[static_cast<std::size_t>(q * static_cast<double>(late.size() - 1))]; };
        state.counters["runs"] = static_cast<double>(late.size());
        state.counters["p50_ms"] = at(0.50);
        state.counters["p99_ms"] = at(0.99);
        state.counters["max_ms"] = late.back();
    }
}

/// The planner's lookahead of the run: range(0) milliseconds (the daemon's default is 1000).
duration lookahead_of(const benchmark::State& state) { return std::chrono::milliseconds{state.range(0)}; }

/// (a) one schedule firing every second, 60 occurrences.
void bm_firing_lateness_single(benchmark::State& state) { measure(state, 1, 60, lookahead_of(state)); }
/// (b) 1,000 schedules due in the same second (five seconds of them).
void bm_firing_lateness_burst(benchmark::State& state) { measure(state, 1000, 5000, lookahead_of(state)); }

}  // namespace

BENCHMARK(bm_firing_lateness_single)->Name("bm_firing_lateness/one_per_second")->ArgName("lookahead_ms")->Arg(0)->Arg(1000)
    ->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK(bm_firing_lateness_burst)->Name("bm_firing_lateness/1000_same_second")->ArgName("lookahead_ms")->Arg(0)->Arg(1000)
    ->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

BENCHMARK_MAIN();
