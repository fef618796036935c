// The routes under /v1/schedules, in-process: shapes, status codes, every error path.
#include <wakeplane/http/router.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "api_fixture.hpp"

using namespace wakeplane;
using namespace wakeplane::testing;
using namespace std::chrono_literals;
using json = nlohmann::ordered_json;

namespace {

const std::string http_target = R"({"kind":"http","method":"GET","url":"https://example.com/x"})";

}  // namespace

TEST_CASE("POST /v1/schedules answers 201 with the schedule, defaults applied field by field", "[api][schedules]") {
    api_fixture f;
    const std::string body = R"({"name":"nightly","timezone":"UTC","schedule":{"kind":"interval","every_seconds":60},
        "target":)" + http_target + R"(,"policy":{"overlap":"allow"},"retry":{"max_attempts":3}})";
    auto r = f.call("POST", "/v1/schedules", body);
    REQUIRE(r.status == 201);
    CHECK(r.content_type == "application/json");
    CHECK(r.body.ends_with("}\n"));
    CHECK(r.body.find('\n') == r.body.size() - 1);  // compact: one line
    const auto s = json::parse(r.body);
    CHECK(keys_of(s) == std::vector<std::string>{"id", "name", "enabled", "timezone", "schedule", "target", "policy",
                                                 "retry", "start_at", "end_at", "paused_at", "next_run_at",
                                                 "last_run_at", "created_at", "updated_at"});
    CHECK(s["id"].get<std::string>().starts_with("sch_"));
    CHECK(s["enabled"] == true);
    CHECK(s["policy"]["overlap"] == "allow");
    CHECK(s["policy"]["misfire"] == "run_once_if_late");
    CHECK(s["policy"]["timeout_seconds"] == 300);
    CHECK(s["policy"]["max_concurrency"] == 1);
    CHECK(s["retry"] == json::parse(R"({"max_attempts":3,"strategy":"exponential","initial_delay_seconds":30,"max_delay_seconds":900})"));
    CHECK(s["paused_at"].is_null());
    CHECK(s["next_run_at"] == "2026-03-12T10:00:00Z");
    CHECK(s["created_at"] == "2026-03-12T10:00:00Z");
}

TEST_CASE("POST /v1/schedules refuses bad bodies with the error envelope", "[api][schedules][errors]") {
    api_fixture f;

    SECTION("an empty body is bad_request") {
        CHECK(f.call("POST", "/v1/schedules").body == "{\"code\":\"bad_request\",\"error\":\"empty JSON document\"}\n");
    }
    SECTION("malformed JSON is bad_request naming the position") {
        auto e = f.json("POST", "/v1/schedules", "{\"name\":", 400);
        CHECK(e["code"] == "bad_request");
        CHECK(e["error"].get<std::string>().starts_with("invalid JSON at line 1"));
        CHECK_FALSE(e.contains("details"));
    }
    SECTION("a document that is not an object is bad_request") {
        CHECK(f.json("POST", "/v1/schedules", "[1]", 400)["code"] == "bad_request");
    }
    SECTION("wrongly typed fields are validation_failed, each named") {
        auto e = f.json("POST", "/v1/schedules", R"({"name":5,"schedule":{"every_seconds":"60"}})", 400);
        CHECK(e["code"] == "validation_failed");
        CHECK(e["details"] == json::parse(R"([{"field":"name","message":"must be a string"},
                                             {"field":"schedule.every_seconds","message":"must be an integer"}])"));
    }
    SECTION("every invalid field is listed in the original's order") {
        auto e = f.json("POST", "/v1/schedules",
                        R"({"name":" ","timezone":"Mars/Olympus","schedule":{"kind":"interval"},
                            "target":{"kind":"shell"},"policy":{"timeout_seconds":-1}})",
                        400);
        CHECK(e["error"] == "validation failed");
        std::vector<std::string> fields;
        for (const auto& d : e["details"]) {
            fields.push_back(d["field"].get<std::string>());
        }
        CHECK(fields == std::vector<std::string>{"name", "timezone", "schedule.every_seconds", "target.command",
                                                 "policy.timeout_seconds"});
    }
    SECTION("a policy outside the compiled set lists the allowed names") {
        auto e = f.json("POST", "/v1/schedules",
                        R"({"name":"a","timezone":"UTC","schedule":{"kind":"interval","every_seconds":60},
                            "target":{"kind":"workflow","workflow_id":"ok"},"policy":{"misfire":"sometimes"}})",
                        400);
        CHECK(e["details"][0] == json::parse(R"({"field":"policy.misfire","message":"must be one of skip, run_once_if_late, catch_up"})"));
    }
    SECTION("a duplicate name is 409 conflict on the name") {
        f.create_schedule("twice");
        auto e = f.json("POST", "/v1/schedules",
                        R"({"name":"twice","timezone":"UTC","schedule":{"kind":"interval","every_seconds":60},
                            "target":{"kind":"workflow","workflow_id":"ok"}})",
                        409);
        CHECK(e["code"] == "conflict");
        CHECK(e["details"] == json::parse(R"([{"field":"name","message":"must be unique"}])"));
    }
}

