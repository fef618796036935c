// Expected failures as values: result<T>, error codes and field-level validation details.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

namespace wakeplane {

/// What went wrong, in the vocabulary every layer shares. One table (http_status / api_code)
/// maps a code to the API envelope; the CLI maps it to an exit code.
enum class errc {
    bad_request,        ///< malformed input that is not a field-level validation problem
    validation_failed,  ///< one or more fields are invalid; see error::details
    not_found,
    conflict,           ///< duplicate name, terminal run, claim lost
    stale_fence,        ///< a write carried a fencing token older than the run's current lease
    storage,            ///< the store failed (I/O, corruption, busy beyond the timeout)
    unavailable,        ///< the component is shutting down or not ready
    internal,
};

/// One invalid field: `{"field":"schedule.expr","message":"must parse as a cron expression"}`.
struct field_error {
    std::string field;
    std::string message;
    friend bool operator==(const field_error&, const field_error&) = default;
};

/// An expected failure. `message` is one readable line; `details` lists every invalid field
/// of a request (all of them, not only the first).
struct error {
    errc code = errc::internal;
    std::string message;
    std::vector<field_error> details;
};

/// A value or an error. [[nodiscard]] makes an ignored failure a compile-time warning,
/// the way RocksDB's must-check Status does at run time.
template <class T>
class [[nodiscard]] result : public tl::expected<T, error> {
public:
    using tl::expected<T, error>::expected;
    result(const tl::expected<T, error>& e) : tl::expected<T, error>(e) {}   // NOLINT: implicit on purpose
    result(tl::expected<T, error>&& e) : tl::expected<T, error>(std::move(e)) {}  // NOLINT
};

/// Builds the unexpected side: `return fail(errc::not_found, "schedule \"x\" was not found");`
[[nodiscard]] inline tl::unexpected<error> fail(errc code, std::string message) {
    return tl::unexpected<error>(error{code, std::move(message), {}});
}

/// A validation failure carrying every field error of the request.
[[nodiscard]] inline tl::unexpected<error> invalid(std::vector<field_error> details) {
    return tl::unexpected<error>(error{errc::validation_failed, "validation failed", std::move(details)});
}

/// The API envelope's `code` string for an error code (ORIGINAL-BEHAVIOR §7).
[[nodiscard]] constexpr std::string_view api_code(errc c) noexcept {
    switch (c) {
    case errc::bad_request: return "bad_request";
    case errc::validation_failed: return "validation_failed";
    case errc::not_found: return "not_found";
    case errc::conflict: return "conflict";
    case errc::stale_fence: return "conflict";
    case errc::storage: return "internal_error";
    case errc::unavailable: return "unavailable";
    case errc::internal: return "internal_error";
    }
    return "internal_error";
}

/// The HTTP status for an error code.
[[nodiscard]] constexpr int http_status(errc c) noexcept {
    switch (c) {
    case errc::bad_request: return 400;
    case errc::validation_failed: return 400;
    case errc::not_found: return 404;
    case errc::conflict: return 409;
    case errc::stale_fence: return 409;
    case errc::storage: return 500;
    case errc::unavailable: return 503;
    case errc::internal: return 500;
    }
    return 500;
}

}  // namespace wakeplane
