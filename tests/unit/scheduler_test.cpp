#include <wakeplane/scheduler.hpp>

#include <catch2/catch.hpp>

#include <wakeplane/stores/memory.hpp>
#include <wakeplane/testing/run_until.hpp>

#include "../support.hpp"

using namespace wakeplane;
using namespace wakeplane::testing;
using namespace std::chrono_literals;

namespace {

const time_point t0 = at("2026-03-12T10:00:00Z");

/// A workflow executor that runs a test-provided function.
struct fn_executor {
    static constexpr std::string_view kind = "workflow";
    std::function<execution_result(const run_context&)> fn;
    execution_result execute(const target_spec&, const run_context& ctx) { return fn(ctx); }
};

execution_result ok() {
    execution_result r;
    r.ok = true;
    return r;
}

std::shared_ptr<executor_registry> registry(std::function<execution_result(const run_context&)> fn) {
    auto reg = std::make_shared<executor_registry>();
    reg->add(fn_executor{std::move(fn)});
    return reg;
}

schedule_input job(std::string name, std::string kind = "interval") {
    schedule_input in;
    in.name = std::move(name);
    in.timezone = "UTC";
    in.schedule.kind = std::move(kind);
    in.schedule.every_seconds = 3600;
    in.target.kind = "workflow";
    in.target.workflow_id = "job";
    return in;
}

scheduler_options seeded() {
    scheduler_options o;
    o.id_seed = 42;
    return o;
}

using sched = default_scheduler<stores::memory_store, manual_clock>;

/// A host's own policy: runs only the oldest missed occurrence.
struct oldest_only {
    static constexpr std::string_view name = "oldest_only";
    missed select(missed m) const noexcept { return m.first(m.empty() ? 0 : 1); }
};

}  // namespace

TEST_CASE("policy sets compose in any order, missing ones default to every built-in", "[scheduler][compose]") {
    using a = scheduler<stores::memory_store, manual_clock, retry::set<retry::none>, misfire::set<oldest_only>>;
    STATIC_REQUIRE(std::is_same_v<a::misfire_set, misfire::set<oldest_only>>);
    STATIC_REQUIRE(std::is_same_v<a::retry_set, retry::set<retry::none>>);
    STATIC_REQUIRE(std::is_same_v<a::overlap_set, overlap::all>);
    STATIC_REQUIRE(std::is_same_v<sched::misfire_set, misfire::all>);
    CHECK(a::catalog().misfire == std::vector<std::string_view>{"oldest_only"});
}

TEST_CASE("a policy name outside the compiled set is rejected at validation", "[scheduler][compose]") {
    scheduler<stores::memory_store, manual_clock, misfire::set<oldest_only, misfire::skip>> s{
        stores::memory_store{stores::memory_backend{}}, manual_clock{t0}, registry([](auto&) { return ok(); }), seeded()};
    auto in = job("a");
    in.policy.misfire = "catch_up";
    auto r = s.create_schedule(in);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == errc::validation_failed);
    CHECK(r.error().details == std::vector<field_error>{{"policy.misfire", "must be one of oldest_only, skip"}});
    in.policy.misfire = "oldest_only";
    REQUIRE(s.create_schedule(in).has_value());
    // The host policy decides: of four missed hours (10:00 to 13:00, all later than the
    // grace window at 13:05), only the oldest runs.
    s.clock().advance(3h + 5min);
    REQUIRE(s.plan().has_value());
    auto runs = s.store().list_runs({}, {}).value().items;
    std::map<std::string, std::string> by_time;
    for (const auto& r2 : runs) {
        by_time[format_rfc3339(r2.nominal_time)] = std::string(to_string(r2.status));
    }
    CHECK(by_time == std::map<std::string, std::string>{{"2026-03-12T10:00:00Z", "pending"},
                                                        {"2026-03-12T11:00:00Z", "skipped"},
                                                        {"2026-03-12T12:00:00Z", "skipped"},
                                                        {"2026-03-12T13:00:00Z", "skipped"}});
}

