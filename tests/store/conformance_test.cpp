// One conformance suite for every store: the same cases, the same expectations.
#include <wakeplane/store.hpp>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include <wakeplane/replay.hpp>
#include <wakeplane/stores/memory.hpp>

#include "../support.hpp"
#include "fixtures.hpp"
#include "plans.hpp"

using namespace wakeplane;
using namespace wakeplane::testing;
using namespace std::chrono_literals;

namespace {

const time_point t0 = at("2026-03-12T10:00:00Z");

template <class Store>
schedule must_create(Store& s, const schedule& sc) {
    auto r = s.create_schedule(sc);
    REQUIRE(r.has_value());
    return *r;
}

template <class Store>
run must_get_run(Store& s, std::string_view id) {
    auto r = s.get_run(id);
    REQUIRE(r.has_value());
    REQUIRE(r->has_value());
    return **r;
}

template <class Store>
std::vector<ledger_event> ledger(Store& s) {
    auto r = s.read_ledger(ledger_query{0, 100000, std::nullopt, std::nullopt});
    REQUIRE(r.has_value());
    return *r;
}

template <class Store>
std::vector<std::string> kinds(Store& s) {
    std::vector<std::string> out;
    for (const auto& e : ledger(s)) {
        out.emplace_back(to_string(e.kind));
    }
    return out;
}

auto always(overlap_action a) {
    return [a](overlap_state) noexcept { return a; };
}

finish_request success(const run& r, time_point at) {
    finish_request f;
    f.run = r.id;
    f.fencing_token = r.fencing_token;
    f.at = at;
    f.outcome = run_status::succeeded;
    f.exit_code = 0;
    f.receipts.push_back(receipt{"rcpt_" + r.id + "_out", r.id, "stdout", "text/plain", "done\n", false, at});
    f.receipts.push_back(receipt{"rcpt_" + r.id + "_err", r.id, "stderr", "text/plain", "", false, at});
    return f;
}

template <class Fixture>
void expect_same_projection(Fixture& fx, stores::memory_store& rebuilt) {
    auto& s = *fx;
    auto all_schedules = [](auto& st) {
        auto p = st.list_schedules(schedule_filter{std::nullopt, true}, page_request{std::nullopt, 100000});
        REQUIRE(p.has_value());
        return p->items;
    };
    auto all_runs = [](auto& st) {
        auto p = st.list_runs(run_filter{}, page_request{std::nullopt, 100000});
        REQUIRE(p.has_value());
        return p->items;
    };
    auto all_letters = [](auto& st) {
        auto p = st.list_dead_letters(dead_letter_filter{}, page_request{std::nullopt, 100000});
        REQUIRE(p.has_value());
        return p->items;
    };
    CHECK(all_schedules(s) == all_schedules(rebuilt));
    const auto runs = all_runs(s);
    CHECK(runs == all_runs(rebuilt));
    for (const auto& r : runs) {
        CHECK(s.list_receipts(r.id).value() == rebuilt.list_receipts(r.id).value());
    }
    CHECK(all_letters(s) == all_letters(rebuilt));
    CHECK(ledger(s) == ledger(rebuilt));
}

}  // namespace

TEMPLATE_TEST_CASE("stores model the store concept", "[store]", WAKEPLANE_STORE_FIXTURES) {
    STATIC_REQUIRE(store<typename TestType::store_type>);
    STATIC_REQUIRE(store_backend<typename TestType::store_type::backend_type>);
}

TEMPLATE_TEST_CASE("schedules: create, read, unique live names, soft delete", "[store][schedule]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    auto a = must_create(*fx, interval_schedule("sch_a", "alpha", t0));
    CHECK(fx->get_schedule("sch_a").value() == a);
    CHECK_FALSE(fx->get_schedule("sch_missing").value().has_value());

    auto dup = fx->create_schedule(interval_schedule("sch_b", "alpha", t0 + 1s));
    REQUIRE_FALSE(dup.has_value());
    CHECK(dup.error().code == errc::conflict);
    REQUIRE(dup.error().details.size() == 1);
    CHECK(dup.error().details[0] == field_error{"name", "must be unique"});
    CHECK_FALSE(fx->get_schedule("sch_b").value().has_value());  // nothing half-written

    auto deleted = fx->delete_schedule("sch_a", t0 + 2s);
    REQUIRE(deleted.has_value());
    CHECK(deleted->deleted);
    auto& s = fx.reopen();
    CHECK(s.get_schedule("sch_a").value()->deleted);           // history stays readable
    CHECK(s.delete_schedule("sch_a", t0 + 3s).error().code == errc::not_found);
    CHECK(s.list_schedules({}, {}).value().items.empty());      // hidden from listings
    must_create(s, interval_schedule("sch_b", "alpha", t0 + 4s));  // the name is free again
    CHECK(s.list_schedules({}, {}).value().items.size() == 1);
    CHECK(s.list_schedules(schedule_filter{std::nullopt, true}, {}).value().items.size() == 2);
    CHECK(kinds(s) == std::vector<std::string>{"schedule_created", "schedule_deleted", "schedule_created"});
}

TEMPLATE_TEST_CASE("schedules: updates write only the fields an edit owns", "[store][schedule]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    must_create(*fx, interval_schedule("sch_a", "alpha", t0));
    must_create(*fx, interval_schedule("sch_b", "beta", t0));
    // A success moves last_run_at; an edit computed from an older snapshot must not undo it.
    auto stale = fx->get_schedule("sch_a").value().value();
    auto r = fx->trigger(pending_run(stale, "run_1", t0, t0));
    REQUIRE(r.has_value());
    auto c = fx->claim_run("run_1", "w1", t0, 30s, always(overlap_action::claim));
    REQUIRE(c.has_value());
    REQUIRE(fx->finish_run(success(*c->claimed, t0 + 5s)).has_value());
    CHECK(fx->get_schedule("sch_a").value()->last_run_at == t0 + 5s);

    stale.name = "alpha-renamed";
    stale.created_at = t0 - 100h;   // not owned: ignored
    stale.updated_at = t0 + 10s;
    auto u = fx->update_schedule(stale);
    REQUIRE(u.has_value());
    auto& s = fx.reopen();
    auto now = s.get_schedule("sch_a").value().value();
    CHECK(now.name == "alpha-renamed");
    CHECK(now.last_run_at == t0 + 5s);
    CHECK(now.created_at == t0);
    CHECK(now.updated_at == t0 + 10s);

    stale.name = "beta";
    auto clash = s.update_schedule(stale);
    REQUIRE_FALSE(clash.has_value());
    CHECK(clash.error().code == errc::conflict);
    CHECK(s.get_schedule("sch_a").value()->name == "alpha-renamed");
    auto ghost = interval_schedule("sch_ghost", "ghost", t0);
    CHECK(s.update_schedule(ghost).error().code == errc::not_found);
}

