#include <wakeplane/codec.hpp>

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

using namespace wakeplane;

namespace {

time_point at(std::string_view s) { return parse_rfc3339(s).value(); }

constexpr std::string_view sch = "sch_01JPC3V9QF7D2M8K4X6T1R5N0B";
constexpr std::string_view run_one = "run_01JPC3VA0000000000000000";

/// A cron schedule with every optional part filled in except end, pause and last run.
schedule full_schedule() {
    schedule s;
    s.id = sch;
    s.name = "nightly-backup";
    s.enabled = true;
    s.timezone = "America/New_York";
    s.spec.kind = "cron";
    s.spec.expr = "0 3 * * *";
    s.target.kind = "http";
    s.target.method = "POST";
    s.target.url = "https://api.example.com/hook?a=1&b=2";
    s.target.headers = {{"X-Token", "t<1>"}, {"Accept", "application/json"}};
    s.target.body_json = R"({"b":1,"a":[true,null,"x"]})";
    s.policy = {"forbid", "run_once_if_late", 300, 1, 60, 100, 0};
    s.retry = {3, "exponential", 30, 900};
    s.start_at = at("2026-03-01T00:00:00Z");
    s.next_run_at = at("2026-03-12T07:00:00Z");
    s.created_at = at("2026-03-11T10:00:00.123456Z");
    s.updated_at = at("2026-03-11T10:00:00.5Z");
    return s;
}

/// A paused interval schedule with a shell target.
schedule interval_schedule() {
    schedule s;
    s.id = sch;
    s.name = "health";
    s.enabled = false;
    s.timezone = "UTC";
    s.spec.kind = "interval";
    s.spec.every_seconds = 300;
    s.spec.anchor_at = at("2026-03-11T10:00:00Z");
    s.target.kind = "shell";
    s.target.command = "/usr/local/bin/backup.sh";
    s.target.args = {"--full", "--to=s3"};
    s.policy = {"allow", "skip", 30, 2, 60, 100, 5};
    s.retry = {0, "none", 30, 900};
    s.paused_at = at("2026-03-11T10:00:00Z");
    s.last_run_at = at("2026-03-11T10:05:00Z");
    s.created_at = at("2026-03-11T10:00:00Z");
    s.updated_at = at("2026-03-11T10:00:00Z");
    return s;
}

/// A pending run: every optional member absent.
run pending_run() {
    run r;
    r.id = run_one;
    r.schedule = sch;
    r.occurrence_key = std::string(sch) + ":2026-03-12T07:00:00Z";
    r.nominal_time = at("2026-03-12T07:00:00Z");
    r.due_time = at("2026-03-12T07:00:00Z");
    r.created_at = at("2026-03-12T07:00:01.25Z");
    r.updated_at = at("2026-03-12T07:00:01.25Z");
    return r;
}

/// A finished run with every member set.
run finished_run() {
    run r = pending_run();
    r.status = run_status::failed;
    r.attempt = 2;
    r.claimed_by_worker_id = "host-1:42";
    r.claim_expires_at = at("2026-03-12T07:01:00Z");
    r.started_at = at("2026-03-12T07:00:02Z");
    r.finished_at = at("2026-03-12T07:00:03.5Z");
    r.http_status_code = 502;
    r.exit_code = 1;
    r.result_json = R"({"z":1,"a":"<b>"})";
    r.error_text = "upstream said 502";
    r.retry_available_at = at("2026-03-12T07:00:33.5Z");
    r.trigger_reason = "manual operator trigger";
    return r;
}

std::vector<field_error> details_of(const error& e) { return e.details; }

}  // namespace

// ---- encoding ---------------------------------------------------------------------------------

TEST_CASE("a full schedule encodes in the original's key order with our additions last", "[codec]") {
    CHECK(encode_schedule(full_schedule()) ==
          R"({"id":"sch_01JPC3V9QF7D2M8K4X6T1R5N0B","name":"nightly-backup","enabled":true,)"
          R"("timezone":"America/New_York","schedule":{"kind":"cron","expr":"0 3 * * *",)"
          R"("dst":{"gap":"skip","repeated":"first"}},"target":{"kind":"http","method":"POST",)"
          R"("url":"https://api.example.com/hook?a=1\u0026b=2",)"
          R"("headers":{"Accept":"application/json","X-Token":"t\u003c1\u003e"},)"
          R"("body":{"a":[true,null,"x"],"b":1}},"policy":{"overlap":"forbid","misfire":"run_once_if_late",)"
          R"("timeout_seconds":300,"max_concurrency":1,"misfire_grace_seconds":60,"catch_up_limit":100,)"
          R"("jitter_seconds":0},"retry":{"max_attempts":3,"strategy":"exponential",)"
          R"("initial_delay_seconds":30,"max_delay_seconds":900},"start_at":"2026-03-01T00:00:00Z",)"
          R"("end_at":null,"paused_at":null,"next_run_at":"2026-03-12T07:00:00Z","last_run_at":null,)"
          R"("created_at":"2026-03-11T10:00:00.123456Z","updated_at":"2026-03-11T10:00:00.5Z"})");
}

