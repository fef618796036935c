#include <wakeplane/validate.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace wakeplane;

namespace {

time_point at(std::string_view s) { return parse_rfc3339(s).value(); }

using errors = std::vector<field_error>;

/// A valid, defaulted definition: every test breaks one thing in it.
schedule_input valid_input() {
    schedule_input in;
    in.name = "nightly-backup";
    in.timezone = "America/New_York";
    in.schedule.kind = "cron";
    in.schedule.expr = "0 3 * * *";
    in.target.kind = "shell";
    in.target.command = "/usr/local/bin/backup.sh";
    apply_defaults(in);
    return in;
}

/// A valid HTTP target.
schedule_input http_input() {
    schedule_input in = valid_input();
    in.target = {};
    in.target.kind = "http";
    in.target.method = "GET";
    in.target.url = "https://api.example.com/healthz";
    return in;
}

errors check(const schedule_input& in) { return validate(in, policy_catalog::defaults()); }

/// The single error `in` has.
field_error only_error(const schedule_input& in) {
    const errors found = check(in);
    REQUIRE(found.size() == 1);
    return found.front();
}

}  // namespace

TEST_CASE("a complete definition is valid", "[validate]") {
    CHECK(check(valid_input()).empty());
    CHECK(check(http_input()).empty());
}

TEST_CASE("rule 1: the name must not be blank", "[validate]") {
    schedule_input in = valid_input();
    in.name = " \t";
    CHECK(only_error(in) == field_error{"name", "must be non-empty"});
}

TEST_CASE("rule 2: the timezone is required and must exist", "[validate]") {
    schedule_input in = valid_input();
    in.timezone = "";
    CHECK(only_error(in) == field_error{"timezone", "is required"});
    for (const char* bad : {"bad/tz", "utc", "America/Nowhere"}) {
        in.timezone = bad;
        CHECK(only_error(in) == field_error{"timezone", "must be a valid IANA timezone"});
    }
    for (const char* good : {"UTC", "Europe/Paris", "EST"}) {
        in.timezone = good;
        CHECK(check(in).empty());
    }
}

TEST_CASE("rule 3a/3b: a cron schedule needs an expression that parses and can fire", "[validate]") {
    schedule_input in = valid_input();
    in.schedule.expr = "  ";
    CHECK(only_error(in) == field_error{"schedule.expr", "is required for cron"});
    for (const char* bad : {"61 * * * *", "0 0 30 2 *", "CRON_TZ=UTC 0 3 * * *", "* * *"}) {
        INFO(bad);
        in.schedule.expr = bad;
        const field_error e = only_error(in);
        CHECK(e.field == "schedule.expr");
        constexpr std::string_view prefix = "must parse as a cron expression: ";
        CHECK(e.message.starts_with(prefix));
        CHECK(e.message.size() > prefix.size());  // the parser's reason follows
    }
}

TEST_CASE("rule 3c: an interval needs every_seconds > 0, within the duration bound", "[validate]") {
    schedule_input in = valid_input();
    in.schedule = {};
    in.schedule.kind = "interval";
    for (const std::int64_t bad : {std::int64_t{0}, std::int64_t{-5}}) {
        in.schedule.every_seconds = bad;
        CHECK(only_error(in) == field_error{"schedule.every_seconds", "must be > 0"});
    }
    in.schedule.every_seconds = max_duration_seconds + 1;
    CHECK(only_error(in) == field_error{"schedule.every_seconds", "must be <= 3155760000"});
    in.schedule.every_seconds = 1;
    CHECK(check(in).empty());
}

TEST_CASE("rule 3d: a once schedule needs at, which may lie in the past", "[validate]") {
    schedule_input in = valid_input();
    in.schedule = {};
    in.schedule.kind = "once";
    CHECK(only_error(in) == field_error{"schedule.at", "is required for once"});
    in.schedule.at = at("2001-01-01T00:00:00Z");
    CHECK(check(in).empty());
}

TEST_CASE("rule 3e: any other schedule kind", "[validate]") {
    schedule_input in = valid_input();
    for (const char* bad : {"", "weekly", "CRON"}) {
        in.schedule.kind = bad;
        CHECK(only_error(in) == field_error{"schedule.kind", "must be one of cron, interval, once"});
    }
}

