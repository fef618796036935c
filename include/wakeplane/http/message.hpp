// HTTP requests and responses as plain values: what the API's handlers read and write, with no
// socket and no HTTP library in sight, so they run in-process in tests.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wakeplane::http {

/// A request as the API sees it: method, decoded path, decoded query parameters, headers, body.
struct request {
    std::string method;                            ///< upper case: GET, POST, ...
    std::string path;                              ///< percent-decoded, without the query
    std::multimap<std::string, std::string> query;  ///< percent-decoded; a key may repeat
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  ///< as received, in order

    /// The first value of header `name`, compared without regard to ASCII case (HTTP header
    /// names are case-insensitive); nullopt when absent.
    [[nodiscard]] std::optional<std::string> header(std::string_view name) const;

    /// The first value of query parameter `key` (Go's Query().Get), nullopt when absent.
    [[nodiscard]] std::optional<std::string> param(std::string_view key) const {
        auto it = query.find(std::string(key));
        if (it == query.end()) {
            return std::nullopt;
        }
        return it->second;
    }

    /// A request from a method and a request target with its query string:
    /// `request::make("GET", "/v1/runs?status=failed&limit=2")`. Percent-escapes and `+` in the
    /// query are decoded, as an HTTP server decodes them.
    [[nodiscard]] static request make(std::string method, std::string_view target, std::string body = {});
};

/// A response: status, content type, body and extra headers (e.g. `Allow`).
struct response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    /// Who the request authenticated as (an API token's name), for the request log; never sent.
    std::string principal;

    /// The value of header `name` (exact spelling), or "" when absent.
    [[nodiscard]] std::string header(std::string_view name) const {
        for (const auto& [k, v] : headers) {
            if (k == name) {
                return v;
            }
        }
        return {};
    }
};

/// One JSON value answered with `status`: `text` plus the newline the original's encoder adds.
[[nodiscard]] inline response json_response(int status, std::string text) {
    response r;
    r.status = status;
    r.body = std::move(text);
    r.body += '\n';
    return r;
}

}  // namespace wakeplane::http