TEST_CASE("an interval schedule omits empty spec and target members and has no dst", "[codec]") {
    CHECK(encode_schedule(interval_schedule()) ==
          R"({"id":"sch_01JPC3V9QF7D2M8K4X6T1R5N0B","name":"health","enabled":false,"timezone":"UTC",)"
          R"("schedule":{"kind":"interval","every_seconds":300,"anchor_at":"2026-03-11T10:00:00Z"},)"
          R"("target":{"kind":"shell","command":"/usr/local/bin/backup.sh","args":["--full","--to=s3"]},)"
          R"("policy":{"overlap":"allow","misfire":"skip","timeout_seconds":30,"max_concurrency":2,)"
          R"("misfire_grace_seconds":60,"catch_up_limit":100,"jitter_seconds":5},)"
          R"("retry":{"max_attempts":0,"strategy":"none","initial_delay_seconds":30,"max_delay_seconds":900},)"
          R"("start_at":null,"end_at":null,"paused_at":"2026-03-11T10:00:00Z","next_run_at":null,)"
          R"("last_run_at":"2026-03-11T10:05:00Z","created_at":"2026-03-11T10:00:00Z",)"
          R"("updated_at":"2026-03-11T10:00:00Z"})");
}

TEST_CASE("a once schedule shows at; empty body and input objects are omitted", "[codec]") {
    schedule s = interval_schedule();
    s.spec = {};
    s.spec.kind = "once";
    s.spec.at = at("2026-04-01T09:30:00.25Z");
    s.target = {};
    s.target.kind = "workflow";
    s.target.workflow_id = "sync.customers";
    s.target.input_json = "{}";
    s.target.body_json = "";
    const std::string text = encode_schedule(s);
    CHECK(text.find(R"("schedule":{"kind":"once","at":"2026-04-01T09:30:00.25Z"})") != std::string::npos);
    CHECK(text.find(R"("target":{"kind":"workflow","workflow_id":"sync.customers"})") != std::string::npos);
}

TEST_CASE("a schedule summary has the target kind and no target, policy, retry or bounds", "[codec]") {
    CHECK(encode_schedule_summary(full_schedule()) ==
          R"({"id":"sch_01JPC3V9QF7D2M8K4X6T1R5N0B","name":"nightly-backup","enabled":true,)"
          R"("timezone":"America/New_York","schedule":{"kind":"cron","expr":"0 3 * * *",)"
          R"("dst":{"gap":"skip","repeated":"first"}},"target_kind":"http","paused_at":null,)"
          R"("next_run_at":"2026-03-12T07:00:00Z","last_run_at":null,)"
          R"("created_at":"2026-03-11T10:00:00.123456Z","updated_at":"2026-03-11T10:00:00.5Z"})");
}

TEST_CASE("a run omits its absent members", "[codec]") {
    CHECK(encode_run(pending_run()) ==
          R"({"id":"run_01JPC3VA0000000000000000","schedule_id":"sch_01JPC3V9QF7D2M8K4X6T1R5N0B",)"
          R"("occurrence_key":"sch_01JPC3V9QF7D2M8K4X6T1R5N0B:2026-03-12T07:00:00Z",)"
          R"("nominal_time":"2026-03-12T07:00:00Z","due_time":"2026-03-12T07:00:00Z","status":"pending",)"
          R"("attempt":1,"created_at":"2026-03-12T07:00:01.25Z","updated_at":"2026-03-12T07:00:01.25Z"})");
}