TEST_CASE("rule 4a/4b: an HTTP target needs a known method, in any case", "[validate]") {
    schedule_input in = http_input();
    in.target.method = " ";
    CHECK(only_error(in) == field_error{"target.method", "is required for http"});
    in.target.method = "FETCH";
    CHECK(only_error(in) == field_error{"target.method", "must be a valid HTTP method"});
    for (const char* good : {"get", "DELETE", "head", "OPTIONS", "patch", "POST", "Put"}) {
        in.target.method = good;
        CHECK(check(in).empty());
    }
}

TEST_CASE("rule 4c/4d: an HTTP target needs an absolute http or https URL with a host", "[validate]") {
    schedule_input in = http_input();
    in.target.url = "";
    CHECK(only_error(in) == field_error{"target.url", "is required for http"});
    for (const char* bad : {"/foo", "ftp://x", "http://", "example.com", "://bad", "http://a b", "http:///path",
                            "http://:80/", "http://host:99999/", "http://host:8o/", "https://[::1/", "http://%zz/",
                            "http://exa<mple.com/", "mailto:a@b.c", "http://host/\x01"}) {
        INFO(bad);
        in.target.url = bad;
        CHECK(only_error(in) == field_error{"target.url", "must be an absolute http or https URL"});
    }
    for (const char* good : {"http://localhost:8080/x", "https://user:pw@example.com/p?q=1#f", "http://[::1]:80/",
                             "HTTPS://EXAMPLE.COM", "http://10.0.0.1", "http://host:/", "http://b\xC3\xBC" "cher.de/a%20b"}) {
        INFO(good);
        in.target.url = good;
        CHECK(check(in).empty());
    }
}

TEST_CASE("an HTTP target's header names must be tokens and values single lines", "[validate]") {
    schedule_input in = http_input();
    in.target.headers = {{"Authorization", "Bearer x"}, {"X-Ok_1!", "v"}};
    CHECK(check(in).empty());
    in.target.headers = {{"Bad Name", "x"}, {"", "y"}, {"X-Split", "a\r\nInjected: 1"}, {"Ok", "v"}};
    CHECK(check(in) == errors{{"target.headers", R"(has an invalid header name "")"},
                              {"target.headers", R"(has an invalid header name "Bad Name")"},
                              {"target.headers", R"(has an invalid value for header "X-Split")"}});
}

TEST_CASE("rule 4e/4f/4g: shell, workflow and unknown targets", "[validate]") {
    schedule_input in = valid_input();
    in.target.command = "\n";
    CHECK(only_error(in) == field_error{"target.command", "is required for shell"});
    in.target = {};
    in.target.kind = "workflow";
    CHECK(only_error(in) == field_error{"target.workflow_id", "is required for workflow"});
    in.target.workflow_id = "sync.customers";
    CHECK(check(in).empty());
    in.target.kind = "ftp";
    CHECK(only_error(in) == field_error{"target.kind", "must be one of http, shell, workflow"});
}

TEST_CASE("rule 5a/5b: policy names come from the catalog", "[validate]") {
    schedule_input in = valid_input();
    in.policy.overlap = "sometimes";
    CHECK(only_error(in) == field_error{"policy.overlap", "must be one of allow, forbid, queue_latest, replace"});
    in.policy.overlap = "replace";
    in.policy.misfire = "later";
    CHECK(only_error(in) == field_error{"policy.misfire", "must be one of skip, run_once_if_late, catch_up"});
}

TEST_CASE("a smaller catalog narrows the allowed names and says so", "[validate]") {
    const policy_catalog small{{"skip"}, {"forbid"}, {"none"}};
    schedule_input in = valid_input();
    CHECK(validate(in, small) == errors{{"policy.misfire", "must be one of skip"},
                                        {"retry.strategy", "must be one of none"}});
}

TEST_CASE("rule 5c/5d: timeout > 0 and max_concurrency >= 1", "[validate]") {
    schedule_input in = valid_input();
    in.policy.timeout_seconds = 0;  // only apply_defaults() turns 0 into 300
    CHECK(only_error(in) == field_error{"policy.timeout_seconds", "must be > 0"});
    in.policy.timeout_seconds = -1;
    CHECK(only_error(in) == field_error{"policy.timeout_seconds", "must be > 0"});
    in.policy.timeout_seconds = max_duration_seconds + 1;
    CHECK(only_error(in) == field_error{"policy.timeout_seconds", "must be <= 3155760000"});
    in.policy.timeout_seconds = 300;
    in.policy.max_concurrency = 0;
    CHECK(only_error(in) == field_error{"policy.max_concurrency", "must be >= 1"});
}