TEMPLATE_TEST_CASE("schedules: pause keeps its first moment, resume keeps next_run_at", "[store][schedule]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    must_create(*fx, interval_schedule("sch_a", "alpha", t0));
    auto p1 = fx->pause_schedule("sch_a", t0 + 1min);
    REQUIRE(p1.has_value());
    CHECK_FALSE(p1->enabled);
    CHECK(p1->paused_at == t0 + 1min);
    auto& s = fx.reopen();
    CHECK(s.pause_schedule("sch_a", t0 + 2min).value().paused_at == t0 + 1min);
    CHECK(s.due_schedules(t0 + 1h, 10).value().empty());  // paused: not due
    auto r = s.resume_schedule("sch_a", t0 + 3min, t0 + 99h);
    REQUIRE(r.has_value());
    CHECK(r->enabled);
    CHECK_FALSE(r->paused_at.has_value());
    CHECK(r->next_run_at == t0);  // kept: the missed occurrences go through the misfire policy
    CHECK(s.due_schedules(t0 + 1h, 10).value().size() == 1);
    CHECK(s.pause_schedule("sch_missing", t0).error().code == errc::not_found);
}

TEMPLATE_TEST_CASE("schedules: pages return every row exactly once, newest first", "[store][schedule][pagination]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    const int total = GENERATE(6, 7);
    for (int i = 0; i < total; ++i) {
        auto sc = interval_schedule("sch_" + std::to_string(i), "n" + std::to_string(i), t0 + std::chrono::seconds{i / 2});
        sc.enabled = i % 2 == 0;
        if (!sc.enabled) {
            sc.paused_at = sc.created_at;
        }
        must_create(*fx, sc);
    }
    std::vector<std::string> seen;
    std::optional<page_cursor> cursor;
    int pages = 0;
    do {
        auto p = fx->list_schedules({}, page_request{cursor, 3});
        REQUIRE(p.has_value());
        REQUIRE_FALSE(p->items.empty());  // never an empty trailing page
        for (const auto& s : p->items) {
            seen.push_back(s.id);
        }
        cursor = p->next;
        ++pages;
    } while (cursor);
    CHECK(pages == (total + 2) / 3);
    std::vector<std::string> expected;
    for (int i = total - 1; i >= 0; --i) {
        expected.push_back("sch_" + std::to_string(i));
    }
    CHECK(seen == expected);
    auto enabled = fx->list_schedules(schedule_filter{true, false}, page_request{std::nullopt, 100}).value();
    CHECK(enabled.items.size() == static_cast<std::size_t>((total + 1) / 2));
    CHECK_FALSE(enabled.next.has_value());
}

TEMPLATE_TEST_CASE("planner writes are idempotent and refuse stale plans", "[store][plan]", WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    auto a = must_create(*fx, interval_schedule("sch_a", "alpha", t0));
    auto b = must_create(*fx, interval_schedule("sch_b", "beta", t0 + 30s));
    CHECK(fx->next_due_at().value() == t0);
    auto due = fx->due_schedules(t0 + 30s, 10).value();
    REQUIRE(due.size() == 2);
    CHECK(due[0].id == "sch_a");  // ordered by next_run_at
    CHECK(fx->due_schedules(t0 + 30s, 1).value().size() == 1);
    CHECK(fx->due_schedules(t0 + 29s, 10).value().size() == 1);

    std::vector<schedule_plan> plans{plan_one(a, "run_a1", 60s, t0 + 30s), plan_one(b, "run_b1", 60s, t0 + 30s)};
    plans[1].runs[0].status = run_status::skipped;
    plans[1].runs[0].error_text = "missed";
    auto out = fx->apply_plan(plans, t0 + 30s);
    REQUIRE(out.has_value());
    CHECK(out->materialized == 1);
    CHECK(out->skipped == 1);
    auto& s = fx.reopen();
    CHECK(s.get_schedule("sch_a").value()->next_run_at == t0 + 60s);
    CHECK(s.next_due_at().value() == t0 + 60s);

    // The same plan again (a pass repeated after a crash) is stale now and writes nothing.
    auto again = s.apply_plan(plans, t0 + 31s);
    REQUIRE(again.has_value());
    CHECK(again->stale == 2);
    CHECK(again->materialized == 0);
    // A fresh plan that re-derives an existing occurrence writes no duplicate row.
    auto a2 = s.get_schedule("sch_a").value().value();
    schedule_plan dup = plan_one(a2, "run_other", 60s, t0 + 61s);
    dup.runs[0] = pending_run(a2, "run_other", t0, t0 + 61s);  // the t0 occurrence again
    auto d = s.apply_plan(std::vector{dup}, t0 + 61s);
    REQUIRE(d.has_value());
    CHECK(d->duplicates == 1);
    CHECK_FALSE(s.get_run("run_other").value().has_value());
    CHECK(s.get_schedule("sch_a").value()->next_run_at == t0 + 120s);
    // Each plan's last run event carries its move of next_run_at; a plan that wrote no run (the
    // duplicate) records the move in an event of its own.
    CHECK(kinds(s) == std::vector<std::string>{"schedule_created", "schedule_created", "occurrence_materialized",
                                               "occurrence_skipped", "schedule_planned"});
    const auto events = ledger(s);
    CHECK(std::get<run_change>(events[2].payload).next_run == next_run_change{t0 + 60s});
    CHECK(std::get<run_change>(events[3].payload).next_run == next_run_change{t0 + 90s});
    CHECK(std::get<next_run_change>(events[4].payload) == next_run_change{t0 + 120s});
    auto eligible = s.eligible_runs(t0 + 61s, 10).value();
    REQUIRE(eligible.size() == 1);
    CHECK(eligible[0].id == "run_a1");
    CHECK(s.next_eligible_at().value() == t0);
}

