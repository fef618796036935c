// The daemon's lifecycle over one store type: scheduler, service loop, HTTP API, signals, drain.
// Instantiated once per store in its own translation unit (serve_sqlite.cpp, serve_rocksdb.cpp).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include <wakeplane/clock.hpp>
#include <wakeplane/executors/http.hpp>
#include <wakeplane/executors/shell.hpp>
#include <wakeplane/executors/workflow.hpp>
#include <wakeplane/http/api.hpp>
#include <wakeplane/http/auth.hpp>
#include <wakeplane/http/server.hpp>
#include <wakeplane/log.hpp>
#include <wakeplane/scheduler.hpp>
#include <wakeplane/service.hpp>

#include "config.hpp"
#include "signals.hpp"

namespace wakeplane::daemon {

/// The executors of a plain daemon: http, shell and workflow, with the configured receipt bound,
/// shell policy and HTTP deny list. No workflow handler is registered (as in the original):
/// workflows are for programs that embed the scheduler.
inline std::shared_ptr<executor_registry> daemon_executors(const config& cfg) {
    const executor_limits limits{cfg.max_receipt_bytes};
    executors::http_options http;
    http.max_redirects = cfg.http_max_redirects;
    http.deny = cfg.http_deny;
    executors::shell_options shell;
    shell.commands = cfg.shell;
    auto registry = std::make_shared<executor_registry>();
    registry->add(executors::http_executor{limits, std::move(http)});
    registry->add(executors::shell_executor{limits, std::move(shell)});
    registry->add(executors::workflow_executor{std::make_shared<executors::workflow_registry>(), limits});
    return registry;
}

/// Runs the daemon over `store` until SIGINT or SIGTERM (ORIGINAL-BEHAVIOR §9.3, DECISIONS 15):
/// listen, start the loop, serve; on a signal stop the HTTP server, drain within the shutdown
/// timeout, stop the loop, close the store. Returns the exit status: 0 after a signal, 1 when
/// the address cannot be bound or serving fails.
template <class Store>
int serve(const config& cfg, Store store, const logger& log, const std::string& version) {
    using scheduler_type = default_scheduler<Store, system_clock>;
    int status = 0;
    {
        scheduler_options options;
        options.dispatching.worker_id = cfg.worker_id;
        options.dispatching.lease_ttl = std::chrono::seconds{cfg.lease_ttl_seconds};
        options.planning.lookahead = std::chrono::milliseconds{cfg.planner_lookahead_ms};
        // What the planner writes ahead is claimed ahead too: at the due time only the start remains.
        options.dispatching.claim_ahead = options.planning.lookahead;
        options.target_check = [shell = cfg.shell](const target_spec& t) { return shell.check(t); };
        scheduler_type sched{std::move(store), system_clock{}, daemon_executors(cfg), options};

        service_options loop;
        loop.planner_interval = std::chrono::seconds{cfg.scheduler_interval_seconds};
        loop.dispatcher_interval = std::chrono::seconds{cfg.dispatcher_interval_seconds};
        service<scheduler_type> svc{sched, loop, log};
        http::api<scheduler_type> api{svc, {version, std::string(to_string(cfg.store)), cfg.db_path}};
        http::server_options limits;
        limits.max_body_bytes = cfg.max_body_bytes;
        limits.max_header_count = cfg.max_header_count;
        http::server srv{cfg.api_tokens ? http::require_bearer_token(api.handler(), cfg.api_tokens) : api.handler(),
                         limits, log};

        auto bound = srv.bind(cfg.http_addr);
        if (!bound) {
            emit(log, log_level::error, "serve exited with error", {{"error", bound.error().message}});
            return 1;
        }
        emit(log, log_level::info, "listening", {{"addr", *bound}});
        svc.start();
        std::atomic<bool> failed{false};
        std::thread http_thread{[&] {
            if (!srv.run()) {
                failed = true;
                emit(log, log_level::error, "serve exited with error", {{"error", "the HTTP server stopped"}});
                request_stop();
            }
        }};

        const auto signal = wait_for_stop_signal();
        if (!failed) {
            emit(log, log_level::info, "signal received, shutting down HTTP server", {{"signal", signal}});
        }
        srv.stop();
        http_thread.join();
        svc.shutdown(std::chrono::seconds{cfg.shutdown_timeout_seconds});
        status = failed ? 1 : 0;
    }  // the loop has stopped; the scheduler and its store close here
    emit(log, log_level::info, "shutdown complete");
    if (status == 0) {
        emit(log, log_level::info, "serve stopped cleanly");
    }
    return status;
}

}  // namespace wakeplane::daemon
