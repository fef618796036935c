// wakeplaned's configuration: the original's WAKEPLANE_* variables and ours, each overridable by a
// flag, checked once at start-up (DECISIONS 30).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <wakeplane/executors/address_range.hpp>
#include <wakeplane/executors/shell_policy.hpp>
#include <wakeplane/http/auth.hpp>
#include <wakeplane/log.hpp>
#include <wakeplane/result.hpp>

namespace wakeplane::daemon {

/// The storage engine behind the daemon.
enum class store_kind { sqlite, rocksdb };

/// `sqlite` or `rocksdb`: the spelling of WAKEPLANE_STORE and of /v1/status `database.driver`.
[[nodiscard]] std::string_view to_string(store_kind k) noexcept;

/// The effective configuration.
struct config {
    std::string http_addr = "127.0.0.1:8080";
    std::string db_path = "./wakeplane.db";  ///< a file (sqlite) or a directory (rocksdb)
    store_kind store = store_kind::sqlite;
    std::int64_t scheduler_interval_seconds = 5;   ///< the planner's safety tick
    std::int64_t dispatcher_interval_seconds = 2;  ///< the dispatcher's safety tick
    std::int64_t lease_ttl_seconds = 30;
    std::int64_t shutdown_timeout_seconds = 30;
    /// How long before an occurrence the planner writes it (planner_options::lookahead): it takes
    /// the planner's writes off the instant many schedules fall due together.
    std::int64_t planner_lookahead_ms = 1000;
    std::string worker_id;                         ///< `<host>:<pid>` unless configured (DECISIONS 17)
    log_level level = log_level::info;

    // ---- exposure and limits (docs/security.md) ---------------------------------------------
    /// The accepted API tokens, loaded from WAKEPLANE_API_TOKENS_FILE; nullptr: no authentication.
    std::shared_ptr<const http::token_set> api_tokens;
    /// Serve a non-loopback address without tokens (refused at start-up otherwise).
    bool insecure_listen = false;
    /// What shell targets may run: WAKEPLANE_SHELL=off and WAKEPLANE_SHELL_ALLOW.
    executors::shell_policy shell = executors::shell_policy::allow_all();
    /// Address ranges HTTP targets may not connect to.
    std::vector<executors::address_range> http_deny;
    long http_max_redirects = 5;
    std::size_t max_body_bytes = 1024 * 1024;
    std::size_t max_header_count = 100;
    std::size_t max_receipt_bytes = 64 * 1024;
};

/// The flags that override the environment, one per setting; unset when not given.
struct flag_values {
    std::optional<std::string> addr, db, store, scheduler_interval, dispatcher_interval, lease_ttl, worker_id,
        shutdown_timeout, log_level, api_tokens_file, insecure_listen, shell, shell_allow, http_deny,
        http_max_redirects, max_body_bytes, max_header_count, max_receipt_bytes, planner_lookahead;
};

/// Reads an environment variable; nullopt when unset.
using env_reader = std::function<std::optional<std::string>(std::string_view name)>;

/// The process environment.
[[nodiscard]] std::optional<std::string> process_env(std::string_view name);

/// `<host name>:<pid>`: a worker id unique per process.
[[nodiscard]] std::string default_worker_id();

/// Resolves every setting: a flag wins over its variable; an empty value means the default.
/// The first invalid one is errc::bad_request with one line naming where it came from:
/// `WAKEPLANE_LEASE_TTL_SECONDS must be a whole number of seconds from 1 to 3155760000, got "0"`.
/// Files named by settings (WAKEPLANE_API_TOKENS_FILE, WAKEPLANE_SHELL_ALLOW) are read here too,
/// so a missing or malformed file stops start-up. Listening on an address that is not loopback
/// without API tokens is refused unless `insecure_listen` is set.
[[nodiscard]] result<config> resolve_config(const flag_values& flags, const env_reader& env);

/// Whether `c` serves an address other than loopback without authentication (allowed only
/// with insecure_listen; the daemon then logs a warning).
[[nodiscard]] bool exposed_without_tokens(const config& c);

}  // namespace wakeplane::daemon
