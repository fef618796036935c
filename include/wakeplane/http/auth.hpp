// Bearer-token authentication of the HTTP API: the tokens a server accepts and a handler that
// refuses requests without one of them (docs/security.md).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <wakeplane/http/message.hpp>
#include <wakeplane/result.hpp>

namespace wakeplane::http {

/// One accepted token and the name it is known by in logs (the secret itself is never logged).
struct api_token {
    std::string name;
    std::string secret;
};

/// The tokens a server accepts. Immutable once built, so it is shared between threads freely.
class token_set {
public:
    /// Parses a tokens file: one token per line, either `token` or `name:token` (split at the
    /// first `:`, so a token that contains `:` needs a name). Blank lines and lines starting with
    /// `#` are ignored; surrounding whitespace is trimmed. An unnamed token is named `line-<N>`
    /// after its line. errc::bad_request names the line of a malformed entry (an empty name or
    /// token, whitespace inside a token, a repeated name) or says that there is no token at all.
    [[nodiscard]] static result<token_set> parse(std::string_view text);

    /// Reads and parses the file at `path`; an unreadable file is errc::bad_request
    /// (`cannot read "/etc/wp/tokens": No such file or directory`).
    [[nodiscard]] static result<token_set> load(const std::filesystem::path& path);

    /// The name of the token equal to `presented`, or nullopt. Constant time with respect to the
    /// secrets: every byte of every configured token is compared whatever matched or differed
    /// earlier, and lengths are folded into the comparison instead of ending it, so the timing
    /// tells an attacker neither which token nor how much of one matched.
    [[nodiscard]] std::optional<std::string> authenticate(std::string_view presented) const;

    [[nodiscard]] std::size_t size() const noexcept { return tokens_.size(); }

private:
    explicit token_set(std::vector<api_token> tokens) : tokens_(std::move(tokens)) {}

    std::vector<api_token> tokens_;
};

/// `inner` behind bearer authentication: every request but `GET /healthz` and `GET /readyz`
/// (which probes call without credentials) needs `Authorization: Bearer <token>` with one of
/// `tokens`. Otherwise the answer is 401 with the JSON envelope `{"code":"unauthorized",...}`
/// and `WWW-Authenticate: Bearer realm="wakeplane"` (plus `error="invalid_token"` when a
/// token was sent but is not accepted, RFC 6750 §3). An accepted request's response carries the
/// token's name in `principal`, for the request log.
[[nodiscard]] std::function<response(const request&)> require_bearer_token(std::function<response(const request&)> inner,
                                                                           std::shared_ptr<const token_set> tokens);

}  // namespace wakeplane::http
