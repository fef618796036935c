// wakeplaned's configuration: defaults, environment, flags over environment, one line per mistake.
#include "../../src/daemon/config.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <map>
#include <string>

#include <wakeplane/testing/temp_dir.hpp>

using namespace wakeplane;
using namespace wakeplane::daemon;

namespace {

/// An environment made of `vars` only.
env_reader env_of(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
        auto it = vars.find(std::string(name));
        return it == vars.end() ? std::nullopt : std::optional<std::string>{it->second};
    };
}

std::string error_of(const flag_values& flags, std::map<std::string, std::string> vars) {
    auto c = resolve_config(flags, env_of(std::move(vars)));
    REQUIRE_FALSE(c);
    CHECK(c.error().code == errc::bad_request);
    return c.error().message;
}

}  // namespace

TEST_CASE("the defaults are the original's, with a loopback address and a per-process worker id", "[config]") {
    auto c = resolve_config({}, env_of({}));
    REQUIRE(c);
    CHECK(c->http_addr == "127.0.0.1:8080");
    CHECK(c->db_path == "./wakeplane.db");
    CHECK(c->store == store_kind::sqlite);
    CHECK(c->scheduler_interval_seconds == 5);
    CHECK(c->dispatcher_interval_seconds == 2);
    CHECK(c->lease_ttl_seconds == 30);
    CHECK(c->shutdown_timeout_seconds == 30);
    CHECK(c->level == log_level::info);
    CHECK(c->worker_id.ends_with(":" + std::to_string(::getpid())));
    CHECK(c->worker_id.size() > std::to_string(::getpid()).size() + 1);
}

TEST_CASE("variables configure, empty ones mean the default, flags win", "[config]") {
    const std::map<std::string, std::string> vars{
        {"WAKEPLANE_HTTP_ADDR", ":9000"},          {"WAKEPLANE_DB_PATH", "/var/lib/wp"},
        {"WAKEPLANE_STORE", "rocksdb"},            {"WAKEPLANE_SCHEDULER_INTERVAL_SECONDS", "7"},
        {"WAKEPLANE_DISPATCHER_INTERVAL_SECONDS", ""}, {"WAKEPLANE_LEASE_TTL_SECONDS", "4"},
        {"WAKEPLANE_WORKER_ID", "wrk_a"},          {"WAKEPLANE_SHUTDOWN_TIMEOUT_SECONDS", "3"},
        {"WAKEPLANE_LOG_LEVEL", "DEBUG"},          {"WAKEPLANE_INSECURE_LISTEN", "true"}};
    auto c = resolve_config({}, env_of(vars));
    REQUIRE(c);
    CHECK(c->http_addr == ":9000");
    CHECK(c->db_path == "/var/lib/wp");
    CHECK(c->store == store_kind::rocksdb);
    CHECK(c->scheduler_interval_seconds == 7);
    CHECK(c->dispatcher_interval_seconds == 2);
    CHECK(c->lease_ttl_seconds == 4);
    CHECK(c->worker_id == "wrk_a");
    CHECK(c->shutdown_timeout_seconds == 3);
    CHECK(c->level == log_level::debug);

    flag_values flags;
    flags.addr = "127.0.0.1:0";
    flags.store = "sqlite";
    flags.lease_ttl = "9";
    flags.log_level = "warn";
    c = resolve_config(flags, env_of(vars));
    REQUIRE(c);
    CHECK(c->http_addr == "127.0.0.1:0");
    CHECK(c->store == store_kind::sqlite);
    CHECK(c->lease_ttl_seconds == 9);
    CHECK(c->level == log_level::warn);
    CHECK(c->db_path == "/var/lib/wp");
}

