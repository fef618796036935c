// Bearer tokens: the tokens file, a constant-time lookup and the handler that enforces them.
#include <wakeplane/http/auth.hpp>

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include <wakeplane/detail/config_file.hpp>

#include "internal.hpp"

namespace wakeplane::http {
namespace {

/// A byte that cannot travel inside an `Authorization` header value.
bool is_space_or_control(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
}

/// 1 when `presented` equals `secret`, else 0, in time that depends only on secret.size().
/// Bytes of `presented` are read cyclically, so a shorter or longer one costs the same work; the
/// length difference is folded into the accumulator rather than ending the loop.
unsigned equal_in_constant_time(std::string_view secret, std::string_view presented) noexcept {
    std::size_t diff = secret.size() ^ presented.size();
    for (std::size_t i = 0; i < secret.size(); ++i) {
        const unsigned char theirs =
            presented.empty() ? 0 : static_cast<unsigned char>(presented[i % presented.size()]);
        diff |= static_cast<unsigned char>(secret[i]) ^ theirs;
    }
    return diff == 0 ? 1U : 0U;
}

/// The credentials of `Authorization: Bearer <token>` (scheme case-insensitive), or nullopt.
std::optional<std::string_view> bearer_credentials(std::string_view value) {
    constexpr std::string_view scheme = "bearer";
    if (value.size() <= scheme.size() || !is_space_or_control(value[scheme.size()])) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(value[i])) != scheme[i]) {
            return std::nullopt;
        }
    }
    const auto token = detail::trim(value.substr(scheme.size()));
    return token.empty() ? std::nullopt : std::optional<std::string_view>{token};
}

/// The 401 answer; `invalid` adds RFC 6750's `error="invalid_token"` when a token was sent.
response unauthorized(bool invalid) {
    auto r = detail::error_response(401, "unauthorized",
                                    invalid ? "the bearer token is not valid"
                                            : "authentication required: send the header Authorization: Bearer followed by an API token");
    r.headers.emplace_back("WWW-Authenticate",
                           invalid ? R"(Bearer realm="wakeplane", error="invalid_token")" : R"(Bearer realm="wakeplane")");
    return r;
}

/// Probes must work without credentials: an orchestrator's liveness and readiness checks.
bool is_open_route(const request& req) {
    return (req.method == "GET" || req.method == "HEAD") && (req.path == "/healthz" || req.path == "/readyz");
}

}  // namespace

result<token_set> token_set::parse(std::string_view text) {
    std::vector<api_token> tokens;
    std::set<std::string, std::less<>> names;
    for (const auto& line : wakeplane::detail::config_lines(text)) {
        const std::string where = "line " + std::to_string(line.number) + ": ";
        const auto colon = line.text.find(':');
        api_token t;
        if (colon == std::string::npos) {
            t.name = "line-" + std::to_string(line.number);
            t.secret = line.text;
        } else {
            t.name = std::string(detail::trim(std::string_view{line.text}.substr(0, colon)));
            t.secret = std::string(detail::trim(std::string_view{line.text}.substr(colon + 1)));
        }
        if (t.name.empty()) {
            return fail(errc::bad_request, where + "the name before \":\" is empty");
        }
        if (t.secret.empty()) {
            return fail(errc::bad_request, where + "the token is empty");
        }
        if (std::any_of(t.secret.begin(), t.secret.end(), is_space_or_control)) {
            return fail(errc::bad_request, where + "a token must not contain whitespace or control characters");
        }
        if (!names.insert(t.name).second) {
            return fail(errc::bad_request, where + "the name " + detail::go_quote(t.name) + " is used twice");
        }
        tokens.push_back(std::move(t));
    }
    if (tokens.empty()) {
        return fail(errc::bad_request, "holds no token (blank lines and # comments are ignored)");
    }
    return token_set{std::move(tokens)};
}

result<token_set> token_set::load(const std::filesystem::path& path) {
    return wakeplane::detail::parse_config_file(path, &token_set::parse);
}

std::optional<std::string> token_set::authenticate(std::string_view presented) const {
    // Index + 1 of the matching token, 0 for none, selected with masks rather than a branch.
    std::size_t found = 0;
    for (std::size_t i = 0; i < tokens_.size(); ++i) {
        const std::size_t mask = 0 - static_cast<std::size_t>(equal_in_constant_time(tokens_[i].secret, presented));
        found = (found & ~mask) | ((i + 1) & mask);
    }
    if (found == 0) {
        return std::nullopt;
    }
    return tokens_[found - 1].name;
}

std::function<response(const request&)> require_bearer_token(std::function<response(const request&)> inner,
                                                              std::shared_ptr<const token_set> tokens) {
    return [inner = std::move(inner), tokens = std::move(tokens)](const request& req) {
        if (is_open_route(req)) {
            return inner(req);
        }
        const auto header = req.header("Authorization");
        const auto presented = header ? bearer_credentials(*header) : std::nullopt;
        if (!presented) {
            return unauthorized(false);
        }
        auto name = tokens->authenticate(*presented);
        if (!name) {
            return unauthorized(true);
        }
        auto r = inner(req);
        r.principal = std::move(*name);
        return r;
    };
}

}  // namespace wakeplane::http
