// The workflow executor: handlers by id, each call on its own thread so a stop is never blocked.
#include <wakeplane/executors/workflow.hpp>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>

#include <wakeplane/codec.hpp>

#include "bounded_text.hpp"

namespace wakeplane::executors {

void workflow_registry::add(std::string id, workflow_handler handler) {
    std::unique_lock lock{mutex_};
    handlers_.insert_or_assign(std::move(id), std::move(handler));
}

bool workflow_registry::contains(std::string_view id) const {
    std::shared_lock lock{mutex_};
    return handlers_.find(id) != handlers_.end();
}

workflow_handler workflow_registry::find(std::string_view id) const {
    std::shared_lock lock{mutex_};
    const auto it = handlers_.find(id);
    return it != handlers_.end() ? it->second : workflow_handler{};
}

namespace {

/// One handler call, shared by the waiting executor and the thread that runs the handler, so
/// that an abandoned handler still owns everything its workflow_call points into.
struct pending_call {
    workflow_handler handler;
    std::string workflow_id;
    std::string input_json;
    run_context ctx;
    std::mutex mutex;
    std::condition_variable_any returned;
    std::optional<workflow_outcome> outcome;  ///< set, under `mutex`, once the handler returned

    /// Calls the handler; an exception becomes a failure, so nothing escapes the thread.
    void run() {
        workflow_outcome out;
        try {
            out = handler(workflow_call{workflow_id, input_json, ctx});
        } catch (const std::exception& e) {
            out = workflow_outcome::failure(e.what());
        } catch (...) {
            out = workflow_outcome::failure("workflow \"" + workflow_id + "\" threw a non-standard exception");
        }
        {
            std::lock_guard lock{mutex};
            outcome = std::move(out);
        }
        returned.notify_all();
    }
};

/// Runs the handler on its own thread and waits for it; after a stop, for `grace` at most.
/// Returns nullopt when the handler was abandoned.
std::optional<workflow_outcome> call_handler(const std::shared_ptr<pending_call>& call, std::chrono::milliseconds grace) {
    std::thread worker{[call] { call->run(); }};
    std::unique_lock lock{call->mutex};
    const auto has_returned = [&] { return call->outcome.has_value(); };
    if (!call->returned.wait(lock, call->ctx.stop, has_returned)) {
        call->returned.wait_for(lock, grace, has_returned);
    }
    if (!has_returned()) {
        lock.unlock();
        worker.detach();  // it cannot be killed; `call` keeps its state alive until it returns
        return std::nullopt;
    }
    auto outcome = std::move(call->outcome);
    lock.unlock();
    worker.join();
    return outcome;
}

/// The result of a handler's outcome: a failure as it is, a success with its JSON checked,
/// compacted and bounded.
execution_result result_of(const std::string& workflow_id, workflow_outcome outcome, std::size_t bound) {
    execution_result r;
    if (!outcome.ok) {
        r.error_text = outcome.error_text.empty() ? "workflow \"" + workflow_id + "\" failed" : std::move(outcome.error_text);
        return r;
    }
    auto json = compact_json(outcome.result_json.empty() ? "null" : outcome.result_json);
    if (!json) {
        r.error_text = "workflow \"" + workflow_id + "\" returned invalid JSON: " + json.error().message;
        return r;
    }
    r.ok = true;
    detail::bounded_text body{bound};
    if (body.append(*json)) {
        r.result_json = *json;
    }
    r.receipts.push_back(std::move(body).into_receipt("workflow_result", "application/json"));
    return r;
}

}  // namespace

execution_result workflow_executor::execute(const target_spec& target, const run_context& ctx) const {
    try {
        workflow_handler handler = handlers_ ? handlers_->find(target.workflow_id) : workflow_handler{};
        if (!handler) {
            execution_result r;
            r.stopped = ctx.stop.stop_requested();
            r.error_text = "workflow \"" + target.workflow_id + "\" is not registered";
            return r;
        }
        auto call = std::make_shared<pending_call>();
        call->handler = std::move(handler);
        call->workflow_id = target.workflow_id;
        call->input_json = target.input_json.empty() ? "{}" : target.input_json;
        call->ctx = ctx;
        auto outcome = call_handler(call, options_.stop_grace);
        if (!outcome) {
            execution_result r;
            r.stopped = true;
            r.error_text = "workflow \"" + target.workflow_id + "\" did not return after a stop; abandoned";
            return r;
        }
        execution_result r = result_of(target.workflow_id, std::move(*outcome), limits_.max_receipt_bytes);
        r.stopped = ctx.stop.stop_requested();
        return r;
    } catch (const std::exception& e) {
        execution_result r;
        r.error_text = std::string("workflow executor: ") + e.what();
        return r;
    }
}

}  // namespace wakeplane::executors