TEST_CASE("a full run embeds result_json, lists receipts and ends with trigger_reason", "[codec]") {
    receipt out;
    out.id = "rcpt_1";
    out.run = run_one;
    out.receipt_kind = "stdout";
    out.content_type = "text/plain";
    out.body = "line 1\nline 2 & more";
    out.truncated = true;
    out.created_at = at("2026-03-12T07:00:03.5Z");
    const std::vector<receipt> receipts{out};
    CHECK(encode_run(finished_run(), receipts) ==
          R"({"id":"run_01JPC3VA0000000000000000","schedule_id":"sch_01JPC3V9QF7D2M8K4X6T1R5N0B",)"
          R"("occurrence_key":"sch_01JPC3V9QF7D2M8K4X6T1R5N0B:2026-03-12T07:00:00Z",)"
          R"("nominal_time":"2026-03-12T07:00:00Z","due_time":"2026-03-12T07:00:00Z","status":"failed",)"
          R"("attempt":2,"claimed_by_worker_id":"host-1:42","claim_expires_at":"2026-03-12T07:01:00Z",)"
          R"("started_at":"2026-03-12T07:00:02Z","finished_at":"2026-03-12T07:00:03.5Z",)"
          R"("http_status_code":502,"exit_code":1,"result_json":{"z":1,"a":"\u003cb\u003e"},)"
          R"("error_text":"upstream said 502","retry_available_at":"2026-03-12T07:00:33.5Z",)"
          R"("created_at":"2026-03-12T07:00:01.25Z","updated_at":"2026-03-12T07:00:01.25Z",)"
          R"("receipts":[{"id":"rcpt_1","run_id":"run_01JPC3VA0000000000000000","receipt_kind":"stdout",)"
          R"("content_type":"text/plain","body":"line 1\nline 2 \u0026 more",)"
          R"("created_at":"2026-03-12T07:00:03.5Z","truncated":true}],)"
          R"("trigger_reason":"manual operator trigger"})");
}

TEST_CASE("a run summary keeps the original's members", "[codec]") {
    CHECK(encode_run_summary(finished_run()) ==
          R"({"id":"run_01JPC3VA0000000000000000","schedule_id":"sch_01JPC3V9QF7D2M8K4X6T1R5N0B",)"
          R"("occurrence_key":"sch_01JPC3V9QF7D2M8K4X6T1R5N0B:2026-03-12T07:00:00Z","status":"failed",)"
          R"("attempt":2,"started_at":"2026-03-12T07:00:02Z","finished_at":"2026-03-12T07:00:03.5Z",)"
          R"("created_at":"2026-03-12T07:00:01.25Z","updated_at":"2026-03-12T07:00:01.25Z"})");
    CHECK(encode_run_summary(pending_run()).find("started_at") == std::string::npos);
}

TEST_CASE("a receipt shows truncated only when true", "[codec]") {
    receipt r;
    r.id = "rcpt_1";
    r.run = run_one;
    r.receipt_kind = "http_response";
    r.content_type = "application/json";
    r.body = R"({"ok":true})";
    r.created_at = at("2026-03-12T07:00:03Z");
    CHECK(encode_receipt(r) ==
          R"({"id":"rcpt_1","run_id":"run_01JPC3VA0000000000000000","receipt_kind":"http_response",)"
          R"("content_type":"application/json","body":"{\"ok\":true}","created_at":"2026-03-12T07:00:03Z"})");
}

TEST_CASE("a dead letter embeds its payload and omits it when absent", "[codec]") {
    dead_letter d;
    d.id = "dlq_1";
    d.run = run_one;
    d.schedule = sch;
    d.occurrence_key = "manual:run_01JPC3VA0000000000000000";
    d.reason = "exit status 1";
    d.created_at = at("2026-03-12T07:00:03Z");
    CHECK(encode_dead_letter(d) ==
          R"({"id":"dlq_1","run_id":"run_01JPC3VA0000000000000000","schedule_id":"sch_01JPC3V9QF7D2M8K4X6T1R5N0B",)"
          R"("occurrence_key":"manual:run_01JPC3VA0000000000000000","reason":"exit status 1",)"
          R"("created_at":"2026-03-12T07:00:03Z"})");
    d.payload_json = R"({ "stdout": "x" })";
    CHECK(encode_dead_letter(d).find(R"("reason":"exit status 1","payload_json":{"stdout":"x"},"created_at")") !=
          std::string::npos);
}