TEST_CASE("our policy numbers must not be negative", "[validate]") {
    schedule_input in = valid_input();
    in.policy.misfire_grace_seconds = -1;
    in.policy.catch_up_limit = -1;
    in.policy.jitter_seconds = -1;
    CHECK(check(in) == errors{{"policy.misfire_grace_seconds", "must be >= 0"},
                              {"policy.catch_up_limit", "must be >= 0"},
                              {"policy.jitter_seconds", "must be >= 0"}});
    in.policy.misfire_grace_seconds = 0;
    in.policy.catch_up_limit = 0;
    in.policy.jitter_seconds = max_duration_seconds + 1;
    CHECK(check(in) == errors{{"policy.jitter_seconds", "must be <= 3155760000"}});
}

TEST_CASE("rule 6a/6b: max_attempts >= 0 and a known strategy", "[validate]") {
    schedule_input in = valid_input();
    in.retry.max_attempts = -1;
    CHECK(only_error(in) == field_error{"retry.max_attempts", "must be >= 0"});
    in.retry.max_attempts = 0;
    in.retry.strategy = "linear";
    CHECK(only_error(in) == field_error{"retry.strategy", "must be one of none, exponential"});
}

TEST_CASE("rule 6c/6d/6e: exponential delays; 6d and 6e together", "[validate]") {
    schedule_input in = valid_input();
    in.retry.initial_delay_seconds = -1;
    CHECK(only_error(in) == field_error{"retry.initial_delay_seconds", "must be > 0"});
    in.retry.initial_delay_seconds = 30;
    in.retry.max_delay_seconds = -1;
    CHECK(check(in) == errors{{"retry.max_delay_seconds", "must be > 0"},
                              {"retry.max_delay_seconds", "must be >= initial_delay_seconds"}});
    in.retry.max_delay_seconds = 10;
    CHECK(only_error(in) == field_error{"retry.max_delay_seconds", "must be >= initial_delay_seconds"});
    in.retry.strategy = "none";  // delays only matter to exponential backoff
    CHECK(check(in).empty());
}

TEST_CASE("rule 7: start_at <= end_at, equal allowed", "[validate]") {
    schedule_input in = valid_input();
    in.start_at = at("2026-03-12T10:00:00Z");
    in.end_at = at("2026-03-12T09:59:59.999999Z");
    CHECK(only_error(in) == field_error{"start_at", "must be <= end_at"});
    in.end_at = in.start_at;
    CHECK(check(in).empty());
}

TEST_CASE("every error of a request is reported, in the original's order", "[validate]") {
    schedule_input in;
    in.schedule.kind = "interval";
    in.target.kind = "http";
    in.target.method = "FETCH";
    in.target.url = "/relative";
    in.policy.overlap = "x";
    in.policy.misfire = "y";
    in.policy.timeout_seconds = -1;
    in.policy.max_concurrency = -1;
    in.policy.jitter_seconds = -1;
    in.retry.max_attempts = -1;
    in.retry.strategy = "z";
    in.start_at = at("2026-03-12T10:00:00Z");
    in.end_at = at("2026-03-11T10:00:00Z");
    CHECK(check(in) == errors{
                           {"name", "must be non-empty"},
                           {"timezone", "is required"},
                           {"schedule.every_seconds", "must be > 0"},
                           {"target.method", "must be a valid HTTP method"},
                           {"target.url", "must be an absolute http or https URL"},
                           {"policy.overlap", "must be one of allow, forbid, queue_latest, replace"},
                           {"policy.misfire", "must be one of skip, run_once_if_late, catch_up"},
                           {"policy.timeout_seconds", "must be > 0"},
                           {"policy.max_concurrency", "must be >= 1"},
                           {"policy.jitter_seconds", "must be >= 0"},
                           {"retry.max_attempts", "must be >= 0"},
                           {"retry.strategy", "must be one of none, exponential"},
                           {"start_at", "must be <= end_at"},
                       });
}

