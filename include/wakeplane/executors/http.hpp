// The http executor: one HTTP request per attempt, through libcurl.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <wakeplane/executor.hpp>
#include <wakeplane/executors/address_range.hpp>
#include <wakeplane/model.hpp>

namespace wakeplane::executors {

/// Tuning of the http executor.
struct http_options {
    /// Longest wait for a TCP (and TLS) connection; nullopt keeps libcurl's default (300 s).
    /// The run's own timeout is the dispatcher's business, not this one's.
    std::optional<std::chrono::milliseconds> connect_timeout;
    /// Redirects followed before the attempt fails (the original followed Go's 10).
    long max_redirects = 5;
    /// Addresses no request may connect to (empty: none). Checked on the resolved address of
    /// every connection libcurl opens, redirects included, so neither a redirect nor a DNS answer
    /// that changes between checks (rebinding) reaches a denied range. With a deny list, proxies
    /// from the environment are not used: a proxy would connect on the request's behalf.
    std::vector<address_range> deny;
};

/// Sends `target.method` (upper-cased) to `target.url` (ORIGINAL-BEHAVIOR §6.1, DECISIONS 18, 19):
/// - headers: each `target.headers` entry once, its name canonicalized (`x-token` →
///   `X-Token`); `target.body_json`, when present, is the body, with `Content-Type:
///   application/json` unless a header sets another; the run's identity as
///   `Idempotency-Key: <occurrence_key>:<attempt>`, `Wakeplane-Run-Id`,
///   `Wakeplane-Occurrence-Key`, `Wakeplane-Attempt` and `Wakeplane-Fencing-Token`, which
///   target headers cannot override;
/// - http and https only, HTTP/1.1, redirects followed up to `max_redirects` (one more fails the
///   attempt: `... : stopped after 5 redirects`), each to http or https only;
/// - a connection to an address in `deny` is refused before it is made: `... : address
///   169.254.169.254 is in the denied range 169.254.0.0/16`;
/// - the response body is kept up to `max_receipt_bytes`; at the bound the transfer ends and
///   the receipt is marked truncated.
///
/// Result: a response gives `http_status_code`, `result_json` `{"status":"200 OK","url":"..."}`
/// and one `http_response` receipt (the body, with the response's Content-Type); a status
/// outside 200–299 is a failure `http executor returned status <code>` that keeps all three.
/// A transport error gives only `error_text`, e.g. `Get "http://127.0.0.1:9/x": Couldn't
/// connect to server`. A stop ends the transfer at once: `stopped`, `... : context canceled`.
///
/// Thread safety: execute() may run on many threads at once; it never throws, never prints and
/// never raises signals (libcurl runs with CURLOPT_NOSIGNAL).
class http_executor {
public:
    static constexpr std::string_view kind = "http";

    explicit http_executor(executor_limits limits = {}, http_options options = {})
        : limits_(limits), options_(std::move(options)) {}

    /// Runs one attempt: blocks until the response is complete, the transfer failed, or
    /// `ctx.stop` was requested.
    [[nodiscard]] execution_result execute(const target_spec& target, const run_context& ctx) const;

private:
    executor_limits limits_;
    http_options options_;
};

static_assert(executor<http_executor>);

}  // namespace wakeplane::executors
