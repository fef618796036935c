// A host program that embeds Wakeplane: its own scheduler type (a custom retry policy, a reduced
// misfire set), an in-process workflow handler, and the same HTTP API as wakeplaned.
//
//     build/examples/embedded/wakeplane-embedded [addr] [sqlite file]
//     curl -s localhost:8090/v1/schedules            # the customer-sync schedule it keeps
//     curl -s -XPOST localhost:8090/v1/schedules/<id>/trigger -d '{"reason":"try it"}'
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include <wakeplane/clock.hpp>
#include <wakeplane/executors/http.hpp>
#include <wakeplane/executors/shell.hpp>
#include <wakeplane/executors/workflow.hpp>
#include <wakeplane/http/api.hpp>
#include <wakeplane/http/json_log.hpp>
#include <wakeplane/http/server.hpp>
#include <wakeplane/scheduler.hpp>
#include <wakeplane/service.hpp>
#include <wakeplane/stores/sqlite.hpp>

namespace {

using namespace std::chrono_literals;

/// A retry policy of this host: a flat delay (`retry.initial_delay_seconds`) between attempts,
/// `retry.max_attempts` attempts in all. Pure and noexcept, like every policy.
struct fixed_delay {
    static constexpr std::string_view name = "fixed";
    std::int64_t max_attempts = 0;
    std::chrono::seconds delay{30};

    /// The schedule's retry block supplies the numbers.
    [[nodiscard]] static fixed_delay from(const wakeplane::retry_spec& r) noexcept {
        return fixed_delay{r.max_attempts, std::chrono::seconds{r.initial_delay_seconds > 0 ? r.initial_delay_seconds : 30}};
    }
    [[nodiscard]] std::optional<wakeplane::duration> delay_after(std::int64_t failed_attempt) const noexcept {
        if (failed_attempt < 1 || failed_attempt >= max_attempts) {
            return std::nullopt;
        }
        return std::chrono::duration_cast<wakeplane::duration>(delay);
    }
    friend bool operator==(const fixed_delay&, const fixed_delay&) = default;
};

/// This host never replays a backlog (no catch_up) and adds `fixed` to the built-in retries.
/// A schedule naming catch_up is refused at validation, listing the names below.
using host_scheduler = wakeplane::scheduler<wakeplane::stores::sqlite_store, wakeplane::system_clock,
                                            wakeplane::misfire::set<wakeplane::misfire::skip, wakeplane::misfire::run_once_if_late>,
                                            wakeplane::retry::set<wakeplane::retry::none, wakeplane::retry::exponential, fixed_delay>>;

/// The workflow `sync.customers`: reads `{"source": …}` from the target's input and reports
/// what it did. A real handler would call the host's own code here, watching call.ctx.stop.
wakeplane::executors::workflow_outcome sync_customers(const wakeplane::executors::workflow_call& call) {
    const auto input = nlohmann::json::parse(call.input_json);
    const std::string source = input.value("source", "crm");
    const nlohmann::json result = {{"source", source}, {"synced", 42}, {"attempt", call.ctx.attempt}};
    return wakeplane::executors::workflow_outcome::success(result.dump());
}

/// The executors of this host: the built-in three, with one workflow handler registered.
std::shared_ptr<wakeplane::executor_registry> host_executors() {
    auto workflows = std::make_shared<wakeplane::executors::workflow_registry>();
    workflows->add("sync.customers", sync_customers);
    auto registry = std::make_shared<wakeplane::executor_registry>();
    registry->add(wakeplane::executors::http_executor{});
    registry->add(wakeplane::executors::shell_executor{});
    registry->add(wakeplane::executors::workflow_executor{workflows});
    return registry;
}

/// The schedule this host keeps: created once, found by name afterwards.
wakeplane::result<void> ensure_customer_sync(host_scheduler& sched) {
    wakeplane::schedule_filter live;
    auto existing = sched.store().list_schedules(live, wakeplane::page_request{std::nullopt, 500});
    if (!existing) {
        return tl::unexpected(existing.error());
    }
    for (const auto& s : existing->items) {
        if (s.name == "customer-sync") {
            return {};
        }
    }
    wakeplane::schedule_input in;
    in.name = "customer-sync";
    in.timezone = "America/Los_Angeles";
    in.schedule.kind = "cron";
    in.schedule.expr = "0 2 * * *";
    in.target.kind = "workflow";
    in.target.workflow_id = "sync.customers";
    in.target.input_json = R"({"source":"crm"})";
    in.retry.strategy = "fixed";
    in.retry.max_attempts = 3;
    in.retry.initial_delay_seconds = 60;
    in.retry.max_delay_seconds = 60;
    auto created = sched.create_schedule(in);
    if (!created) {
        return tl::unexpected(created.error());
    }
    return {};
}

/// Waits for SIGINT or SIGTERM, which main() blocked in every thread.
void wait_for_stop(const sigset_t& stop) {
    int sig = 0;
    while (::sigwait(&stop, &sig) != 0) {
        // only an invalid set fails; ours is valid
    }
}

}  // namespace

int main(int argc, char** argv) {
    sigset_t stop;
    ::sigemptyset(&stop);
    ::sigaddset(&stop, SIGINT);
    ::sigaddset(&stop, SIGTERM);
    ::pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // before any thread starts

    const std::string addr = argc > 1 ? argv[1] : "127.0.0.1:8090";
    const std::string db = argc > 2 ? argv[2] : "./embedded.db";
    const auto log = wakeplane::http::stderr_json_logger(wakeplane::log_level::info);

    auto backend = wakeplane::stores::sqlite_backend::open(wakeplane::stores::sqlite_options{db});
    if (!backend) {
        std::cerr << "wakeplane-embedded: " << backend.error().message << '\n';
        return 1;
    }
    wakeplane::scheduler_options options;
    options.dispatching.worker_id = "embedded:" + std::to_string(::getpid());
    host_scheduler sched{wakeplane::stores::sqlite_store{std::move(*backend)}, wakeplane::system_clock{}, host_executors(),
                         options};
    if (auto ok = ensure_customer_sync(sched); !ok) {
        std::cerr << "wakeplane-embedded: " << ok.error().message << '\n';
        return 1;
    }

    wakeplane::service<host_scheduler> svc{sched, {}, log};
    wakeplane::http::api<host_scheduler> api{svc, {"embedded-" WAKEPLANE_VERSION, "sqlite", db}};
    wakeplane::http::server srv{api.handler(), {}, log};
    auto bound = srv.bind(addr);
    if (!bound) {
        std::cerr << "wakeplane-embedded: " << bound.error().message << '\n';
        return 1;
    }
    wakeplane::emit(log, wakeplane::log_level::info, "listening", {{"addr", *bound}});
    svc.start();
    std::thread http_thread{[&] { srv.run(); }};

    wait_for_stop(stop);
    srv.stop();
    http_thread.join();
    svc.shutdown(10s);
    return 0;
}