TEST_CASE("creation computes next_run_at; a disabled schedule is paused from birth", "[scheduler]") {
    sched s{stores::memory_store{stores::memory_backend{}}, manual_clock{t0 + 500ms}, registry([](auto&) { return ok(); }),
            seeded()};
    auto a = s.create_schedule(job("a")).value();
    // No anchor: the creation instant truncated to the second (DECISIONS 5).
    CHECK(a.next_run_at == t0 + 1h);
    auto in = job("b");
    in.enabled = false;
    auto b = s.create_schedule(in).value();
    CHECK_FALSE(b.enabled);
    CHECK(b.paused_at == t0 + 500ms);
    auto once = job("c", "once");
    once.schedule.at = t0 - 1h;  // already past: a missed occurrence, not silently dropped
    auto c = s.create_schedule(once).value();
    CHECK(c.next_run_at == t0 - 1h);
    auto dup = s.create_schedule(job("a"));
    CHECK(dup.error().code == errc::conflict);
}

TEST_CASE("with a lookahead, occurrences are written ahead and still start at their due time", "[scheduler][lookahead]") {
    manual_clock clock{t0 + 500ms};
    std::vector<std::pair<time_point, time_point>> started;  // (nominal, executor start)
    auto o = seeded();
    o.planning.lookahead = 2s;
    sched s{stores::memory_store{stores::memory_backend{}}, clock,
            registry([&started, clock](const run_context& ctx) {
                started.emplace_back(ctx.nominal_time, clock.now());  // read on the worker, stored after settle
                return ok();
            }),
            o};
    auto a = s.create_schedule(job("a")).value();  // hourly from t0: first due at t0 + 1h
    auto b = s.create_schedule(job("b")).value();
    REQUIRE(a.next_run_at == t0 + 1h);
    CHECK(s.next_wakeup().value() == t0 + 1h - 2s);  // the planner wakes early, by the lookahead

    REQUIRE(run_until(s, t0 + 1h - 1s).has_value());
    // Written at t0 + 1h - 2 s, pending, and not claimable before its due time.
    auto runs = s.store().list_runs(run_filter{a.id, std::nullopt}, page_request{std::nullopt, 10}).value().items;
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].status == run_status::pending);
    CHECK(runs[0].nominal_time == t0 + 1h);
    CHECK(runs[0].created_at == t0 + 1h - 2s);
    CHECK(s.store().get_schedule(a.id).value()->next_run_at == t0 + 2h);
    CHECK(started.empty());
    CHECK(s.next_wakeup().value() == t0 + 1h);  // the dispatcher's: the run becomes eligible

    // A pause inside the window does not take back the run already queued (DECISIONS 11); a
    // delete cancels it with the schedule's other waiting runs (DECISIONS 22).
    REQUIRE(s.pause(a.id).has_value());
    REQUIRE(s.remove(b.id).has_value());
    auto b_runs = s.store().list_runs(run_filter{b.id, std::nullopt}, page_request{std::nullopt, 10}).value().items;
    REQUIRE(b_runs.size() == 1);
    CHECK(b_runs[0].status == run_status::cancelled);
    REQUIRE(run_until(s, t0 + 3h).has_value());
    REQUIRE(started.size() == 1);
    CHECK(started[0] == std::pair{t0 + 1h, t0 + 1h});  // started exactly when due, never earlier
    CHECK(s.store().list_runs(run_filter{a.id, std::nullopt}, page_request{std::nullopt, 10}).value().items.size() == 1);
}

TEST_CASE("a trigger keeps its reason and runs on a paused schedule", "[scheduler][trigger]") {
    sched s{stores::memory_store{stores::memory_backend{}}, manual_clock{t0}, registry([](auto&) { return ok(); }),
            seeded()};
    auto a = s.create_schedule(job("a")).value();
    REQUIRE(s.pause(a.id).has_value());
    auto r = s.trigger(a.id, "deploy check");
    REQUIRE(r.has_value());
    CHECK(r->occurrence_key == "manual:" + r->id);
    REQUIRE(run_until(s, t0 + 1min).has_value());
    auto done = s.store().get_run(r->id).value().value();
    CHECK(done.status == run_status::succeeded);
    CHECK(done.trigger_reason == "deploy check");
    CHECK(s.trigger("sch_missing", "x").error().code == errc::not_found);
}

