#include <wakeplane/executors/workflow.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "../helpers/executor_support.hpp"

using namespace wakeplane;
using namespace wakeplane::executors;
using namespace std::chrono_literals;
using wakeplane::testing::eventually;
using wakeplane::testing::test_context;

namespace {

target_spec workflow_target(std::string id, std::string input_json = "") {
    target_spec t;
    t.kind = "workflow";
    t.workflow_id = std::move(id);
    t.input_json = std::move(input_json);
    return t;
}

/// A one-shot signal between a test and a handler thread.
class gate {
public:
    void open() {
        {
            std::lock_guard lock{mutex_};
            open_ = true;
        }
        changed_.notify_all();
    }
    /// Waits until open; false after a generous bound.
    bool wait() {
        std::unique_lock lock{mutex_};
        return changed_.wait_for(lock, 10s, [&] { return open_; });  // real-time ok: a failure bound
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool open_ = false;
};

}  // namespace

TEST_CASE("workflow_executor models the executor concept", "[executor][workflow]") {
    STATIC_REQUIRE(executor<workflow_executor>);
    STATIC_REQUIRE(workflow_executor::kind == "workflow");
}

TEST_CASE("a successful handler gives its JSON as result and receipt", "[executor][workflow]") {
    auto handlers = std::make_shared<workflow_registry>();
    std::string input_seen;
    std::string run_seen;
    std::int64_t token_seen = 0;
    handlers->add("sync", [&](const workflow_call& call) {
        input_seen = std::string(call.input_json);
        run_seen = call.ctx.run;
        token_seen = call.ctx.fencing_token;
        return workflow_outcome::success(R"({ "b": 2, "a": [1, "<x>"] })");
    });
    const workflow_executor exec{handlers};
    const auto r = exec.execute(workflow_target("sync", R"({"x":1})"), test_context());
    CHECK(r.ok);
    CHECK_FALSE(r.stopped);
    CHECK_FALSE(r.error_text);
    CHECK(r.result_json == R"({"b":2,"a":[1,"\u003cx\u003e"]})");  // compacted, Go's escaping
    REQUIRE(r.receipts.size() == 1);
    CHECK(r.receipts[0] == receipt_body{"workflow_result", "application/json", *r.result_json, false});
    CHECK(input_seen == R"({"x":1})");
    CHECK(run_seen == "run_01JPC3V9QF7D2M8K4X6T1R5N0B");
    CHECK(token_seen == 7);
}

TEST_CASE("a target without input passes an empty object; success without result is null", "[executor][workflow]") {
    auto handlers = std::make_shared<workflow_registry>();
    std::string input_seen;
    handlers->add("noop", [&](const workflow_call& call) {
        input_seen = std::string(call.input_json);
        return workflow_outcome::success();
    });
    const auto r = workflow_executor{handlers}.execute(workflow_target("noop"), test_context());
    CHECK(r.ok);
    CHECK(input_seen == "{}");
    CHECK(r.result_json == "null");
    REQUIRE(r.receipts.size() == 1);
    CHECK(r.receipts[0].body == "null");
}

TEST_CASE("a handler failure keeps its text and gives no receipt", "[executor][workflow]") {
    auto handlers = std::make_shared<workflow_registry>();
    handlers->add("fails", [](const workflow_call&) { return workflow_outcome::failure("upstream said no"); });
    const auto r = workflow_executor{handlers}.execute(workflow_target("fails"), test_context());
    CHECK_FALSE(r.ok);
    CHECK(r.error_text == "upstream said no");
    CHECK_FALSE(r.result_json);
    CHECK(r.receipts.empty());
}

TEST_CASE("an unregistered workflow fails with the original's text", "[executor][workflow]") {
    auto handlers = std::make_shared<workflow_registry>();
    const auto r = workflow_executor{handlers}.execute(workflow_target("missing"), test_context());
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.stopped);
    CHECK(r.error_text == R"(workflow "missing" is not registered)");
    CHECK(r.receipts.empty());
    CHECK(workflow_executor{nullptr}.execute(workflow_target("missing"), test_context()).error_text ==
          R"(workflow "missing" is not registered)");
}

TEST_CASE("a throwing handler is a failure with the exception's text", "[executor][workflow]") {
    auto handlers = std::make_shared<workflow_registry>();
    handlers->add("throws", [](const workflow_call&) -> workflow_outcome { throw std::runtime_error("kaboom"); });
    handlers->add("throws-int", [](const workflow_call&) -> workflow_outcome { throw 42; });
    const workflow_executor exec{handlers};
    CHECK(exec.execute(workflow_target("throws"), test_context()).error_text == "kaboom");
    CHECK(exec.execute(workflow_target("throws-int"), test_context()).error_text ==
          R"(workflow "throws-int" threw a non-standard exception)");
}

