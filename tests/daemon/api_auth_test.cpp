// Exposure controls of the API in-process: bearer tokens and the shell allow list at validation.
#include <wakeplane/http/auth.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include <wakeplane/executors/shell_policy.hpp>

#include "api_fixture.hpp"

using namespace wakeplane;
using wakeplane::testing::api_fixture;
using json = nlohmann::json;

namespace {

http::token_set tokens_of(std::string_view text) {
    auto t = http::token_set::parse(text);
    REQUIRE(t);
    return *std::move(t);
}

/// A request to `target` with `headers`.
http::request with_headers(std::string method, std::string_view target,
                           std::vector<std::pair<std::string, std::string>> headers, std::string body = {}) {
    auto r = http::request::make(std::move(method), target, std::move(body));
    r.headers = std::move(headers);
    return r;
}

/// A shell schedule running `command`, created disabled.
std::string shell_schedule(std::string_view name, std::string_view command) {
    return json{{"name", name},
                {"enabled", false},
                {"timezone", "UTC"},
                {"schedule", {{"kind", "interval"}, {"every_seconds", 3600}}},
                {"target", {{"kind", "shell"}, {"command", command}}}}
        .dump();
}

}  // namespace

TEST_CASE("a tokens file holds named and unnamed tokens, comments and blank lines", "[auth]") {
    const auto tokens = tokens_of("# operators\n\nci: s3cr3t-ci\n  plain-token  \r\nops : a:b:c\n");
    CHECK(tokens.size() == 3);
    CHECK(tokens.authenticate("s3cr3t-ci") == "ci");
    CHECK(tokens.authenticate("plain-token") == "line-4");
    CHECK(tokens.authenticate("a:b:c") == "ops");  // split at the first colon
    for (const auto* wrong : {"", "s3cr3t", "s3cr3t-ci2", "S3CR3T-CI", "ci", "ci: s3cr3t-ci", "plain-tokeN", "a:b:"}) {
        INFO(wrong);
        CHECK_FALSE(tokens.authenticate(wrong));
    }

    const std::vector<std::pair<std::string, std::string>> bad{
        {"", "holds no token (blank lines and # comments are ignored)"},
        {"# only a comment\n\n", "holds no token (blank lines and # comments are ignored)"},
        {"ci:\n", "line 1: the token is empty"},
        {"good\n:secret\n", "line 2: the name before \":\" is empty"},
        {"ci: two words\n", "line 1: a token must not contain whitespace or control characters"},
        {"ci:a\nci:b\n", "line 2: the name \"ci\" is used twice"},
    };
    for (const auto& [text, message] : bad) {
        INFO(text);
        auto t = http::token_set::parse(text);
        REQUIRE_FALSE(t);
        CHECK(t.error().message == message);
    }
}

TEST_CASE("with tokens, every route but the probes needs a bearer token", "[auth]") {
    api_fixture api;
    const auto guarded =
        http::require_bearer_token(api.handler(), std::make_shared<const http::token_set>(tokens_of("ci:good-token\n")));

    for (const auto* probe : {"/healthz", "/readyz"}) {
        INFO(probe);
        CHECK(guarded(http::request::make("GET", probe)).status == 200);
    }

    const auto anonymous = guarded(http::request::make("GET", "/v1/schedules"));
    CHECK(anonymous.status == 401);
    CHECK(anonymous.body == "{\"code\":\"unauthorized\",\"error\":\"authentication required: send the header "
                           "Authorization: Bearer followed by an API token\"}\n");
    CHECK(anonymous.header("WWW-Authenticate") == "Bearer realm=\"wakeplane\"");
    CHECK(anonymous.principal.empty());

    const auto wrong = guarded(with_headers("GET", "/v1/schedules", {{"authorization", "Bearer bad-token"}}));
    CHECK(wrong.status == 401);
    CHECK(json::parse(wrong.body)["code"] == "unauthorized");
    CHECK(wrong.header("WWW-Authenticate") == "Bearer realm=\"wakeplane\", error=\"invalid_token\"");

    for (const auto* not_bearer : {"Basic Y2k6Z29vZC10b2tlbg==", "good-token", "Bearer", "Bearergood-token"}) {
        INFO(not_bearer);
        CHECK(guarded(with_headers("GET", "/v1/status", {{"Authorization", not_bearer}})).status == 401);
    }
    // A write without a token changes nothing.
    CHECK(guarded(http::request::make("POST", "/v1/schedules", shell_schedule("x", "/bin/true"))).status == 401);

    const auto ok = guarded(with_headers("GET", "/v1/schedules", {{"Authorization", "bearer  good-token "}}));
    CHECK(ok.status == 200);
    CHECK(json::parse(ok.body)["items"].empty());
    CHECK(ok.principal == "ci");
}

TEST_CASE("create, replace and patch refuse a shell command outside the allow list", "[auth][shell]") {
    const auto policy = executors::shell_policy::parse("/bin/echo\n/usr/local/jobs/\n").value();
    api_fixture api{[policy](const target_spec& t) { return policy.check(t); }};

    const auto refused = api.json("POST", "/v1/schedules", shell_schedule("sh", "/bin/sh"), 400);
    CHECK(refused.dump() == R"({"code":"validation_failed","error":"validation failed","details":[{"field":"target.command","message":"is not allowed on this server"}]})");
    CHECK(api.json("POST", "/v1/schedules", shell_schedule("rel", "echo"), 400)["details"][0]["field"] == "target.command");

    const auto id = api.json("POST", "/v1/schedules", shell_schedule("echo", "/bin/echo"), 201)["id"].get<std::string>();
    api.json("POST", "/v1/schedules", shell_schedule("job", "/usr/local/jobs/nightly"), 201);

    CHECK(api.json("PUT", "/v1/schedules/" + id, shell_schedule("echo", "/bin/sh"), 400)["details"][0]["message"] ==
          "is not allowed on this server");
    CHECK(api.json("PATCH", "/v1/schedules/" + id, R"({"target":{"kind":"shell","command":"/usr/local/jobs/../../../bin/sh"}})",
                   400)["details"][0]["field"] == "target.command");
    CHECK(api.json("GET", "/v1/schedules/" + id)["target"]["command"] == "/bin/echo");  // unchanged

    api_fixture off{[](const target_spec& t) { return executors::shell_policy::disabled().check(t); }};
    CHECK(off.json("POST", "/v1/schedules", shell_schedule("echo", "/bin/echo"), 400)["details"][0] ==
          json::parse(R"({"field":"target.kind","message":"shell is disabled on this server"})"));
}