// ---- defaults ---------------------------------------------------------------------------------

TEST_CASE("defaults fill every zero field", "[validate][defaults]") {
    schedule_input in;
    apply_defaults(in);
    CHECK(in.enabled == std::optional<bool>(true));
    CHECK(in.policy == policy_spec{"forbid", "run_once_if_late", 300, 1, 60, 100, 0});
    CHECK(in.retry == retry_spec{0, "exponential", 30, 900});
}

TEST_CASE("defaults reset the DST policy of every kind but cron, which alone uses it", "[validate][defaults][regression]") {
    // Fuzz-found: an interval with `"dst":{"gap":"shift"}` kept a policy no encoder writes, so
    // it changed on its way through encode_schedule_input().
    schedule_input in = valid_input();
    in.schedule = {};
    in.schedule.kind = "interval";
    in.schedule.every_seconds = 6;
    in.schedule.dst = {dst_gap::shift, dst_repeated::both};
    apply_defaults(in);
    CHECK(in.schedule.dst == dst_policy{});

    schedule_input cron = valid_input();
    cron.schedule.dst = {dst_gap::shift, dst_repeated::both};
    apply_defaults(cron);
    CHECK(cron.schedule.dst == dst_policy{dst_gap::shift, dst_repeated::both});
}

TEST_CASE("defaults apply field by field and keep what the client sent", "[validate][defaults]") {
    SECTION("only max_attempts") {
        schedule_input in;
        in.retry.max_attempts = 5;
        apply_defaults(in);
        CHECK(in.retry == retry_spec{5, "exponential", 30, 900});
    }
    SECTION("only overlap") {
        schedule_input in;
        in.policy.overlap = "allow";
        apply_defaults(in);
        CHECK(in.policy == policy_spec{"allow", "run_once_if_late", 300, 1, 60, 100, 0});
    }
    SECTION("strategy none still gets delays, as in the original") {
        schedule_input in;
        in.retry.strategy = "none";
        apply_defaults(in);
        CHECK(in.retry == retry_spec{0, "none", 30, 900});
    }
    SECTION("every value sent is kept") {
        schedule_input in;
        in.enabled = false;
        in.policy = {"replace", "catch_up", 5, 3, 10, 7, 2};
        in.retry = {2, "exponential", 1, 2};
        const schedule_input sent = in;
        apply_defaults(in);
        CHECK(in == sent);
    }
}

TEST_CASE("negative numbers are not defaulted, so validation rejects them", "[validate][defaults]") {
    schedule_input in = valid_input();
    in.policy.timeout_seconds = -3;
    in.policy.catch_up_limit = -1;
    in.retry.initial_delay_seconds = -2;
    apply_defaults(in);
    CHECK(in.policy.timeout_seconds == -3);
    CHECK(in.policy.catch_up_limit == -1);
    CHECK(in.retry.initial_delay_seconds == -2);
    const auto checked = check_schedule_input(in, policy_catalog::defaults());
    REQUIRE_FALSE(checked);
    CHECK(checked.error().code == errc::validation_failed);
    CHECK(checked.error().details == errors{{"policy.timeout_seconds", "must be > 0"},
                                            {"policy.catch_up_limit", "must be >= 0"},
                                            {"retry.initial_delay_seconds", "must be > 0"}});
}

TEST_CASE("check_schedule_input applies the defaults, then validates", "[validate][defaults]") {
    schedule_input in;
    in.name = "n";
    in.timezone = "UTC";
    in.schedule.kind = "once";
    in.schedule.at = at("2026-03-12T10:00:00Z");
    in.target.kind = "workflow";
    in.target.workflow_id = "w";
    const auto checked = check_schedule_input(in, policy_catalog::defaults());
    REQUIRE(checked);
    CHECK(checked->enabled == std::optional<bool>(true));
    CHECK(checked->policy.timeout_seconds == 300);
}

