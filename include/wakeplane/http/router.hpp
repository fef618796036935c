// wakeplane::http::router: every route of the HTTP API (ORIGINAL-BEHAVIOR §7, DECISIONS 24-29)
// over a control, as a function from request to response. Compiled once, in wakeplane_http.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include <wakeplane/http/control.hpp>
#include <wakeplane/http/message.hpp>

namespace wakeplane::http {

/// What the API reports about its host in /v1/status.
struct api_options {
    std::string version;          ///< `version`: the build's version (meson project version)
    std::string database_driver;  ///< `database.driver`: sqlite, rocksdb, memory, ...
    std::string database_path;    ///< `database.path`: exactly as configured
};

/// One route: a method and a path pattern in which `{id}` stands for one non-empty segment.
struct route_info {
    std::string_view method;
    std::string_view pattern;
};

/// Routes requests to the API's handlers. Conventions (docs/api.md):
/// - JSON responses are one compact value and a newline, `Content-Type: application/json`;
/// - errors are the envelope `{"code","error","details"?}` with the status of errc (result.hpp);
/// - an unknown path is 404 `not_found`, a known path with another method 405
///   `method_not_allowed` with an `Allow` header; a GET route answers HEAD too.
///
/// Thread safety: handle() may run on many threads at once (the control is thread-safe).
///
/// Example:
///     http::router r{ctl, {.version = "0.1.0", .database_driver = "sqlite", .database_path = "./wakeplane.db"}};
///     auto resp = r.handle(http::request::make("GET", "/v1/schedules?limit=2"));
class router {
public:
    router(control& ctl, api_options options) : control_(&ctl), options_(std::move(options)) {}

    /// Answers one request. Never throws: an unexpected exception is a 500 envelope.
    [[nodiscard]] response handle(const request& req) const;

    /// Every route, in the order of docs/api.md.
    [[nodiscard]] static std::span<const route_info> routes() noexcept;

private:
    control* control_;
    api_options options_;
};

}  // namespace wakeplane::http