TEST_CASE("strings are escaped as Go escapes them", "[codec]") {
    CHECK(encode_json_string("a<b>&c") == R"("a\u003cb\u003e\u0026c")");
    CHECK(encode_json_string("q\"b\\s/") == R"("q\"b\\s/")");
    CHECK(encode_json_string("\b\f\n\r\t") == R"("\b\f\n\r\t")");
    CHECK(encode_json_string(std::string("\x01\x1f\x00", 3)) == R"("\u0001\u001f\u0000")");
    CHECK(encode_json_string("\x7f") == "\"\x7f\"");
    CHECK(encode_json_string("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") == "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
    CHECK(encode_json_string("a\xE2\x80\xA8" "b\xE2\x80\xA9") == R"("a\u2028b\u2029")");
}

TEST_CASE("invalid UTF-8 becomes one U+FFFD per bad byte", "[codec]") {
    CHECK(encode_json_string("a\xFF" "b") == R"("a\ufffdb")");
    CHECK(encode_json_string("\xE2\x82") == R"("\ufffd\ufffd")");          // truncated sequence
    CHECK(encode_json_string("\xED\xA0\x80") == R"("\ufffd\ufffd\ufffd")");  // a UTF-16 surrogate
    CHECK(encode_json_string("\xC0\xAF") == R"("\ufffd\ufffd")");          // overlong '/'
    CHECK(encode_json_string("\xF4\x90\x80\x80") == R"("\ufffd\ufffd\ufffd\ufffd")");  // above U+10FFFF
}

TEST_CASE("numbers in embedded JSON print as Go prints them", "[codec]") {
    CHECK(compact_json("[1.0, 1.5, 1e21, 1e-7, 0.000001, 100000000000000000000, 12345678901234567890, -2, 1.5e300]")
              .value() == "[1,1.5,1e+21,1e-7,0.000001,100000000000000000000,12345678901234567890,-2,1.5e+300]");
}

TEST_CASE("compact_json keeps key order and refuses what is not one JSON value", "[codec]") {
    CHECK(compact_json(R"( { "b" : 1 , "a" : { "d" : [ ] , "c" : "<" } } )").value() ==
          R"({"b":1,"a":{"d":[],"c":"\u003c"}})");
    CHECK(compact_json("{} x").error().code == errc::bad_request);
    CHECK(compact_json("").error().code == errc::bad_request);
}

// ---- decoding ---------------------------------------------------------------------------------

TEST_CASE("a create request decodes every member and normalizes times to UTC", "[codec]") {
    const auto in = decode_schedule_input(R"({
        "name": "nightly-sync", "enabled": false, "timezone": "America/Los_Angeles",
        "schedule": {"kind": "cron", "expr": "0 2 * * *", "dst": {"gap": "shift", "repeated": "both"}},
        "target": {"kind": "http", "method": "POST", "url": "https://x.example/hook",
                   "headers": {"X-B": "2", "X-A": "1"}, "body": {"z": {"y": 1, "x": 2.5}, "a": "<"}},
        "policy": {"overlap": "allow", "misfire": "catch_up", "timeout_seconds": 60, "max_concurrency": 2,
                   "misfire_grace_seconds": 30, "catch_up_limit": 5, "jitter_seconds": 7},
        "retry": {"max_attempts": 4, "strategy": "exponential", "initial_delay_seconds": 10, "max_delay_seconds": 120},
        "start_at": "2026-03-12T05:00:00-05:00", "end_at": "2026-12-31T23:59:59.5+00:00"
    })");
    REQUIRE(in);
    CHECK(in->name == "nightly-sync");
    CHECK(in->enabled == std::optional<bool>(false));
    CHECK(in->timezone == "America/Los_Angeles");
    CHECK(in->schedule.kind == "cron");
    CHECK(in->schedule.expr == "0 2 * * *");
    CHECK(in->schedule.dst == dst_policy{dst_gap::shift, dst_repeated::both});
    CHECK(in->target.headers == std::map<std::string, std::string>{{"X-A", "1"}, {"X-B", "2"}});
    CHECK(in->target.body_json == R"({"a":"\u003c","z":{"x":2.5,"y":1}})");
    CHECK(in->policy == policy_spec{"allow", "catch_up", 60, 2, 30, 5, 7});
    CHECK(in->retry == retry_spec{4, "exponential", 10, 120});
    CHECK(in->start_at == at("2026-03-12T10:00:00Z"));
    CHECK(in->end_at == at("2026-12-31T23:59:59.5Z"));
}

