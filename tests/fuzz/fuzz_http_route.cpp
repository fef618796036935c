// libFuzzer target: the daemon's HTTP request path without sockets — request target parsing
// (path and query decoding), routing, query parameters (limit, cursor, status, count, ...) and
// the handlers behind them, over a memory store on a manual clock.
//
// Input: the method on the first line, the request target (`/v1/runs?status=failed`) on the
// second, the body after it. Each input gets a fresh API holding one schedule
// (sch_01KKGQT880XHKS22HDXJ4G4Q61) with one triggered run (run_01KKGQT880XHKS22HDXJ4G4Q62): the
// id seed is fixed, so the corpus can name them and routes with `{id}` reach their handlers. Properties: handling never crashes, no handler throws (the router
// would answer 500), every status is a valid HTTP status, and JSON bodies end with a newline.
#include <wakeplane/http/api.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include <wakeplane/executor.hpp>
#include <wakeplane/scheduler.hpp>
#include <wakeplane/service.hpp>
#include <wakeplane/stores/memory.hpp>

#include "fuzz_input.hpp"

namespace {

using namespace wakeplane;
using fuzz::require;
using scheduler_type = default_scheduler<stores::memory_store, manual_clock>;

/// The daemon's API in-process. Nothing executes runs: the registry is empty and the service
/// is never stepped, so a request's only effects are its handler's store reads and writes.
struct api_host {
    api_host()
        : sched(stores::memory_store{stores::memory_backend{}}, manual_clock{start()},
                std::make_shared<executor_registry>(), options()),
          svc(sched),
          api(svc, {.version = "0.0.0", .database_driver = "memory", .database_path = ":memory:"}) {
        schedule_input in;
        in.name = "fuzzed";
        in.timezone = "UTC";
        in.schedule.kind = "cron";
        in.schedule.expr = "*/5 * * * *";
        in.target.kind = "workflow";
        in.target.workflow_id = "noop";
        auto created = sched.create_schedule(in);
        require(created.has_value(), "the fixture's schedule is valid");
        require(sched.trigger(created->id, "fuzz").has_value(), "the fixture's schedule can be triggered");
    }

    static time_point start() { return time_point{std::chrono::seconds{1'773'309'600}}; }  // 2026-03-12T10:00:00Z

    /// A fixed id seed: the same schedule and run ids for every input.
    static scheduler_options options() {
        scheduler_options o;
        o.id_seed = 1;
        return o;
    }

    scheduler_type sched;
    service<scheduler_type> svc;
    http::api<scheduler_type> api;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto text = fuzz::as_text(data, size);
    const auto method = fuzz::take_line(text);
    const auto target = fuzz::take_line(text);
    api_host host;
    const auto resp = host.api.handle(http::request::make(std::string{method}, target, std::string{text}));
    require(resp.status != 500, "no handler throws");
    require(resp.status >= 200 && resp.status <= 599, "the status is a valid HTTP status");
    require(resp.content_type != "application/json" || resp.body.ends_with('\n'), "JSON bodies end with a newline");
    return 0;
}
