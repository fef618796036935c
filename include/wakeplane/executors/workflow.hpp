// The workflow executor: runs in-process handlers that host code registers by workflow id.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>

#include <wakeplane/executor.hpp>
#include <wakeplane/model.hpp>

namespace wakeplane::executors {

/// What a workflow handler is called with. The views point into the executor's own copies and
/// stay valid until the handler returns.
struct workflow_call {
    std::string_view workflow_id;
    /// The target's `input` object as compact JSON text with sorted keys; `{}` when it has none.
    /// Parse it with any JSON library; the library keeps its own out of this header.
    std::string_view input_json;
    /// The run's identity (DECISIONS 18) and its stop token: a handler that may take long should
    /// watch `ctx.stop` and return soon after a stop is requested.
    const run_context& ctx;
};

/// What a workflow handler returns: a JSON value on success, one line of text on failure.
struct workflow_outcome {
    bool ok = true;
    std::string result_json = "null";  ///< any JSON value as text, when ok
    std::string error_text;            ///< what went wrong, when !ok

    /// Success with `result_json` (any JSON value; `null` when there is nothing to report).
    [[nodiscard]] static workflow_outcome success(std::string result_json = "null") {
        return workflow_outcome{true, std::move(result_json), {}};
    }
    /// Failure with `error_text`; it counts like any failed attempt (retry, dead letter).
    [[nodiscard]] static workflow_outcome failure(std::string error_text) {
        return workflow_outcome{false, "null", std::move(error_text)};
    }
};

/// A workflow handler. It may throw: the exception's what() becomes the failure text.
using workflow_handler = std::function<workflow_outcome(const workflow_call&)>;

/// Workflow handlers by id. Host code registers them; none exists by default, as in the
/// original. Thread-safe: handlers may be added while runs execute.
class workflow_registry {
public:
    /// Registers `handler` under `id`, replacing an earlier one. Runs already executing keep the
    /// handler they started with.
    void add(std::string id, workflow_handler handler);

    /// Whether a handler is registered under `id`.
    [[nodiscard]] bool contains(std::string_view id) const;

    /// The handler registered under `id`, or an empty function.
    [[nodiscard]] workflow_handler find(std::string_view id) const;

private:
    mutable std::shared_mutex mutex_;
    std::map<std::string, workflow_handler, std::less<>> handlers_;
};

/// Tuning of the workflow executor.
struct workflow_options {
    /// Real time a handler gets, once a stop was requested, to return on its own before the
    /// executor abandons it.
    std::chrono::milliseconds stop_grace{2000};
};

/// Calls the handler registered for `target.workflow_id` (ORIGINAL-BEHAVIOR §6.3):
/// - no handler: failure `workflow "<id>" is not registered`;
/// - handler failure or exception: failure with its text, no receipts, no result_json;
/// - success: `result_json` is the handler's JSON (compacted) and one `workflow_result`
///   receipt (application/json) holds the same text, up to `max_receipt_bytes`. A result
///   beyond the bound keeps only the truncated receipt: result_json must stay valid JSON.
///   A success is accepted even when a stop was requested meanwhile (`stopped` then tells).
///
/// The handler runs on a thread of its own so that execute() can return promptly after a stop.
/// A handler cannot be killed: one that ignores `ctx.stop` for longer than `stop_grace` is
/// abandoned. execute() then returns `stopped` with `workflow "<id>" did not return after a
/// stop; abandoned`, while the handler keeps running until it returns and its outcome is
/// dropped. It can change nothing in the store: the run's lease has moved on, and the fencing
/// token refuses its writes. It must not outlive what it uses, though (globals at exit).
class workflow_executor {
public:
    static constexpr std::string_view kind = "workflow";

    /// `handlers` is shared with host code, which may keep registering; null means none.
    explicit workflow_executor(std::shared_ptr<const workflow_registry> handlers, executor_limits limits = {},
                               workflow_options options = {}) noexcept
        : handlers_(std::move(handlers)), limits_(limits), options_(options) {}

    /// Runs one attempt; blocks until the handler returned or, after a stop, was abandoned.
    [[nodiscard]] execution_result execute(const target_spec& target, const run_context& ctx) const;

private:
    std::shared_ptr<const workflow_registry> handlers_;
    executor_limits limits_;
    workflow_options options_;
};

static_assert(executor<workflow_executor>);

}  // namespace wakeplane::executors
