// `wakeplaned`: the Wakeplane daemon. With no arguments (or `serve`) it serves the HTTP JSON API
// over a durable scheduler until SIGINT or SIGTERM. Exit codes: 0 after a graceful stop,
// 1 when the store cannot be opened or the address bound, 2 for invalid usage or configuration.
#include <array>
#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include <wakeplane/http/json_log.hpp>

#include "config.hpp"
#include "run.hpp"
#include "signals.hpp"

namespace {

constexpr int exit_usage = 2;
const std::string version = WAKEPLANE_VERSION;

/// One readable line on stderr, exit status 2 (DECISIONS 30).
int usage_error(const std::string& message) {
    std::cerr << "wakeplaned: " << message << '\n';
    return exit_usage;
}

/// Adds `--name` whose value, when given, lands in `target` (left unset otherwise, so the
/// environment variable applies).
void add_setting(CLI::App& app, const std::string& name, std::optional<std::string>& target, const std::string& help) {
    app.add_option_function<std::string>(name, [&target](const std::string& v) { target = v; }, help);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace wakeplane;
    daemon::block_stop_signals();  // before any thread exists, so that every thread inherits it

    CLI::App app{"wakeplaned: the Wakeplane daemon, a durable scheduler behind an HTTP JSON API.\n"
                 "Every flag overrides its environment variable."};
    daemon::flag_values flags;
    struct setting {
        const char* name;
        std::optional<std::string>* target;
        const char* help;
    };
    const std::array<setting, 18> settings{{
        {"--addr", &flags.addr, "Listen address host:port (WAKEPLANE_HTTP_ADDR, default 127.0.0.1:8080)"},
        {"--db", &flags.db, "SQLite file or RocksDB directory (WAKEPLANE_DB_PATH, default ./wakeplane.db)"},
        {"--store", &flags.store, "sqlite or rocksdb (WAKEPLANE_STORE, default sqlite)"},
        {"--scheduler-interval", &flags.scheduler_interval,
         "Planner safety tick, seconds (WAKEPLANE_SCHEDULER_INTERVAL_SECONDS, default 5)"},
        {"--dispatcher-interval", &flags.dispatcher_interval,
         "Dispatcher safety tick, seconds (WAKEPLANE_DISPATCHER_INTERVAL_SECONDS, default 2)"},
        {"--lease-ttl", &flags.lease_ttl, "Run lease, seconds (WAKEPLANE_LEASE_TTL_SECONDS, default 30)"},
        {"--worker-id", &flags.worker_id, "Worker id in leases (WAKEPLANE_WORKER_ID, default <host>:<pid>)"},
        {"--shutdown-timeout", &flags.shutdown_timeout,
         "Drain deadline on SIGTERM, seconds (WAKEPLANE_SHUTDOWN_TIMEOUT_SECONDS, default 30)"},
        {"--log-level", &flags.log_level, "debug, info, warn or error (WAKEPLANE_LOG_LEVEL, default info)"},
        {"--api-tokens-file", &flags.api_tokens_file,
         "File of API tokens, one per line or name:token (WAKEPLANE_API_TOKENS_FILE, default none: no auth)"},
        {"--shell", &flags.shell, "on or off: whether shell targets may run (WAKEPLANE_SHELL, default on)"},
        {"--shell-allow", &flags.shell_allow,
         "File of allowed absolute commands, or directories ending in / (WAKEPLANE_SHELL_ALLOW, default any)"},
        {"--http-deny", &flags.http_deny,
         "CIDR ranges HTTP targets may not reach, comma-separated (WAKEPLANE_HTTP_DENY, default none)"},
        {"--http-max-redirects", &flags.http_max_redirects,
         "Redirects an HTTP target may follow (WAKEPLANE_HTTP_MAX_REDIRECTS, default 5)"},
        {"--max-body-bytes", &flags.max_body_bytes, "Largest request body (WAKEPLANE_MAX_BODY_BYTES, default 1048576)"},
        {"--max-header-count", &flags.max_header_count,
         "Most header fields in a request (WAKEPLANE_MAX_HEADER_COUNT, default 100)"},
        {"--planner-lookahead-ms", &flags.planner_lookahead,
         "How long before its time an occurrence is written, milliseconds, 0 to 60000 (WAKEPLANE_PLANNER_LOOKAHEAD_MS, "
         "default 1000)"},
        {"--max-receipt-bytes", &flags.max_receipt_bytes,
         "Bytes kept of each receipt: stdout, stderr, HTTP response, workflow result (WAKEPLANE_MAX_RECEIPT_BYTES, "
         "default 65536)"},
    }};
    for (const auto& s : settings) {
        add_setting(app, s.name, *s.target, s.help);
    }
    app.add_flag_callback("--insecure-listen", [&flags] { flags.insecure_listen = "true"; },
                          "Serve a non-loopback address without API tokens (WAKEPLANE_INSECURE_LISTEN)");
    auto* version_flag = app.add_flag("--version")->description("Print the version and exit");
    app.add_subcommand("serve", "Run the daemon (the default)")->fallthrough();
    auto* version_cmd = app.add_subcommand("version", "Print the version and exit");
    app.require_subcommand(0, 1);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        return usage_error(e.what());
    }
    if (version_flag->count() > 0 || version_cmd->parsed()) {
        std::cout << version << '\n';
        return 0;
    }

    auto cfg = daemon::resolve_config(flags, daemon::process_env);
    if (!cfg) {
        return usage_error("invalid configuration: " + cfg.error().message);
    }
    const logger log = http::stderr_json_logger(cfg->level);
    emit(log, log_level::info, "starting",
         {{"version", version},
          {"store", daemon::to_string(cfg->store)},
          {"path", cfg->db_path},
          {"worker_id", cfg->worker_id},
          {"lease_ttl_seconds", cfg->lease_ttl_seconds},
          {"shutdown_timeout_seconds", cfg->shutdown_timeout_seconds},
          {"api_tokens", cfg->api_tokens ? cfg->api_tokens->size() : std::size_t{0}}});
    if (daemon::exposed_without_tokens(*cfg)) {
        emit(log, log_level::warn, "serving without authentication on a non-loopback address (--insecure-listen)",
             {{"addr", cfg->http_addr}});
    }
    return cfg->store == daemon::store_kind::rocksdb ? daemon::run_rocksdb(*cfg, log, version)
                                                     : daemon::run_sqlite(*cfg, log, version);
}
