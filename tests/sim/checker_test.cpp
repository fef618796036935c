// The invariant checker fires: hand-made ledgers and execution logs that break one invariant
// each, and the message that names it.
#include "invariants.hpp"

#include <catch2/catch.hpp>

#include "../support.hpp"

using namespace wakeplane;
using namespace wakeplane::sim;
using namespace wakeplane::testing;
using namespace std::chrono_literals;

namespace {

const time_point t0 = at("2026-03-12T10:00:00Z");

/// A ledger under construction, with sequence numbers assigned in order.
struct ledger_builder {
    std::vector<ledger_event> events;

    /// A schedule event; schedule_planned carries only next_run_at, as stores write it, unless
    /// `whole` asks for the whole schedule (ledgers written before that payload existed).
    void add(event_kind kind, time_point when, const schedule& s, bool whole = false) {
        ledger_event e;
        e.seq = static_cast<std::int64_t>(events.size()) + 1;
        e.at = when;
        e.kind = kind;
        e.schedule = s.id;
        if (kind == event_kind::schedule_planned && !whole) {
            e.payload = next_run_change{s.next_run_at};
        } else {
            e.payload = s;
        }
        events.push_back(std::move(e));
    }
    void add(event_kind kind, time_point when, const run& r) {
        ledger_event e;
        e.seq = static_cast<std::int64_t>(events.size()) + 1;
        e.at = when;
        e.kind = kind;
        e.schedule = r.schedule;
        e.run = r.id;
        e.occurrence_key = r.occurrence_key;
        e.attempt = r.attempt;
        e.payload = run_change{.row = r};
        events.push_back(std::move(e));
    }
};

/// A minutely schedule planned once at t0 + 1 s, its first run claimed and started by "a".
struct claimed_scene {
    schedule sch = interval_schedule("sch_1", "one", t0);
    run pending = pending_run(sch, "run_1", t0, t0 + 1s);
    run running;
    ledger_builder ledger;

    claimed_scene() {
        ledger.add(event_kind::schedule_created, t0, sch);
        ledger.add(event_kind::occurrence_materialized, t0 + 1s, pending);
        schedule planned = sch;
        planned.next_run_at = t0 + 60s;
        ledger.add(event_kind::schedule_planned, t0 + 1s, planned);
        running = pending;
        running.status = run_status::claimed;
        running.fencing_token = 1;
        running.claimed_by_worker_id = "a";
        running.claim_expires_at = t0 + 5min;
        ledger.add(event_kind::run_claimed, t0 + 1s, running);
        running.status = run_status::running;
        running.started_at = t0 + 1s;
        ledger.add(event_kind::run_started, t0 + 1s, running);
    }

    [[nodiscard]] execution_record execution(std::string worker = "a") const {
        return execution_record{running.occurrence_key, 1, running.id, 1, std::move(worker), t0 + 1s, running};
    }
};

/// The invariant a ledger breaks, by a fresh checker; "" when it breaks none.
std::string broken_by(const std::vector<ledger_event>& events) {
    invariant_checker checker{{5min, 1min}};
    checker.observe(events);
    return checker.failure() ? checker.failure()->invariant : "";
}

}  // namespace

TEST_CASE("a clean claim and execution break nothing", "[sim][checker]") {
    claimed_scene scene;
    invariant_checker checker{{5min, 1min}};
    checker.observe(scene.ledger.events);
    checker.observe_execution(scene.execution());
    checker.check_horizons(t0 + 2min);
    CHECK_FALSE(checker.failure());
    CHECK(checker.last_seq() == 5);
}

TEST_CASE("the checker reports two executions of one (occurrence key, attempt)", "[sim][checker]") {
    claimed_scene scene;
    invariant_checker checker{{5min, 1min}};
    checker.observe(scene.ledger.events);
    checker.observe_execution(scene.execution());
    REQUIRE_FALSE(checker.failure());
    checker.observe_execution(scene.execution("b"));
    REQUIRE(checker.failure());
    CHECK(checker.failure()->invariant == "never two executions of one (occurrence key, attempt)");
    CHECK_THAT(checker.failure()->message, Catch::Contains("executed twice") && Catch::Contains("run_1"));
}