TEST_CASE("keys match case-insensitively, the last match winning, and unknown keys are ignored", "[codec]") {
    const auto in = decode_schedule_input(
        R"({"NAME":"a","Name":"b","TimeZone":"UTC","Schedule":{"KIND":"interval","Every_Seconds":60},)"
        R"("unknown":{"deep":[1,2]},"policy":{"Overlap":"allow","bogus":1}})");
    REQUIRE(in);
    CHECK(in->name == "b");
    CHECK(in->timezone == "UTC");
    CHECK(in->schedule.kind == "interval");
    CHECK(in->schedule.every_seconds == 60);
    CHECK(in->policy.overlap == "allow");
    // Go folds with Unicode rules: the Kelvin sign and the long s match `k` and `s`.
    const auto folded = decode_schedule_input(R"({"\u017Fchedule":{"\u212Aind":"once"}})");
    REQUIRE(folded);
    CHECK(folded->schedule.kind == "once");
}

TEST_CASE("null leaves a member at its zero value", "[codec]") {
    const auto in = decode_schedule_input(
        R"({"name":null,"enabled":null,"schedule":null,"target":{"kind":"shell","args":null,"headers":null},)"
        R"("policy":{"timeout_seconds":null},"start_at":null})");
    REQUIRE(in);
    CHECK(in->name.empty());
    CHECK_FALSE(in->enabled.has_value());
    CHECK(in->schedule == schedule_spec{});
    CHECK(in->target.kind == "shell");
    CHECK(in->target.args.empty());
    CHECK(in->policy.timeout_seconds == 0);
    CHECK_FALSE(in->start_at.has_value());
}

TEST_CASE("an empty body object is kept as empty text; headers and args take null elements as empty", "[codec]") {
    const auto in = decode_schedule_input(
        R"({"target":{"kind":"shell","body":{},"input":{"k":[]},"args":["a",null],"headers":{"X":null}}})");
    REQUIRE(in);
    CHECK(in->target.body_json.empty());
    CHECK(in->target.input_json == R"({"k":[]})");
    CHECK(in->target.args == std::vector<std::string>{"a", ""});
    CHECK(in->target.headers.at("X").empty());
}

TEST_CASE("only the first JSON value of a body is read, and a null body is an empty request", "[codec]") {
    CHECK(decode_schedule_input(R"({"name":"a"} trailing garbage)")->name == "a");
    CHECK(decode_schedule_input("null").value() == schedule_input{});
}

TEST_CASE("every type error is reported together, each naming its field", "[codec]") {
    const auto in = decode_schedule_input(R"({
        "name": 1, "enabled": "yes", "timezone": ["UTC"],
        "schedule": {"kind": "interval", "every_seconds": 60.5, "anchor_at": 5, "dst": "skip"},
        "target": {"kind": "http", "headers": {"A": 1}, "body": [1], "args": ["x", 2], "input": "s"},
        "policy": {"timeout_seconds": "60", "max_concurrency": 1.0, "jitter_seconds": 18446744073709551615},
        "retry": {"max_attempts": true, "strategy": 3},
        "start_at": "2026-03-12T10:00:00", "end_at": 1700000000
    })");
    REQUIRE_FALSE(in);
    CHECK(in.error().code == errc::validation_failed);
    CHECK(in.error().message == "validation failed");
    CHECK(details_of(in.error()) == std::vector<field_error>{
                                        {"name", "must be a string"},
                                        {"enabled", "must be a boolean"},
                                        {"timezone", "must be a string"},
                                        {"schedule.every_seconds", "must be an integer"},
                                        {"schedule.anchor_at", "must be an RFC 3339 timestamp with offset"},
                                        {"schedule.dst", "must be an object"},
                                        {"target.headers.A", "must be a string"},
                                        {"target.body", "must be an object"},
                                        {"target.args[1]", "must be a string"},
                                        {"target.input", "must be an object"},
                                        {"policy.timeout_seconds", "must be an integer"},
                                        {"policy.max_concurrency", "must be an integer"},
                                        {"policy.jitter_seconds", "is out of range"},
                                        {"retry.max_attempts", "must be an integer"},
                                        {"retry.strategy", "must be a string"},
                                        {"start_at", "must be an RFC 3339 timestamp with offset"},
                                        {"end_at", "must be an RFC 3339 timestamp with offset"},
                                    });
}

