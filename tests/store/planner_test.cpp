// Planner scenarios on a manual clock, over every store, with reopens and injected failures.
#include <wakeplane/planner.hpp>

#include <map>

#include <catch2/catch.hpp>

#include <wakeplane/testing/failing_backend.hpp>

#include "../support.hpp"
#include "fixtures.hpp"

using namespace wakeplane;
using namespace wakeplane::testing;
using namespace std::chrono_literals;

namespace {

const time_point t0 = at("2026-03-12T10:00:00Z");

/// Every run of a schedule as (nominal time → status), the order-free picture a pass leaves.
template <class Store>
std::map<std::string, std::string> runs_of(Store& s, const std::string& sched) {
    std::map<std::string, std::string> out;
    std::optional<page_cursor> cursor;
    do {
        auto p = s.list_runs(run_filter{sched, std::nullopt}, page_request{cursor, 500});
        REQUIRE(p.has_value());
        for (const auto& r : p->items) {
            out[format_rfc3339(r.nominal_time)] = std::string(to_string(r.status));
        }
        cursor = p->next;
    } while (cursor);
    return out;
}

/// An interval schedule `every` from `anchor`, due first at `next`, with a misfire policy.
schedule every(std::string id, duration step, time_point anchor, time_point next, std::string misfire) {
    auto s = interval_schedule(id, id, anchor, std::chrono::duration_cast<std::chrono::seconds>(step).count());
    s.spec.anchor_at = anchor;
    s.next_run_at = next;
    s.policy.misfire = std::move(misfire);
    return s;
}

template <class Store>
plan_report pass(Store& s, manual_clock& clock, id_generator& ids) {
    planner<Store, manual_clock> p{s, clock, ids};
    auto r = p.plan();
    REQUIRE(r.has_value());
    return *r;
}

}  // namespace

TEMPLATE_TEST_CASE("a punctual occurrence runs whatever the misfire policy", "[planner][misfire]",
                   WAKEPLANE_STORE_FIXTURES) {
    const std::string policy = GENERATE("skip", "run_once_if_late", "catch_up");
    TestType fx;
    manual_clock clock{t0 + 1min + 5s};  // five seconds late: inside the 60 s grace window
    id_generator ids{1};
    REQUIRE(fx->create_schedule(every("sch_a", 1min, t0, t0 + 1min, policy)).has_value());
    auto r = pass(*fx, clock, ids);
    CHECK(r.materialized == 1);
    CHECK(runs_of(*fx, "sch_a") == std::map<std::string, std::string>{{"2026-03-12T10:01:00Z", "pending"}});
    CHECK(fx->get_schedule("sch_a").value()->next_run_at == t0 + 2min);
}

TEMPLATE_TEST_CASE("missed occurrences follow the misfire policy, before and after a reopen", "[planner][misfire]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    manual_clock clock{t0 + 3min + 30s};  // 10:01 and 10:02 are missed (> 60 s late), 10:03 is punctual
    id_generator ids{2};
    REQUIRE(fx->create_schedule(every("sch_skip", 1min, t0, t0 + 1min, "skip")).has_value());
    REQUIRE(fx->create_schedule(every("sch_once", 1min, t0, t0 + 1min, "run_once_if_late")).has_value());
    REQUIRE(fx->create_schedule(every("sch_all", 1min, t0, t0 + 1min, "catch_up")).has_value());
    auto r = pass(*fx, clock, ids);
    CHECK(r.schedules == 3);
    using M = std::map<std::string, std::string>;
    const M skip{{"2026-03-12T10:01:00Z", "skipped"}, {"2026-03-12T10:02:00Z", "skipped"}, {"2026-03-12T10:03:00Z", "pending"}};
    const M once{{"2026-03-12T10:01:00Z", "skipped"}, {"2026-03-12T10:02:00Z", "pending"}, {"2026-03-12T10:03:00Z", "pending"}};
    const M all{{"2026-03-12T10:01:00Z", "pending"}, {"2026-03-12T10:02:00Z", "pending"}, {"2026-03-12T10:03:00Z", "pending"}};
    auto& s = fx.reopen();
    CHECK(runs_of(s, "sch_skip") == skip);
    CHECK(runs_of(s, "sch_once") == once);
    CHECK(runs_of(s, "sch_all") == all);
    for (const auto* id : {"sch_skip", "sch_once", "sch_all"}) {
        CHECK(s.get_schedule(id).value()->next_run_at == t0 + 4min);
    }
    auto skipped = s.list_runs(run_filter{"sch_skip", run_status::skipped}, {}).value().items;
    REQUIRE(skipped.size() == 2);
    CHECK(skipped[0].error_text == "skipped due to misfire policy");
    CHECK(s.list_runs(run_filter{"sch_once", run_status::skipped}, {}).value().items[0].error_text ==
          "skipped due to run_once_if_late policy");

    // Planning again at the same instant, after the reopen, changes nothing.
    auto again = pass(s, clock, ids);
    CHECK(again.materialized + again.skipped == 0);
    CHECK(runs_of(s, "sch_all") == all);
    // The next punctual pass picks up where the last one stopped.
    clock.set(t0 + 4min + 1s);
    auto next = pass(s, clock, ids);
    CHECK(next.materialized == 3);
    CHECK(runs_of(fx.reopen(), "sch_skip").at("2026-03-12T10:04:00Z") == "pending");
}

