// The simulated workloads: the scale mix is valid, seeded, and fires as often as
// scale_occurrences_per_year() (the figure docs/performance.md builds on) says.
#include "workload.hpp"

#include <map>

#include <catch2/catch.hpp>

#include <wakeplane/scheduler.hpp>
#include <wakeplane/stores/memory.hpp>
#include <wakeplane/validate.hpp>

#include "../support.hpp"

using namespace wakeplane;
using namespace wakeplane::sim;
using namespace wakeplane::testing;
using namespace std::chrono_literals;

namespace {

const time_point start = at("2026-03-05T00:00:00Z");
const time_point year_end = start + 365 * 24h;

using catalog_source = default_scheduler<stores::memory_store, manual_clock>;

/// The nominal occurrences of `in` in [start, year_end], as a planner running all year writes them.
std::size_t occurrences_in_year(const schedule_input& in) {
    schedule s;
    s.id = "sch_workload";
    s.timezone = in.timezone;
    s.spec = in.schedule;
    s.created_at = start;
    auto c = cadence_of(s);
    REQUIRE(c);
    std::size_t n = 0;
    for (auto t = next_after(*c, start - 1us); t && *t <= year_end; t = next_after(*c, *t)) {
        ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("the scale workload draws valid schedules, the same for the same seed", "[sim][workload]") {
    prng a{11}, b{11}, c{12};
    const auto first = generate_schedules(a, 500, start, year_end, workload_kind::scale);
    CHECK(first == generate_schedules(b, 500, start, year_end, workload_kind::scale));
    CHECK(first != generate_schedules(c, 500, start, year_end, workload_kind::scale));
    std::map<std::string, int> kinds;
    for (const auto& in : first) {
        auto checked = check_schedule_input(in, catalog_source::catalog());
        INFO(in.name << " " << in.schedule.kind << " " << in.schedule.expr);
        REQUIRE(checked);
        ++kinds[in.schedule.kind];
    }
    CHECK(kinds["cron"] > 350);  // crons are most of a fleet: 85 % of it
    CHECK(kinds.size() == 3);
}

TEST_CASE("the scale workload fires as often as its documented mix says", "[sim][workload]") {
    prng rng{5};
    const auto inputs = generate_schedules(rng, 20'000, start, year_end, workload_kind::scale);
    std::size_t total = 0;
    for (const auto& in : inputs) {
        total += occurrences_in_year(in);
    }
    const double per_schedule = static_cast<double>(total) / static_cast<double>(inputs.size());
    INFO("occurrences per schedule-year: " << per_schedule);
    CHECK(per_schedule == Approx(scale_occurrences_per_year()).epsilon(0.1));
    CHECK(scale_occurrences_per_year() == Approx(10.68).epsilon(0.01));  // the figure docs/performance.md uses
}

TEST_CASE("scale executions mostly succeed quickly, standard ones often do not", "[sim][workload]") {
    int scale_ok = 0, standard_ok = 0;
    for (int i = 0; i < 2000; ++i) {
        const auto key = "sch_w:" + std::to_string(i);
        const auto s = behaviour_of(3, key, 1, workload_kind::scale);
        scale_ok += (s.what == behaviour::kind::succeed && s.takes <= 90s) ? 1 : 0;
        CHECK(s.what != behaviour::kind::hang);
        CHECK(s.what != behaviour::kind::ignore_stop);
        CHECK(s == behaviour_of(3, key, 1, workload_kind::scale));
        const auto d = behaviour_of(3, key, 1);
        standard_ok += (d.what == behaviour::kind::succeed && d.takes <= 90s) ? 1 : 0;
    }
    CHECK(scale_ok > 1900);
    CHECK(standard_ok < 1300);
}