TEST_CASE("objects of the wrong type are named", "[codec]") {
    const auto in = decode_schedule_input(R"({"schedule":1,"target":"x","policy":[],"retry":true})");
    REQUIRE_FALSE(in);
    CHECK(details_of(in.error()) == std::vector<field_error>{{"schedule", "must be an object"},
                                                             {"target", "must be an object"},
                                                             {"policy", "must be an object"},
                                                             {"retry", "must be an object"}});
}

TEST_CASE("an unknown DST choice is a validation error on its field", "[codec]") {
    const auto in = decode_schedule_input(R"({"schedule":{"kind":"cron","dst":{"gap":"jump","repeated":"twice"}}})");
    REQUIRE_FALSE(in);
    CHECK(details_of(in.error()) ==
          std::vector<field_error>{{"schedule.dst.gap", "must be one of skip, shift"},
                                   {"schedule.dst.repeated", "must be one of first, last, both"}});
    const auto blank = decode_schedule_input(R"({"schedule":{"kind":"cron","dst":{"gap":"","repeated":"last"}}})");
    REQUIRE(blank);
    CHECK(blank->schedule.dst == dst_policy{dst_gap::skip, dst_repeated::last});
}

TEST_CASE("malformed, empty and non-object bodies are bad requests with a readable message", "[codec]") {
    const auto malformed = decode_schedule_input(R"({"name": })");
    REQUIRE_FALSE(malformed);
    CHECK(malformed.error().code == errc::bad_request);
    CHECK(malformed.error().message.starts_with("invalid JSON at line 1, column 10: syntax error"));
    CHECK(decode_schedule_input("").error().message == "empty JSON document");
    CHECK(decode_schedule_input(" \n").error().code == errc::bad_request);
    CHECK(decode_schedule_input("[1]").error().message == "expected a JSON object, got array");
    CHECK(decode_schedule_patch("\"x\"").error().code == errc::bad_request);
    CHECK(decode_schedule_input(R"({"name":1e999})").error().code == errc::bad_request);
}

