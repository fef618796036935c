// The routes under /v1/runs, /v1/dead-letters and /v1/ledger, in-process.
#include <wakeplane/http/router.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "api_fixture.hpp"

using namespace wakeplane;
using namespace wakeplane::testing;
using namespace std::chrono_literals;
using json = nlohmann::ordered_json;

namespace {

/// Retries once after a second, then dead-letters.
constexpr std::string_view retry_once = R"({"retry":{"max_attempts":2,"initial_delay_seconds":1,"max_delay_seconds":1}})";

}  // namespace

TEST_CASE("GET /v1/runs/{id} embeds the receipts; /receipts lists them", "[api][runs]") {
    api_fixture f;
    const auto sched = f.create_schedule("one", "ok", R"({"enabled":false})");
    const auto id = f.trigger(sched, "look");
    CHECK(f.json("GET", "/v1/runs/" + id + "/receipts").dump() == R"({"items":[],"next_cursor":null})");
    f.step();

    const auto run = f.json("GET", "/v1/runs/" + id);
    CHECK(keys_of(run) == std::vector<std::string>{"id", "schedule_id", "occurrence_key", "nominal_time", "due_time",
                                                   "status", "attempt", "claimed_by_worker_id", "started_at",
                                                   "finished_at", "result_json", "created_at", "updated_at",
                                                   "receipts", "trigger_reason"});
    CHECK(run["status"] == "succeeded");
    CHECK(run["claimed_by_worker_id"] == "test-worker");
    CHECK(run["result_json"] == json::parse(R"({"done":true})"));
    CHECK(run["trigger_reason"] == "look");
    REQUIRE(run["receipts"].size() == 1);
    CHECK(keys_of(run["receipts"][0]) ==
          std::vector<std::string>{"id", "run_id", "receipt_kind", "content_type", "body", "created_at"});
    CHECK(run["receipts"][0]["receipt_kind"] == "workflow_result");

    const auto receipts = f.json("GET", "/v1/runs/" + id + "/receipts");
    CHECK(receipts["items"] == run["receipts"]);
    CHECK(receipts["next_cursor"].is_null());

    CHECK(f.call("GET", "/v1/runs/nope").body == "{\"code\":\"not_found\",\"error\":\"run \\\"nope\\\" was not found\"}\n");
    CHECK(f.json("GET", "/v1/runs/nope/receipts", "", 404)["code"] == "not_found");
}

TEST_CASE("GET /v1/runs pages every run exactly once and filters", "[api][runs][pagination]") {
    api_fixture f;
    const auto a = f.create_schedule("a", "ok", R"({"enabled":false})");
    const auto b = f.create_schedule("b", "fail", R"({"enabled":false})");
    std::vector<std::string> triggered;
    for (int i = 0; i < 7; ++i) {
        triggered.push_back(f.trigger(i < 5 ? a : b));
        if (i % 3 == 0) {
            f.clock().advance(1s);
        }
    }
    f.run_for(0s);  // forbid runs a schedule's runs one after the other
    const std::vector<std::string> newest_first(triggered.rbegin(), triggered.rend());

    auto [ids, pages] = f.page_through("/v1/runs?limit=2");
    CHECK(pages == 4);
    CHECK(ids == newest_first);

    auto page = f.json("GET", "/v1/runs?limit=1");
    CHECK(keys_of(page["items"][0]) == std::vector<std::string>{"id", "schedule_id", "occurrence_key", "status", "attempt",
                                                                "started_at", "finished_at", "created_at", "updated_at"});

    CHECK(f.json("GET", "/v1/runs?schedule_id=" + b)["items"].size() == 2);
    CHECK(f.json("GET", "/v1/runs?status=succeeded")["items"].size() == 5);
    CHECK(f.json("GET", "/v1/runs?status=dead_lettered&schedule_id=" + b)["items"].size() == 2);
    CHECK(f.json("GET", "/v1/runs?status=dead_lettered&schedule_id=" + a)["items"].empty());
    CHECK(f.json("GET", "/v1/runs?status=&schedule_id=")["items"].size() == 7);
    CHECK(f.call("GET", "/v1/runs?status=FAILED").body ==
          "{\"code\":\"bad_request\",\"error\":\"invalid status value \\\"FAILED\\\"\"}\n");
    CHECK(f.json("GET", "/v1/runs?cursor=bm9wZQ", "", 400)["error"] == "invalid cursor");
}

TEST_CASE("POST /v1/runs/{id}/cancel cancels waiting and running runs", "[api][runs][cancel]") {
    api_fixture f;

    SECTION("a pending run at once, with the default or a given reason; a finished one is 409") {
        const auto sched = f.create_schedule("one", "ok", R"({"enabled":false})");
        const auto first = f.trigger(sched);
        const auto second = f.trigger(sched);
        auto r = f.json("POST", "/v1/runs/" + first + "/cancel");
        CHECK(r["status"] == "cancelled");
        CHECK(r["error_text"] == "cancelled by operator");
        CHECK(f.json("POST", "/v1/runs/" + second + "/cancel", R"({"reason":"not today"})")["error_text"] == "not today");
        CHECK(f.json("POST", "/v1/runs/" + first + "/cancel", "", 409)["code"] == "conflict");
        f.step();
        CHECK(f.json("GET", "/v1/runs/" + first)["status"] == "cancelled");
    }
    SECTION("a running run is stopped and ends cancelled") {
        const auto sched = f.create_schedule("blocker", "block", R"({"enabled":false})");
        const auto id = f.trigger(sched);
        f.step();
        REQUIRE(f.json("GET", "/v1/runs/" + id)["status"] == "running");
        CHECK(f.json("POST", "/v1/runs/" + id + "/cancel", R"({"reason":"stop it"})")["status"] == "running");
        f.step();
        const auto done = f.json("GET", "/v1/runs/" + id);
        CHECK(done["status"] == "cancelled");
        CHECK(done["error_text"] == "stop it");
    }
    SECTION("errors: unknown run, bad body") {
        CHECK(f.json("POST", "/v1/runs/nope/cancel", "", 404)["error"] == "run \"nope\" was not found");
        CHECK(f.json("POST", "/v1/runs/nope/cancel", "{", 400)["code"] == "bad_request");
    }
}