TEST_CASE("invalid settings are refused with one line naming their source", "[config][errors]") {
    CHECK(error_of({}, {{"WAKEPLANE_LEASE_TTL_SECONDS", "0"}}) ==
          "WAKEPLANE_LEASE_TTL_SECONDS must be a whole number of seconds from 1 to 3155760000, got \"0\"");
    CHECK(error_of({}, {{"WAKEPLANE_SCHEDULER_INTERVAL_SECONDS", "-5"}}).starts_with("WAKEPLANE_SCHEDULER_INTERVAL_SECONDS must be"));
    CHECK(error_of({}, {{"WAKEPLANE_DISPATCHER_INTERVAL_SECONDS", "2s"}}).ends_with("got \"2s\""));
    CHECK(error_of({}, {{"WAKEPLANE_SHUTDOWN_TIMEOUT_SECONDS", "99999999999"}}).starts_with("WAKEPLANE_SHUTDOWN_TIMEOUT_SECONDS"));
    CHECK(error_of({}, {{"WAKEPLANE_STORE", "postgres"}}) == "WAKEPLANE_STORE must be sqlite or rocksdb, got \"postgres\"");
    CHECK(error_of({}, {{"WAKEPLANE_LOG_LEVEL", "loud"}}).starts_with("WAKEPLANE_LOG_LEVEL must be debug, info, warn or error"));
    CHECK(error_of({}, {{"WAKEPLANE_HTTP_ADDR", "8080"}}).starts_with("WAKEPLANE_HTTP_ADDR must be host:port"));
    CHECK(error_of({}, {{"WAKEPLANE_HTTP_ADDR", "localhost:http"}}).starts_with("WAKEPLANE_HTTP_ADDR must be host:port"));

    flag_values flags;
    flags.lease_ttl = "abc";
    CHECK(error_of(flags, {{"WAKEPLANE_LEASE_TTL_SECONDS", "5"}}).starts_with("--lease-ttl must be"));
}

TEST_CASE("security settings: defaults, files, ranges and limits", "[config][auth]") {
    wakeplane::testing::temp_dir dir{"wakeplane-security-config"};
    const auto write = [&](const std::string& name, const std::string& text) {
        std::ofstream{dir.path() / name} << text;
        return (dir.path() / name).string();
    };

    auto defaults = resolve_config({}, env_of({}));
    REQUIRE(defaults);
    CHECK_FALSE(defaults->api_tokens);
    CHECK_FALSE(defaults->insecure_listen);
    CHECK_FALSE(defaults->shell.refusal("echo"));
    CHECK(defaults->http_deny.empty());
    CHECK(defaults->http_max_redirects == 5);
    CHECK(defaults->max_body_bytes == 1024 * 1024);
    CHECK(defaults->max_header_count == 100);
    CHECK(defaults->max_receipt_bytes == 64 * 1024);
    CHECK(defaults->planner_lookahead_ms == 1000);
    CHECK_FALSE(exposed_without_tokens(*defaults));

    const auto tokens = write("tokens", "ci:abc123\n");
    const auto allow = write("allow", "/bin/\n");
    auto c = resolve_config({}, env_of({{"WAKEPLANE_API_TOKENS_FILE", tokens},
                                                {"WAKEPLANE_SHELL_ALLOW", allow},
                                                {"WAKEPLANE_HTTP_DENY", "169.254.0.0/16, fd00::/8"},
                                                {"WAKEPLANE_HTTP_MAX_REDIRECTS", "0"},
                                                {"WAKEPLANE_MAX_BODY_BYTES", "4096"},
                                                {"WAKEPLANE_MAX_HEADER_COUNT", "20"},
                                                {"WAKEPLANE_MAX_RECEIPT_BYTES", "10"},
                                                {"WAKEPLANE_PLANNER_LOOKAHEAD_MS", "0"},
                                                {"WAKEPLANE_HTTP_ADDR", "0.0.0.0:0"}}));
    REQUIRE(c);
    REQUIRE(c->api_tokens);
    CHECK(c->api_tokens->authenticate("abc123") == "ci");
    CHECK(c->shell.entries() == std::vector<std::string>{"/bin/"});
    REQUIRE(c->http_deny.size() == 2);
    CHECK(c->http_deny[1].text() == "fd00::/8");
    CHECK(c->http_max_redirects == 0);
    CHECK(c->max_body_bytes == 4096);
    CHECK(c->max_header_count == 20);
    CHECK(c->max_receipt_bytes == 10);
    CHECK(c->planner_lookahead_ms == 0);
    CHECK_FALSE(exposed_without_tokens(*c));  // every interface, but with tokens

    flag_values off;
    off.shell = "off";
    CHECK(resolve_config(off, env_of({}))->shell.refusal("/bin/echo") == "shell targets are disabled on this server");

    const std::vector<std::pair<std::map<std::string, std::string>, std::string>> bad{
        {{{"WAKEPLANE_API_TOKENS_FILE", (dir.path() / "missing").string()}},
         "WAKEPLANE_API_TOKENS_FILE: cannot read \"" + (dir.path() / "missing").string() + "\": No such file or directory"},
        {{{"WAKEPLANE_API_TOKENS_FILE", write("empty", "# none yet\n")}},
         "WAKEPLANE_API_TOKENS_FILE: \"" + (dir.path() / "empty").string() +
             "\": holds no token (blank lines and # comments are ignored)"},
        {{{"WAKEPLANE_SHELL_ALLOW", write("relative", "/bin/echo\nscripts/run.sh\n")}},
         "WAKEPLANE_SHELL_ALLOW: \"" + (dir.path() / "relative").string() +
             "\": line 2: \"scripts/run.sh\" is not an absolute path without . or .. segments"},
        {{{"WAKEPLANE_SHELL", "maybe"}}, "WAKEPLANE_SHELL must be on or off, got \"maybe\""},
        {{{"WAKEPLANE_SHELL", "off"}, {"WAKEPLANE_SHELL_ALLOW", allow}},
         "WAKEPLANE_SHELL_ALLOW cannot be combined with WAKEPLANE_SHELL off, which allows no command"},
        {{{"WAKEPLANE_HTTP_DENY", "10.0.0.0/8,10.0.0.0/40"}},
         "WAKEPLANE_HTTP_DENY: \"10.0.0.0/40\" is not an IPv4 or IPv6 address range (CIDR): the prefix length must be a number from 0 to 32"},
        {{{"WAKEPLANE_HTTP_DENY", "metadata.internal"}},
         "WAKEPLANE_HTTP_DENY: \"metadata.internal\" is not an IPv4 or IPv6 address range (CIDR)"},
        {{{"WAKEPLANE_MAX_BODY_BYTES", "100"}}, "WAKEPLANE_MAX_BODY_BYTES must be a whole number of bytes from 1024 to 1073741824, got \"100\""},
        {{{"WAKEPLANE_MAX_HEADER_COUNT", "0"}}, "WAKEPLANE_MAX_HEADER_COUNT must be a whole number of header fields from 1 to 10000, got \"0\""},
        {{{"WAKEPLANE_MAX_RECEIPT_BYTES", "1e6"}}, "WAKEPLANE_MAX_RECEIPT_BYTES must be a whole number of bytes from 1 to 67108864, got \"1e6\""},
        {{{"WAKEPLANE_PLANNER_LOOKAHEAD_MS", "60001"}},
         "WAKEPLANE_PLANNER_LOOKAHEAD_MS must be a whole number of milliseconds from 0 to 60000, got \"60001\""},
        {{{"WAKEPLANE_HTTP_MAX_REDIRECTS", "51"}}, "WAKEPLANE_HTTP_MAX_REDIRECTS must be a whole number of redirects from 0 to 50, got \"51\""},
        {{{"WAKEPLANE_INSECURE_LISTEN", "yes please"}}, "WAKEPLANE_INSECURE_LISTEN must be true or false, got \"yes please\""},
    };
    for (const auto& [vars, message] : bad) {
        INFO(message);
        CHECK(error_of({}, vars) == message);
    }
}