TEMPLATE_TEST_CASE("a pass's events read back with their whole rows, compact in storage or not", "[store][plan][ledger]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    auto a = must_create(*fx, interval_schedule("sch_a", "alpha", t0));
    auto b = must_create(*fx, interval_schedule("sch_b", "beta", t0));
    std::vector<schedule_plan> plans{plan_one(a, "run_a1", 60s, t0 + 1s), plan_one(b, "run_b1", 60s, t0)};
    plans[0].runs[0].due_time = t0 + 7s;  // jittered: a fresh materialization, kept compact
    // Created before the event's instant: not a fresh materialization, kept whole.
    REQUIRE(fx->apply_plan(plans, t0 + 1s).value().materialized == 2);
    for (int round = 0; round < 2; ++round) {
        auto& s = round == 0 ? *fx : fx.reopen();
        const auto events = ledger(s);
        REQUIRE(events.size() == 4);
        for (const auto& [i, id] : {std::pair{2, "run_a1"}, std::pair{3, "run_b1"}}) {
            CAPTURE(round, id);
            const auto& e = events[static_cast<std::size_t>(i)];
            CHECK(e.kind == event_kind::occurrence_materialized);
            const auto& change = std::get<run_change>(e.payload);
            CHECK(change.row == must_get_run(s, id));
            CHECK(change.row.id == id);
            CHECK(change.next_run == next_run_change{t0 + 60s});
            CHECK(s.read_ledger(ledger_query{0, 10, std::nullopt, std::string(id)}).value() == std::vector{e});
        }
        CHECK(std::get<run_change>(events[2].payload).row.due_time == t0 + 7s);
        CHECK(std::get<run_change>(events[3].payload).row.created_at == t0);
    }
}

TEMPLATE_TEST_CASE("a planning move changes next_run_at and nothing else of the row", "[store][plan]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    auto in = interval_schedule("sch_a", "alpha \"quoted\" é", t0);  // escapes must survive the move
    in.target.headers = {{"X-Token", "a\\b"}};
    in.policy.jitter_seconds = 7;
    const auto a = must_create(*fx, in);
    must_create(*fx, interval_schedule("sch_p", "paused", t0));
    REQUIRE(fx->pause_schedule("sch_p", t0).has_value());
    {
        auto tx = fx->backend().begin();
        REQUIRE(tx.has_value());
        CHECK_FALSE(tx->move_next_run_at("sch_a", t0 + 1s, t0 + 60s).value());  // not where it was
        CHECK_FALSE(tx->move_next_run_at("sch_p", t0, t0 + 60s).value());       // paused
        CHECK_FALSE(tx->move_next_run_at("sch_none", t0, t0 + 60s).value());
        CHECK(tx->move_next_run_at("sch_a", t0, t0 + 60s).value());
        // Not committed: dropped with the transaction.
    }
    CHECK(fx.reopen().get_schedule("sch_a").value()->next_run_at == t0);
    CHECK(fx->due_schedules(t0, 10).value().size() == 1);
    {
        auto tx = fx->backend().begin();
        REQUIRE(tx.has_value());
        REQUIRE(tx->move_next_run_at("sch_a", t0, t0 + 60s).value());
        REQUIRE(tx->commit().has_value());
    }
    auto& s = fx.reopen();
    schedule want = a;
    want.next_run_at = t0 + 60s;
    CHECK(s.get_schedule("sch_a").value() == want);
    CHECK(s.due_schedules(t0 + 59s, 10).value().empty());
    CHECK(s.due_schedules(t0 + 60s, 10).value().size() == 1);
    CHECK(s.next_due_at().value() == t0 + 60s);
    {
        auto tx = s.backend().begin();
        REQUIRE(tx.has_value());
        REQUIRE(tx->move_next_run_at("sch_a", t0 + 60s, std::nullopt).value());  // nothing left to plan
        REQUIRE(tx->commit().has_value());
    }
    want.next_run_at.reset();
    CHECK(fx.reopen().get_schedule("sch_a").value() == want);
    CHECK(fx->due_schedules(t0 + 1000h, 10).value().empty());
}

TEMPLATE_TEST_CASE("a success's move advances last_run_at and nothing else of the row", "[store][finish]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    auto in = interval_schedule("sch_a", "alpha \"quoted\" é", t0);  // escapes must survive the move
    in.target.headers = {{"X-Token", "a\\b"}};
    const auto a = must_create(*fx, in);
    {
        auto tx = fx->backend().begin();
        REQUIRE(tx.has_value());
        CHECK_FALSE(tx->advance_last_run_at("sch_none", t0).value());
        CHECK(tx->advance_last_run_at("sch_a", t0 + 5s).value());
        // Not committed: dropped with the transaction.
    }
    CHECK(fx.reopen().get_schedule("sch_a").value() == a);
    {
        auto tx = fx->backend().begin();
        REQUIRE(tx.has_value());
        REQUIRE(tx->advance_last_run_at("sch_a", t0 + 5s).value());
        CHECK_FALSE(tx->advance_last_run_at("sch_a", t0 + 5s).value());  // there already
        CHECK_FALSE(tx->advance_last_run_at("sch_a", t0 + 4s).value());  // a finish committed late
        REQUIRE(tx->commit().has_value());
    }
    schedule want = a;
    want.last_run_at = t0 + 5s;
    CHECK(fx.reopen().get_schedule("sch_a").value() == want);
    CHECK(fx->due_schedules(t0, 10).value() == std::vector{want});
    {
        auto tx = fx->backend().begin();
        REQUIRE(tx.has_value());
        CHECK_FALSE(tx->advance_last_run_at("sch_a", t0 + 1s).value());
        REQUIRE(tx->advance_last_run_at("sch_a", t0 + 6s).value());
        REQUIRE(tx->move_next_run_at("sch_a", t0, t0 + 60s).value());  // both moves in one transaction
        REQUIRE(tx->commit().has_value());
    }
    want.last_run_at = t0 + 6s;
    want.next_run_at = t0 + 60s;
    CHECK(fx.reopen().get_schedule("sch_a").value() == want);
    // A deleted schedule keeps its history: a run finishing after the delete still records it.
    REQUIRE(fx->delete_schedule("sch_a", t0 + 7s).has_value());
    {
        auto tx = fx->backend().begin();
        REQUIRE(tx.has_value());
        CHECK(tx->advance_last_run_at("sch_a", t0 + 8s).value());
        REQUIRE(tx->commit().has_value());
    }
    CHECK(fx.reopen().get_schedule("sch_a").value()->last_run_at == t0 + 8s);
}

