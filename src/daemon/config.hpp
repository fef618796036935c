// wakeplaned's configuration: the original's WAKEPLANE_* variables and ours, each overridable by a
// flag, checked once at start-up (DECISIONS 30).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

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
    std::string worker_id;                         ///< `<host>:<pid>` unless configured (DECISIONS 17)
    log_level level = log_level::info;
};

/// The flags that override the environment, one per setting; unset when not given.
struct flag_values {
    std::optional<std::string> addr, db, store, scheduler_interval, dispatcher_interval, lease_ttl, worker_id,
        shutdown_timeout, log_level;
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
[[nodiscard]] result<config> resolve_config(const flag_values& flags, const env_reader& env);

}  // namespace wakeplane::daemon
