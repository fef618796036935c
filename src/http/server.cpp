// The cpp-httplib glue: a catch-all registration that hands every request to one handler.
#include <wakeplane/http/server.hpp>

#include <atomic>
#include <charconv>
#include <optional>
#include <thread>

#include <httplib.h>

#include "internal.hpp"

namespace wakeplane::http {
namespace {

request to_request(const httplib::Request& in) {
    request r;
    r.method = in.method;
    r.path = in.path;  // httplib has decoded it
    r.query.insert(in.params.begin(), in.params.end());
    r.body = in.body;
    r.headers.assign(in.headers.begin(), in.headers.end());
    return r;
}

void write_response(const response& out, httplib::Response& res) {
    res.status = out.status;
    for (const auto& [k, v] : out.headers) {
        res.set_header(k, v);
    }
    res.set_content(out.body, out.content_type);
}

/// The envelope for an error httplib answers by itself, before any handler ran.
response transport_error(int status, const server_options& options) {
    switch (status) {
    case 413:
        return detail::error_response(413, "payload_too_large",
                                      "request body exceeds the limit of " + std::to_string(options.max_body_bytes) +
                                          " bytes");
    case 414: return detail::error_response(414, "uri_too_long", "request URI is too long");
    case 400: return detail::error_response(400, "bad_request", "malformed HTTP request");
    default: return detail::error_response(status, "bad_request", "request failed with status " + std::to_string(status));
    }
}

/// 431 for a request with more header fields than `limit`. httplib has no such bound of its
/// own (only one on each line's length), so it is checked once the request is parsed.
std::optional<response> too_many_headers(const httplib::Request& req, std::size_t limit) {
    if (req.headers.size() <= limit) {
        return std::nullopt;
    }
    return detail::error_response(431, "request_header_fields_too_large",
                                  "request has " + std::to_string(req.headers.size()) +
                                      " header fields; the limit is " + std::to_string(limit));
}

/// The debug `request` line; `principal` is the API token's name when one authenticated it.
void log_request(const logger& log, const httplib::Request& req, const httplib::Response& res,
                 std::string_view principal) {
    if (!log) {
        return;
    }
    log_fields fields{{"method", req.method},
                      {"path", req.path},
                      {"status", res.status},
                      {"bytes", res.body.size()},
                      {"remote_addr", req.remote_addr}};
    if (!principal.empty()) {
        fields.push_back({"token", principal});
    }
    log(log_level::debug, "request", fields);
}

}  // namespace

void mount(httplib::Server& srv, handler_function handler, const server_options& options, logger log) {
    // Requests that reach the handler are logged here, where the response's principal is known;
    // those httplib refuses by itself are logged by the error handler below.
    auto serve = [handler = std::move(handler), limit = options.max_header_count, log](const httplib::Request& req,
                                                                                       httplib::Response& res) {
        auto out = too_many_headers(req, limit);
        if (!out) {
            out = handler(to_request(req));
        }
        write_response(*out, res);
        log_request(log, req, res, out->principal);
    };
    const std::string any = ".*";
    srv.Get(any, serve);  // answers HEAD too
    srv.Post(any, serve);
    srv.Put(any, serve);
    srv.Patch(any, serve);
    srv.Delete(any, serve);
    srv.Options(any, serve);
    srv.set_error_handler(httplib::Server::HandlerWithResponse{
        [options, log](const httplib::Request& req, httplib::Response& res) {
            if (!res.body.empty()) {
                return httplib::Server::HandlerResponse::Unhandled;  // the API's own envelope, logged already
            }
            write_response(transport_error(res.status, options), res);
            log_request(log, req, res, {});
            return httplib::Server::HandlerResponse::Handled;
        }});
    srv.set_payload_max_length(options.max_body_bytes);
    srv.set_read_timeout(options.read_timeout);
    srv.set_write_timeout(options.write_timeout);
    srv.set_keep_alive_timeout(options.keep_alive_timeout.count());
}

server::server(handler_function handler, server_options options, logger log) : srv_(std::make_unique<httplib::Server>()) {
    mount(*srv_, std::move(handler), options, std::move(log));
}

server::~server() { stop(); }

result<std::string> server::bind(std::string_view address) {
    auto parts = split_address(address);
    if (!parts) {
        return tl::unexpected(parts.error());
    }
    auto [host, port] = *parts;
    if (port == 0) {
        port = srv_->bind_to_any_port(host);
        if (port < 0) {
            return fail(errc::unavailable, "cannot bind " + std::string(address));
        }
    } else if (!srv_->bind_to_port(host, port)) {
        return fail(errc::unavailable, "cannot bind " + std::string(address));
    }
    return host + ":" + std::to_string(port);
}

bool server::run() {
    if (stopping_.load()) {
        return true;
    }
    running_.store(true);
    const bool ok = srv_->listen_after_bind();
    running_.store(false);
    return ok;
}

void server::stop() {
    stopping_.store(true);
    // httplib's stop() only closes a socket that is being listened on: wait out the moment
    // between run() starting and httplib marking itself running.
    while (running_.load() && !srv_->is_running()) {
        std::this_thread::yield();
    }
    srv_->stop();
}

result<std::pair<std::string, int>> split_address(std::string_view address) {
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos) {
        return fail(errc::bad_request, detail::go_quote(address) + " is not host:port");
    }
    std::string host(address.substr(0, colon));
    const auto port_text = address.substr(colon + 1);
    int port = -1;
    const auto* last = port_text.data() + port_text.size();
    const auto [end, ec] = std::from_chars(port_text.data(), last, port);
    if (port_text.empty() || ec != std::errc{} || end != last || port < 0 || port > 65535) {
        return fail(errc::bad_request, "port " + detail::go_quote(port_text) + " is not a number from 0 to 65535");
    }
    if (host.empty()) {
        host = "0.0.0.0";
    }
    return std::pair<std::string, int>{std::move(host), port};
}

}  // namespace wakeplane::http