TEMPLATE_TEST_CASE("a run's life survives a reopen between every step", "[store][run][reopen]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    auto a = must_create(*fx, interval_schedule("sch_a", "alpha", t0));
    REQUIRE(fx->apply_plan(std::vector{plan_one(a, "run_1", 60s, t0)}, t0).has_value());
    CHECK(fx.reopen().eligible_runs(t0, 10).value().size() == 1);

    auto c = fx->claim_run("run_1", "worker-a", t0 + 1s, 30s, always(overlap_action::claim));
    REQUIRE(c.has_value());
    REQUIRE(c->claimed.has_value());
    CHECK(c->claimed->fencing_token == 1);
    auto claimed = must_get_run(fx.reopen(), "run_1");
    CHECK(claimed.status == run_status::claimed);
    CHECK(claimed.claimed_by_worker_id == "worker-a");
    CHECK(claimed.claim_expires_at == t0 + 31s);
    CHECK(fx->eligible_runs(t0 + 1h, 10).value().empty());
    CHECK(fx->next_lease_expiry().value() == t0 + 31s);

    REQUIRE(fx->start_run("run_1", 1, t0 + 2s).has_value());
    auto running = must_get_run(fx.reopen(), "run_1");
    CHECK(running.status == run_status::running);
    CHECK(running.started_at == t0 + 2s);

    REQUIRE(fx->renew_lease("run_1", 1, t0 + 10s, t0 + 40s).has_value());
    CHECK(must_get_run(fx.reopen(), "run_1").claim_expires_at == t0 + 40s);

    REQUIRE(fx->finish_run(success(running, t0 + 12s)).has_value());
    auto& s = fx.reopen();
    auto done = must_get_run(s, "run_1");
    CHECK(done.status == run_status::succeeded);
    CHECK(done.started_at == t0 + 2s);  // the real start survives the finish (DECISIONS 20)
    CHECK(done.finished_at == t0 + 12s);
    CHECK(done.exit_code == 0);
    CHECK_FALSE(done.claim_expires_at.has_value());
    CHECK(s.list_receipts("run_1").value().size() == 2);
    CHECK(s.get_schedule("sch_a").value()->last_run_at == t0 + 12s);
    CHECK_FALSE(s.next_lease_expiry().value().has_value());
    auto events = ledger(s);
    CHECK(kinds(s) == std::vector<std::string>{"schedule_created", "occurrence_materialized", "run_claimed",
                                               "run_started", "lease_renewed", "run_finished"});
    for (std::size_t i = 0; i < events.size(); ++i) {
        CHECK(events[i].seq == static_cast<std::int64_t>(i + 1));  // gapless from 1
    }
    // A terminal run is final.
    CHECK(s.finish_run(success(done, t0 + 13s)).error().code == errc::stale_fence);
    CHECK(s.cancel_waiting_run("run_1", t0 + 13s, "no").error().code == errc::conflict);
}

TEMPLATE_TEST_CASE("writes with a stale fencing token are refused", "[store][fence]", WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    auto a = must_create(*fx, interval_schedule("sch_a", "alpha", t0));
    REQUIRE(fx->trigger(pending_run(a, "run_1", t0, t0)).has_value());
    auto first = fx->claim_run("run_1", "w1", t0, 10s, always(overlap_action::claim)).value().claimed.value();
    REQUIRE(fx->start_run("run_1", first.fencing_token, t0 + 1s).has_value());
    CHECK(fx->start_run("run_1", first.fencing_token + 7, t0 + 1s).error().code == errc::stale_fence);

    // The lease expires; recovery fails the attempt, and a retry takes its place.
    auto recovered = fx->recover_expired(
        t0 + 11s, 10, [](const schedule&, std::int64_t) { return std::optional<duration>{5s}; },
        [n = 0](auto) mutable { return "id_" + std::to_string(++n); });
    REQUIRE(recovered.has_value());
    CHECK(*recovered == 1);
    auto failed = must_get_run(fx.reopen(), "run_1");
    CHECK(failed.status == run_status::failed);
    CHECK(failed.error_text == "worker lease expired during execution");
    CHECK(failed.started_at == t0 + 1s);
    // The old worker finishes late: refused, the run is not touched.
    auto late = fx->finish_run(success(first, t0 + 12s));
    REQUIRE_FALSE(late.has_value());
    CHECK(late.error().code == errc::stale_fence);
    CHECK(fx->renew_lease("run_1", first.fencing_token, t0 + 12s, t0 + 40s).error().code == errc::stale_fence);
    CHECK(must_get_run(*fx, "run_1") == failed);
    auto retry = fx->list_runs(run_filter{std::nullopt, run_status::retry_scheduled}, {}).value().items;
    REQUIRE(retry.size() == 1);
    CHECK(retry[0].attempt == 2);
    CHECK(retry[0].occurrence_key == failed.occurrence_key);
    CHECK(retry[0].retry_available_at == t0 + 16s);
    CHECK(fx->eligible_runs(t0 + 15s, 10).value().empty());
    CHECK(fx->eligible_runs(t0 + 16s, 10).value().size() == 1);
}

TEMPLATE_TEST_CASE("lease recovery puts a claimed run back and dead-letters an exhausted one", "[store][lease]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    auto a = must_create(*fx, interval_schedule("sch_a", "alpha", t0));
    REQUIRE(fx->trigger(pending_run(a, "run_1", t0, t0)).has_value());
    REQUIRE(fx->trigger(pending_run(a, "run_2", t0 + 1s, t0)).has_value());
    auto no_retry = [](const schedule&, std::int64_t) { return std::optional<duration>{}; };
    auto ids = [n = 0](auto) mutable { return "gen_" + std::to_string(++n); };
    auto c1 = fx->claim_run("run_1", "w1", t0 + 1s, 10s, always(overlap_action::claim)).value().claimed.value();
    auto c2 = fx->claim_run("run_2", "w1", t0 + 1s, 20s, always(overlap_action::claim)).value().claimed.value();
    REQUIRE(fx->start_run("run_2", c2.fencing_token, t0 + 2s).has_value());
    CHECK(fx->recover_expired(t0 + 10s, 10, no_retry, ids).value() == 0);  // not yet expired
    CHECK(fx->recover_expired(t0 + 30s, 10, no_retry, ids).value() == 2);
    auto& s = fx.reopen();
    auto r1 = must_get_run(s, "run_1");
    CHECK(r1.status == run_status::pending);
    CHECK_FALSE(r1.claimed_by_worker_id.has_value());
    CHECK(r1.fencing_token == c1.fencing_token);  // the next claim gets a newer token
    auto r2 = must_get_run(s, "run_2");
    CHECK(r2.status == run_status::dead_lettered);
    auto letters = s.list_dead_letters({}, {}).value().items;
    REQUIRE(letters.size() == 1);
    CHECK(letters[0].run == "run_2");
    CHECK(letters[0].reason == "worker lease expired during execution");
    auto again = s.claim_run("run_1", "w2", t0 + 31s, 10s, always(overlap_action::claim)).value().claimed.value();
    CHECK(again.fencing_token == c1.fencing_token + 1);
    CHECK(s.start_run("run_1", c1.fencing_token, t0 + 32s).error().code == errc::stale_fence);
}

