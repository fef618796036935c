// Parsing of the server address.
#include "endpoint.hpp"

#include <charconv>

namespace wakeplane::cli {
namespace {

/// The failure every malformed address gives, quoting what was typed.
tl::unexpected<failure> bad_addr(std::string_view addr, std::string_view why) {
    return usage_failure("--addr \"" + std::string(addr) + "\": " + std::string(why));
}

/// A decimal TCP port 1..65535.
bool parse_port(std::string_view text, int& port) {
    if (text.empty() || text.size() > 5) {
        return false;
    }
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    return ec == std::errc{} && end == text.data() + text.size() && port >= 1 && port <= 65535;
}

}  // namespace

std::string endpoint::origin() const {
    const bool ipv6 = host.find(':') != std::string::npos;
    return scheme + "://" + (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string endpoint::display() const {
    return origin() + base_path;
}

outcome<endpoint> parse_endpoint(std::string_view addr) {
    endpoint ep;
    std::string_view rest = addr;
    if (const auto sep = rest.find("://"); sep != std::string_view::npos) {
        ep.scheme = std::string(rest.substr(0, sep));
        rest.remove_prefix(sep + 3);
    } else {
        ep.scheme = "http";  // the daemon's own listen form, `127.0.0.1:8080`
    }
    if (ep.scheme != "http" && ep.scheme != "https") {
        return bad_addr(addr, "the scheme must be http or https");
    }
    if (rest.find_first_of("?#") != std::string_view::npos) {
        return bad_addr(addr, "must not carry a query or a fragment");
    }
    const auto slash = rest.find('/');
    const auto authority = rest.substr(0, slash);
    if (slash != std::string_view::npos) {
        ep.base_path = std::string(rest.substr(slash));
        while (!ep.base_path.empty() && ep.base_path.back() == '/') {
            ep.base_path.pop_back();
        }
    }
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            return bad_addr(addr, "an IPv6 address needs its closing ]");
        }
        ep.host = std::string(authority.substr(1, close - 1));
        const auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                return bad_addr(addr, "expected :port after the IPv6 address");
            }
            port_text = after.substr(1);
            if (port_text.empty()) {
                return bad_addr(addr, "the port is empty");
            }
        }
    } else {
        const auto colon = authority.rfind(':');
        ep.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
            if (port_text.empty()) {
                return bad_addr(addr, "the port is empty");
            }
        }
    }
    if (ep.host.empty()) {
        return bad_addr(addr, "names no host");
    }
    if (port_text.empty()) {
        ep.port = ep.scheme == "https" ? 443 : 80;
    } else if (!parse_port(port_text, ep.port)) {
        return bad_addr(addr, "the port must be a number from 1 to 65535");
    }
    return ep;
}

}  // namespace wakeplane::cli