TEST_CASE("a non-loopback address without tokens needs --insecure-listen", "[config][auth]") {
    for (const auto* loopback : {"127.0.0.1:8080", "127.10.0.1:0", "localhost:8080", "[::1]:8080"}) {
        INFO(loopback);
        auto c = resolve_config({}, env_of({{"WAKEPLANE_HTTP_ADDR", loopback}}));
        REQUIRE(c);
        CHECK_FALSE(exposed_without_tokens(*c));
    }
    for (const auto* exposed : {":8080", "0.0.0.0:8080", "10.1.2.3:80", "wakeplane.example.com:8080"}) {
        INFO(exposed);
        CHECK(error_of({}, {{"WAKEPLANE_HTTP_ADDR", exposed}}) ==
              "WAKEPLANE_HTTP_ADDR " + std::string(exposed) +
                  " is reachable from other machines and no API tokens are configured: set WAKEPLANE_API_TOKENS_FILE, "
                  "or pass --insecure-listen to serve it without authentication");
        flag_values insecure;
        insecure.insecure_listen = "true";
        auto c = resolve_config(insecure, env_of({{"WAKEPLANE_HTTP_ADDR", exposed}}));
        REQUIRE(c);
        CHECK(exposed_without_tokens(*c));
    }
    flag_values flag_addr;
    flag_addr.addr = "0.0.0.0:9000";
    CHECK(error_of(flag_addr, {}).starts_with("--addr 0.0.0.0:9000 is reachable from other machines"));
}
