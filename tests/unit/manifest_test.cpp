#include <wakeplane/manifest.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

using namespace wakeplane;

namespace {

time_point at(std::string_view s) { return parse_rfc3339(s).value(); }

using errors = std::vector<field_error>;

/// The single field error of a manifest that must fail validation.
field_error only_error(std::string_view yaml) {
    const auto in = decode_manifest(yaml);
    REQUIRE_FALSE(in);
    REQUIRE(in.error().code == errc::validation_failed);
    REQUIRE(in.error().details.size() == 1);
    return in.error().details.front();
}

/// A path in the temporary directory, unique to this test process.
std::filesystem::path temp_path(std::string_view name) {
    return std::filesystem::temp_directory_path() /
           ("wakeplane-manifest-test-" + std::to_string(::getpid()) + "-" + std::string(name));
}

}  // namespace

// ---- the original's three example shapes ----------------------------------------------------------

TEST_CASE("the backup-shell example: cron, shell with args", "[manifest]") {
    const auto in = decode_manifest(R"(
name: nightly-backup
enabled: true
timezone: America/New_York
schedule:
  kind: cron
  expr: "0 3 * * *"
target:
  kind: shell
  command: /usr/local/bin/backup.sh
  args:
    - --full
    - --destination=/mnt/backups
policy:
  overlap: forbid
  misfire: run_once_if_late
  timeout_seconds: 3600
  max_concurrency: 1
retry:
  max_attempts: 2
  strategy: exponential
  initial_delay_seconds: 60
  max_delay_seconds: 600
)");
    REQUIRE(in);
    schedule_input want;
    want.name = "nightly-backup";
    want.enabled = true;
    want.timezone = "America/New_York";
    want.schedule.kind = "cron";
    want.schedule.expr = "0 3 * * *";
    want.target.kind = "shell";
    want.target.command = "/usr/local/bin/backup.sh";
    want.target.args = {"--full", "--destination=/mnt/backups"};
    want.policy = {"forbid", "run_once_if_late", 3600, 1, 0, 0, 0};
    want.retry = {2, "exponential", 60, 600};
    CHECK(*in == want);
}

TEST_CASE("the health-check-http example: interval, http GET", "[manifest]") {
    const auto in = decode_manifest(R"(
name: health-check
timezone: UTC
schedule:
  kind: interval
  every_seconds: 300
target:
  kind: http
  method: GET
  url: https://api.example.com/healthz
  headers:
    Accept: application/json
policy:
  overlap: forbid
  misfire: skip
  timeout_seconds: 30
  max_concurrency: 1
retry:
  max_attempts: 3
  strategy: exponential
  initial_delay_seconds: 10
  max_delay_seconds: 120
)");
    REQUIRE(in);
    schedule_input want;
    want.name = "health-check";
    want.timezone = "UTC";
    want.schedule.kind = "interval";
    want.schedule.every_seconds = 300;
    want.target.kind = "http";
    want.target.method = "GET";
    want.target.url = "https://api.example.com/healthz";
    want.target.headers = {{"Accept", "application/json"}};
    want.policy = {"forbid", "skip", 30, 1, 0, 0, 0};
    want.retry = {3, "exponential", 10, 120};
    CHECK(*in == want);
    CHECK_FALSE(in->enabled.has_value());  // absent stays absent: true once defaults apply
}

TEST_CASE("the nightly-sync example: cron, workflow with input", "[manifest]") {
    const auto in = decode_manifest(R"(
name: nightly-sync
enabled: true
timezone: America/Los_Angeles
schedule:
  kind: cron
  expr: 0 2 * * *
target:
  kind: workflow
  workflow_id: sync.customers
  input:
    source: crm
policy: {overlap: forbid, misfire: run_once_if_late, timeout_seconds: 900, max_concurrency: 1}
retry: {max_attempts: 5, strategy: exponential, initial_delay_seconds: 30, max_delay_seconds: 900}
)");
    REQUIRE(in);
    CHECK(in->schedule.expr == "0 2 * * *");
    CHECK(in->target.workflow_id == "sync.customers");
    CHECK(in->target.input_json == R"({"source":"crm"})");
    CHECK(in->policy == policy_spec{"forbid", "run_once_if_late", 900, 1, 0, 0, 0});
    CHECK(in->retry == retry_spec{5, "exponential", 30, 900});
}

// ---- times -------------------------------------------------------------------------------------