TEST_CASE("GET /v1/schedules pages every schedule exactly once, newest first", "[api][schedules][pagination]") {
    api_fixture f;
    CHECK(f.call("GET", "/v1/schedules").body == "{\"items\":[],\"next_cursor\":null}\n");

    std::vector<std::string> created;
    for (int i = 0; i < 6; ++i) {
        created.push_back(f.create_schedule("s" + std::to_string(i)));
        if (i % 2 == 0) {
            f.clock().advance(1s);  // pairs share a creation instant: the id breaks the tie
        }
    }
    const std::vector<std::string> newest_first(created.rbegin(), created.rend());

    SECTION("a full last page has no next cursor") {
        auto [ids, pages] = f.page_through("/v1/schedules?limit=3");
        CHECK(pages == 2);
        CHECK(ids == newest_first);
    }
    SECTION("a short last page ends it") {
        auto [ids, pages] = f.page_through("/v1/schedules?limit=4");
        CHECK(pages == 2);
        CHECK(ids == newest_first);
    }
    SECTION("one per page") {
        auto [ids, pages] = f.page_through("/v1/schedules?limit=1");
        CHECK(pages == 6);
        CHECK(ids == newest_first);
    }
    SECTION("items are summaries") {
        auto page = f.json("GET", "/v1/schedules?limit=1");
        CHECK(keys_of(page) == std::vector<std::string>{"items", "next_cursor"});
        CHECK(keys_of(page["items"][0]) ==
              std::vector<std::string>{"id", "name", "enabled", "timezone", "schedule", "target_kind", "paused_at",
                                       "next_run_at", "last_run_at", "created_at", "updated_at"});
        CHECK(page["items"][0]["target_kind"] == "workflow");
    }
    SECTION("a limit that is not a positive integer means 50") {
        for (const auto* q : {"?limit=abc", "?limit=0", "?limit=-3", "?limit="}) {
            INFO(q);
            auto page = f.json("GET", std::string("/v1/schedules") + q);
            CHECK(page["items"].size() == 6);
            CHECK(page["next_cursor"].is_null());
        }
    }
    SECTION("an undecodable cursor is 400 invalid cursor") {
        CHECK(f.call("GET", "/v1/schedules?cursor=%%%").body ==
              "{\"code\":\"bad_request\",\"error\":\"invalid cursor\"}\n");
        CHECK(f.call("GET", "/v1/schedules?cursor=e30").status == 400);  // {} has no created_at
    }
}

TEST_CASE("GET /v1/schedules clamps limit to 500", "[api][schedules][pagination]") {
    api_fixture f;
    for (int i = 0; i < 501; ++i) {
        f.create_schedule("s" + std::to_string(i));
    }
    auto page = f.json("GET", "/v1/schedules?limit=100000");
    CHECK(page["items"].size() == 500);
    REQUIRE(page["next_cursor"].is_string());
    auto rest = f.json("GET", "/v1/schedules?limit=100000&cursor=" + page["next_cursor"].get<std::string>());
    CHECK(rest["items"].size() == 1);
    CHECK(rest["next_cursor"].is_null());
    CHECK(f.json("GET", "/v1/schedules")["items"].size() == 50);
}

TEST_CASE("GET /v1/schedules filters on enabled", "[api][schedules][filters]") {
    api_fixture f;
    const auto on = f.create_schedule("on");
    const auto off = f.create_schedule("off", "ok", R"({"enabled":false})");
    CHECK(f.json("GET", "/v1/schedules?enabled=true")["items"][0]["id"] == on);
    CHECK(f.json("GET", "/v1/schedules?enabled=true")["items"].size() == 1);
    CHECK(f.json("GET", "/v1/schedules?enabled=false")["items"][0]["id"] == off);
    CHECK(f.json("GET", "/v1/schedules?enabled=")["items"].size() == 2);
    CHECK(f.call("GET", "/v1/schedules?enabled=True").body ==
          "{\"code\":\"bad_request\",\"error\":\"invalid enabled value \\\"True\\\": must be true or false\"}\n");
}

