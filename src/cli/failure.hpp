// How a `wakeplane` command fails: one readable line and an exit code (DECISIONS 31).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace wakeplane::cli {

/// The process exit codes. Scripts branch on them, so they never change meaning.
enum class exit_code : int {
    ok = 0,
    failed = 1,  ///< the server answered with an error, or could not be reached
    usage = 2,   ///< bad arguments, options, manifest or file: the request was never sent
};

/// A failed command: what to print (without the `wakeplane: ` prefix) and how to exit.
struct failure {
    exit_code code = exit_code::failed;
    std::string message;
};

/// A value or the failure that prevented it.
template <class T>
using outcome = tl::expected<T, failure>;

/// A usage-class failure (exit 2): `return usage_failure("--count: must be positive");`
[[nodiscard]] inline tl::unexpected<failure> usage_failure(std::string message) {
    return tl::unexpected<failure>(failure{exit_code::usage, std::move(message)});
}

/// A server-class failure (exit 1): an error answer or an unreachable server.
[[nodiscard]] inline tl::unexpected<failure> server_failure(std::string message) {
    return tl::unexpected<failure>(failure{exit_code::failed, std::move(message)});
}

/// The one line for an error answer of the API. With the JSON envelope
/// `{"code":"not_found","error":"run \"x\" was not found"}` it is `not_found: run "x" was not found`;
/// validation details follow on the same line (`validation_failed: name: must be non-empty;
/// schedule.expr: …`), and an `error` that only restates the code is left out. A body that is not
/// the envelope (a proxy's page) gives `HTTP 502: <its first line>`.
[[nodiscard]] std::string describe_error_answer(int status, std::string_view body);

/// Reduces arbitrary text to one printable line of at most `max_chars` characters: control
/// characters become spaces and a longer text ends with `…`, so that an error is always one line.
[[nodiscard]] std::string one_printable_line(std::string_view text, std::size_t max_chars = 300);

/// Prints `wakeplane: <message>` on stderr and returns the exit code to use.
int report(const failure& f);

}  // namespace wakeplane::cli
