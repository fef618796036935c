// Why a TCP connection cannot be made, in words an operator can act on.
#pragma once

#include <chrono>
#include <string>

namespace wakeplane::cli {

/// Tries to connect to `host:port` once and says why it fails: `connection refused`,
/// `cannot resolve host "nohost": Name or service not known`, `timed out after 5s`,
/// `network is unreachable`. Used after the HTTP library reported a connect failure without its
/// cause; if this probe succeeds (the server came up in between) the answer is
/// `connection failed`.
[[nodiscard]] std::string connect_failure_reason(const std::string& host, int port,
                                                 std::chrono::milliseconds timeout);

}  // namespace wakeplane::cli