TEMPLATE_TEST_CASE("a once in the past is a missed occurrence", "[planner][once]", WAKEPLANE_STORE_FIXTURES) {
    const std::string policy = GENERATE("skip", "run_once_if_late", "catch_up");
    TestType fx;
    manual_clock clock{t0};
    id_generator ids{3};
    auto s = interval_schedule("sch_once", "once", t0);
    s.spec = schedule_spec{"once", "", 0, std::nullopt, t0 - 1h, {}};
    s.next_run_at = t0 - 1h;
    s.policy.misfire = policy;
    REQUIRE(fx->create_schedule(s).has_value());
    pass(*fx, clock, ids);
    pass(*fx, clock, ids);  // twice: still one row
    const std::string expected = policy == "skip" ? "skipped" : "pending";
    CHECK(runs_of(fx.reopen(), "sch_once") == std::map<std::string, std::string>{{"2026-03-12T09:00:00Z", expected}});
    CHECK_FALSE(fx->get_schedule("sch_once").value()->next_run_at.has_value());
    CHECK_FALSE(fx->next_due_at().value().has_value());
}

TEMPLATE_TEST_CASE("cron occurrences are planned in the schedule's zone across DST", "[planner][cron]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    const auto start = at("2026-03-07T00:00:00Z");
    manual_clock clock{start};
    id_generator ids{4};
    auto s = interval_schedule("sch_ny", "ny", start);
    s.timezone = "America/New_York";
    s.spec = schedule_spec{"cron", "30 2 * * *", 0, std::nullopt, std::nullopt, {}};
    s.next_run_at = at("2026-03-07T07:30:00Z");
    s.policy.misfire = "catch_up";
    REQUIRE(fx->create_schedule(s).has_value());
    clock.set(at("2026-03-10T12:00:00Z"));
    pass(*fx, clock, ids);
    // 02:30 does not exist on 2026-03-08 in New York (gap: skip by default).
    CHECK(runs_of(*fx, "sch_ny") == std::map<std::string, std::string>{{"2026-03-07T07:30:00Z", "pending"},
                                                                        {"2026-03-09T06:30:00Z", "pending"},
                                                                        {"2026-03-10T06:30:00Z", "pending"}});
    CHECK(fx->get_schedule("sch_ny").value()->next_run_at == at("2026-03-11T06:30:00Z"));
    CHECK(fx->next_due_at().value() == at("2026-03-11T06:30:00Z"));
}

