// The CLI's HTTP client for the daemon's JSON API: one call per request, errors as one line.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "endpoint.hpp"
#include "failure.hpp"

namespace wakeplane::cli {

/// Query parameters in the order given; names and values are percent-encoded when sent.
using query_params = std::vector<std::pair<std::string, std::string>>;

/// JSON that keeps the server's key order, so printed objects read like the API documents them.
using json = nlohmann::ordered_json;

/// How long the client waits. A connect that takes longer than `connect` means the address is
/// wrong or filtered; `transfer` bounds a slow answer (the daemon answers in milliseconds).
struct client_timeouts {
    std::chrono::seconds connect{5};
    std::chrono::seconds transfer{60};
};

/// Sends requests to one daemon, with `Authorization: Bearer <token>` when a token is given.
/// Every method returns the decoded JSON body of a 2xx answer.
/// Failures are exit-code 1 and one line: an error answer is described by
/// describe_error_answer(); an unreachable server is `cannot reach http://127.0.0.1:8080:
/// connection refused`. Not thread-safe; the CLI is single-threaded.
class api_client {
public:
    explicit api_client(endpoint ep, client_timeouts timeouts = {}, std::optional<std::string> token = std::nullopt);

    /// `GET <base><path>?<query>`.
    [[nodiscard]] outcome<json> get(std::string_view path, const query_params& query = {}) const;
    /// `POST <base><path>` with a JSON body.
    [[nodiscard]] outcome<json> post(std::string_view path, const std::string& body) const;
    /// `PUT <base><path>` with a JSON body.
    [[nodiscard]] outcome<json> put(std::string_view path, const std::string& body) const;
    /// `DELETE <base><path>`.
    [[nodiscard]] outcome<json> del(std::string_view path) const;

    /// The server as printed in messages.
    [[nodiscard]] const endpoint& server() const noexcept { return ep_; }

private:
    enum class verb { get, post, put, del };
    [[nodiscard]] outcome<json> send(verb v, std::string_view path, const query_params& query,
                                     const std::string* body) const;

    endpoint ep_;
    client_timeouts timeouts_;
    std::optional<std::string> token_;
};

/// `text` percent-encoded for one path segment or query component (RFC 3986 unreserved
/// characters stay): `percent_encode("a b/c")` is `a%20b%2Fc`. Ids go through it, so an id can
/// never escape its segment of the route.
[[nodiscard]] std::string percent_encode(std::string_view text);

}  // namespace wakeplane::cli