TEST_CASE("a result that is not JSON is a failure", "[executor][workflow]") {
    auto handlers = std::make_shared<workflow_registry>();
    handlers->add("bad", [](const workflow_call&) { return workflow_outcome::success("{not json"); });
    const auto r = workflow_executor{handlers}.execute(workflow_target("bad"), test_context());
    CHECK_FALSE(r.ok);
    CHECK_THAT(*r.error_text, Catch::StartsWith(R"(workflow "bad" returned invalid JSON: )"));
    CHECK(r.receipts.empty());
}

TEST_CASE("a result beyond the bound keeps only a truncated receipt", "[executor][workflow]") {
    auto handlers = std::make_shared<workflow_registry>();
    handlers->add("big", [](const workflow_call&) { return workflow_outcome::success("\"" + std::string(100, 'y') + "\""); });
    const workflow_executor exec{handlers, executor_limits{10}};
    const auto r = exec.execute(workflow_target("big"), test_context());
    CHECK(r.ok);
    CHECK_FALSE(r.result_json);  // a cut JSON text would not be JSON
    REQUIRE(r.receipts.size() == 1);
    CHECK(r.receipts[0].truncated);
    CHECK(r.receipts[0].body == "\"yyyyyyyyy");
}

TEST_CASE("a cooperative handler returns when stopped", "[executor][workflow]") {
    auto handlers = std::make_shared<workflow_registry>();
    gate started;
    handlers->add("waits", [&](const workflow_call& call) {
        started.open();
        std::mutex m;
        std::condition_variable_any cv;
        std::unique_lock lock{m};
        cv.wait(lock, call.ctx.stop, [] { return false; });  // until stopped
        return workflow_outcome::failure("stopped by request");
    });
    std::stop_source stop;
    const auto ctx = test_context(stop.get_token());
    const workflow_executor exec{handlers};
    auto running = std::async(std::launch::async, [&] { return exec.execute(workflow_target("waits"), ctx); });
    REQUIRE(started.wait());

    stop.request_stop();
    REQUIRE(running.wait_for(5s) == std::future_status::ready);  // real-time ok: a failure bound
    const auto r = running.get();
    CHECK(r.stopped);
    CHECK_FALSE(r.ok);
    CHECK(r.error_text == "stopped by request");
}

TEST_CASE("a handler that ignores the stop is abandoned after the grace", "[executor][workflow]") {
    auto handlers = std::make_shared<workflow_registry>();
    gate started;
    gate release;
    std::atomic<bool> finished{false};
    handlers->add("stubborn", [&](const workflow_call&) {
        started.open();
        release.wait();
        finished = true;
        return workflow_outcome::success();
    });
    std::stop_source stop;
    const auto ctx = test_context(stop.get_token());
    const workflow_executor exec{handlers, executor_limits{}, workflow_options{20ms}};
    auto running = std::async(std::launch::async, [&] { return exec.execute(workflow_target("stubborn"), ctx); });
    REQUIRE(started.wait());

    stop.request_stop();
    REQUIRE(running.wait_for(5s) == std::future_status::ready);  // real-time ok: a failure bound
    const auto r = running.get();
    CHECK(r.stopped);
    CHECK_FALSE(r.ok);
    CHECK(r.error_text == R"(workflow "stubborn" did not return after a stop; abandoned)");
    CHECK_FALSE(finished);

    release.open();  // let the abandoned handler end before its captures go out of scope
    CHECK(eventually([&] { return finished.load(); }));
}

TEST_CASE("the registry replaces handlers and serves lookups while others register", "[executor][workflow]") {
    auto handlers = std::make_shared<workflow_registry>();
    handlers->add("job", [](const workflow_call&) { return workflow_outcome::success("1"); });
    handlers->add("job", [](const workflow_call&) { return workflow_outcome::success("2"); });
    CHECK(handlers->contains("job"));
    CHECK_FALSE(handlers->contains("other"));
    const workflow_executor exec{handlers};
    CHECK(exec.execute(workflow_target("job"), test_context()).result_json == "2");

    std::vector<std::thread> writers;
    for (int i = 0; i < 4; ++i) {
        writers.emplace_back([&handlers, i] {
            for (int k = 0; k < 50; ++k) {
                handlers->add("w" + std::to_string(i) + "-" + std::to_string(k),
                              [](const workflow_call&) { return workflow_outcome::success(); });
            }
        });
    }
    for (int k = 0; k < 20; ++k) {
        CHECK(exec.execute(workflow_target("job"), test_context()).ok);
    }
    for (auto& w : writers) {
        w.join();
    }
    CHECK(handlers->contains("w3-49"));
}
