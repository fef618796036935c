// The JSON wire format of the domain model: request decoding, response encoding, pagination cursors.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include <wakeplane/model.hpp>
#include <wakeplane/result.hpp>
#include <wakeplane/time.hpp>

namespace wakeplane {

/// The deepest nesting of arrays and objects any decoder accepts. Go's encoding/json stops at
/// 10000; we stop earlier because encoders walk user JSON (`body`, `input`, `result_json`)
/// recursively and must not exhaust a worker thread's stack.
inline constexpr std::size_t max_json_depth = 1000;

// ---------------------------------------------------------------------------------------------
// Decoding. Every decoder follows the original's rules (ORIGINAL-BEHAVIOR §1.1): unknown keys are
// ignored; keys match case-insensitively (`"NAME"` fills `name`), the last match winning; only the
// first JSON value of the text is read; `null` leaves a field at its zero value; integer fields
// reject `60.5`, `60.0` and `"60"`; times are RFC 3339 with a required offset, normalized to UTC.
// Failures:
//   - empty or malformed text, or a document that is not an object: errc::bad_request with one
//     readable line (`invalid JSON at line 1, column 2: …`);
//   - wrongly typed fields: errc::validation_failed listing every one of them, each naming its
//     path, e.g. {"field":"schedule.every_seconds","message":"must be an integer"}.
// ---------------------------------------------------------------------------------------------

/// Decodes the body of POST /v1/schedules or PUT /v1/schedules/{id}. Defaults are not applied
/// (see validate.hpp). `target.body` and `target.input` must be objects and are kept as compact
/// text with sorted keys; an empty object is kept as "" (the original omits it).
[[nodiscard]] result<schedule_input> decode_schedule_input(std::string_view text);

/// Decodes the body of PATCH /v1/schedules/{id}. A `null` member counts as absent, except
/// `start_at` and `end_at`, where `null` clears the bound (DECISIONS 26).
[[nodiscard]] result<schedule_patch> decode_schedule_patch(std::string_view text);

/// The `reason` of a trigger or cancel body `{"reason":"…"}` ("" when absent). An empty body is
/// "" unless `body_required` (trigger, as the original: `EOF`-class bad_request); malformed JSON is
/// errc::bad_request, a non-string reason a validation error on `reason`.
[[nodiscard]] result<std::string> decode_reason(std::string_view text, bool body_required);

/// Decodes a schedule as encode_schedule() writes it (for clients and stores). A schedule
/// summary is accepted too: its `target_kind` fills `target.kind`.
[[nodiscard]] result<schedule> decode_schedule(std::string_view text);

/// Decodes a run as encode_run() writes it; `receipts` are ignored, and the internal members
/// (`fencing_token`, `requeued_attempts`) stay 0 since they never travel in JSON.
[[nodiscard]] result<run> decode_run(std::string_view text);

// ---------------------------------------------------------------------------------------------
// Encoding. Every encoder returns one compact JSON value without a trailing newline (the HTTP
// layer adds it), fields in the original's order with our additions at the end of their object,
// strings escaped as Go does (`<`, `>`, `&`, U+2028 and U+2029 as \u escapes; each byte of invalid
// UTF-8 as \ufffd) and times as UTC RFC 3339 with the fraction's trailing zeros trimmed.
// ---------------------------------------------------------------------------------------------

/// The create-request shape (the CLI sends a manifest with it). `enabled`, `start_at` and
/// `end_at` are omitted when absent; zero numbers and empty names are sent as they are.
[[nodiscard]] std::string encode_schedule_input(const schedule_input& in);

/// A schedule, ORIGINAL-BEHAVIOR §1.2: every key present, absent times as `null`; the spec and
/// target omit empty members; `schedule.dst` appears for cron only; the policy ends with
/// `misfire_grace_seconds`, `catch_up_limit`, `jitter_seconds`. `deleted` never appears.
[[nodiscard]] std::string encode_schedule(const schedule& s);

/// A list item of GET /v1/schedules: id, name, enabled, timezone, schedule, target_kind,
/// paused_at, next_run_at, last_run_at, created_at, updated_at.
[[nodiscard]] std::string encode_schedule_summary(const schedule& s);

/// A run, ORIGINAL-BEHAVIOR §1.3: absent members are omitted; `result_json` is embedded as a JSON
/// value; `receipts` are listed when there are any; `trigger_reason` comes last, when set.
[[nodiscard]] std::string encode_run(const run& r, std::span<const receipt> receipts = {});

/// A list item of GET /v1/runs: id, schedule_id, occurrence_key, status, attempt, started_at,
/// finished_at (both omitted when absent), created_at, updated_at.
[[nodiscard]] std::string encode_run_summary(const run& r);

/// A receipt, ORIGINAL-BEHAVIOR §1.4, plus `"truncated":true` when the body was cut.
[[nodiscard]] std::string encode_receipt(const receipt& r);

/// A dead letter (DECISIONS 28): id, run_id, schedule_id, occurrence_key, reason, payload_json
/// (embedded JSON, omitted when absent, as the original's struct tags say), created_at.
[[nodiscard]] std::string encode_dead_letter(const dead_letter& d);

/// `text` as a quoted JSON string with Go's escaping: `encode_json_string("a<b")` is `"a\u003cb"`.
[[nodiscard]] std::string encode_json_string(std::string_view text);

/// Re-encodes any JSON document compactly with Go's escaping, keeping its key order (how Go
/// embeds a json.RawMessage). Fails with errc::bad_request when `text` is not one JSON value.
[[nodiscard]] result<std::string> compact_json(std::string_view text);

// ---------------------------------------------------------------------------------------------
// Pagination cursors (ORIGINAL-BEHAVIOR §1.8).
// ---------------------------------------------------------------------------------------------

/// A position in a list ordered by (created_at, id).
struct page_cursor {
    time_point created_at{};  ///< creation instant of the last row returned
    std::string id;           ///< its id, which breaks ties between equal instants
    friend bool operator==(const page_cursor&, const page_cursor&) = default;
};

/// Base64url without padding of `{"created_at":"<UTC RFC 3339>","id":"<id>"}`.
[[nodiscard]] std::string encode_cursor(time_point created_at, std::string_view id);

/// The inverse of encode_cursor(). A missing `id` decodes as "". Any failure (bad base64, not a
/// JSON object of strings, a bad or missing `created_at`) is errc::bad_request `invalid cursor`;
/// no input, however hostile, makes it crash.
[[nodiscard]] result<page_cursor> decode_cursor(std::string_view text);

}  // namespace wakeplane
