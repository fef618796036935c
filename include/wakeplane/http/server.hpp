// wakeplane::http::server: serves a request → response function over HTTP/1.1 with cpp-httplib,
// with a bounded request size, read/write timeouts and a JSON envelope for every error.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <wakeplane/http/message.hpp>
#include <wakeplane/log.hpp>
#include <wakeplane/result.hpp>

namespace httplib {
class Server;
}

namespace wakeplane::http {

/// What a server calls for every request; must be thread-safe.
using handler_function = std::function<response(const request&)>;

/// Limits of a server (DECISIONS 30).
struct server_options {
    /// Larger request bodies are refused with 413 `payload_too_large`.
    std::size_t max_body_bytes = 1024 * 1024;
    /// Requests with more header fields are refused with 431 `request_header_fields_too_large`.
    std::size_t max_header_count = 100;
    /// How long reading a request, and writing a response, may stall.
    std::chrono::seconds read_timeout{10};
    std::chrono::seconds write_timeout{10};
    /// How long an idle keep-alive connection is kept.
    std::chrono::seconds keep_alive_timeout{5};
};

/// Registers `handler` on an httplib server as a catch-all for GET, HEAD, POST, PUT, PATCH,
/// DELETE and OPTIONS, applies `options`' limits, turns errors that httplib answers itself
/// (413, 400, 414, ...) into the JSON envelope, and logs one `request` line per request at debug
/// level. Routes registered on `srv` before this call take precedence over the catch-all.
void mount(httplib::Server& srv, handler_function handler, const server_options& options, logger log = {});

/// An HTTP server for one handler. bind() then run() (blocking, any thread) until stop().
///
/// Example:
///     http::server srv{api.handler(), {}, log};
///     auto addr = srv.bind("127.0.0.1:0");      // "127.0.0.1:41234": port 0 picks a free one
///     std::thread t{[&] { srv.run(); }};
///     ...
///     srv.stop();                                 // from any thread; run() returns
///     t.join();
class server {
public:
    /// A server answering every request with `handler` (see mount()); nothing listens before bind().
    server(handler_function handler, server_options options = {}, logger log = {});
    /// Stops serving; run() must have returned before the server goes.
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Binds `host:port` (IPv4 or a name; an empty host, as in `:8080`, is every interface;
    /// port 0 picks a free port). Returns the bound address `host:port`; errc::unavailable
    /// when the address cannot be bound, errc::bad_request when it is malformed.
    [[nodiscard]] result<std::string> bind(std::string_view address);

    /// Serves until stop(); false when serving failed.
    bool run();

    /// Stops accepting and makes run() return (thread-safe; idempotent).
    void stop();

private:
    std::unique_ptr<httplib::Server> srv_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> running_{false};  ///< run() is inside httplib's listen
};

/// Splits `host:port`; an empty host means every interface (`0.0.0.0`). errc::bad_request names
/// the problem (`"8080" is not host:port`, `port "x" is not a number from 0 to 65535`).
[[nodiscard]] result<std::pair<std::string, int>> split_address(std::string_view address);

}  // namespace wakeplane::http