TEMPLATE_TEST_CASE("a week-long outage on a one-second interval is bounded work and storage", "[planner][outage]",
                   WAKEPLANE_STORE_FIXTURES) {
    const std::string policy = GENERATE("skip", "run_once_if_late", "catch_up");
    TestType fx;
    manual_clock clock{t0};
    id_generator ids{5};
    auto s = every("sch_fast", 1s, t0, t0, policy);
    s.policy.catch_up_limit = 50;
    REQUIRE(fx->create_schedule(s).has_value());
    clock.advance(std::chrono::hours{24 * 7});
    auto r = pass(*fx, clock, ids);
    const std::int64_t total = 7 * 24 * 3600 + 1;  // t0 .. t0 + 1 week inclusive
    // 61 punctual (the last 60 s and now) always run; 50 missed are listed; the rest is one summary.
    CHECK(r.summarized == static_cast<std::size_t>(total - 61 - 50));
    auto runs = runs_of(fx.reopen(), "sch_fast");
    CHECK(runs.size() == 61 + 50);
    const std::size_t pending = static_cast<std::size_t>(std::count_if(runs.begin(), runs.end(), [](const auto& kv) {
        return kv.second == "pending";
    }));
    CHECK(pending == (policy == "skip" ? 61u : policy == "run_once_if_late" ? 62u : 111u));
    auto summary = fx->read_ledger(ledger_query{0, 1000, std::string("sch_fast"), std::nullopt}).value();
    auto it = std::find_if(summary.begin(), summary.end(),
                           [](const auto& e) { return e.kind == event_kind::occurrences_skipped_summary; });
    REQUIRE(it != summary.end());
    const auto& sum = std::get<skipped_summary>(it->payload);
    CHECK(sum.count == total - 61 - 50);
    CHECK(sum.first == t0);
    CHECK(sum.last == t0 + std::chrono::seconds{total - 61 - 50 - 1});
    CHECK(fx->get_schedule("sch_fast").value()->next_run_at == clock.now() + 1s);
}

TEMPLATE_TEST_CASE("paused schedules are not planned; resume sends the pause through the misfire policy",
                   "[planner][pause]", WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    manual_clock clock{t0};
    id_generator ids{6};
    REQUIRE(fx->create_schedule(every("sch_a", 1min, t0, t0 + 1min, "run_once_if_late")).has_value());
    REQUIRE(fx->pause_schedule("sch_a", t0 + 10s).has_value());
    clock.set(t0 + 10min + 30s);
    CHECK(pass(*fx, clock, ids).schedules == 0);
    CHECK(runs_of(*fx, "sch_a").empty());
    REQUIRE(fx->resume_schedule("sch_a", clock.now(), std::nullopt).has_value());
    pass(*fx, clock, ids);
    auto runs = runs_of(fx.reopen(), "sch_a");
    CHECK(runs.size() == 10);  // 10:01 .. 10:10, none dropped silently
    CHECK(runs.at("2026-03-12T10:09:00Z") == "pending");  // newest missed
    CHECK(runs.at("2026-03-12T10:10:00Z") == "pending");  // punctual
    CHECK(runs.at("2026-03-12T10:05:00Z") == "skipped");
}

TEMPLATE_TEST_CASE("jitter delays the due time deterministically", "[planner][jitter]", WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    manual_clock clock{t0 + 1min};
    id_generator ids{7};
    auto s = every("sch_j", 1min, t0, t0 + 1min, "skip");
    s.policy.jitter_seconds = 30;
    REQUIRE(fx->create_schedule(s).has_value());
    pass(*fx, clock, ids);
    auto r = fx->list_runs(run_filter{"sch_j", std::nullopt}, {}).value().items.at(0);
    const auto j = jitter_for(r.occurrence_key, 30);
    CHECK(r.due_time == t0 + 1min + j);
    CHECK(j >= 0s);
    CHECK(j < 30s);
    CHECK(jitter_for(r.occurrence_key, 30) == j);  // the same on every call
    CHECK(jitter_for("sch_j:2026-03-12T10:02:00Z", 30) != j);
    CHECK(jitter_for(r.occurrence_key, 0) == 0s);
    CHECK(fx->eligible_runs(t0 + 1min + j - 1us, 10).value().empty());
    CHECK(fx->eligible_runs(t0 + 1min + j, 10).value().size() == 1);
}

TEMPLATE_TEST_CASE("next_wakeup is the earliest next_run_at of an enabled schedule", "[planner][wakeup]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    manual_clock clock{t0};
    id_generator ids{8};
    planner<typename TestType::store_type, manual_clock> p{*fx, clock, ids};
    CHECK_FALSE(p.next_wakeup().value().has_value());
    REQUIRE(fx->create_schedule(every("sch_a", 1h, t0, t0 + 1h, "skip")).has_value());
    REQUIRE(fx->create_schedule(every("sch_b", 1min, t0, t0 + 1min, "skip")).has_value());
    CHECK(p.next_wakeup().value() == t0 + 1min);
    REQUIRE(fx->pause_schedule("sch_b", t0).has_value());
    CHECK(p.next_wakeup().value() == t0 + 1h);
}