TEST_CASE("GET /v1/schedules/{id} answers the schedule or 404", "[api][schedules]") {
    api_fixture f;
    const auto id = f.create_schedule("one");
    CHECK(f.json("GET", "/v1/schedules/" + id)["name"] == "one");
    CHECK(f.call("GET", "/v1/schedules/missing").body ==
          "{\"code\":\"not_found\",\"error\":\"schedule \\\"missing\\\" was not found\"}\n");
    CHECK(f.call("GET", "/v1/schedules/missing").status == 404);
}

TEST_CASE("PUT /v1/schedules/{id} replaces the definition", "[api][schedules][put]") {
    api_fixture f;
    const auto id = f.create_schedule("one", "ok", R"({"start_at":"2026-03-13T00:00:00Z","enabled":false})");
    const auto before = f.json("GET", "/v1/schedules/" + id);
    CHECK(before["paused_at"] == "2026-03-12T10:00:00Z");
    f.clock().advance(5s);

    SECTION("omitted fields take their defaults; start_at is cleared; enabling clears paused_at") {
        auto s = f.json("PUT", "/v1/schedules/" + id,
                        R"({"name":"renamed","timezone":"Europe/Paris","schedule":{"kind":"cron","expr":"0 3 * * *"},
                            "target":)" + http_target + "}");
        CHECK(s["name"] == "renamed");
        CHECK(s["enabled"] == true);
        CHECK(s["paused_at"].is_null());
        CHECK(s["start_at"].is_null());
        CHECK(s["schedule"]["expr"] == "0 3 * * *");
        CHECK(s["created_at"] == before["created_at"]);
        CHECK(s["updated_at"] == "2026-03-12T10:00:05Z");
        CHECK(s["next_run_at"] == "2026-03-13T02:00:00Z");
        CHECK(f.json("GET", "/v1/schedules/" + id) == s);
    }
    SECTION("errors: 404, bad JSON, validation, name conflict") {
        const std::string valid = R"({"name":"x","timezone":"UTC","schedule":{"kind":"interval","every_seconds":5},
                                      "target":{"kind":"workflow","workflow_id":"ok"}})";
        CHECK(f.json("PUT", "/v1/schedules/nope", valid, 404)["code"] == "not_found");
        CHECK(f.json("PUT", "/v1/schedules/" + id, "{", 400)["code"] == "bad_request");
        CHECK(f.json("PUT", "/v1/schedules/" + id, R"({"name":"x"})", 400)["code"] == "validation_failed");
        f.create_schedule("taken");
        auto e = f.json("PUT", "/v1/schedules/" + id,
                        R"({"name":"taken","timezone":"UTC","schedule":{"kind":"interval","every_seconds":5},
                            "target":{"kind":"workflow","workflow_id":"ok"}})",
                        409);
        CHECK(e["details"][0]["field"] == "name");
    }
}

TEST_CASE("PATCH /v1/schedules/{id} merges, and null clears the bounds", "[api][schedules][patch]") {
    api_fixture f;
    const auto id = f.create_schedule("one", "ok", R"({"policy":{"overlap":"allow","max_concurrency":3}})");
    const auto path = "/v1/schedules/" + id;

    SECTION("policy members merge one by one; 0 means the default") {
        auto s = f.json("PATCH", path, R"({"policy":{"timeout_seconds":60,"max_concurrency":0}})");
        CHECK(s["policy"]["overlap"] == "allow");
        CHECK(s["policy"]["timeout_seconds"] == 60);
        CHECK(s["policy"]["max_concurrency"] == 1);
        CHECK(s["name"] == "one");
    }
    SECTION("start_at and end_at are set, then cleared one at a time with null") {
        auto s = f.json("PATCH", path, R"({"start_at":"2026-03-13T00:00:00+01:00","end_at":"2026-03-20T00:00:00Z"})");
        CHECK(s["start_at"] == "2026-03-12T23:00:00Z");
        CHECK(s["end_at"] == "2026-03-20T00:00:00Z");
        s = f.json("PATCH", path, R"({"start_at":null})");
        CHECK(s["start_at"].is_null());
        CHECK(s["end_at"] == "2026-03-20T00:00:00Z");
        s = f.json("PATCH", path, R"({"end_at":null,"name":"two"})");
        CHECK(s["end_at"].is_null());
        CHECK(s["name"] == "two");
        CHECK(f.json("GET", path) == s);
    }
    SECTION("disabling sets paused_at and enabling clears it (DECISIONS 11)") {
        CHECK(f.json("PATCH", path, R"({"enabled":false})")["paused_at"] == "2026-03-12T10:00:00Z");
        CHECK(f.json("PATCH", path, R"({"enabled":true})")["paused_at"].is_null());
    }
    SECTION("errors: 404, bad JSON, validation of the merged schedule, name conflict") {
        CHECK(f.json("PATCH", "/v1/schedules/nope", R"({"name":"x"})", 404)["code"] == "not_found");
        CHECK(f.json("PATCH", path, "nope", 400)["code"] == "bad_request");
        auto e = f.json("PATCH", path, R"({"schedule":{"kind":"interval","every_seconds":-5}})", 400);
        CHECK(e["details"][0] == json::parse(R"({"field":"schedule.every_seconds","message":"must be > 0"})"));
        f.create_schedule("taken");
        CHECK(f.json("PATCH", path, R"({"name":"taken"})", 409)["code"] == "conflict");
    }
}

