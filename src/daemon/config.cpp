// Resolving wakeplaned's settings from flags and the environment, with one clear line per mistake.
#include "config.hpp"

#include <unistd.h>

#include <array>
#include <charconv>
#include <cstdlib>

#include <wakeplane/http/server.hpp>
#include <wakeplane/validate.hpp>

namespace wakeplane::daemon {
namespace {

/// Where a value came from, for the error message, and the value; nullopt (or "") means default.
struct raw_value {
    std::string_view source;
    std::optional<std::string> text;
};

/// A flag's value when given, else the variable's.
raw_value pick(const std::optional<std::string>& flag_value, std::string_view flag, std::string_view env_name,
               const env_reader& env) {
    if (flag_value) {
        return {flag, flag_value};
    }
    return {env_name, env(env_name)};
}

bool is_default(const raw_value& v) { return !v.text || v.text->empty(); }

tl::unexpected<error> bad(const raw_value& v, std::string_view expected) {
    return fail(errc::bad_request, std::string(v.source) + " must be " + std::string(expected) + ", got \"" + *v.text + "\"");
}

/// A whole number of seconds from 1 to max_duration_seconds (a larger one would overflow time).
result<std::int64_t> positive_seconds(const raw_value& v, std::int64_t fallback) {
    if (is_default(v)) {
        return fallback;
    }
    std::int64_t n = 0;
    const auto& text = *v.text;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end != text.data() + text.size() || n < 1 || n > max_duration_seconds) {
        return bad(v, "a whole number of seconds from 1 to " + std::to_string(max_duration_seconds));
    }
    return n;
}

}  // namespace

std::string_view to_string(store_kind k) noexcept { return k == store_kind::rocksdb ? "rocksdb" : "sqlite"; }

std::optional<std::string> process_env(std::string_view name) {
    const char* v = std::getenv(std::string(name).c_str());
    return v != nullptr ? std::optional<std::string>{v} : std::nullopt;
}

std::string default_worker_id() {
    std::array<char, 256> host{};
    if (::gethostname(host.data(), host.size() - 1) != 0) {
        host[0] = '\0';
    }
    const std::string name = host[0] != '\0' ? std::string(host.data()) : std::string("localhost");
    return name + ":" + std::to_string(::getpid());
}

result<config> resolve_config(const flag_values& flags, const env_reader& env) {
    config c;

    const auto addr = pick(flags.addr, "--addr", "WAKEPLANE_HTTP_ADDR", env);
    if (!is_default(addr)) {
        if (auto parts = http::split_address(*addr.text); !parts) {
            return bad(addr, "host:port (" + parts.error().message + ")");
        }
        c.http_addr = *addr.text;
    }

    if (const auto db = pick(flags.db, "--db", "WAKEPLANE_DB_PATH", env); !is_default(db)) {
        c.db_path = *db.text;
    }

    if (const auto store = pick(flags.store, "--store", "WAKEPLANE_STORE", env); !is_default(store)) {
        if (*store.text == "sqlite") {
            c.store = store_kind::sqlite;
        } else if (*store.text == "rocksdb") {
            c.store = store_kind::rocksdb;
        } else {
            return bad(store, "sqlite or rocksdb");
        }
    }

    struct seconds_setting {
        const std::optional<std::string>& flag_value;
        std::string_view flag;
        std::string_view env;
        std::int64_t& out;
    };
    const std::array<seconds_setting, 4> durations{{
        {flags.scheduler_interval, "--scheduler-interval", "WAKEPLANE_SCHEDULER_INTERVAL_SECONDS", c.scheduler_interval_seconds},
        {flags.dispatcher_interval, "--dispatcher-interval", "WAKEPLANE_DISPATCHER_INTERVAL_SECONDS", c.dispatcher_interval_seconds},
        {flags.lease_ttl, "--lease-ttl", "WAKEPLANE_LEASE_TTL_SECONDS", c.lease_ttl_seconds},
        {flags.shutdown_timeout, "--shutdown-timeout", "WAKEPLANE_SHUTDOWN_TIMEOUT_SECONDS", c.shutdown_timeout_seconds},
    }};
    for (const auto& d : durations) {
        auto n = positive_seconds(pick(d.flag_value, d.flag, d.env, env), d.out);
        if (!n) {
            return tl::unexpected(n.error());
        }
        d.out = *n;
    }

    const auto worker = pick(flags.worker_id, "--worker-id", "WAKEPLANE_WORKER_ID", env);
    c.worker_id = is_default(worker) ? default_worker_id() : *worker.text;

    if (const auto level = pick(flags.log_level, "--log-level", "WAKEPLANE_LOG_LEVEL", env); !is_default(level)) {
        auto l = parse_log_level(*level.text);
        if (!l) {
            return bad(level, "debug, info, warn or error");
        }
        c.level = *l;
    }
    return c;
}

}  // namespace wakeplane::daemon