TEST_CASE("GET /v1/dead-letters lists dead letters with a schedule filter and pages", "[api][dead-letters]") {
    api_fixture f;
    const auto retried = f.create_schedule("retried", "fail", std::string(R"({"enabled":false,)") + std::string(retry_once.substr(1)));
    const auto once = f.create_schedule("once", "fail", R"({"enabled":false})");
    CHECK(f.call("GET", "/v1/dead-letters").body == "{\"items\":[],\"next_cursor\":null}\n");

    const auto first = f.trigger(retried);
    f.step();
    CHECK(f.json("GET", "/v1/runs/" + first)["status"] == "failed");
    CHECK(f.json("GET", "/v1/dead-letters")["items"].empty());
    f.run_for(2s);
    f.trigger(once);
    f.step();

    const auto all = f.json("GET", "/v1/dead-letters");
    REQUIRE(all["items"].size() == 2);
    const auto& letter = all["items"][1];  // newest first: the retried one is older
    CHECK(keys_of(letter) == std::vector<std::string>{"id", "run_id", "schedule_id", "occurrence_key", "reason", "created_at"});
    CHECK(letter["id"].get<std::string>().starts_with("dlq_"));
    CHECK(letter["schedule_id"] == retried);
    CHECK(letter["reason"] == "boom");
    CHECK(letter["occurrence_key"] == "manual:" + first);
    const auto attempt2 = f.json("GET", "/v1/runs/" + letter["run_id"].get<std::string>());
    CHECK(attempt2["attempt"] == 2);
    CHECK(attempt2["status"] == "dead_lettered");

    CHECK(f.json("GET", "/v1/dead-letters?schedule_id=" + once)["items"].size() == 1);
    auto [ids, pages] = f.page_through("/v1/dead-letters?limit=1");
    CHECK(pages == 2);
    CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == 2);
    CHECK(f.json("GET", "/v1/dead-letters?cursor=x", "", 400)["error"] == "invalid cursor");
}

TEST_CASE("GET /v1/ledger lists every event once, oldest first, with gapless seq", "[api][ledger]") {
    api_fixture f;
    const auto sched = f.create_schedule("one");
    f.step();
    const auto run = f.trigger(sched);
    f.step();

    std::vector<std::int64_t> seqs;
    std::string after = "0";
    int pages = 0;
    for (;;) {
        auto page = f.json("GET", "/v1/ledger?limit=3&after=" + after);
        ++pages;
        for (const auto& e : page["items"]) {
            seqs.push_back(e["seq"].get<std::int64_t>());
        }
        if (page["next_cursor"].is_null()) {
            break;
        }
        after = page["next_cursor"].get<std::string>();
    }
    REQUIRE(seqs.size() > 6);
    for (std::size_t i = 0; i < seqs.size(); ++i) {
        CHECK(seqs[i] == static_cast<std::int64_t>(i + 1));
    }
    CHECK(pages == static_cast<int>((seqs.size() + 2) / 3));

    const auto first = f.json("GET", "/v1/ledger?limit=1")["items"][0];
    CHECK(keys_of(first) == std::vector<std::string>{"seq", "at", "kind", "schedule_id", "data"});
    CHECK(first["kind"] == "schedule_created");
    CHECK(first["schedule_id"] == sched);

    const auto of_run = f.json("GET", "/v1/ledger?run_id=" + run)["items"];
    REQUIRE_FALSE(of_run.empty());
    CHECK(keys_of(of_run[0]) ==
          std::vector<std::string>{"seq", "at", "kind", "schedule_id", "run_id", "occurrence_key", "attempt", "data"});
    CHECK(of_run[0]["kind"] == "run_triggered");
    for (const auto& e : of_run) {
        CHECK(e["run_id"] == run);
    }
    CHECK(f.json("GET", "/v1/ledger?schedule_id=nope")["items"].empty());
    CHECK(f.json("GET", "/v1/ledger?cursor=3&limit=1")["items"][0]["seq"] == 4);

    // A planner pass's event shows its whole run, though stores keep that row compact.
    f.run_for(std::chrono::hours{2});
    std::size_t materialized = 0;
    const auto page = f.json("GET", "/v1/ledger?limit=500&schedule_id=" + sched);
    for (const auto& e : page["items"]) {
        if (e["kind"] == "occurrence_materialized") {
            ++materialized;
            CHECK(keys_of(e["data"]) == std::vector<std::string>{"run", "receipts", "next_run_at"});
            const auto& row = e["data"]["run"];
            CHECK(row["id"] == e["run_id"]);
            CHECK(row["occurrence_key"] == e["occurrence_key"]);
            CHECK(row["status"] == "pending");
            CHECK(row["created_at"] == e["at"]);
            CHECK(row.contains("requeued_attempts"));
        }
    }
    CHECK(materialized >= 2);
    CHECK(f.json("GET", "/v1/ledger?after=-1", "", 400)["error"] ==
          "invalid after value \"-1\": must be a non-negative integer");
    CHECK(f.json("GET", "/v1/ledger?after=x", "", 400)["code"] == "bad_request");
}
