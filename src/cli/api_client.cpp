// The CLI's HTTP client, on cpp-httplib.
#include "api_client.hpp"

#include <httplib.h>

#include "reachability.hpp"

namespace wakeplane::cli {
namespace {

/// RFC 3986 unreserved characters, the only ones sent as they are.
bool is_unreserved(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/// `?a=1&b=x%20y`, or "" without parameters.
std::string encode_query(const query_params& query) {
    std::string out;
    for (const auto& [name, value] : query) {
        out += out.empty() ? '?' : '&';
        out += percent_encode(name) + "=" + percent_encode(value);
    }
    return out;
}

/// The failure for a request that got no HTTP answer at all.
failure transport_failure(const endpoint& ep, httplib::Error err, const client_timeouts& timeouts) {
    switch (err) {
    case httplib::Error::Connection:
    case httplib::Error::ConnectionTimeout:
        return {exit_code::failed, "cannot reach " + ep.display() + ": " +
                                       connect_failure_reason(ep.host, ep.port, timeouts.connect)};
    case httplib::Error::Read:
        return {exit_code::failed, "no answer from " + ep.display() + ": the connection closed or " +
                                       "timed out after " + std::to_string(timeouts.transfer.count()) + "s"};
    case httplib::Error::Write:
        return {exit_code::failed, "cannot send the request to " + ep.display() + ": the connection closed"};
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLLoadingCerts:
    case httplib::Error::SSLServerVerification:
        return {exit_code::failed, "cannot reach " + ep.display() + ": TLS failed (" + httplib::to_string(err) + ")"};
    default:
        return {exit_code::failed, "request to " + ep.display() + " failed: " + httplib::to_string(err)};
    }
}

/// Decodes a 2xx answer; an empty body is JSON null (nothing to print but success).
outcome<json> decode_answer(const endpoint& ep, const httplib::Response& res) {
    if (res.body.empty()) {
        return json{};
    }
    auto doc = json::parse(res.body, nullptr, false);
    if (doc.is_discarded()) {
        return server_failure("the answer from " + ep.display() + " is not JSON: " +
                              one_printable_line(res.body, 120));
    }
    return doc;
}

}  // namespace

api_client::api_client(endpoint ep, client_timeouts timeouts, std::optional<std::string> token)
    : ep_(std::move(ep)), timeouts_(timeouts), token_(std::move(token)) {}

outcome<json> api_client::get(std::string_view path, const query_params& query) const {
    return send(verb::get, path, query, nullptr);
}

outcome<json> api_client::post(std::string_view path, const std::string& body) const {
    return send(verb::post, path, {}, &body);
}

outcome<json> api_client::put(std::string_view path, const std::string& body) const {
    return send(verb::put, path, {}, &body);
}

outcome<json> api_client::del(std::string_view path) const {
    return send(verb::del, path, {}, nullptr);
}

outcome<json> api_client::send(verb v, std::string_view path, const query_params& query,
                               const std::string* body) const {
    httplib::Client client(ep_.origin());
    client.set_connection_timeout(timeouts_.connect);
    client.set_read_timeout(timeouts_.transfer);
    client.set_write_timeout(timeouts_.transfer);
    client.set_url_encode(false);  // the target is percent-encoded already; encoding twice breaks `%`
    if (token_) {
        client.set_bearer_token_auth(*token_);
    }
    const std::string target = ep_.base_path + std::string(path) + encode_query(query);
    constexpr const char* content_type = "application/json";
    httplib::Result res = [&] {
        switch (v) {
        case verb::post: return client.Post(target, *body, content_type);
        case verb::put: return client.Put(target, *body, content_type);
        case verb::del: return client.Delete(target);
        case verb::get: break;
        }
        return client.Get(target);
    }();
    if (!res) {
        return tl::unexpected(transport_failure(ep_, res.error(), timeouts_));
    }
    if (res->status == 401) {
        return server_failure(describe_error_answer(res->status, res->body) +
                              (token_ ? " (WAKEPLANE_TOKEN is not one of the daemon's tokens)"
                                      : " (set WAKEPLANE_TOKEN to one of the daemon's API tokens)"));
    }
    if (res->status < 200 || res->status > 299) {
        return server_failure(describe_error_answer(res->status, res->body));
    }
    return decode_answer(ep_, *res);
}

std::string percent_encode(std::string_view text) {
    constexpr std::string_view hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        if (is_unreserved(c)) {
            out += c;
        } else {
            const auto byte = static_cast<unsigned char>(c);
            out += '%';
            out += hex[byte >> 4U];
            out += hex[byte & 0x0FU];
        }
    }
    return out;
}

}  // namespace wakeplane::cli