TEST_CASE("cancel stops a waiting run at once and a running one through its stop token", "[scheduler][cancel]") {
    manual_clock clock{t0};
    sched s{stores::memory_store{stores::memory_backend{}}, clock, registry([clock](const run_context& ctx) {
                execution_result r;
                r.ok = clock.sleep_until(clock.now() + 1h, ctx.stop);  // real-time ok: a manual clock, simulated time
                return r;
            }),
            seeded()};
    auto a = s.create_schedule(job("a")).value();
    REQUIRE(s.trigger(a.id, "now").has_value());
    REQUIRE(s.step().has_value());  // of the trigger and the 10:00 run one starts, one waits (forbid)
    settle(s);
    auto running = s.store().list_runs(run_filter{std::nullopt, run_status::running}, {}).value().items.at(0);
    auto waiting = s.store().list_runs(run_filter{std::nullopt, run_status::pending}, {}).value().items.at(0);
    CHECK(s.cancel(waiting.id, "not needed").value().status == run_status::cancelled);
    REQUIRE(s.cancel(running.id, "stop it").has_value());
    settle(s);
    REQUIRE(s.step().has_value());
    auto r = s.store().get_run(running.id).value().value();
    CHECK(r.status == run_status::cancelled);
    CHECK(r.error_text == "stop it");
    CHECK(s.cancel(running.id, "again").error().code == errc::conflict);
}

TEST_CASE("a graceful drain requeues interrupted work without using up an attempt", "[scheduler][drain]") {
    manual_clock clock{t0};
    sched s{stores::memory_store{stores::memory_backend{}}, clock, registry([clock](const run_context& ctx) {
                execution_result r;
                r.ok = clock.sleep_until(clock.now() + 1h, ctx.stop);  // real-time ok: a manual clock, simulated time
                return r;
            }),
            seeded()};
    auto in = job("a");
    in.retry.max_attempts = 1;  // no retries at all: a requeue must still happen
    auto a = s.create_schedule(in).value();
    REQUIRE(s.step().has_value());
    settle(s);
    s.dispatcher().begin_drain(t0 + 30s);
    REQUIRE(run_until(s, t0 + 30s).has_value());
    CHECK(s.dispatcher().drained());
    auto runs = s.store().list_runs(run_filter{a.id, std::nullopt}, {}).value().items;
    REQUIRE(runs.size() == 2);
    const auto& requeued = runs[0];  // newest first
    const auto& interrupted = runs[1];
    CHECK(interrupted.status == run_status::cancelled);
    CHECK(interrupted.error_text == "interrupted by shutdown");
    CHECK(requeued.status == run_status::pending);
    CHECK(requeued.attempt == 2);
    CHECK(requeued.requeued_attempts == 1);
    CHECK(requeued.due_time == t0 + 30s);
    CHECK(requeued.occurrence_key == interrupted.occurrence_key);
}

// Found by the simulator (seed 2, "every occurrence accounted once"): an interval schedule edited
// while due keeps its next_run_at on the previous grid (DECISIONS 11); after a long pause the
// planner's interval jump walked the new interval from that off-grid instant, writing skipped
// rows that are not occurrences and a summary whose count did not match its range.
TEST_CASE("an interval planned from an off-grid kept instant stays on its grid after a long gap", "[planner][regress]") {
    const auto anchor = at("2026-03-12T00:00:00Z");
    const cadence c{interval_cadence{anchor, 1h}, {}};
    const auto from = anchor + 30min;  // next_run_at kept from the previous cadence
    const auto due = collect_due(c, from, from + 200h, from + 200h, 60s, 3);
    CHECK(due.unlisted == 198);  // the kept instant and the grid from 01:00 to 197:00
    CHECK(due.unlisted_first == from);
    CHECK(due.unlisted_last == anchor + 197h);
    CHECK(due.missed == std::vector<time_point>{anchor + 198h, anchor + 199h, anchor + 200h});
    CHECK(due.punctual.empty());
    CHECK(due.next == anchor + 201h);
}