TEST_CASE("pause and resume answer the original's maps and stop and restart planning", "[api][schedules][pause]") {
    api_fixture f;
    const auto id = f.create_schedule("one");
    f.step();  // the 10:00 occurrence runs
    f.clock().advance(30s);

    auto paused = f.call("POST", "/v1/schedules/" + id + "/pause");
    CHECK(paused.status == 200);
    CHECK(paused.body == "{\"enabled\":false,\"id\":\"" + id + "\",\"paused_at\":\"2026-03-12T10:00:30Z\"}\n");

    f.run_for(3h);
    CHECK(f.json("GET", "/v1/runs?schedule_id=" + id)["items"].size() == 1);  // nothing planned while paused

    const auto resumed = f.json("POST", "/v1/schedules/" + id + "/resume");
    CHECK(resumed.dump() == R"({"enabled":true,"id":")" + id + R"(","next_run_at":"2026-03-12T11:00:00Z","paused_at":null})");

    // At 13:00:30, 13:00 is punctual and runs; of the missed 11:00 and 12:00, run_once_if_late
    // runs the newest and records the other skipped (DECISIONS 8, 11).
    f.step();
    CHECK(f.json("GET", "/v1/runs?schedule_id=" + id)["items"].size() == 4);
    const auto skipped = f.json("GET", "/v1/runs?schedule_id=" + id + "&status=skipped")["items"];
    REQUIRE(skipped.size() == 1);
    CHECK(skipped[0]["occurrence_key"] == id + ":2026-03-12T11:00:00Z");

    CHECK(f.json("POST", "/v1/schedules/nope/pause", "", 404)["code"] == "not_found");
    CHECK(f.json("POST", "/v1/schedules/nope/resume", "", 404)["code"] == "not_found");
}

TEST_CASE("POST /v1/schedules/{id}/trigger needs a reason and answers 200 with the run", "[api][schedules][trigger]") {
    api_fixture f;
    const auto id = f.create_schedule("one", "ok", R"({"enabled":false})");
    const auto path = "/v1/schedules/" + id + "/trigger";

    SECTION("bad bodies") {
        CHECK(f.call("POST", path).body == "{\"code\":\"bad_request\",\"error\":\"empty JSON document\"}\n");
        CHECK(f.call("POST", path, "{}").body == "{\"code\":\"bad_request\",\"error\":\"reason must be non-empty\"}\n");
        CHECK(f.call("POST", path, R"({"reason":" \t"})").body ==
              "{\"code\":\"bad_request\",\"error\":\"reason must be non-empty\"}\n");
        CHECK(f.json("POST", path, R"({"reason":5})", 400)["details"][0]["field"] == "reason");
        CHECK(f.json("POST", path, "{\"reason\"", 400)["code"] == "bad_request");
        CHECK(f.json("POST", path, "\"text\"", 400)["error"] == "expected a JSON object, got string");
    }
    SECTION("an unknown schedule is 404, after the body is checked") {
        CHECK(f.json("POST", "/v1/schedules/nope/trigger", R"({"reason":"x"})", 404)["code"] == "not_found");
        CHECK(f.json("POST", "/v1/schedules/nope/trigger", "{}", 400)["code"] == "bad_request");
    }
    SECTION("a paused schedule runs its trigger, which keeps its reason") {
        auto r = f.call("POST", path, R"({"REASON":"deploy check","other":1})");
        REQUIRE(r.status == 200);
        const auto t = json::parse(r.body);
        CHECK(keys_of(t) == std::vector<std::string>{"created_at", "occurrence_key", "run_id", "schedule_id", "status"});
        CHECK(t["status"] == "pending");
        CHECK(t["schedule_id"] == id);
        CHECK(t["occurrence_key"] == "manual:" + t["run_id"].get<std::string>());
        f.step();
        const auto run = f.json("GET", "/v1/runs/" + t["run_id"].get<std::string>());
        CHECK(run["status"] == "succeeded");
        CHECK(run["trigger_reason"] == "deploy check");
    }
}

