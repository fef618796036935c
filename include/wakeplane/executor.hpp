// Executors: the typed workers that do a run's work (http, shell, workflow), and their registry.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <wakeplane/model.hpp>
#include <wakeplane/time.hpp>

namespace wakeplane {

/// Who is running: the identity every executor passes on (DECISIONS 18), so the work it calls
/// can deduplicate by (occurrence key, attempt) and refuse a stale fencing token.
struct run_context {
    run_id run;
    schedule_id schedule;
    std::string occurrence_key;
    std::int64_t attempt = 1;
    time_point nominal_time{};
    std::int64_t fencing_token = 0;
    std::optional<std::string> trigger_reason;
    /// Requested when the run must stop: timeout, operator cancel, `replace`, or shutdown.
    /// The executor stops as soon as it can (a shell target's process group is killed) and
    /// returns; the dispatcher knows why and decides the final status.
    std::stop_token stop;
};

/// A bounded piece of output kept as a receipt (DECISIONS 19).
struct receipt_body {
    std::string kind;          ///< stdout | stderr | http_response | workflow_result
    std::string content_type;  ///< e.g. text/plain, application/json
    std::string body;
    bool truncated = false;    ///< the body was cut at the bound
    friend bool operator==(const receipt_body&, const receipt_body&) = default;
};

/// What an attempt produced.
struct execution_result {
    bool ok = false;                              ///< the work succeeded
    bool stopped = false;                         ///< it ended because ctx.stop was requested
    std::optional<std::int64_t> http_status_code;
    std::optional<std::int64_t> exit_code;
    std::optional<std::string> result_json;       ///< a JSON value as text
    std::optional<std::string> error_text;        ///< one line, when !ok
    std::vector<receipt_body> receipts;
};

/// Limits every executor honours.
struct executor_limits {
    std::size_t max_receipt_bytes = 64 * 1024;   ///< per receipt body (DECISIONS 19)
};

/// An executor runs one attempt of one target kind. execute() blocks the calling thread (the
/// dispatcher gives each run its own), never throws, and returns promptly once ctx.stop is requested.
template <class E>
concept executor = requires(E& e, const target_spec& t, const run_context& ctx) {
    { E::kind } -> std::convertible_to<std::string_view>;
    { e.execute(t, ctx) } -> std::same_as<execution_result>;
};

/// The executors a scheduler dispatches to, by target kind. Type-erased so host code can
/// register its own kinds at run time; lookups are thread-safe once registration is done.
class executor_registry {
public:
    using function = std::function<execution_result(const target_spec&, const run_context&)>;

    /// Registers `e` (moved in and owned) under E::kind, replacing any earlier one.
    template <executor E>
    void add(E e) {
        auto shared = std::make_shared<E>(std::move(e));
        by_kind_[std::string(E::kind)] = [shared](const target_spec& t, const run_context& ctx) {
            return shared->execute(t, ctx);
        };
    }

    /// Runs `t` with the executor of its kind; an unknown kind is a failed result.
    [[nodiscard]] execution_result execute(const target_spec& t, const run_context& ctx) const {
        auto it = by_kind_.find(t.kind);
        if (it == by_kind_.end()) {
            execution_result r;
            r.error_text = "no executor registered for target kind \"" + t.kind + "\"";
            return r;
        }
        return it->second(t, ctx);
    }

    [[nodiscard]] bool contains(std::string_view kind) const { return by_kind_.find(kind) != by_kind_.end(); }

private:
    std::map<std::string, function, std::less<>> by_kind_;
};

}  // namespace wakeplane
