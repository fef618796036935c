// Routing, health, readiness, /v1/status and /v1/metrics, in-process.
#include <wakeplane/http/router.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "api_fixture.hpp"
#include "prometheus.hpp"

using namespace wakeplane;
using namespace wakeplane::testing;
using namespace std::chrono_literals;
using json = nlohmann::ordered_json;

namespace {

/// A control whose store has died: every read fails with errc::storage.
class broken_store final : public http::control {
public:
    explicit broken_store(http::control& inner) : inner_(&inner) {}

    [[nodiscard]] time_point now() const override { return inner_->now(); }
    result<schedule> create_schedule(schedule_input in) override { return inner_->create_schedule(std::move(in)); }
    result<schedule> replace_schedule(std::string_view id, schedule_input in) override {
        return inner_->replace_schedule(id, std::move(in));
    }
    result<schedule> pause(std::string_view id) override { return inner_->pause(id); }
    result<schedule> resume(std::string_view id) override { return inner_->resume(id); }
    result<schedule> remove(std::string_view id) override { return inner_->remove(id); }
    result<run> trigger(std::string_view s, std::string_view reason) override { return inner_->trigger(s, reason); }
    result<run> cancel(std::string_view r, std::string_view reason) override { return inner_->cancel(r, reason); }
    result<std::optional<schedule>> get_schedule(std::string_view) override { return dead(); }
    result<std::optional<run>> get_run(std::string_view) override { return dead(); }
    result<page<schedule>> list_schedules(const schedule_filter&, const page_request&) override { return dead(); }
    result<page<run>> list_runs(const run_filter&, const page_request&) override { return dead(); }
    result<std::vector<receipt>> list_receipts(std::string_view) override { return dead(); }
    result<page<dead_letter>> list_dead_letters(const dead_letter_filter&, const page_request&) override { return dead(); }
    result<std::vector<ledger_event>> read_ledger(const ledger_query&) override { return dead(); }
    result<store_counts> counts(time_point) override { return dead(); }
    result<std::optional<run>> next_waiting_run() override { return dead(); }
    result<void> ping() override { return dead(); }
    service_status status() override { return inner_->status(); }

private:
    static tl::unexpected<error> dead() { return fail(errc::storage, "disk on fire"); }

    http::control* inner_;
};

}  // namespace

TEST_CASE("unknown routes and wrong methods get the JSON envelope", "[api][routing]") {
    api_fixture f;
    CHECK(f.call("GET", "/v1/nope").body == "{\"code\":\"not_found\",\"error\":\"no route for GET /v1/nope\"}\n");
    CHECK(f.call("GET", "/v1/nope").status == 404);
    CHECK(f.call("GET", "/v1/schedules/").status == 404);
    CHECK(f.call("GET", "/v1/schedules//runs").status == 404);
    CHECK(f.call("GET", "/healthz/x").status == 404);

    auto wrong = f.call("PUT", "/v1/runs");
    CHECK(wrong.status == 405);
    CHECK(wrong.header("Allow") == "GET, HEAD");
    CHECK(json::parse(wrong.body)["code"] == "method_not_allowed");
    CHECK(f.call("POST", "/v1/schedules/x").header("Allow") == "GET, HEAD, PUT, PATCH, DELETE");
    CHECK(f.call("DELETE", "/v1/schedules").header("Allow") == "POST, GET, HEAD");
    CHECK(f.call("OPTIONS", "/healthz").status == 405);
    CHECK(f.call("GET", "/v1/runs/x/cancel").header("Allow") == "POST");

    CHECK(f.call("HEAD", "/healthz").status == 200);  // the transport drops the body
    CHECK(http::router::routes().size() == 21);
}

TEST_CASE("/healthz and /readyz, and a dead store", "[api][health]") {
    api_fixture f;
    CHECK(f.call("GET", "/healthz").body == "{\"ok\":true}\n");
    CHECK(f.call("GET", "/readyz").body == "{\"ok\":true,\"storage\":\"ok\"}\n");

    broken_store broken{f.control()};
    const http::router r{broken, api_fixture::options()};
    auto get = [&](std::string_view target) { return r.handle(http::request::make("GET", target)); };
    CHECK(get("/healthz").status == 200);
    const auto ready = get("/readyz");
    CHECK(ready.status == 503);
    CHECK(ready.body == "{\"ok\":false,\"storage\":\"error\"}\n");
    CHECK(get("/v1/status").status == 500);
    CHECK(get("/v1/status").body == "{\"code\":\"internal_error\",\"error\":\"disk on fire\"}\n");
    CHECK(get("/v1/metrics").status == 500);
    CHECK(get("/v1/metrics").content_type == "application/json");
    CHECK(get("/v1/schedules/x").status == 500);
    CHECK(get("/v1/runs").status == 500);
    CHECK(get("/v1/ledger").status == 500);
}