TEST_CASE("DELETE /v1/schedules/{id} hides the schedule and keeps its history", "[api][schedules][delete]") {
    api_fixture f;
    const auto id = f.create_schedule("one");
    f.step();
    const auto waiting = f.trigger(id);
    const auto path = "/v1/schedules/" + id;

    CHECK(f.call("DELETE", path).body == "{\"deleted\":true,\"id\":\"" + id + "\"}\n");
    CHECK(f.call("GET", path).status == 404);
    CHECK(f.call("DELETE", path).status == 404);
    CHECK(f.json("GET", "/v1/schedules")["items"].empty());

    const auto history = f.json("GET", path + "/runs");
    CHECK(history["items"].size() == 2);
    CHECK(f.json("GET", "/v1/runs?schedule_id=" + id)["items"].size() == 2);
    const auto cancelled = f.json("GET", "/v1/runs/" + waiting);
    CHECK(cancelled["status"] == "cancelled");
    CHECK(cancelled["error_text"] == "schedule deleted");

    f.create_schedule("one");  // the name is free again
    CHECK(f.json("POST", path + "/trigger", R"({"reason":"x"})", 404)["code"] == "not_found");
}

TEST_CASE("GET /v1/schedules/{id}/runs lists a schedule's runs with filters", "[api][schedules][runs]") {
    api_fixture f;
    const auto ok = f.create_schedule("ok");
    const auto failing = f.create_schedule("failing", "fail");
    f.step();
    CHECK(f.json("GET", "/v1/schedules/" + ok + "/runs")["items"].size() == 1);
    CHECK(f.json("GET", "/v1/schedules/" + failing + "/runs?status=dead_lettered")["items"].size() == 1);
    CHECK(f.json("GET", "/v1/schedules/" + failing + "/runs?status=succeeded")["items"].empty());
    CHECK(f.call("GET", "/v1/schedules/" + ok + "/runs?status=FAILED").body ==
          "{\"code\":\"bad_request\",\"error\":\"invalid status value \\\"FAILED\\\"\"}\n");
    CHECK(f.json("GET", "/v1/schedules/nope/runs", "", 404)["code"] == "not_found");
}

TEST_CASE("GET /v1/schedules/{id}/preview lists the next fire times", "[api][schedules][preview]") {
    api_fixture f;
    const auto id = f.create_schedule("hourly");
    const auto path = "/v1/schedules/" + id + "/preview";

    auto all = f.json("GET", path);
    CHECK(keys_of(all) == std::vector<std::string>{"items"});
    REQUIRE(all["items"].size() == 10);
    CHECK(all["items"][0] == "2026-03-12T11:00:00Z");  // strictly after now (10:00)
    CHECK(all["items"][9] == "2026-03-12T20:00:00Z");

    CHECK(f.json("GET", path + "?count=2&from=2026-03-12T12:30:00%2B01:00")["items"] ==
          json::parse(R"(["2026-03-12T12:00:00Z","2026-03-12T13:00:00Z"])"));

    const auto once = f.create_schedule("once", "ok", R"({"schedule":{"kind":"once","at":"2026-03-12T09:00:00Z"}})");
    CHECK(f.json("GET", "/v1/schedules/" + once + "/preview")["items"].empty());

    for (const auto* bad : {"?count=0", "?count=abc", "?count=1001"}) {
        INFO(bad);
        CHECK(f.json("GET", path + bad, "", 400)["error"].get<std::string>().starts_with("invalid count value"));
    }
    CHECK(f.json("GET", path + "?from=yesterday", "", 400)["error"].get<std::string>().starts_with("invalid from value"));
    CHECK(f.json("GET", "/v1/schedules/nope/preview", "", 404)["code"] == "not_found");
}
