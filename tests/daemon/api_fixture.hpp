// The HTTP API in-process, without sockets: a scheduler on a memory store and a manual clock, a
// service that is stepped by hand, and the API's router. The scheduler is instantiated once, in
// api_fixture.cpp, so the test files that use it compile quickly.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <wakeplane/clock.hpp>
#include <wakeplane/http/control.hpp>
#include <wakeplane/http/message.hpp>
#include <wakeplane/http/router.hpp>
#include <wakeplane/time.hpp>
#include <wakeplane/validate.hpp>

namespace wakeplane::testing {

/// Targets of the fixture's workflow executor, by workflow_id:
/// - `ok`: succeeds with result `{"done":true}` and one `workflow_result` receipt;
/// - `fail`: fails with `boom` (retried or dead-lettered by the schedule's retry policy);
/// - `block`: runs until it is stopped (cancel, timeout, drain), sleeping on the manual clock.
class api_fixture {
public:
    /// The clock starts at 2026-03-12T10:00:00Z; `target_check` is the scheduler's extra
    /// validation of targets (scheduler_options::target_check), none by default.
    explicit api_fixture(target_rule target_check = {});
    ~api_fixture();
    api_fixture(const api_fixture&) = delete;
    api_fixture& operator=(const api_fixture&) = delete;

    /// One request through the router: `call("GET", "/v1/runs?limit=2")`.
    http::response call(std::string method, std::string_view target, std::string body = {});

    /// The API as a request handler, for wrapping it (authentication).
    [[nodiscard]] std::function<http::response(const http::request&)> handler();

    /// call() and the body parsed, keys in document order; fails the test unless the status is `expect`.
    nlohmann::ordered_json json(std::string method, std::string_view target, std::string body = {}, int expect = 200);

    /// POSTs a valid interval schedule (every hour, workflow `workflow`) named `name` and returns its id;
    /// `extra` members (a JSON object's text) replace or add top-level members.
    std::string create_schedule(std::string_view name, std::string_view workflow = "ok", std::string_view extra = "{}");

    /// Follows next_cursor from the first page of `path` (with a query string) to the last page,
    /// checking that no page before the last is empty; returns every item id in order and the
    /// number of pages.
    std::pair<std::vector<std::string>, int> page_through(const std::string& path);

    /// Triggers `schedule` with a reason and returns the run id.
    std::string trigger(std::string_view schedule, std::string_view reason = "test");

    /// One service pass (plan, dispatch), then waits until every execution has ended or sleeps
    /// on the manual clock, then one more pass to record what ended.
    void step();

    /// Moves the clock by `d`, stepping at every wake-up on the way (time travel).
    void run_for(duration d);

    [[nodiscard]] manual_clock& clock();
    /// The control behind the router, for tests that wrap it.
    [[nodiscard]] http::control& control();
    /// The router's options: version 9.9.9, driver memory, path :memory:.
    [[nodiscard]] static http::api_options options();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// The keys of a JSON object in their order: asserts the wire order of a response.
inline std::vector<std::string> keys_of(const nlohmann::ordered_json& j) {
    std::vector<std::string> out;
    for (const auto& [k, v] : j.items()) {
        out.push_back(k);
    }
    return out;
}

}  // namespace wakeplane::testing