TEST_CASE("time fields take unquoted YAML timestamps and quoted RFC 3339 strings", "[manifest]") {
    const auto in = decode_manifest(R"(
start_at: 2026-03-12 10:00:00
end_at: "2026-12-31T23:59:59.5+01:00"
schedule:
  kind: once
  at: 2026-04-01T09:30:00-04:00
  anchor_at: 2026-03-01
)");
    REQUIRE(in);
    CHECK(in->start_at == at("2026-03-12T10:00:00Z"));
    CHECK(in->end_at == at("2026-12-31T22:59:59.5Z"));
    CHECK(in->schedule.at == at("2026-04-01T13:30:00Z"));
    CHECK(in->schedule.anchor_at == at("2026-03-01T00:00:00Z"));
}

TEST_CASE("a quoted time must be RFC 3339 with an offset", "[manifest]") {
    CHECK(only_error(R"(start_at: "2026-03-12 10:00:00")") ==
          field_error{"start_at", "must be an RFC 3339 timestamp with offset"});
    CHECK(only_error("schedule:\n  at: tomorrow\n") ==
          field_error{"schedule.at", "must be an RFC 3339 timestamp with offset"});
    CHECK(only_error("end_at: 1700000000\n") == field_error{"end_at", "must be an RFC 3339 timestamp with offset"});
}

// ---- types -------------------------------------------------------------------------------------

TEST_CASE("integer fields take YAML integers only", "[manifest]") {
    CHECK(only_error(R"(policy: {timeout_seconds: "300"})") == field_error{"policy.timeout_seconds", "must be an integer"});
    CHECK(only_error("policy: {timeout_seconds: 60.5}") == field_error{"policy.timeout_seconds", "must be an integer"});
    CHECK(only_error("retry: {max_attempts: true}") == field_error{"retry.max_attempts", "must be an integer"});
    const auto in = decode_manifest("schedule: {every_seconds: 0x3c}\npolicy: {catch_up_limit: 1_000, jitter_seconds: +5}");
    REQUIRE(in);
    CHECK(in->schedule.every_seconds == 60);
    CHECK(in->policy.catch_up_limit == 1000);
    CHECK(in->policy.jitter_seconds == 5);
}

TEST_CASE("string fields take any scalar's text, as yaml.v3 does for Go strings", "[manifest]") {
    const auto in = decode_manifest("name: 2024\ntarget: {kind: shell, command: true, args: [1, 2.5, null]}");
    REQUIRE(in);
    CHECK(in->name == "2024");
    CHECK(in->target.command == "true");
    CHECK(in->target.args == std::vector<std::string>{"1", "2.5", ""});
    CHECK(only_error("name: [a, b]") == field_error{"name", "must be a string"});
}

TEST_CASE("enabled takes YAML booleans, including the YAML 1.1 words yaml.v3 accepts", "[manifest]") {
    CHECK(decode_manifest("enabled: false")->enabled == std::optional<bool>(false));
    CHECK(decode_manifest("enabled: yes")->enabled == std::optional<bool>(true));
    CHECK(decode_manifest("enabled: Off")->enabled == std::optional<bool>(false));
    CHECK_FALSE(decode_manifest("enabled: ~")->enabled.has_value());
    CHECK(only_error(R"(enabled: "true")") == field_error{"enabled", "must be a boolean"});
}

TEST_CASE("body and input keep YAML types; timestamps there stay text", "[manifest]") {
    const auto in = decode_manifest(R"(
target:
  kind: workflow
  input: {source: crm, count: 3, when: 2026-03-12, ok: true, ratio: 0.5, none: ~, quoted: "7", list: [a, 1]}
)");
    REQUIRE(in);
    CHECK(in->target.input_json ==
          R"({"count":3,"list":["a",1],"none":null,"ok":true,"quoted":"7","ratio":0.5,"source":"crm","when":"2026-03-12"})");
}

TEST_CASE("values JSON cannot hold are named", "[manifest]") {
    CHECK(only_error("target: {kind: http, body: {x: .inf}}") == field_error{"target.body.x", "must be a finite number"});
}

TEST_CASE("our additions, case-insensitive keys and unknown keys", "[manifest]") {
    const auto in = decode_manifest(R"(
Name: dst-aware
unknown_top: {a: 1}
schedule:
  kind: cron
  expr: 30 2 * * *
  dst: {gap: shift, repeated: both}
  colour: blue
policy:
  misfire_grace_seconds: 120
  catch_up_limit: 10
  jitter_seconds: 15
)");
    REQUIRE(in);
    CHECK(in->name == "dst-aware");
    CHECK(in->schedule.dst == dst_policy{dst_gap::shift, dst_repeated::both});
    CHECK(in->policy.misfire_grace_seconds == 120);
    CHECK(in->policy.catch_up_limit == 10);
    CHECK(in->policy.jitter_seconds == 15);
    CHECK(only_error("schedule: {dst: {gap: leap}}") == field_error{"schedule.dst.gap", "must be one of skip, shift"});
}