TEST_CASE("nesting is bounded before anything recurses", "[codec]") {
    const auto nested = [](std::size_t depth) {
        return R"({"target":{"kind":"shell","body":{"x":)" + std::string(depth, '[') + std::string(depth, ']') + "}}}";
    };
    CHECK(decode_schedule_input(nested(max_json_depth - 3)));
    const auto deep = decode_schedule_input(nested(100'000));
    REQUIRE_FALSE(deep);
    CHECK(deep.error().code == errc::bad_request);
    CHECK(deep.error().message == "invalid JSON: nested deeper than 1000 levels");
}

TEST_CASE("invalid UTF-8 in a request string is replaced, as Go's decoder does", "[codec]") {
    const auto in = decode_schedule_input("{\"name\":\"a\xFF" "b\"}");
    REQUIRE(in);
    CHECK(in->name == "a\xEF\xBF\xBD" "b");
}

TEST_CASE("a PATCH tells absent, null and set bounds apart", "[codec]") {
    const auto cleared = decode_schedule_patch(R"({"start_at":null})");
    REQUIRE(cleared);
    REQUIRE(cleared->start_at.has_value());
    CHECK_FALSE(cleared->start_at->has_value());
    CHECK_FALSE(cleared->end_at.has_value());

    const auto set = decode_schedule_patch(R"({"END_AT":"2026-03-12T12:00:00+02:00"})");
    REQUIRE(set);
    CHECK(set->end_at == std::optional<std::optional<time_point>>(at("2026-03-12T10:00:00Z")));
}

TEST_CASE("a PATCH decodes each member as optional; null counts as absent", "[codec]") {
    const auto patch = decode_schedule_patch(
        R"({"name":null,"enabled":true,"schedule":{"kind":"interval","every_seconds":30},)"
        R"("policy":{"overlap":"replace","timeout_seconds":null,"catch_up_limit":7},"retry":{"max_attempts":2}})");
    REQUIRE(patch);
    CHECK_FALSE(patch->name.has_value());
    CHECK(patch->enabled == std::optional<bool>(true));
    REQUIRE(patch->schedule.has_value());
    CHECK(patch->schedule->every_seconds == 30);
    CHECK_FALSE(patch->target.has_value());
    CHECK(patch->overlap == std::optional<std::string>("replace"));
    CHECK_FALSE(patch->timeout_seconds.has_value());
    CHECK(patch->catch_up_limit == std::optional<std::int64_t>(7));
    CHECK(patch->max_attempts == std::optional<std::int64_t>(2));
    CHECK_FALSE(patch->strategy.has_value());
}

TEST_CASE("PATCH type errors name their fields", "[codec]") {
    const auto patch = decode_schedule_patch(R"({"enabled":1,"policy":{"misfire":2},"end_at":"tomorrow"})");
    REQUIRE_FALSE(patch);
    CHECK(details_of(patch.error()) ==
          std::vector<field_error>{{"enabled", "must be a boolean"},
                                   {"policy.misfire", "must be a string"},
                                   {"end_at", "must be an RFC 3339 timestamp with offset"}});
}

// ---- round trips --------------------------------------------------------------------------------

TEST_CASE("schedules round-trip through their JSON", "[codec]") {
    schedule full = full_schedule();
    full.target.body_json = R"({"a":[true,null,"x"],"b":1})";  // the canonical (sorted) form
    full.spec.dst = {dst_gap::shift, dst_repeated::last};
    CHECK(decode_schedule(encode_schedule(full)).value() == full);
    CHECK(decode_schedule(encode_schedule(interval_schedule())).value() == interval_schedule());
}

TEST_CASE("a schedule summary decodes with its target kind", "[codec]") {
    const schedule s = decode_schedule(encode_schedule_summary(full_schedule())).value();
    CHECK(s.target.kind == "http");
    CHECK(s.spec == full_schedule().spec);
    CHECK(s.next_run_at == full_schedule().next_run_at);
}

TEST_CASE("runs round-trip through their JSON, except the internal fencing token", "[codec]") {
    run finished = finished_run();
    finished.result_json = R"({"z":1,"a":"\u003cb\u003e"})";
    CHECK(decode_run(encode_run(finished)).value() == finished);
    CHECK(decode_run(encode_run(pending_run())).value() == pending_run());
    run fenced = pending_run();
    fenced.fencing_token = 9;
    CHECK(decode_run(encode_run(fenced))->fencing_token == 0);
    CHECK(details_of(decode_run(R"({"status":"lost"})").error()) ==
          std::vector<field_error>{{"status", "must be one of pending, claimed, running, succeeded, failed, "
                                              "retry_scheduled, dead_lettered, cancelled, skipped"}});
}

TEST_CASE("a create request round-trips through encode_schedule_input", "[codec]") {
    schedule_input in;
    in.name = "n";
    in.timezone = "UTC";
    in.schedule.kind = "cron";
    in.schedule.expr = "*/5 * * * *";
    in.schedule.dst.repeated = dst_repeated::both;
    in.target.kind = "workflow";
    in.target.workflow_id = "sync";
    in.target.input_json = R"({"source":"crm"})";
    in.retry.max_attempts = 3;
    in.end_at = at("2027-01-01T00:00:00Z");
    const std::string text = encode_schedule_input(in);
    CHECK(text == R"({"name":"n","timezone":"UTC","schedule":{"kind":"cron","expr":"*/5 * * * *",)"
                  R"("dst":{"gap":"skip","repeated":"both"}},"target":{"kind":"workflow","workflow_id":"sync",)"
                  R"("input":{"source":"crm"}},"policy":{"overlap":"","misfire":"","timeout_seconds":0,)"
                  R"("max_concurrency":0,"misfire_grace_seconds":0,"catch_up_limit":0,"jitter_seconds":0},)"
                  R"("retry":{"max_attempts":3,"strategy":"","initial_delay_seconds":0,"max_delay_seconds":0},)"
                  R"("end_at":"2027-01-01T00:00:00Z"})");
    CHECK(decode_schedule_input(text).value() == in);
    in.enabled = false;
    CHECK(decode_schedule_input(encode_schedule_input(in)).value() == in);
}

// ---- cursors ------------------------------------------------------------------------------------

TEST_CASE("a cursor is unpadded base64url of created_at and id", "[codec][cursor]") {
    const std::string cursor = encode_cursor(at("2026-03-12T10:00:00.5Z"), sch);
    CHECK(cursor == "eyJjcmVhdGVkX2F0IjoiMjAyNi0wMy0xMlQxMDowMDowMC41WiIsImlkIjoic2NoXzAxSlBDM1Y5UUY3RDJNOEs0WDZUMVI1TjBCIn0");
    CHECK(decode_cursor(cursor).value() == page_cursor{at("2026-03-12T10:00:00.5Z"), std::string(sch)});
}

TEST_CASE("cursors round-trip for every length of id", "[codec][cursor]") {
    std::string id;
    for (int n = 0; n < 12; ++n) {
        const page_cursor c{at("1999-12-31T23:59:59.999999Z"), id};
        CHECK(decode_cursor(encode_cursor(c.created_at, c.id)).value() == c);
        id += static_cast<char>('a' + n);
    }
    const page_cursor odd{at("2026-03-12T10:00:00Z"), "<&>\"\xC3\xA9"};
    CHECK(decode_cursor(encode_cursor(odd.created_at, odd.id)).value() == odd);
}

TEST_CASE("a cursor without id decodes with an empty id; offsets and extra keys are accepted", "[codec][cursor]") {
    CHECK(decode_cursor("eyJjcmVhdGVkX2F0IjoiMjAyNi0wMy0xMlQxMDowMDowMFoifQ").value() ==
          page_cursor{at("2026-03-12T10:00:00Z"), ""});
    CHECK(decode_cursor("eyJjcmVhdGVkX2F0IjoiMjAyNi0wMy0xMlQxMDowMDowMCswMjowMCIsImlkIjoiYSIsImV4dHJhIjoiYiJ9")
              .value() == page_cursor{at("2026-03-12T08:00:00Z"), "a"});
}

TEST_CASE("garbage cursors are refused as invalid cursor", "[codec][cursor]") {
    const std::vector<std::string> garbage = {
        "",
        "!!!!",
        "a",                                              // impossible length
        "eyJpZCI6IngifQ==",                               // padding is refused
        "W10",                                            // []
        "bnVsbA",                                         // null
        "InMi",                                           // "s"
        "ew",                                             // {
        "eyJjcmVhdGVkX2F0IjoxfQ",                         // {"created_at":1}
        "eyJpZCI6IngifQ",                                 // {"id":"x"}
        "eyJjcmVhdGVkX2F0IjoieWVzdGVyZGF5In0",            // {"created_at":"yesterday"}
        "eyJjcmVhdGVkX2F0IjoiMjAyNi0wMy0xMlQxMDowMDowMFoiLCJpZCI6NX0",  // id is a number
        "eyJjcmVhdGVkX2F0IjoiMjAyNi0wMy0xMlQxMDowMDowMFoifSB4",        // trailing bytes
        "eyJDcmVhdGVkX0F0IjoiMjAyNi0wMy0xMlQxMDowMDowMFoifQ",          // keys match exactly
        "eyJjcmVhdGVkX2F0IjoiMjAyNi0wMy0xMlQxMDowMDowMFoifQ.",         // foreign character
    };
    for (const auto& text : garbage) {
        INFO(text);
        const auto decoded = decode_cursor(text);
        REQUIRE_FALSE(decoded);
        CHECK(decoded.error().code == errc::bad_request);
        CHECK(decoded.error().message == "invalid cursor");
    }
}

TEST_CASE("random cursors never crash the decoder", "[codec][cursor]") {
    std::mt19937 random(20260312);  // fixed seed: the same inputs on every run
    constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int i = 0; i < 2000; ++i) {
        std::string text(random() % 96, '\0');
        for (auto& c : text) {
            c = i % 2 == 0 ? alphabet[random() % alphabet.size()] : static_cast<char>(random() % 256);
        }
        const auto decoded = decode_cursor(text);
        if (!decoded) {
            CHECK(decoded.error().message == "invalid cursor");
        }
    }
    // A valid cursor with bytes flipped, one at a time.
    const std::string good = encode_cursor(at("2026-03-12T10:00:00Z"), sch);
    for (std::size_t i = 0; i < good.size(); ++i) {
        std::string bad = good;
        bad[i] = alphabet[(alphabet.find(bad[i]) + 1 + random() % 63) % 64];
        const auto decoded = decode_cursor(bad);
        CHECK((decoded || decoded.error().message == "invalid cursor"));
    }
}

TEST_CASE("an unpaired surrogate escape becomes U+FFFD, as Go's decoder makes it", "[codec]") {
    CHECK(decode_schedule_input(R"({"name":"a\ud800b"})")->name == "a\xEF\xBF\xBD" "b");
    CHECK(decode_schedule_input(R"({"name":"\udc00"})")->name == "\xEF\xBF\xBD");
    CHECK(decode_schedule_input(R"({"name":"\ud83d\ude00 \\ud800 \""})")->name == "\xF0\x9F\x98\x80 \\ud800 \"");
}