TEMPLATE_TEST_CASE("finishing a failure writes the retry or the dead letter in the same change", "[store][finish]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    auto a = must_create(*fx, interval_schedule("sch_a", "alpha", t0));
    REQUIRE(fx->trigger(pending_run(a, "run_1", t0, t0)).has_value());
    auto c = fx->claim_run("run_1", "w", t0, 30s, always(overlap_action::claim)).value().claimed.value();
    finish_request f;
    f.run = "run_1";
    f.fencing_token = c.fencing_token;
    f.at = t0 + 3s;
    f.outcome = run_status::failed;
    f.exit_code = 3;
    f.error_text = "exit status 3";
    f.retry_delay = 30s;
    f.new_run_id = "run_1b";
    REQUIRE(fx->finish_run(f).has_value());
    auto& s = fx.reopen();
    CHECK(must_get_run(s, "run_1").status == run_status::failed);
    auto retry = must_get_run(s, "run_1b");
    CHECK(retry.status == run_status::retry_scheduled);
    CHECK(retry.attempt == 2);
    CHECK(retry.due_time == t0 + 33s);
    CHECK_FALSE(s.get_schedule("sch_a").value()->last_run_at.has_value());  // only a success moves it

    auto c2 = s.claim_run("run_1b", "w", t0 + 33s, 30s, always(overlap_action::claim)).value().claimed.value();
    f.run = "run_1b";
    f.fencing_token = c2.fencing_token;
    f.at = t0 + 40s;
    f.retry_delay.reset();
    f.result_json = R"({"k":1})";
    f.dead_letter_id = "dlq_1";
    REQUIRE(s.finish_run(f).has_value());
    auto& s2 = fx.reopen();
    CHECK(must_get_run(s2, "run_1b").status == run_status::dead_lettered);
    auto letters = s2.list_dead_letters(dead_letter_filter{"sch_a"}, {}).value().items;
    REQUIRE(letters.size() == 1);
    CHECK(letters[0] == dead_letter{"dlq_1", "run_1b", "sch_a", occurrence_key("sch_a", t0), "exit status 3",
                                    R"({"k":1})", t0 + 40s});
    CHECK(s2.list_dead_letters(dead_letter_filter{"sch_other"}, {}).value().items.empty());
    CHECK(kinds(s2).back() == "dead_lettered");
}

TEMPLATE_TEST_CASE("a requeued attempt follows a drained one", "[store][finish]", WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    auto a = must_create(*fx, interval_schedule("sch_a", "alpha", t0));
    REQUIRE(fx->trigger(pending_run(a, "run_1", t0, t0)).has_value());
    auto c = fx->claim_run("run_1", "w", t0, 30s, always(overlap_action::claim)).value().claimed.value();
    finish_request f;
    f.run = "run_1";
    f.fencing_token = c.fencing_token;
    f.at = t0 + 3s;
    f.outcome = run_status::cancelled;
    f.error_text = "interrupted by shutdown";
    f.requeue = true;
    f.new_run_id = "run_1r";
    REQUIRE(fx->finish_run(f).has_value());
    auto& s = fx.reopen();
    CHECK(must_get_run(s, "run_1").status == run_status::cancelled);
    auto next = must_get_run(s, "run_1r");
    CHECK(next.status == run_status::pending);
    CHECK(next.due_time == t0 + 3s);
    CHECK(next.attempt == 2);
    CHECK(kinds(s).back() == "run_requeued");
}

TEMPLATE_TEST_CASE("claims apply the overlap decision inside the transaction", "[store][claim]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    auto a = must_create(*fx, interval_schedule("sch_a", "alpha", t0));
    for (int i = 0; i < 3; ++i) {
        REQUIRE(fx->trigger(pending_run(a, "run_" + std::to_string(i), t0 + std::chrono::seconds{i}, t0)).has_value());
    }
    std::vector<overlap_state> seen;
    auto record = [&](overlap_action a) {
        return [&seen, a](overlap_state st) noexcept {
            seen.push_back(st);
            return a;
        };
    };
    REQUIRE(fx->claim_run("run_0", "w", t0 + 5s, 30s, record(overlap_action::claim)).value().claimed);
    auto waited = fx->claim_run("run_1", "w", t0 + 5s, 30s, record(overlap_action::wait));
    REQUIRE(waited.has_value());
    CHECK_FALSE(waited->claimed.has_value());
    CHECK(must_get_run(*fx, "run_1").status == run_status::pending);
    auto sup = fx->claim_run("run_1", "w", t0 + 5s, 30s, record(overlap_action::supersede));
    REQUIRE(sup.has_value());
    auto superseded = must_get_run(fx.reopen(), "run_1");
    CHECK(superseded.status == run_status::skipped);
    CHECK(superseded.error_text == "superseded by newer queued occurrence");
    auto cancel = fx->claim_run("run_2", "w", t0 + 5s, 30s, record(overlap_action::cancel_active));
    REQUIRE(cancel.has_value());
    CHECK(cancel->cancel == std::vector<std::string>{"run_0"});
    REQUIRE(seen.size() == 4);
    CHECK(seen[0].active == 0);
    CHECK(seen[0].newest_waiting == false);  // run_1 and run_2 are newer
    CHECK(seen[1].active == 1);
    CHECK(seen[3].newest_waiting == true);
    CHECK(seen[3].max_concurrency == 1);
    // Not eligible (not yet due, or no longer waiting): a conflict, nothing written.
    CHECK(fx->claim_run("run_0", "w", t0 + 5s, 30s, always(overlap_action::claim)).error().code == errc::conflict);
    CHECK(fx->claim_run("run_missing", "w", t0, 30s, always(overlap_action::claim)).error().code == errc::not_found);
}

