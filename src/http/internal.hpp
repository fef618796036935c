// Private pieces of the HTTP API shared by its route files: the handler context, the error
// envelope, a small JSON object writer and the query parameter parsers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <wakeplane/codec.hpp>
#include <wakeplane/http/control.hpp>
#include <wakeplane/http/message.hpp>
#include <wakeplane/http/router.hpp>
#include <wakeplane/result.hpp>
#include <wakeplane/store.hpp>

namespace wakeplane::http::detail {

/// What every handler gets: the control behind the API, the API's options, the request and the
/// `{id}` segment of its path ("" for routes without one).
struct call {
    control& ctl;
    const api_options& options;
    const request& req;
    std::string_view id;
};

using handler = response (*)(const call&);

// ---- route handlers, one file per group ---------------------------------------------------------

// schedules.cpp
response create_schedule(const call& c);
response list_schedules(const call& c);
response get_schedule(const call& c);
response replace_schedule(const call& c);
response patch_schedule(const call& c);
response delete_schedule(const call& c);
response pause_schedule(const call& c);
response resume_schedule(const call& c);
response trigger_schedule(const call& c);
response list_schedule_runs(const call& c);
response preview_schedule(const call& c);

// runs.cpp
response list_runs(const call& c);
response get_run(const call& c);
response list_receipts(const call& c);
response cancel_run(const call& c);
response list_dead_letters(const call& c);
response read_ledger(const call& c);

// ops.cpp
response healthz(const call& c);
response readyz(const call& c);
response status(const call& c);
response metrics(const call& c);

// ---- responses ---------------------------------------------------------------------------------

/// The error envelope `{"code","error","details"?}` with the status of `e.code`.
[[nodiscard]] response error_response(const error& e);

/// An envelope with an explicit status and code (routing errors outside the errc table).
[[nodiscard]] response error_response(int status, std::string_view code, std::string_view message);

/// `{"items":[...],"next_cursor":...}`: `items` are encoded JSON values; an empty list is `[]`.
[[nodiscard]] std::string list_body(const std::vector<std::string>& items, const std::optional<std::string>& next_cursor);

/// A page of a list as `{"items":[...],"next_cursor":...}`, each row encoded with `encode`,
/// or the error envelope when the read failed.
template <class T, class Encode>
[[nodiscard]] response page_response(const result<page<T>>& p, Encode&& encode) {
    if (!p) {
        return error_response(p.error());
    }
    std::vector<std::string> items;
    items.reserve(p->items.size());
    for (const auto& row : p->items) {
        items.push_back(encode(row));
    }
    std::optional<std::string> next;
    if (p->next) {
        next = encode_cursor(p->next->created_at, p->next->id);
    }
    return json_response(200, list_body(items, next));
}

/// `schedule "<id>" was not found` (the id quoted as Go's %q does).
[[nodiscard]] error schedule_not_found(std::string_view id);
/// `run "<id>" was not found`.
[[nodiscard]] error run_not_found(std::string_view id);

/// `text` quoted as Go's `%q` quotes an ASCII string: `"a\"b"`.
[[nodiscard]] std::string go_quote(std::string_view text);

/// Writes one JSON object, keys in the order written.
class object_writer {
public:
    object_writer& raw(std::string_view key, std::string_view json);
    object_writer& text(std::string_view key, std::string_view value);
    object_writer& number(std::string_view key, std::int64_t value);
    object_writer& decimal(std::string_view key, double value);
    object_writer& boolean(std::string_view key, bool value);
    /// A UTC RFC 3339 time, or `null` when absent.
    object_writer& time(std::string_view key, const std::optional<time_point>& value);
    [[nodiscard]] std::string done();

private:
    void key(std::string_view k);

    std::string out_ = "{";
};

/// The shortest decimal text that reads back as `value` (`0.5`, `12`, `1e-06`).
[[nodiscard]] std::string format_decimal(double value);

// ---- request parsing ----------------------------------------------------------------------------

/// `limit`: absent, not an integer or <= 0 means 50 (the original); above 500 it is 500 (DECISIONS 24).
[[nodiscard]] std::size_t page_limit(const request& r);

/// `limit` and `cursor` together; an undecodable cursor is 400 `invalid cursor`.
[[nodiscard]] result<page_request> page_of(const request& r);

/// `status`: one of the nine run statuses, exactly; anything else is 400 `invalid status value "<raw>"`.
[[nodiscard]] result<std::optional<run_status>> status_filter(const request& r);

/// A non-empty query parameter, nullopt when absent or empty (an empty filter is no filter).
[[nodiscard]] std::optional<std::string> non_empty_param(const request& r, std::string_view key);



/// ASCII whitespace trimmed from both ends.
[[nodiscard]] std::string_view trim(std::string_view s) noexcept;

}  // namespace wakeplane::http::detail
