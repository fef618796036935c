// Instants, durations and their RFC 3339 text form.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <wakeplane/result.hpp>

namespace wakeplane {

/// Every stored and compared instant: UTC, microsecond precision (DECISIONS 7).
/// Local wall-clock time appears only inside the next-fire computation.
using duration = std::chrono::microseconds;
using time_point = std::chrono::sys_time<duration>;
using seconds = std::chrono::seconds;

/// Formats `t` as UTC RFC 3339 with a `Z` suffix and the fraction's trailing zeros trimmed
/// (dropped when zero): `2026-03-12T10:00:00Z`, `2026-03-12T10:00:00.5Z`.
[[nodiscard]] std::string format_rfc3339(time_point t);

/// Appends what format_rfc3339 returns to `out` (for writers that format many instants).
void append_rfc3339(std::string& out, time_point t);

/// Formats `t` truncated to whole seconds: `2026-03-12T10:00:00Z` (occurrence keys, /v1/status).
[[nodiscard]] std::string format_rfc3339_seconds(time_point t);

/// Parses RFC 3339 with a required offset (`Z`, `z` or `±hh:mm`) and any number of fractional
/// digits; digits beyond microseconds are truncated. The result is UTC.
/// Errors name the problem, e.g. `"2026-13-01T00:00:00Z" is not an RFC 3339 timestamp: month out of range`.
[[nodiscard]] result<time_point> parse_rfc3339(std::string_view text);

/// Like parse_rfc3339 but also accepts the YAML 1.1 timestamp forms yaml.v3 accepts in manifests:
/// a space instead of `T`, a missing offset (UTC), and a bare date `2026-03-12` (midnight UTC).
[[nodiscard]] result<time_point> parse_yaml_timestamp(std::string_view text);

/// Microseconds since the Unix epoch: the integer form stores keep so that instants order correctly.
[[nodiscard]] constexpr std::int64_t to_unix_micros(time_point t) noexcept { return t.time_since_epoch().count(); }
[[nodiscard]] constexpr time_point from_unix_micros(std::int64_t us) noexcept { return time_point{duration{us}}; }

}  // namespace wakeplane
