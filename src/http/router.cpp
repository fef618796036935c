// The route table and its dispatch, the error envelope, and the helpers every route file shares.
#include <wakeplane/http/router.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <exception>
#include <optional>


#include <wakeplane/codec.hpp>

#include "internal.hpp"

namespace wakeplane::http {
namespace {

using detail::call;
using detail::handler;

struct route {
    route_info info;
    handler fn;
};

/// Every route, in the order of docs/api.md. GET routes answer HEAD too.
constexpr std::array<route, 21> table = {{
    {{"GET", "/healthz"}, detail::healthz},
    {{"GET", "/readyz"}, detail::readyz},
    {{"GET", "/v1/status"}, detail::status},
    {{"GET", "/v1/metrics"}, detail::metrics},
    {{"POST", "/v1/schedules"}, detail::create_schedule},
    {{"GET", "/v1/schedules"}, detail::list_schedules},
    {{"GET", "/v1/schedules/{id}"}, detail::get_schedule},
    {{"PUT", "/v1/schedules/{id}"}, detail::replace_schedule},
    {{"PATCH", "/v1/schedules/{id}"}, detail::patch_schedule},
    {{"DELETE", "/v1/schedules/{id}"}, detail::delete_schedule},
    {{"POST", "/v1/schedules/{id}/pause"}, detail::pause_schedule},
    {{"POST", "/v1/schedules/{id}/resume"}, detail::resume_schedule},
    {{"POST", "/v1/schedules/{id}/trigger"}, detail::trigger_schedule},
    {{"GET", "/v1/schedules/{id}/runs"}, detail::list_schedule_runs},
    {{"GET", "/v1/schedules/{id}/preview"}, detail::preview_schedule},
    {{"GET", "/v1/runs"}, detail::list_runs},
    {{"GET", "/v1/runs/{id}"}, detail::get_run},
    {{"GET", "/v1/runs/{id}/receipts"}, detail::list_receipts},
    {{"POST", "/v1/runs/{id}/cancel"}, detail::cancel_run},
    {{"GET", "/v1/dead-letters"}, detail::list_dead_letters},
    {{"GET", "/v1/ledger"}, detail::read_ledger},
}};

constexpr std::array<route_info, table.size()> infos = [] {
    std::array<route_info, table.size()> out{};
    for (std::size_t i = 0; i < table.size(); ++i) {
        out[i] = table[i].info;
    }
    return out;
}();

/// The next `/`-separated segment of `rest` (which starts after a `/`), removed from it.
std::string_view next_segment(std::string_view& rest) {
    const auto slash = rest.find('/');
    const auto seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    return seg;
}

/// When `path` matches `pattern`, the segment that `{id}` matched ("" for a pattern without one);
/// nullopt otherwise.
std::optional<std::string_view> match(std::string_view pattern, std::string_view path) {
    if (!path.starts_with('/')) {
        return std::nullopt;
    }
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    std::string_view id;
    bool more_pattern = true;
    bool more_path = true;
    while (more_pattern && more_path) {
        more_pattern = pattern.find('/') != std::string_view::npos;
        more_path = path.find('/') != std::string_view::npos;
        const auto want = next_segment(pattern);
        const auto got = next_segment(path);
        if (want == "{id}" && !got.empty()) {
            id = got;
        } else if (want != got) {
            return std::nullopt;
        }
    }
    if (more_pattern != more_path) {
        return std::nullopt;
    }
    return id;
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/// Decodes `%XX` escapes (a malformed one stays as it is) and, in a query, `+` as a space.
std::string percent_decode(std::string_view s, bool query) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else if (query && s[i] == '+') {
            out += ' ';
        } else {
            out += s[i];
        }
    }
    return out;
}


}  // namespace

request request::make(std::string method, std::string_view target, std::string body) {
    request r;
    r.method = std::move(method);
    r.body = std::move(body);
    const auto question = target.find('?');
    r.path = percent_decode(target.substr(0, question), false);
    if (question == std::string_view::npos) {
        return r;
    }
    std::string_view rest = target.substr(question + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const auto pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        const auto eq = pair.find('=');
        r.query.emplace(percent_decode(pair.substr(0, eq), true),
                        eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1), true));
    }
    return r;
}

std::optional<std::string> request::header(std::string_view name) const {
    const auto same = [](std::string_view a, std::string_view b) {
        return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
                   return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
               });
    };
    for (const auto& [k, v] : headers) {
        if (same(k, name)) {
            return v;
        }
    }
    return std::nullopt;
}

response router::handle(const request& req) const {
    try {
        const std::string_view method = req.method == "HEAD" ? std::string_view{"GET"} : std::string_view{req.method};
        std::string allowed;
        for (const auto& r : table) {
            const auto id = match(r.info.pattern, req.path);
            if (!id) {
                continue;
            }
            if (r.info.method == method) {
                return r.fn(call{*control_, options_, req, *id});
            }
            allowed += allowed.empty() ? "" : ", ";
            allowed += r.info.method;
            if (r.info.method == "GET") {
                allowed += ", HEAD";
            }
        }
        if (!allowed.empty()) {
            auto resp = detail::error_response(405, "method_not_allowed",
                                               "method " + req.method + " is not allowed on " + req.path +
                                                   "; allowed: " + allowed);
            resp.headers.emplace_back("Allow", allowed);
            return resp;
        }
        return detail::error_response(404, "not_found", "no route for " + req.method + " " + req.path);
    } catch (const std::exception& e) {
        return detail::error_response(500, "internal_error", e.what());
    }
}