TEST_CASE("the checker reports an execution whose claim the store did not hold", "[sim][checker]") {
    claimed_scene scene;
    invariant_checker checker{{5min, 1min}};
    checker.observe(scene.ledger.events);
    auto e = scene.execution();
    e.stored->status = run_status::pending;
    checker.observe_execution(e);
    REQUIRE(checker.failure());
    CHECK(checker.failure()->invariant == "no execution without a durable claim");
}

TEST_CASE("the checker reports a write with a stale fencing token", "[sim][checker]") {
    claimed_scene scene;
    run late = scene.running;
    late.fencing_token = 0;
    late.status = run_status::succeeded;
    scene.ledger.add(event_kind::run_finished, t0 + 2min, late);
    CHECK(broken_by(scene.ledger.events) == "a stale fencing token never changes a run");
}

TEST_CASE("the checker reports a gap in the ledger and a changed terminal run", "[sim][checker]") {
    SECTION("gap") {
        claimed_scene scene;
        scene.ledger.events.erase(scene.ledger.events.begin() + 2);
        CHECK(broken_by(scene.ledger.events) == "ledger is gapless");
    }
    SECTION("terminal") {
        claimed_scene scene;
        run done = scene.running;
        done.status = run_status::succeeded;
        scene.ledger.add(event_kind::run_finished, t0 + 2min, done);
        scene.ledger.add(event_kind::run_finished, t0 + 3min, done);
        CHECK(broken_by(scene.ledger.events) == "a terminal status is final");
    }
}

TEST_CASE("the checker expects a pass to plan up to its instant plus the lookahead", "[sim][checker]") {
    // A minutely schedule planned at 10:00:01 with the 10:01 occurrence written ahead.
    const schedule sch = interval_schedule("sch_1", "one", t0);
    schedule after = sch;
    after.next_run_at = t0 + 120s;
    ledger_builder ledger;
    ledger.add(event_kind::schedule_created, t0, sch);
    ledger.add(event_kind::occurrence_materialized, t0 + 1s, pending_run(sch, "run_1", t0, t0 + 1s));
    ledger.add(event_kind::occurrence_materialized, t0 + 1s, pending_run(sch, "run_2", t0 + 60s, t0 + 1s));
    ledger.add(event_kind::schedule_planned, t0 + 1s, after);

    invariant_checker ahead{{5min, 1min, 60s}};
    ahead.observe(ledger.events);
    CHECK_FALSE(ahead.failure());

    invariant_checker without{{5min, 1min, 0s}};
    without.observe(ledger.events);
    REQUIRE(without.failure());
    CHECK(without.failure()->invariant == "every occurrence accounted once");
}

TEST_CASE("the checker reports an occurrence that a planning pass lost", "[sim][checker]") {
    claimed_scene scene;
    // The second pass, at 10:02:01, writes 10:02 but not 10:01.
    schedule planned = interval_schedule("sch_1", "one", t0);
    planned.next_run_at = t0 + 60s;
    scene.ledger.add(event_kind::occurrence_materialized, t0 + 121s, pending_run(planned, "run_3", t0 + 120s, t0 + 121s));
    schedule after = planned;
    after.next_run_at = t0 + 180s;
    // The move as stores write it (on the pass's last run event), as an event of its own, and
    // as older ledgers have it (the whole schedule).
    const int form = GENERATE(0, 1, 2);
    if (form == 0) {
        std::get<run_change>(scene.ledger.events.back().payload).next_run = next_run_change{after.next_run_at};
    } else {
        scene.ledger.add(event_kind::schedule_planned, t0 + 121s, after, form == 2);
    }
    invariant_checker checker{{5min, 1min}};
    checker.observe(scene.ledger.events);
    REQUIRE(checker.failure());
    CHECK(checker.failure()->invariant == "every occurrence accounted once");
    CHECK_THAT(checker.failure()->message, Catch::Contains("2026-03-12T10:01:00Z was neither run, skipped nor summarized"));
}

TEST_CASE("the checker reports a run held past its lease horizon", "[sim][checker]") {
    claimed_scene scene;
    invariant_checker checker{{5min, 1min}};
    checker.observe(scene.ledger.events);
    checker.check_horizons(t0 + 5min);  // timeout 300 s + grace 60 s + TTL 300 s + 150 s
    CHECK_FALSE(checker.failure());
    checker.check_horizons(t0 + 14min);
    REQUIRE(checker.failure());
    CHECK(checker.failure()->invariant == "no run outlives its lease horizon");
}
