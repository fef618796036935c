// The one translation unit that instantiates the test scheduler, its service and its API.
#include "api_fixture.hpp"

#include <catch2/catch.hpp>

#include <wakeplane/http/api.hpp>
#include <wakeplane/scheduler.hpp>
#include <wakeplane/service.hpp>
#include <wakeplane/stores/memory.hpp>
#include <wakeplane/testing/run_until.hpp>

#include "../support.hpp"

namespace wakeplane::testing {
namespace {

using scheduler_type = default_scheduler<stores::memory_store, manual_clock>;

/// The scripted workflow executor of api_fixture.hpp.
struct scripted_executor {
    static constexpr std::string_view kind = "workflow";
    manual_clock clock;

    execution_result execute(const target_spec& t, const run_context& ctx) const {
        execution_result r;
        if (t.workflow_id == "ok") {
            r.ok = true;
            r.result_json = R"({"done":true})";
            r.receipts.push_back(receipt_body{"workflow_result", "application/json", R"({"done":true})", false});
        } else if (t.workflow_id == "block") {
            clock.sleep_until(time_point::max(), ctx.stop);  // real-time ok: a manual clock, simulated time
            r.stopped = true;
            r.error_text = "stopped";
        } else {
            r.error_text = "boom";
        }
        return r;
    }
};

}  // namespace

struct api_fixture::impl {
    impl(manual_clock c, target_rule target_check)
        : clock(c),
          sched(stores::memory_store{stores::memory_backend{}}, clock, executors(clock),
                options_for_tests(std::move(target_check))),
          svc(sched),
          api(svc, api_fixture::options()),
          ctl(svc) {}

    static std::shared_ptr<executor_registry> executors(manual_clock c) {
        auto registry = std::make_shared<executor_registry>();
        registry->add(scripted_executor{c});
        return registry;
    }

    static scheduler_options options_for_tests(target_rule target_check) {
        scheduler_options o;
        o.target_check = std::move(target_check);
        o.id_seed = 7;
        o.dispatching.worker_id = "test-worker";
        return o;
    }

    manual_clock clock;
    scheduler_type sched;
    service<scheduler_type> svc;
    http::api<scheduler_type> api;
    http::scheduler_control<scheduler_type> ctl;  ///< the same operations, for tests that wrap them
};

api_fixture::api_fixture(target_rule target_check)
    : impl_(std::make_unique<impl>(manual_clock{at("2026-03-12T10:00:00Z")}, std::move(target_check))) {}

api_fixture::~api_fixture() = default;

http::response api_fixture::call(std::string method, std::string_view target, std::string body) {
    return impl_->api.handle(http::request::make(std::move(method), target, std::move(body)));
}

std::function<http::response(const http::request&)> api_fixture::handler() { return impl_->api.handler(); }

nlohmann::ordered_json api_fixture::json(std::string method, std::string_view target, std::string body, int expect) {
    auto r = call(std::move(method), target, std::move(body));
    INFO(target << " answered " << r.status << ": " << r.body);
    REQUIRE(r.status == expect);
    REQUIRE(r.content_type == "application/json");
    REQUIRE(r.body.ends_with("}\n"));
    return nlohmann::ordered_json::parse(r.body);
}

std::string api_fixture::create_schedule(std::string_view name, std::string_view workflow, std::string_view extra) {
    nlohmann::ordered_json body = {
        {"name", name},
        {"timezone", "UTC"},
        {"schedule", {{"kind", "interval"}, {"every_seconds", 3600}}},
        {"target", {{"kind", "workflow"}, {"workflow_id", workflow}}},
    };
    const auto more = nlohmann::ordered_json::parse(extra);
    for (const auto& [k, v] : more.items()) {
        body[k] = v;
    }
    return json("POST", "/v1/schedules", body.dump(), 201)["id"].get<std::string>();
}

std::pair<std::vector<std::string>, int> api_fixture::page_through(const std::string& path) {
    std::vector<std::string> ids;
    int pages = 0;
    std::string cursor;
    for (;;) {
        auto page = json("GET", path + (cursor.empty() ? "" : "&cursor=" + cursor));
        ++pages;
        REQUIRE(page["items"].is_array());
        for (const auto& item : page["items"]) {
            ids.push_back(item["id"].get<std::string>());
        }
        if (page["next_cursor"].is_null()) {
            return {ids, pages};
        }
        REQUIRE_FALSE(page["items"].empty());  // never an empty page before the last
        cursor = page["next_cursor"].get<std::string>();
    }
}

std::string api_fixture::trigger(std::string_view schedule, std::string_view reason) {
    const nlohmann::json body = {{"reason", reason}};
    return json("POST", "/v1/schedules/" + std::string(schedule) + "/trigger", body.dump())["run_id"].get<std::string>();
}

void api_fixture::step() {
    REQUIRE(impl_->svc.step());
    settle(impl_->sched);
    REQUIRE(impl_->svc.step());
}

void api_fixture::run_for(duration d) {
    REQUIRE(run_until(impl_->sched, impl_->clock.now() + d));
    step();
}

manual_clock& api_fixture::clock() { return impl_->clock; }

http::control& api_fixture::control() { return impl_->ctl; }

http::api_options api_fixture::options() { return {"9.9.9", "memory", ":memory:"}; }

}  // namespace wakeplane::testing