TEMPLATE_TEST_CASE("each event of a transaction carries its run as it was at that event", "[store][claim][ledger]",
                   WAKEPLANE_STORE_FIXTURES) {
    // A claim that also starts writes the run twice in one transaction: the claimed event must
    // keep the claimed row, though the row stored (and its encoding) is the running one.
    TestType fx;
    auto a = must_create(*fx, interval_schedule("sch_a", "alpha", t0));
    REQUIRE(fx->trigger(pending_run(a, "run_0", t0, t0)).has_value());
    const std::vector<run_id> ids{"run_0"};
    auto claimed = fx->claim_runs(ids, "w", t0 + 1s, 30s,
                                  [](const run&, const schedule*, overlap_state) { return overlap_action::claim; },
                                  true);
    REQUIRE(claimed.has_value());
    REQUIRE(claimed->size() == 1);
    auto check = [](auto& s) {
        std::map<std::string, run_status> status_of_kind;
        for (const auto& e : ledger(s)) {
            if (const auto* change = std::get_if<run_change>(&e.payload)) {
                status_of_kind[std::string(to_string(e.kind))] = change->row.status;
            }
        }
        CHECK(status_of_kind.at("run_triggered") == run_status::pending);
        CHECK(status_of_kind.at("run_claimed") == run_status::claimed);
        CHECK(status_of_kind.at("run_started") == run_status::running);
        CHECK(must_get_run(s, "run_0").status == run_status::running);
    };
    check(*fx);
    check(fx.reopen());
}

TEMPLATE_TEST_CASE("a claim made ahead starts at its due time, or is given back unstarted", "[store][claim][ahead]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    auto a = must_create(*fx, interval_schedule("sch_a", "alpha", t0));
    for (int i = 0; i < 4; ++i) {
        REQUIRE(fx->trigger(pending_run(a, "run_" + std::to_string(i), t0 + std::chrono::seconds{i}, t0)).has_value());
    }
    std::vector<overlap_state> seen;
    auto decide = [&](overlap_action act) {
        return [&seen, act](const run&, const schedule* sc, overlap_state st) noexcept {
            CHECK(sc != nullptr);
            seen.push_back(st);
            return act;
        };
    };
    const std::vector<run_id> ids{"run_1", "run_2", "run_3", "run_missing"};
    // At t0 with a window to t0+2s: run_1 and run_2 are eligible by then, run_3 is not.
    auto out = fx->claim_ahead(ids, "w", t0, t0 + 2s, 30s, decide(overlap_action::claim));
    REQUIRE(out.has_value());
    REQUIRE(out->size() == 4);
    CHECK((*out)[0].claimed.has_value());
    CHECK((*out)[1].claimed.has_value());
    CHECK_FALSE((*out)[2].claimed.has_value());
    CHECK_FALSE((*out)[3].claimed.has_value());
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].active == 0);
    CHECK(seen[1].active == 1);  // run_1's claim holds its slot
    auto& s = fx.reopen();
    auto r1 = must_get_run(s, "run_1");
    CHECK(r1.status == run_status::claimed);
    CHECK(r1.claimed_by_worker_id == "w");
    CHECK(r1.claim_expires_at == t0 + 30s);  // the lease runs from the claim
    CHECK_FALSE(r1.started_at.has_value());
    CHECK(r1.fencing_token == 1);
    // A decision other than claim leaves the run waiting, whatever it was.
    for (auto act : {overlap_action::wait, overlap_action::supersede, overlap_action::cancel_active}) {
        auto none = s.claim_ahead(std::vector<run_id>{"run_3"}, "w", t0, t0 + 5s, 30s, decide(act));
        REQUIRE(none.has_value());
        CHECK((*none)[0].action == overlap_action::wait);
        CHECK(must_get_run(s, "run_3").status == run_status::pending);
    }
    // The start: running from now under the claim's lease; a stale ticket starts nothing.
    const std::vector<claim_ticket> tickets{{"run_1", 1}, {"run_2", 7}, {"run_0", 0}};
    auto started = s.start_claimed(tickets, t0 + 1s, 30s);
    REQUIRE(started.has_value());
    REQUIRE(started->size() == 3);
    REQUIRE((*started)[0].has_value());
    CHECK((*started)[0]->status == run_status::running);
    CHECK((*started)[0]->started_at == t0 + 1s);
    CHECK((*started)[0]->claim_expires_at == t0 + 30s);
    CHECK_FALSE((*started)[1].has_value());  // run_2 holds token 1, not 7
    CHECK_FALSE((*started)[2].has_value());  // run_0 was never claimed
    auto& again = fx.reopen();
    CHECK(must_get_run(again, "run_1").status == run_status::running);
    CHECK(must_get_run(again, "run_2").status == run_status::claimed);
    // Given back: pending again with the same attempt and token; a running run is not released.
    const std::vector<claim_ticket> back{{"run_2", 1}, {"run_1", 1}};
    CHECK(again.release_claims(back, t0 + 1500ms).value() == 1);
    auto r2 = must_get_run(again, "run_2");
    CHECK(r2.status == run_status::pending);
    CHECK(r2.fencing_token == 1);
    CHECK(r2.attempt == 1);
    CHECK_FALSE(r2.claimed_by_worker_id.has_value());
    CHECK_FALSE(r2.claim_expires_at.has_value());
    CHECK(must_get_run(again, "run_1").status == run_status::running);
    auto k = kinds(again);
    CHECK(std::count(k.begin(), k.end(), "run_claimed") == 2);
    CHECK(std::count(k.begin(), k.end(), "run_started") == 1);
    CHECK(k.back() == "claim_released");
    // Claimed again later (token 2) by whoever dispatches next.
    auto next = again.claim_run("run_2", "w2", t0 + 2s, 30s, always(overlap_action::claim));
    REQUIRE(next.has_value());
    CHECK(next->claimed->fencing_token == 2);
    // Never started on an expired lease: another worker may be recovering it.
    REQUIRE(again.claim_run("run_0", "w", t0 + 1s, 30s, always(overlap_action::claim)).value().claimed);
    CHECK_FALSE(again.start_claimed(std::vector<claim_ticket>{{"run_0", 1}}, t0 + 31s, 30s).value()[0].has_value());
    CHECK(must_get_run(again, "run_0").status == run_status::claimed);
    // A late start, with less than half the TTL left of the claim's lease, takes a fresh one.
    REQUIRE(again.claim_ahead(std::vector<run_id>{"run_3"}, "w", t0 + 2s, t0 + 3s, 30s,
                              decide(overlap_action::claim))
                .value()[0]
                .claimed);
    auto late = again.start_claimed(std::vector<claim_ticket>{{"run_3", 1}}, t0 + 20s, 30s);
    REQUIRE(late.value()[0].has_value());
    CHECK(late.value()[0]->claim_expires_at == t0 + 50s);
    CHECK(must_get_run(fx.reopen(), "run_3").claim_expires_at == t0 + 50s);
}