TEST_CASE("/v1/status keeps the original's keys and adds the operator's", "[api][status]") {
    api_fixture f;
    auto st = f.json("GET", "/v1/status");
    CHECK(keys_of(st) == std::vector<std::string>{"service", "version", "started_at", "database", "scheduler", "workers",
                                                  "runs", "lateness"});
    CHECK(st["service"] == "wakeplane");
    CHECK(st["version"] == "9.9.9");
    CHECK(st["started_at"] == "2026-03-12T10:00:00Z");
    CHECK(st["database"].dump() == R"({"driver":"memory","path":":memory:"})");
    CHECK(st["scheduler"].dump() == R"({"loop_interval_seconds":5,"last_tick_at":"","due_runs":0})");
    CHECK(st["workers"].dump() == R"({"active":0,"claimed_but_expired":0,"worker_id":"test-worker"})");
    CHECK(st["runs"].dump() == R"({"running":0,"failed":0,"retry_queued":0,"dead_letter":0})");
    CHECK(st["lateness"].dump() == R"({"observed":0,"recent":[]})");

    const auto paused = f.create_schedule("paused", "ok", R"({"enabled":false})");
    f.clock().advance(1500ms);
    f.trigger(paused);
    f.trigger(paused);
    st = f.json("GET", "/v1/status");
    CHECK(st["scheduler"]["due_runs"] == 2);
    CHECK(st["scheduler"]["next_due_schedule_id"] == paused);
    CHECK(st["scheduler"]["next_due_run_at"] == "2026-03-12T10:00:01Z");  // whole seconds

    // Anchored at its creation truncated to the second, 10:00:01: first due at 11:00:01.
    const auto hourly = f.create_schedule("hourly", "fail");
    f.run_for(0s);                // the two triggers run
    f.clock().advance(1h + 10s);  // the 11:00:01 occurrence starts 10.5 s late
    f.step();
    st = f.json("GET", "/v1/status");
    CHECK(st["scheduler"]["last_tick_at"] == "2026-03-12T11:00:11Z");
    CHECK(st["scheduler"]["due_runs"] == 0);
    CHECK_FALSE(st["scheduler"].contains("next_due_run_at"));
    CHECK(st["runs"]["dead_letter"] == 1);
    CHECK(st["lateness"]["observed"] == 3);
    const auto latest = st["lateness"]["recent"][0];
    CHECK(keys_of(latest) == std::vector<std::string>{"run_id", "schedule_id", "nominal_time", "started_at", "seconds"});
    CHECK(latest["schedule_id"] == hourly);
    CHECK(latest["nominal_time"] == "2026-03-12T11:00:01Z");
    CHECK(latest["seconds"] == 10.5);
}

TEST_CASE("/v1/metrics is valid Prometheus text with the original's metrics first", "[api][metrics]") {
    api_fixture f;
    const auto ok = f.create_schedule("ok", "ok", R"({"enabled":false})");
    const auto failing = f.create_schedule("failing", "fail", R"({"enabled":false})");
    f.create_schedule("on");  // enabled: its 10:00 occurrence succeeds
    f.trigger(ok);
    f.trigger(failing);
    f.run_for(0s);

    const auto r = f.call("GET", "/v1/metrics");
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "text/plain; version=0.0.4; charset=utf-8");
    const auto m = parse_prometheus(r.body);

    std::vector<std::string> names;
    for (const auto& fam : m.families) {
        names.push_back(fam.name);
    }
    CHECK(names == std::vector<std::string>{"schedules", "schedules_enabled", "runs_total", "runs_due", "runs_running",
                                            "runs_failed_total", "runs_succeeded_total", "runs_retry_queued",
                                            "dead_letters_total", "worker_leases_active", "claimed_but_expired",
                                            "scheduler_last_tick_unix", "executor_runs_total",
                                            "executor_execution_duration_seconds", "firing_lateness_seconds",
                                            "workers_active"});
    CHECK(m.value("schedules") == 3);
    CHECK(m.value("schedules_enabled") == 1);
    CHECK(m.value("runs_total") == 3);
    CHECK(m.value("runs_succeeded_total") == 2);
    CHECK(m.value("dead_letters_total") == 1);
    CHECK(m.value("runs_due") == 0);
    CHECK(m.value("scheduler_last_tick_unix") == 1773309600);  // 2026-03-12T10:00:00Z
    CHECK(m.value("executor_runs_total", {{"executor", "workflow"}, {"status", "succeeded"}}) == 2);
    CHECK(m.value("executor_runs_total", {{"executor", "workflow"}, {"status", "dead_lettered"}}) == 1);
    CHECK(m.value("executor_execution_duration_seconds_count", {{"executor", "workflow"}}) == 3);
    CHECK(m.value("executor_execution_duration_seconds_bucket", {{"executor", "workflow"}, {"le", "+Inf"}}) == 3);
    CHECK(m.value("firing_lateness_seconds_count") == 3);
    CHECK(m.value("firing_lateness_seconds_bucket", {{"le", "0.005"}}) == 3);  // the manual clock never runs late
    CHECK(m.value("workers_active") == 0);
    CHECK(m.family("runs_total").type == "counter");
    CHECK(m.family("schedules").type == "gauge");
}

TEST_CASE("the Prometheus checker refuses what a scraper would", "[api][metrics][checker]") {
    CHECK_NOTHROW(parse_prometheus("# HELP a_total A.\n# TYPE a_total counter\na_total 1\n"));
    CHECK_THROWS(parse_prometheus("a_total 1\n"));                                              // no family
    CHECK_THROWS(parse_prometheus("# HELP a A.\n# TYPE a counter\na 1\n"));                     // counter name
    CHECK_THROWS(parse_prometheus("# HELP a_total A.\n# TYPE a_total gauge\na_total 1\n"));     // gauge name
    CHECK_THROWS(parse_prometheus("# TYPE a gauge\na 1\n"));                                    // no HELP
    CHECK_THROWS(parse_prometheus("# HELP a A.\n# TYPE a gauge\na 1\na 2\n"));                  // repeated series
    CHECK_THROWS(parse_prometheus("# HELP a A.\n# TYPE a gauge\na x\n"));                       // bad value
    CHECK_THROWS(parse_prometheus("# HELP a A.\n# TYPE a gauge\na 1"));                         // no final newline
    CHECK_THROWS(parse_prometheus("# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
                                  "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"));           // not cumulative
}