TEST_CASE("a host's target rule runs after the built-in rules and adds its errors", "[validate][defaults]") {
    schedule_input in = valid_input();
    in.policy.timeout_seconds = -1;
    std::vector<std::string> seen;
    const target_rule no_workflows = [&](const target_spec& t) {
        seen.push_back(t.kind);
        return t.kind == "workflow" ? errors{{"target.kind", "workflow is disabled here"}} : errors{};
    };
    in.target.kind = "workflow";
    in.target.workflow_id = "w";
    const auto refused = check_schedule_input(in, policy_catalog::defaults(), no_workflows);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().details == errors{{"policy.timeout_seconds", "must be > 0"}, {"target.kind", "workflow is disabled here"}});

    in.policy.timeout_seconds = 0;
    in.target = http_input().target;
    CHECK(check_schedule_input(in, policy_catalog::defaults(), no_workflows));
    CHECK(seen == std::vector<std::string>{"workflow", "http"});
}

// ---- PATCH ------------------------------------------------------------------------------------

namespace {

schedule stored_schedule() {
    schedule s;
    s.id = "sch_01JPC3V9QF7D2M8K4X6T1R5N0B";
    s.name = "health";
    s.enabled = true;
    s.timezone = "UTC";
    s.spec.kind = "interval";
    s.spec.every_seconds = 300;
    s.target.kind = "http";
    s.target.method = "GET";
    s.target.url = "https://api.example.com/healthz";
    s.target.headers = {{"Accept", "text/plain"}};
    s.policy = {"forbid", "skip", 30, 1, 60, 100, 0};
    s.retry = {3, "exponential", 10, 120};
    s.start_at = at("2026-03-01T00:00:00Z");
    s.end_at = at("2026-12-31T00:00:00Z");
    s.created_at = at("2026-03-01T00:00:00Z");
    s.updated_at = s.created_at;
    return s;
}

}  // namespace

TEST_CASE("an empty PATCH gives back the stored definition", "[validate][patch]") {
    const schedule s = stored_schedule();
    const schedule_input merged = apply_patch(s, {});
    CHECK(merged == input_of(s));
    CHECK(merged.enabled == std::optional<bool>(true));
    CHECK(check(merged).empty());
}

TEST_CASE("a PATCH replaces schedule and target whole and merges policy and retry", "[validate][patch]") {
    schedule_patch patch;
    patch.name = "health-2";
    patch.enabled = false;
    patch.schedule = schedule_spec{};
    patch.schedule->kind = "cron";
    patch.schedule->expr = "*/5 * * * *";
    patch.target = target_spec{};
    patch.target->kind = "shell";
    patch.target->command = "/bin/true";
    patch.misfire = "catch_up";
    patch.catch_up_limit = 3;
    patch.max_attempts = 0;
    const schedule_input merged = apply_patch(stored_schedule(), patch);
    CHECK(merged.name == "health-2");
    CHECK(merged.enabled == std::optional<bool>(false));
    CHECK(merged.schedule.every_seconds == 0);  // replaced, not merged
    CHECK(merged.schedule.expr == "*/5 * * * *");
    CHECK(merged.target.headers.empty());
    CHECK(merged.target.command == "/bin/true");
    CHECK(merged.policy == policy_spec{"forbid", "catch_up", 30, 1, 60, 3, 0});
    CHECK(merged.retry == retry_spec{0, "exponential", 10, 120});
    CHECK(check(merged).empty());
}

TEST_CASE("a PATCH null clears a bound, a time replaces it, absence keeps it", "[validate][patch]") {
    schedule_patch patch;
    patch.start_at.emplace(std::nullopt);
    patch.end_at.emplace(at("2027-01-01T00:00:00Z"));
    const schedule_input merged = apply_patch(stored_schedule(), patch);
    CHECK_FALSE(merged.start_at.has_value());
    CHECK(merged.end_at == at("2027-01-01T00:00:00Z"));
    CHECK(apply_patch(stored_schedule(), {}).start_at == at("2026-03-01T00:00:00Z"));
}

TEST_CASE("a merged PATCH goes through defaults and validation like a PUT", "[validate][patch]") {
    schedule_patch patch;
    patch.timeout_seconds = 0;  // 0 means the default (DECISIONS 25)
    patch.max_concurrency = -2;
    const auto checked = check_schedule_input(apply_patch(stored_schedule(), patch), policy_catalog::defaults());
    REQUIRE_FALSE(checked);
    CHECK(checked.error().details == errors{{"policy.max_concurrency", "must be >= 1"}});
    patch.max_concurrency.reset();
    CHECK(check_schedule_input(apply_patch(stored_schedule(), patch), policy_catalog::defaults())->policy.timeout_seconds ==
          300);
}
