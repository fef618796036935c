// Resolving wakeplaned's settings from flags and the environment, with one clear line per mistake.
#include "config.hpp"

#include <arpa/inet.h>
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

/// A whole number from `low` to `high`, `fallback` when not set; `unit` names what it counts.
result<std::int64_t> whole_number(const raw_value& v, std::int64_t low, std::int64_t high, std::int64_t fallback,
                                  std::string_view unit) {
    if (is_default(v)) {
        return fallback;
    }
    std::int64_t n = 0;
    const auto& text = *v.text;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end != text.data() + text.size() || n < low || n > high) {
        return bad(v, "a whole number of " + std::string(unit) + " from " + std::to_string(low) + " to " +
                          std::to_string(high));
    }
    return n;
}

/// A whole number of seconds from 1 to max_duration_seconds (a larger one would overflow time).
result<std::int64_t> positive_seconds(const raw_value& v, std::int64_t fallback) {
    return whole_number(v, 1, max_duration_seconds, fallback, "seconds");
}

/// `--insecure-listen` (given: true) or WAKEPLANE_INSECURE_LISTEN `true`/`false`/`1`/`0`.
result<bool> boolean(const raw_value& v) {
    if (is_default(v)) {
        return false;
    }
    if (*v.text == "true" || *v.text == "1") {
        return true;
    }
    if (*v.text == "false" || *v.text == "0") {
        return false;
    }
    return bad(v, "true or false");
}

/// A setting whose value a loader (a file parser) checks; its error is prefixed with the source.
template <class T>
result<T> loaded(const raw_value& v, result<T> r) {
    if (!r) {
        return fail(errc::bad_request, std::string(v.source) + ": " + r.error().message);
    }
    return r;
}

/// The API tokens of WAKEPLANE_API_TOKENS_FILE, nullptr when not set.
result<std::shared_ptr<const http::token_set>> api_tokens(const raw_value& file) {
    if (is_default(file)) {
        return std::shared_ptr<const http::token_set>{};
    }
    auto tokens = loaded(file, http::token_set::load(*file.text));
    if (!tokens) {
        return tl::unexpected(tokens.error());
    }
    return std::make_shared<const http::token_set>(std::move(*tokens));
}

/// WAKEPLANE_SHELL (`on`, the default, or `off`) and WAKEPLANE_SHELL_ALLOW (a file) together.
result<executors::shell_policy> shell_policy_of(const raw_value& mode, const raw_value& allow) {
    const bool off = !is_default(mode) && *mode.text == "off";
    if (!is_default(mode) && !off && *mode.text != "on") {
        return bad(mode, "on or off");
    }
    if (off && !is_default(allow)) {
        return fail(errc::bad_request, std::string(allow.source) + " cannot be combined with " +
                                           std::string(mode.source) + " off, which allows no command");
    }
    if (off) {
        return executors::shell_policy::disabled();
    }
    if (is_default(allow)) {
        return executors::shell_policy::allow_all();
    }
    return loaded(allow, executors::shell_policy::load(*allow.text));
}

/// Loopback hosts: `localhost`, 127.0.0.0/8 and `::1`. A name other than `localhost` counts as
/// exposed, since what it resolves to is not known here.
bool is_loopback_host(const std::string& host) {
    if (host == "localhost" || host == "::1" || host == "[::1]") {
        return true;
    }
    in_addr v4{};
    return ::inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

/// The exposure and limit settings of docs/security.md.
result<void> resolve_security(const flag_values& flags, const env_reader& env, config& c) {
    auto tokens = api_tokens(pick(flags.api_tokens_file, "--api-tokens-file", "WAKEPLANE_API_TOKENS_FILE", env));
    if (!tokens) {
        return tl::unexpected(tokens.error());
    }
    c.api_tokens = std::move(*tokens);

    const auto insecure = pick(flags.insecure_listen, "--insecure-listen", "WAKEPLANE_INSECURE_LISTEN", env);
    auto insecure_listen = boolean(insecure);
    if (!insecure_listen) {
        return tl::unexpected(insecure_listen.error());
    }
    c.insecure_listen = *insecure_listen;

    auto shell = shell_policy_of(pick(flags.shell, "--shell", "WAKEPLANE_SHELL", env),
                                 pick(flags.shell_allow, "--shell-allow", "WAKEPLANE_SHELL_ALLOW", env));
    if (!shell) {
        return tl::unexpected(shell.error());
    }
    c.shell = std::move(*shell);

    if (const auto deny = pick(flags.http_deny, "--http-deny", "WAKEPLANE_HTTP_DENY", env); !is_default(deny)) {
        auto ranges = loaded(deny, executors::parse_address_ranges(*deny.text));
        if (!ranges) {
            return tl::unexpected(ranges.error());
        }
        c.http_deny = std::move(*ranges);
    }

    struct count_setting {
        const std::optional<std::string>& flag_value;
        std::string_view flag;
        std::string_view env;
        std::int64_t low, high;
        std::string_view unit;
        std::int64_t fallback;
    };
    const std::array<count_setting, 5> counts{{
        {flags.http_max_redirects, "--http-max-redirects", "WAKEPLANE_HTTP_MAX_REDIRECTS", 0, 50, "redirects", c.http_max_redirects},
        {flags.max_body_bytes, "--max-body-bytes", "WAKEPLANE_MAX_BODY_BYTES", 1024, 1LL << 30, "bytes",
         static_cast<std::int64_t>(c.max_body_bytes)},
        {flags.max_header_count, "--max-header-count", "WAKEPLANE_MAX_HEADER_COUNT", 1, 10'000, "header fields",
         static_cast<std::int64_t>(c.max_header_count)},
        {flags.max_receipt_bytes, "--max-receipt-bytes", "WAKEPLANE_MAX_RECEIPT_BYTES", 1, 64LL << 20, "bytes",
         static_cast<std::int64_t>(c.max_receipt_bytes)},
        {flags.planner_lookahead, "--planner-lookahead-ms", "WAKEPLANE_PLANNER_LOOKAHEAD_MS", 0, 60'000, "milliseconds",
         c.planner_lookahead_ms},
    }};
    std::array<std::int64_t, counts.size()> values{};
    for (std::size_t i = 0; i < counts.size(); ++i) {
        const auto& s = counts[i];
        auto n = whole_number(pick(s.flag_value, s.flag, s.env, env), s.low, s.high, s.fallback, s.unit);
        if (!n) {
            return tl::unexpected(n.error());
        }
        values[i] = *n;
    }
    c.http_max_redirects = static_cast<long>(values[0]);
    c.max_body_bytes = static_cast<std::size_t>(values[1]);
    c.max_header_count = static_cast<std::size_t>(values[2]);
    c.max_receipt_bytes = static_cast<std::size_t>(values[3]);
    c.planner_lookahead_ms = values[4];
    return {};
}

}  // namespace

bool exposed_without_tokens(const config& c) {
    const auto parts = http::split_address(c.http_addr);
    return !c.api_tokens && (!parts || !is_loopback_host(parts->first));
}

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

    if (auto security = resolve_security(flags, env, c); !security) {
        return tl::unexpected(security.error());
    }
    if (exposed_without_tokens(c) && !c.insecure_listen) {
        return fail(errc::bad_request, std::string(addr.source) + " " + c.http_addr +
                                           " is reachable from other machines and no API tokens are configured: "
                                           "set WAKEPLANE_API_TOKENS_FILE, or pass --insecure-listen to serve it "
                                           "without authentication");
    }
    return c;
}

}  // namespace wakeplane::daemon