TEMPLATE_TEST_CASE("a lookahead plans up to now + lookahead and judges lateness at now", "[planner][lookahead]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    manual_clock clock{t0 + 3min + 30s};  // 10:01 and 10:02 missed, 10:03 punctual, 10:04 ahead
    id_generator ids{9};
    planner_options o;
    o.lookahead = 45s;
    planner<typename TestType::store_type, manual_clock> p{*fx, clock, ids, o};
    REQUIRE(fx->create_schedule(every("sch_a", 1min, t0, t0 + 1min, "skip")).has_value());
    auto r = p.plan();
    REQUIRE(r.has_value());
    CHECK(r->materialized == 2);
    CHECK(r->skipped == 2);
    using M = std::map<std::string, std::string>;
    const M want{{"2026-03-12T10:01:00Z", "skipped"},
                 {"2026-03-12T10:02:00Z", "skipped"},
                 {"2026-03-12T10:03:00Z", "pending"},
                 {"2026-03-12T10:04:00Z", "pending"}};
    CHECK(runs_of(fx.reopen(), "sch_a") == want);
    CHECK(fx->get_schedule("sch_a").value()->next_run_at == t0 + 5min);
    // Only the punctual run is claimable now; the one ahead becomes so at its due time.
    CHECK(fx->eligible_runs(clock.now(), 10).value().size() == 1);
    CHECK(fx->eligible_runs(t0 + 4min, 10).value().size() == 2);
    planner<typename TestType::store_type, manual_clock> again{*fx, clock, ids, o};
    CHECK(again.next_wakeup().value() == t0 + 5min - 45s);
    auto idle = again.plan();  // nothing more inside the horizon yet
    REQUIRE(idle.has_value());
    CHECK(idle->schedules == 0);
}

TEMPLATE_TEST_CASE("a pass that fails at any write loses nothing and duplicates nothing", "[planner][crash]",
                   WAKEPLANE_STORE_FIXTURES) {
    // Reference: the same workload planned without failures.
    auto setup = [](auto& s) {
        REQUIRE(s.create_schedule(every("sch_a", 1min, t0, t0 + 1min, "catch_up")).has_value());
        REQUIRE(s.create_schedule(every("sch_b", 1min, t0, t0 + 1min, "skip")).has_value());
        REQUIRE(s.create_schedule(every("sch_c", 1min, t0, t0 + 1min, "run_once_if_late")).has_value());
    };
    TestType reference;
    setup(*reference);
    manual_clock clock{t0 + 5min + 30s};
    id_generator ref_ids{9};
    pass(*reference, clock, ref_ids);
    const auto want_a = runs_of(*reference, "sch_a");
    const auto want_b = runs_of(*reference, "sch_b");
    const auto want_c = runs_of(*reference, "sch_c");

    for (int fail_at = 1; fail_at <= 40; ++fail_at) {
        CAPTURE(fail_at);
        TestType fx;
        setup(*fx);
        fx.close();  // one process at a time on the files (RocksDB locks its directory)
        {
            auto budget = std::make_shared<failure_budget>(fail_at);
            basic_store<failing_backend<typename TestType::store_type::backend_type>> faulty{
                failing_backend{fx.open_backend(), budget}};
            id_generator ids{10};
            planner<decltype(faulty), manual_clock> p{faulty, clock, ids};
            auto r = p.plan();
            if (r) {
                CHECK(budget->remaining > 0);  // the pass needed fewer writes than fail_at
            }
        }
        auto& s = fx.reopen();  // the crash: every in-memory object is gone
        id_generator ids{11};
        pass(s, clock, ids);
        CHECK(runs_of(s, "sch_a") == want_a);
        CHECK(runs_of(s, "sch_b") == want_b);
        CHECK(runs_of(s, "sch_c") == want_c);
        auto events = s.read_ledger(ledger_query{0, 10000, std::nullopt, std::nullopt}).value();
        for (std::size_t i = 0; i < events.size(); ++i) {
            REQUIRE(events[i].seq == static_cast<std::int64_t>(i + 1));
        }
    }
}