TEMPLATE_TEST_CASE("the next eligibility after an instant looks past runs that wait", "[store][claim]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    auto a = must_create(*fx, interval_schedule("sch_a", "alpha", t0));
    for (int i = 0; i < 3; ++i) {
        REQUIRE(fx->trigger(pending_run(a, "run_" + std::to_string(i), t0 + std::chrono::seconds{5 * i}, t0))
                    .has_value());
    }
    CHECK(fx->next_eligible_after(t0 - 1s).value() == t0);
    CHECK(fx->next_eligible_after(t0).value() == t0 + 5s);  // run_0, eligible by t0, may be waiting
    CHECK(fx->next_eligible_after(t0 + 9s).value() == t0 + 10s);
    CHECK_FALSE(fx->next_eligible_after(t0 + 10s).value().has_value());
    REQUIRE(fx->claim_run("run_1", "w", t0 + 5s, 30s, always(overlap_action::claim)).value().claimed);
    auto& s = fx.reopen();
    CHECK(s.next_eligible_after(t0).value() == t0 + 10s);  // a claimed run is not waiting
}

/// The open runs of a schedule as a claim reads them (from the backend's index).
template <class Store>
std::vector<open_run> open_runs_now(Store& s, std::string_view schedule) {
    auto tx = s.backend().begin();
    REQUIRE(tx.has_value());
    return tx->open_runs(schedule).value();
}

TEMPLATE_TEST_CASE("open runs come from the index with the times a claim needs", "[store][claim]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    auto a = must_create(*fx, interval_schedule("sch_a", "alpha", t0));
    must_create(*fx, interval_schedule("sch_b", "beta", t0));
    auto later = pending_run(a, "run_4", t0 + 60s, t0);
    later.due_time = t0 + 75s;  // jittered: due after its nominal time
    for (const auto& r : {pending_run(a, "run_1", t0, t0), pending_run(a, "run_2", t0 + 10s, t0),
                          pending_run(a, "run_3", t0 + 20s, t0), later}) {
        REQUIRE(fx->trigger(r).has_value());
    }
    auto c1 = fx->claim_run("run_1", "w", t0, 30s, always(overlap_action::claim)).value().claimed.value();
    finish_request f;
    f.run = "run_1";
    f.fencing_token = c1.fencing_token;
    f.at = t0 + 3s;
    f.outcome = run_status::failed;
    f.retry_delay = 30s;
    f.new_run_id = "run_1b";
    REQUIRE(fx->finish_run(f).has_value());  // run_1 failed (closed), run_1b retry_scheduled
    REQUIRE(fx->claim_run("run_2", "w", t0 + 10s, 30s, always(overlap_action::claim)).has_value());
    REQUIRE(fx->claim_run("run_3", "w", t0 + 20s, 30s, always(overlap_action::claim)).has_value());
    REQUIRE(fx->start_run("run_3", 1, t0 + 21s).has_value());

    auto& s = fx.reopen();
    const auto open = open_runs_now(s, "sch_a");
    REQUIRE(open.size() == 4);
    CHECK(open[0] == open_run{"run_1b", run_status::retry_scheduled, t0, t0 + 33s});
    CHECK(open[1] == open_run{"run_2", run_status::claimed, t0 + 10s, std::nullopt});
    CHECK(open[2] == open_run{"run_3", run_status::running, t0 + 20s, std::nullopt});
    CHECK(open[3] == open_run{"run_4", run_status::pending, t0 + 60s, t0 + 75s});
    for (const auto& o : open) {
        CHECK(o == open_run_of(must_get_run(s, o.id)));  // the index agrees with the row
    }
    CHECK(open_runs_now(s, "sch_b").empty());
    CHECK(open_runs_now(s, "sch_missing").empty());
}

