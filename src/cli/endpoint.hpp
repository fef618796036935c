// The server address given with `--addr` / WAKEPLANE_ADDR.
#pragma once

#include <string>
#include <string_view>

#include "failure.hpp"

namespace wakeplane::cli {

/// Where the daemon listens, split the way an HTTP client needs it.
struct endpoint {
    std::string scheme;     ///< `http` or `https`
    std::string host;       ///< a name or an address; IPv6 without brackets
    int port = 0;
    std::string base_path;  ///< prefix of every request path, no trailing `/` (often "")

    /// `scheme://host:port` (IPv6 in brackets), what httplib::Client takes.
    [[nodiscard]] std::string origin() const;

    /// The address as the user should recognise it in messages: origin plus base path.
    [[nodiscard]] std::string display() const;
};

/// Parses `--addr`. Accepted: `http://127.0.0.1:8080`, `https://wp.example.com/prefix/`,
/// `http://[::1]:8080`, and the daemon's listen form `127.0.0.1:8080` (http assumed). A missing
/// port is 80 or 443. Anything else (another scheme, a query, a bad port) is a usage failure.
///
/// Example: parse_endpoint("http://localhost:9000/wp/") gives {http, localhost, 9000, "/wp"}, and
/// `GET /v1/runs` is then sent to `/wp/v1/runs`.
[[nodiscard]] outcome<endpoint> parse_endpoint(std::string_view addr);

}  // namespace wakeplane::cli
