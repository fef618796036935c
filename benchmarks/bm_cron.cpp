// Next fire time throughput: chained next_after over cron cadences, per expression and zone.
#include <wakeplane/cadence.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <string>
#include <string_view>

namespace {

/// The stretch of time a chain of fire times walks through: it starts at `first_year` and starts
/// again there once it reaches `end_year`, so that a run of millions of daily fires measures the
/// years it is meant to instead of drifting centuries ahead.
struct era {
    std::string_view label;
    int first_year;
    int end_year;
};

/// Today's years: the zone's transition table answers every lookup.
constexpr era current_era{"", 2026, 2126};
/// Past the precomputed table (2200): every lookup evaluates the zone's POSIX TZ rule.
constexpr era far_future{"far_future/", 2300, 2400};

wakeplane::time_point year_start(int y) {
    return wakeplane::time_point{std::chrono::sys_days{std::chrono::year{y} / std::chrono::January / 1}};
}

/// Each iteration computes the next fire time after the previous result, the way a planner
/// advances `next_run_at`, so the chain crosses hours, days, months and, in a DST zone, both
/// transitions of every year.
void bm_next_fire(benchmark::State& state, std::string_view zone_name, std::string_view expr, era span) {
    const auto parsed = wakeplane::cron_expr::parse(expr);
    const auto zone = wakeplane::time_zone::locate(zone_name);
    if (!parsed || !zone) {
        state.SkipWithError("the expression or the zone does not load");
        return;
    }
    const wakeplane::cadence c{wakeplane::cron_cadence{*parsed, *zone, {}}, {}};
    const auto start = year_start(span.first_year);
    const auto end = year_start(span.end_year);
    wakeplane::time_point t = start;
    for (auto _ : state) {
        const auto next = wakeplane::next_after(c, t);
        t = next && *next < end ? *next : start;
        benchmark::DoNotOptimize(t);
    }
    state.SetItemsProcessed(state.iterations());
}

/// Registers `bm_next_fire/<era/><zone>/<expression>`, e.g. `bm_next_fire/America/New_York/0 9 * * 1-5`.
void register_next_fire(std::string_view zone, std::string_view expr, era span) {
    const std::string name = "bm_next_fire/" + std::string{span.label} + std::string{zone} + "/" + std::string{expr};
    benchmark::RegisterBenchmark(name.c_str(), bm_next_fire, zone, expr, span);
}

}  // namespace

int main(int argc, char** argv) {
    constexpr std::array<std::string_view, 2> zones{"UTC", "America/New_York"};
    constexpr std::array<std::string_view, 3> expressions{"*/5 * * * *", "0 9 * * 1-5", "30 2 1,15 * *"};
    for (const auto zone : zones) {
        for (const auto expr : expressions) {
            register_next_fire(zone, expr, current_era);
        }
    }
    for (const auto expr : expressions) {
        register_next_fire("America/New_York", expr, far_future);
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