TEMPLATE_TEST_CASE("of concurrent claimers of one run exactly one wins", "[store][claim][concurrency]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    auto a = must_create(*fx, interval_schedule("sch_a", "alpha", t0));
    constexpr int runs = 20;
    for (int i = 0; i < runs; ++i) {
        REQUIRE(fx->trigger(pending_run(a, "run_" + std::to_string(i), t0 + std::chrono::seconds{i}, t0)).has_value());
    }
    std::atomic<int> wins{0}, conflicts{0}, other{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < 8; ++w) {
        threads.emplace_back([&, w] {
            for (int i = 0; i < runs; ++i) {
                auto c = fx->claim_run("run_" + std::to_string(i), "w" + std::to_string(w), t0 + 1h, 30s,
                                       [](overlap_state) noexcept { return overlap_action::claim; });
                if (c && c->claimed) {
                    ++wins;
                } else if (!c && c.error().code == errc::conflict) {
                    ++conflicts;
                } else {
                    ++other;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    CHECK(wins == runs);
    CHECK(conflicts == runs * 7);
    CHECK(other == 0);
    auto& s = fx.reopen();
    for (int i = 0; i < runs; ++i) {
        CHECK(must_get_run(s, "run_" + std::to_string(i)).fencing_token == 1);
    }
    auto events = ledger(s);
    CHECK(events.back().seq == static_cast<std::int64_t>(events.size()));
}

TEMPLATE_TEST_CASE("cancelling and deleting stop runs that have not started", "[store][cancel]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    auto a = must_create(*fx, interval_schedule("sch_a", "alpha", t0));
    for (int i = 1; i <= 5; ++i) {
        REQUIRE(fx->trigger(pending_run(a, "run_" + std::to_string(i), t0 + std::chrono::seconds{i}, t0)).has_value());
    }
    auto c = fx->cancel_waiting_run("run_1", t0 + 5s, "operator said so");
    REQUIRE(c.has_value());
    CHECK(c->status == run_status::cancelled);
    // A claimed run has not started: it ends at once, and its holder can no longer start it.
    auto claimed = fx->claim_run("run_2", "w", t0 + 5s, 30s, always(overlap_action::claim)).value().claimed.value();
    auto c2 = fx->cancel_waiting_run("run_2", t0 + 5s, "x");
    REQUIRE(c2.has_value());
    CHECK(c2->status == run_status::cancelled);
    CHECK_FALSE(c2->claim_expires_at.has_value());
    CHECK(fx->start_run("run_2", claimed.fencing_token, t0 + 6s).error().code == errc::stale_fence);
    // A running run is returned unchanged: the caller stops its execution.
    auto held = fx->claim_run("run_3", "w", t0 + 5s, 30s, always(overlap_action::claim)).value().claimed.value();
    REQUIRE(fx->start_run("run_3", held.fencing_token, t0 + 5s).has_value());
    CHECK(fx->cancel_waiting_run("run_3", t0 + 5s, "x").value().status == run_status::running);
    // A delete ends the pending and the claimed ones, not the running one.
    auto held4 = fx->claim_run("run_4", "w", t0 + 5s, 30s, always(overlap_action::claim)).value().claimed.value();
    REQUIRE(fx->delete_schedule("sch_a", t0 + 6s).has_value());
    CHECK(fx->start_run("run_4", held4.fencing_token, t0 + 6s).error().code == errc::stale_fence);
    auto& s = fx.reopen();
    CHECK(must_get_run(s, "run_1").error_text == "operator said so");
    CHECK(must_get_run(s, "run_2").error_text == "x");
    CHECK(must_get_run(s, "run_3").status == run_status::running);
    for (const auto* id : {"run_4", "run_5"}) {
        CHECK(must_get_run(s, id).status == run_status::cancelled);
        CHECK(must_get_run(s, id).error_text == "schedule deleted");
    }
    CHECK(s.eligible_runs(t0 + 1h, 10).value().empty());
    CHECK(s.next_lease_expiry().value() == t0 + 35s);  // only run_3's lease is left
    CHECK(s.trigger(pending_run(a, "run_6", t0, t0)).error().code == errc::not_found);
    CHECK(s.cancel_waiting_run("run_missing", t0, "x").error().code == errc::not_found);
}

TEMPLATE_TEST_CASE("counts report what status and metrics need", "[store][counts]", WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    auto a = must_create(*fx, interval_schedule("sch_a", "alpha", t0));
    auto b = interval_schedule("sch_b", "beta", t0);
    b.enabled = false;
    b.paused_at = t0;
    must_create(*fx, b);
    REQUIRE(fx->trigger(pending_run(a, "run_1", t0, t0)).has_value());
    REQUIRE(fx->trigger(pending_run(a, "run_2", t0 + 1h, t0)).has_value());
    REQUIRE(fx->claim_run("run_1", "w", t0, 10s, always(overlap_action::claim)).has_value());
    auto c = fx.reopen().counts(t0 + 20s).value();
    CHECK(c.schedules == 2);
    CHECK(c.schedules_enabled == 1);
    CHECK(c.runs == 2);
    CHECK(c.runs_due == 0);
    CHECK(c.by_status[static_cast<std::size_t>(run_status::claimed)] == 1);
    CHECK(c.by_status[static_cast<std::size_t>(run_status::pending)] == 1);
    CHECK(c.leases_active == 1);
    CHECK(c.claimed_but_expired == 1);
    CHECK(c.last_seq == 5);
    CHECK(fx->counts(t0 + 2h).value().runs_due == 1);
}

TEMPLATE_TEST_CASE("replaying the ledger rebuilds the same projection", "[store][ledger][replay]",
                   WAKEPLANE_STORE_FIXTURES) {
    TestType fx;
    auto a = must_create(*fx, interval_schedule("sch_a", "alpha", t0));
    auto b = must_create(*fx, interval_schedule("sch_b", "beta", t0 + 1s));
    REQUIRE(fx->apply_plan(std::vector{plan_one(a, "run_1", 60s, t0)}, t0).has_value());
    REQUIRE(fx->trigger(pending_run(a, "run_2", t0 + 2s, t0 + 2s)).has_value());
    auto c = fx->claim_run("run_1", "w", t0 + 3s, 30s, always(overlap_action::claim)).value().claimed.value();
    REQUIRE(fx->start_run("run_1", c.fencing_token, t0 + 4s).has_value());
    REQUIRE(fx->finish_run(success(c, t0 + 5s)).has_value());
    auto c2 = fx->claim_run("run_2", "w", t0 + 6s, 30s, always(overlap_action::claim)).value().claimed.value();
    finish_request f;
    f.run = "run_2";
    f.fencing_token = c2.fencing_token;
    f.at = t0 + 7s;
    f.outcome = run_status::failed;
    f.error_text = "boom";
    f.dead_letter_id = "dlq_1";
    REQUIRE(fx->finish_run(f).has_value());
    // Claims made ahead: one given back, one cancelled, one started.
    for (int i = 3; i <= 5; ++i) {
        REQUIRE(fx->trigger(pending_run(b, "run_" + std::to_string(i), t0 + 8s + std::chrono::milliseconds{i}, t0 + 7s))
                    .has_value());
    }
    const std::vector<run_id> ahead{"run_3", "run_4", "run_5"};
    REQUIRE(fx->claim_ahead(ahead, "w", t0 + 7s, t0 + 9s, 30s,
                            [](const run&, const schedule*, overlap_state) noexcept { return overlap_action::claim; })
                .has_value());
    REQUIRE(fx->release_claims(std::vector<claim_ticket>{{"run_3", 1}}, t0 + 8s).value() == 1);
    REQUIRE(fx->cancel_waiting_run("run_4", t0 + 8s, "not now").value().status == run_status::cancelled);
    REQUIRE(fx->start_claimed(std::vector<claim_ticket>{{"run_5", 1}}, t0 + 9s, 30s).value()[0].has_value());
    REQUIRE(fx->pause_schedule("sch_b", t0 + 8s).has_value());
    REQUIRE(fx->delete_schedule("sch_b", t0 + 9s).has_value());

    stores::memory_store rebuilt{stores::memory_backend{}};
    auto replayed = replay_ledger(fx.reopen(), rebuilt.backend(), 3);  // small chunks on purpose
    REQUIRE(replayed.has_value());
    CHECK(*replayed == fx->last_seq().value());
    expect_same_projection(fx, rebuilt);
}