TEST_CASE("all type errors of a manifest are reported together", "[manifest]") {
    const auto in = decode_manifest("policy: {timeout_seconds: x, max_concurrency: 1.5}\nstart_at: soon\n");
    REQUIRE_FALSE(in);
    CHECK(in.error().details == errors{{"policy.timeout_seconds", "must be an integer"},
                                       {"policy.max_concurrency", "must be an integer"},
                                       {"start_at", "must be an RFC 3339 timestamp with offset"}});
}

// ---- failures ----------------------------------------------------------------------------------

TEST_CASE("bad YAML is a bad request naming the line and column", "[manifest]") {
    const auto in = decode_manifest("name: a\nschedule: {kind: cron\n");
    REQUIRE_FALSE(in);
    CHECK(in.error().code == errc::bad_request);
    CHECK(in.error().message.starts_with("invalid YAML at line "));
}

TEST_CASE("a manifest must be a non-empty mapping", "[manifest]") {
    CHECK(decode_manifest("").error().message == "the manifest is empty");
    CHECK(decode_manifest("# only a comment\n").error().message == "the manifest is empty");
    CHECK(decode_manifest("- a\n- b\n").error().message == "a manifest must be a YAML mapping of the schedule's fields");
    CHECK(decode_manifest("just text").error().code == errc::bad_request);
}

TEST_CASE("a manifest describes one schedule; more YAML documents are refused, not dropped", "[manifest]") {
    const std::string one = "name: a\ntimezone: UTC\nschedule: {kind: interval, every_seconds: 60}\n"
                            "target: {kind: shell, command: /bin/true}\n";
    CHECK(decode_manifest("---\n" + one + "---\n"));  // document markers around one document are fine
    const auto two = decode_manifest(one + "---\n" + one);
    REQUIRE_FALSE(two);
    CHECK(two.error().code == errc::bad_request);
    CHECK(two.error().message == "the manifest holds 2 YAML documents; it describes one schedule, so give each its own file");
}

TEST_CASE("a stream yaml-cpp reads as endless empty documents ends with an answer", "[manifest][regression]") {
    // Found by fuzz_manifest: YAML::LoadAll never returned on this input.
    const auto in = decode_manifest(",- a\n- b\n");
    REQUIRE_FALSE(in);
    CHECK(in.error().code == errc::bad_request);
}

TEST_CASE("alias bombs are refused instead of expanded", "[manifest]") {
    std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 9; ++i) {
        const std::string prev = "a" + std::to_string(i - 1);
        const std::string name = "a" + std::to_string(i);
        yaml += name + ": &" + name + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
                ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n";
    }
    const auto in = decode_manifest(yaml);
    REQUIRE_FALSE(in);
    CHECK(in.error().code == errc::bad_request);
    CHECK(in.error().message == "the manifest is too large or nested too deeply");
}

TEST_CASE("load_manifest reads a file", "[manifest]") {
    const auto path = temp_path("ok.yaml");
    {
        std::ofstream out(path);
        out << "name: from-file\ntimezone: UTC\n";
    }
    const auto in = load_manifest(path);
    std::filesystem::remove(path);
    REQUIRE(in);
    CHECK(in->name == "from-file");
}

TEST_CASE("load_manifest errors name the path", "[manifest]") {
    const auto missing = temp_path("missing.yaml");
    const auto in = load_manifest(missing);
    REQUIRE_FALSE(in);
    CHECK(in.error().code == errc::bad_request);
    CHECK(in.error().message == missing.string() + ": cannot read the file: No such file or directory");

    const auto dir = load_manifest(std::filesystem::temp_directory_path());
    REQUIRE_FALSE(dir);
    CHECK(dir.error().message.ends_with(": cannot read the file: it is a directory"));

    const auto path = temp_path("bad.yaml");
    {
        std::ofstream out(path);
        out << "policy: {timeout_seconds: \"1\"}\n";
    }
    const auto bad = load_manifest(path);
    std::filesystem::remove(path);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message == path.string() + ": validation failed");
    CHECK(bad.error().details == errors{{"policy.timeout_seconds", "must be an integer"}});
}