std::span<const route_info> router::routes() noexcept { return infos; }

namespace detail {

// ---- responses ---------------------------------------------------------------------------------

response error_response(const error& e) {
    object_writer w;
    w.text("code", api_code(e.code)).text("error", e.message);
    if (!e.details.empty()) {
        std::string details = "[";
        for (const auto& d : e.details) {
            details += details.size() > 1 ? "," : "";
            details += object_writer{}.text("field", d.field).text("message", d.message).done();
        }
        details += ']';
        w.raw("details", details);
    }
    return json_response(http_status(e.code), w.done());
}

response error_response(int status, std::string_view code, std::string_view message) {
    return json_response(status, object_writer{}.text("code", code).text("error", message).done());
}

std::string list_body(const std::vector<std::string>& items, const std::optional<std::string>& next_cursor) {
    std::string list = "[";
    for (const auto& item : items) {
        list += list.size() > 1 ? "," : "";
        list += item;
    }
    list += ']';
    object_writer w;
    w.raw("items", list);
    if (next_cursor) {
        w.text("next_cursor", *next_cursor);
    } else {
        w.raw("next_cursor", "null");
    }
    return w.done();
}

error schedule_not_found(std::string_view id) {
    return error{errc::not_found, "schedule " + go_quote(id) + " was not found", {}};
}

error run_not_found(std::string_view id) { return error{errc::not_found, "run " + go_quote(id) + " was not found", {}}; }

std::string go_quote(std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        switch (ch) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                out += "\\x";
                out += hex[c >> 4];
                out += hex[c & 0xf];
            } else {
                out += ch;
            }
        }
    }
    out += '"';
    return out;
}

void object_writer::key(std::string_view k) {
    if (out_.size() > 1) {
        out_ += ',';
    }
    out_ += encode_json_string(k);
    out_ += ':';
}

object_writer& object_writer::raw(std::string_view k, std::string_view json) {
    key(k);
    out_ += json;
    return *this;
}

object_writer& object_writer::text(std::string_view k, std::string_view value) {
    return raw(k, encode_json_string(value));
}

object_writer& object_writer::number(std::string_view k, std::int64_t value) { return raw(k, std::to_string(value)); }

object_writer& object_writer::decimal(std::string_view k, double value) { return raw(k, format_decimal(value)); }

object_writer& object_writer::boolean(std::string_view k, bool value) { return raw(k, value ? "true" : "false"); }

object_writer& object_writer::time(std::string_view k, const std::optional<time_point>& value) {
    return value ? text(k, format_rfc3339(*value)) : raw(k, "null");
}

std::string object_writer::done() {
    out_ += '}';
    return std::move(out_);
}

std::string format_decimal(double value) {
    std::array<char, 32> buf{};
    const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
    return ec == std::errc{} ? std::string(buf.data(), end) : std::string{"0"};
}

// ---- request parsing ----------------------------------------------------------------------------

std::size_t page_limit(const request& r) {
    constexpr std::int64_t fallback = 50;
    constexpr std::int64_t most = 500;
    const auto raw = r.param("limit");
    if (!raw) {
        return fallback;
    }
    std::int64_t n = 0;
    const auto* first = raw->data();
    const auto* last = raw->data() + raw->size();
    const auto [end, ec] = std::from_chars(first, last, n);
    if (ec != std::errc{} || end != last || n <= 0) {
        return fallback;
    }
    return static_cast<std::size_t>(std::min(n, most));
}

result<page_request> page_of(const request& r) {
    page_request p;
    p.limit = page_limit(r);
    if (auto raw = non_empty_param(r, "cursor")) {
        auto cursor = decode_cursor(*raw);
        if (!cursor) {
            return fail(errc::bad_request, "invalid cursor");
        }
        p.after = *cursor;
    }
    return p;
}

result<std::optional<run_status>> status_filter(const request& r) {
    auto raw = non_empty_param(r, "status");
    if (!raw) {
        return std::optional<run_status>{};
    }
    auto s = parse_run_status(*raw);
    if (!s) {
        return fail(errc::bad_request, "invalid status value " + go_quote(*raw));
    }
    return std::optional<run_status>{*s};
}

std::optional<std::string> non_empty_param(const request& r, std::string_view key) {
    auto v = r.param(key);
    if (!v || v->empty()) {
        return std::nullopt;
    }
    return v;
}

std::string_view trim(std::string_view s) noexcept {
    const auto first = s.find_first_not_of(" \t\r\n\f\v");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = s.find_last_not_of(" \t\r\n\f\v");
    return s.substr(first, last - first + 1);
}

}  // namespace detail
}  // namespace wakeplane::http
