// wakeplaned's configuration: defaults, environment, flags over environment, one line per mistake.
#include "../../src/daemon/config.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <map>
#include <string>

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
        {"WAKEPLANE_LOG_LEVEL", "DEBUG"}};
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
