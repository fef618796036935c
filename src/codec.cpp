// The JSON wire format: Go-compatible escaping, case-insensitive decoding with field paths, cursors.
#include <wakeplane/codec.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "utf8.hpp"

namespace wakeplane {
namespace {

/// Parsed documents keep their key order: decoding needs document order to let the last of
/// several case-insensitive matches win, and embedded `result_json` keeps its order on output.
using ojson = nlohmann::ordered_json;

// ---- UTF-8 ----------------------------------------------------------------------------------

/// `s` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD, as Go's decoder
/// does inside strings (outside strings such a byte is a syntax error either way).
std::string sanitize_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t length = detail::utf8_sequence_length(s, i);
        if (length == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(s.substr(i, length));
            i += length;
        }
    }
    return out;
}

bool is_hex_digit(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/// The UTF-16 unit of the `\uXXXX` escape at `s[i]`, or -1 when there is none.
long utf16_escape_at(std::string_view s, std::size_t i) noexcept {
    if (i + 6 > s.size() || s[i] != '\\' || s[i + 1] != 'u' ||
        !std::all_of(s.begin() + static_cast<std::ptrdiff_t>(i) + 2, s.begin() + static_cast<std::ptrdiff_t>(i) + 6,
                     is_hex_digit)) {
        return -1;
    }
    unsigned unit = 0;
    std::from_chars(s.data() + i + 2, s.data() + i + 6, unit, 16);  // four hex digits: cannot fail
    return static_cast<long>(unit);
}

/// `s` with every unpaired UTF-16 surrogate escape inside a string (`"\ud800"`) replaced by
/// `\ufffd`, as Go's decoder replaces it; nlohmann's parser would refuse the whole document.
std::string repair_surrogate_escapes(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    bool in_string = false;
    for (std::size_t i = 0; i < s.size();) {
        const char c = s[i];
        if (!in_string || c != '\\') {
            if (c == '"') {
                in_string = !in_string;
            }
            out += c;
            ++i;
            continue;
        }
        const long unit = utf16_escape_at(s, i);
        if (unit < 0xD800 || unit > 0xDFFF) {
            // Not a surrogate (or not a \u escape): copy the escape's first two characters as they are.
            out.append(s.substr(i, 2));
            i += 2;
            continue;
        }
        const long low = unit <= 0xDBFF ? utf16_escape_at(s, i + 6) : -1;
        if (low >= 0xDC00 && low <= 0xDFFF) {
            out.append(s.substr(i, 12));
            i += 12;
        } else {
            out += "\\ufffd";
            i += 6;
        }
    }
    return out;
}

// ---- scalar text ------------------------------------------------------------------------------

/// Appends `s` as a quoted JSON string with Go's encoding/json escaping (HTML-safe mode, the
/// default of json.Marshal): `\b \f \n \r \t` short forms, other control characters and `< > &` as
/// lower-case `\u00xx`, U+2028/U+2029 escaped, each invalid UTF-8 byte as `\ufffd`.
void append_json_string(std::string& out, std::string_view s) {
    constexpr std::string_view hex = "0123456789abcdef";
    out += '"';
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20 || c == '<' || c == '>' || c == '&') {
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 0xF];
                } else {
                    out += static_cast<char>(c);
                }
            }
            ++i;
            continue;
        }
        const std::size_t length = detail::utf8_sequence_length(s, i);
        if (length == 0) {
            out += "\\ufffd";
            ++i;
            continue;
        }
        // U+2028 and U+2029 are E2 80 A8 and E2 80 A9; JavaScript treats them as line breaks.
        const bool js_line_break = length == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                                   (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8;
        if (js_line_break) {
            out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
        } else {
            out.append(s.substr(i, length));
        }
        i += length;
    }
    out += '"';
}

/// Appends a float the way Go's encoding/json does: the shortest text that reads back as the
/// same double, fixed notation for magnitudes in [1e-6, 1e21), otherwise exponent notation with a
/// one-digit negative exponent unpadded (`1e-7`, `1e+21`).
void append_go_float(std::string& out, double value) {
    std::array<char, 64> buf{};
    const double magnitude = std::fabs(value);
    const bool exponent = magnitude != 0 && (magnitude < 1e-6 || magnitude >= 1e21);
    const auto format = exponent ? std::chars_format::scientific : std::chars_format::fixed;
    const auto written = std::to_chars(buf.data(), buf.data() + buf.size(), value, format);
    std::string text(buf.data(), written.ptr);
    const std::size_t n = text.size();
    if (exponent && n >= 4 && text[n - 4] == 'e' && text[n - 3] == '-' && text[n - 2] == '0') {
        text.erase(n - 2, 1);
    }
    out += text;
}

// ---- writing ----------------------------------------------------------------------------------

/// Builds compact JSON text. Callers pair the begin and end calls; the writer places the commas.
class json_writer {
public:
    json_writer& begin_object() {
        before_value();
        out_ += '{';
        fresh_.push_back(true);
        return *this;
    }
    json_writer& end_object() {
        out_ += '}';
        fresh_.pop_back();
        return *this;
    }
    json_writer& begin_array() {
        before_value();
        out_ += '[';
        fresh_.push_back(true);
        return *this;
    }
    json_writer& end_array() {
        out_ += ']';
        fresh_.pop_back();
        return *this;
    }
    json_writer& key(std::string_view name) {
        separate();
        append_json_string(out_, name);
        out_ += ':';
        after_key_ = true;
        return *this;
    }
    json_writer& string_value(std::string_view value) {
        before_value();
        append_json_string(out_, value);
        return *this;
    }
    json_writer& int_value(std::int64_t value) {
        before_value();
        out_ += std::to_string(value);
        return *this;
    }
    json_writer& uint_value(std::uint64_t value) {
        before_value();
        out_ += std::to_string(value);
        return *this;
    }
    json_writer& double_value(double value) {
        before_value();
        append_go_float(out_, value);
        return *this;
    }
    json_writer& bool_value(bool value) {
        before_value();
        out_ += value ? "true" : "false";
        return *this;
    }
    json_writer& null_value() {
        before_value();
        out_ += "null";
        return *this;
    }
    json_writer& time_value(time_point t) { return string_value(format_rfc3339(t)); }
    json_writer& time_or_null(const std::optional<time_point>& t) { return t ? time_value(*t) : null_value(); }

    [[nodiscard]] std::string take() { return std::move(out_); }

private:
    void before_value() {
        if (after_key_) {
            after_key_ = false;
        } else {
            separate();
        }
    }
    void separate() {
        if (!fresh_.empty()) {
            if (!fresh_.back()) {
                out_ += ',';
            }
            fresh_.back() = false;
        }
    }

    std::string out_;
    std::vector<bool> fresh_;  // per open container: nothing written into it yet
    bool after_key_ = false;
};

/// Writes a parsed JSON value. `sort_keys` orders object keys bytewise, as Go does for maps;
/// without it the document's order is kept. Recursion is bounded by max_json_depth, which every
/// parse checks first.
void write_value(json_writer& w, const ojson& v, bool sort_keys) {
    switch (v.type()) {
    case ojson::value_t::object: {
        std::vector<std::pair<std::string_view, const ojson*>> members;
        members.reserve(v.size());
        for (const auto& item : v.items()) {
            members.emplace_back(item.key(), &item.value());
        }
        if (sort_keys) {
            std::sort(members.begin(), members.end(),
                      [](const auto& a, const auto& b) { return a.first < b.first; });
        }
        w.begin_object();
        for (const auto& [name, member] : members) {
            w.key(name);
            write_value(w, *member, sort_keys);
        }
        w.end_object();
        break;
    }
    case ojson::value_t::array:
        w.begin_array();
        for (const auto& element : v) {
            write_value(w, element, sort_keys);
        }
        w.end_array();
        break;
    case ojson::value_t::string: w.string_value(v.get_ref<const std::string&>()); break;
    case ojson::value_t::boolean: w.bool_value(v.get<bool>()); break;
    case ojson::value_t::number_integer: w.int_value(v.get<std::int64_t>()); break;
    case ojson::value_t::number_unsigned: w.uint_value(v.get<std::uint64_t>()); break;
    case ojson::value_t::number_float: w.double_value(v.get<double>()); break;
    default:  // null; binary and discarded values never come out of a successful parse
        w.null_value();
        break;
    }
}

// ---- parsing ----------------------------------------------------------------------------------

/// The deepest nesting of arrays and objects in `text`, counted without parsing, so that a hostile
/// document is refused before any recursive walk sees it. Stops counting past the limit.
std::size_t nesting_depth(std::string_view text) noexcept {
    std::size_t depth = 0;
    std::size_t deepest = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
            if (deepest > max_json_depth) {
                break;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

/// One readable line from a parser exception: `invalid JSON at line 1, column 2: syntax error …`.
std::string describe(const nlohmann::json::exception& e) {
    std::string_view what = e.what();
    if (const auto end_of_id = what.find("] "); end_of_id != std::string_view::npos) {
        what.remove_prefix(end_of_id + 2);  // drop "[json.exception.parse_error.101] "
    }
    constexpr std::string_view parse_error = "parse error ";
    if (what.starts_with(parse_error)) {
        what.remove_prefix(parse_error.size());
        return "invalid JSON " + std::string(what);
    }
    return "invalid JSON: " + std::string(what);
}

enum class trailing { ignored, refused };

/// Parses one JSON document. With trailing::ignored only the first value is read, as Go's
/// json.Decoder does for request bodies; stored documents must be exactly one value.
result<ojson> parse_json(std::string_view text, trailing rest) {
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        return fail(errc::bad_request, "empty JSON document");
    }
    if (nesting_depth(text) > max_json_depth) {
        return fail(errc::bad_request,
                    "invalid JSON: nested deeper than " + std::to_string(max_json_depth) + " levels");
    }
    const std::string clean = repair_surrogate_escapes(sanitize_utf8(text));
    try {
        if (rest == trailing::refused) {
            return ojson::parse(clean);
        }
        ojson doc;
        std::istringstream in(clean);
        in >> doc;  // nlohmann's stream extraction stops after the first value
        return doc;
    } catch (const nlohmann::json::exception& e) {
        return fail(errc::bad_request, describe(e));
    }
}

/// Parses a request body or stored document that must be an object. A top-level `null` counts as
/// `{}`, since Go's decoder accepts it and leaves every field at its zero value.
result<ojson> parse_object(std::string_view text) {
    auto doc = parse_json(text, trailing::ignored);
    if (!doc) {
        return doc;
    }
    if (doc->is_null()) {
        return ojson::object();
    }
    if (!doc->is_object()) {
        return fail(errc::bad_request, "expected a JSON object, got " + std::string(doc->type_name()));
    }
    return doc;
}

// ---- reading fields -----------------------------------------------------------------------------

constexpr std::string_view must_be_string = "must be a string";
constexpr std::string_view must_be_integer = "must be an integer";
constexpr std::string_view must_be_boolean = "must be a boolean";
constexpr std::string_view must_be_object = "must be an object";
constexpr std::string_view must_be_array = "must be an array";
constexpr std::string_view must_be_time = "must be an RFC 3339 timestamp with offset";

/// True when the JSON key `key` names the field `field` (lower-case ASCII) under Go's rule, which
/// folds case with Unicode simple folding: besides ASCII case, only the Kelvin sign U+212A folds
/// to `k` and the long s U+017F to `s` among the letters field names use.
bool key_matches(std::string_view key, std::string_view field) noexcept {
    std::size_t i = 0;
    for (const char want : field) {
        if (i >= key.size()) {
            return false;
        }
        if (key.substr(i).starts_with("\xE2\x84\xAA") && want == 'k') {
            i += 3;
        } else if (key.substr(i).starts_with("\xC5\xBF") && want == 's') {
            i += 2;
        } else {
            char c = key[i];
            if (c >= 'A' && c <= 'Z') {
                c = static_cast<char>(c - 'A' + 'a');
            }
            if (c != want) {
                return false;
            }
            ++i;
        }
    }
    return i == key.size();
}

// Each converter stores a well-typed value in `out` and returns nullopt, or returns the message
// for the wrong type. `v` is never null: a null member is skipped before conversion.

std::optional<std::string_view> convert(const ojson& v, std::string& out) {
    if (!v.is_string()) {
        return must_be_string;
    }
    out = v.get<std::string>();
    return std::nullopt;
}

std::optional<std::string_view> convert(const ojson& v, std::int64_t& out) {
    if (v.is_number_unsigned()) {
        const auto value = v.get<std::uint64_t>();
        if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return "is out of range";
        }
        out = static_cast<std::int64_t>(value);
        return std::nullopt;
    }
    if (!v.is_number_integer()) {
        return must_be_integer;
    }
    out = v.get<std::int64_t>();
    return std::nullopt;
}

std::optional<std::string_view> convert(const ojson& v, bool& out) {
    if (!v.is_boolean()) {
        return must_be_boolean;
    }
    out = v.get<bool>();
    return std::nullopt;
}

std::optional<std::string_view> convert(const ojson& v, time_point& out) {
    if (!v.is_string()) {
        return must_be_time;
    }
    auto parsed = parse_rfc3339(v.get_ref<const std::string&>());
    if (!parsed) {
        return must_be_time;
    }
    out = *parsed;
    return std::nullopt;
}

/// Reads the members of one JSON object into typed fields the way Go's encoding/json does
/// (case-insensitive keys, the last match winning, `null` a no-op) and collects every type error
/// with its field path instead of stopping at the first.
class object_reader {
public:
    object_reader(const ojson& object, std::string prefix, std::vector<field_error>& errors)
        : object_(&object), prefix_(std::move(prefix)), errors_(&errors) {}

    /// The member named `name`, null included; nullptr when absent.
    [[nodiscard]] const ojson* member(std::string_view name) const {
        const ojson* found = nullptr;
        if (object_->is_object()) {
            for (const auto& item : object_->items()) {
                if (key_matches(item.key(), name)) {
                    found = &item.value();
                }
            }
        }
        return found;
    }

    /// The member named `name` unless it is absent or null.
    [[nodiscard]] const ojson* present(std::string_view name) const {
        const ojson* v = member(name);
        return v != nullptr && !v->is_null() ? v : nullptr;
    }

    /// The full path of a member, for error details: `schedule.every_seconds`.
    [[nodiscard]] std::string path(std::string_view name) const {
        return prefix_.empty() ? std::string(name) : prefix_ + "." + std::string(name);
    }

    void fail(std::string_view name, std::string_view message) { errors_->push_back({path(name), std::string(message)}); }

    /// The member `name` converted to T; nullopt when it is absent, null or wrongly typed (the last
    /// is reported).
    template <class T>
    [[nodiscard]] std::optional<T> take(std::string_view name) {
        const ojson* v = present(name);
        if (v == nullptr) {
            return std::nullopt;
        }
        T value{};
        if (const auto message = convert(*v, value)) {
            fail(name, *message);
            return std::nullopt;
        }
        return value;
    }

    /// Fills `out` from the member `name` when it is present and well typed.
    template <class T>
    void read(std::string_view name, T& out) {
        if (auto value = take<T>(name)) {
            out = std::move(*value);
        }
    }

    /// Engages `out` when the member `name` is present and well typed.
    template <class T>
    void read(std::string_view name, std::optional<T>& out) {
        if (auto value = take<T>(name)) {
            out = std::move(value);
        }
    }

    /// A reader for the nested object `name`; nullopt when absent, null or not an object (the
    /// last is reported).
    [[nodiscard]] std::optional<object_reader> object(std::string_view name) {
        const ojson* v = present(name);
        if (v == nullptr) {
            return std::nullopt;
        }
        if (!v->is_object()) {
            fail(name, must_be_object);
            return std::nullopt;
        }
        return object_reader(*v, path(name), *errors_);
    }

private:
    const ojson* object_;
    std::string prefix_;
    std::vector<field_error>* errors_;
};

/// Compact text of a parsed value.
std::string to_text(const ojson& v, bool sort_keys) {
    json_writer w;
    write_value(w, v, sort_keys);
    return w.take();
}

/// Moves the error of a failed result into another result type.
template <class T>
tl::unexpected<error> pass_on(result<T>& failed) {
    return tl::unexpected<error>(std::move(failed.error()));
}

// ---- decoding the model -------------------------------------------------------------------------

/// Reads a member holding an object of any values (`body`, `input`) as compact text with sorted
/// keys, the form the original's map re-encodes to; an empty object becomes "" (omitted on output).
void read_json_object(object_reader& r, std::string_view name, std::string& out) {
    const ojson* v = r.present(name);
    if (v == nullptr) {
        return;
    }
    if (!v->is_object()) {
        r.fail(name, must_be_object);
        return;
    }
    out = v->empty() ? std::string() : to_text(*v, true);
}

/// Reads `headers`, an object of strings. A null value is stored as "", as Go stores the zero
/// value for a null map element.
void read_headers(object_reader& r, std::map<std::string, std::string>& out) {
    const ojson* v = r.present("headers");
    if (v == nullptr) {
        return;
    }
    if (!v->is_object()) {
        r.fail("headers", must_be_object);
        return;
    }
    for (const auto& item : v->items()) {
        const ojson& value = item.value();
        if (value.is_null()) {
            out[item.key()] = "";
        } else if (value.is_string()) {
            out[item.key()] = value.get<std::string>();
        } else {
            r.fail("headers." + item.key(), must_be_string);
        }
    }
}

/// Reads `args`, an array of strings (a null element becomes "").
void read_args(object_reader& r, std::vector<std::string>& out) {
    const ojson* v = r.present("args");
    if (v == nullptr) {
        return;
    }
    if (!v->is_array()) {
        r.fail("args", must_be_array);
        return;
    }
    out.clear();
    for (std::size_t i = 0; i < v->size(); ++i) {
        const ojson& element = (*v)[i];
        if (element.is_null()) {
            out.emplace_back();
        } else if (element.is_string()) {
            out.push_back(element.get<std::string>());
        } else {
            r.fail("args[" + std::to_string(i) + "]", must_be_string);
        }
    }
}

/// Reads `schedule.dst`; "" or absent members keep the default (DECISIONS 4).
dst_policy read_dst(object_reader& r) {
    dst_policy dst;
    std::string gap;
    std::string repeated;
    r.read("gap", gap);
    r.read("repeated", repeated);
    if (!gap.empty()) {
        if (const auto parsed = parse_dst_gap(gap)) {
            dst.gap = *parsed;
        } else {
            r.fail("gap", "must be one of skip, shift");
        }
    }
    if (!repeated.empty()) {
        if (const auto parsed = parse_dst_repeated(repeated)) {
            dst.repeated = *parsed;
        } else {
            r.fail("repeated", "must be one of first, last, both");
        }
    }
    return dst;
}

schedule_spec read_spec(object_reader& r) {
    schedule_spec spec;
    r.read("kind", spec.kind);
    r.read("expr", spec.expr);
    r.read("every_seconds", spec.every_seconds);
    r.read("anchor_at", spec.anchor_at);
    r.read("at", spec.at);
    if (auto dst = r.object("dst")) {
        spec.dst = read_dst(*dst);
    }
    return spec;
}

target_spec read_target(object_reader& r) {
    target_spec target;
    r.read("kind", target.kind);
    r.read("method", target.method);
    r.read("url", target.url);
    read_headers(r, target.headers);
    read_json_object(r, "body", target.body_json);
    r.read("command", target.command);
    read_args(r, target.args);
    r.read("workflow_id", target.workflow_id);
    read_json_object(r, "input", target.input_json);
    return target;
}

void read_policy(object_reader& r, policy_spec& policy) {
    r.read("overlap", policy.overlap);
    r.read("misfire", policy.misfire);
    r.read("timeout_seconds", policy.timeout_seconds);
    r.read("max_concurrency", policy.max_concurrency);
    r.read("misfire_grace_seconds", policy.misfire_grace_seconds);
    r.read("catch_up_limit", policy.catch_up_limit);
    r.read("jitter_seconds", policy.jitter_seconds);
}

void read_retry(object_reader& r, retry_spec& retry) {
    r.read("max_attempts", retry.max_attempts);
    r.read("strategy", retry.strategy);
    r.read("initial_delay_seconds", retry.initial_delay_seconds);
    r.read("max_delay_seconds", retry.max_delay_seconds);
}

/// A PATCH bound: absent leaves `out` disengaged; null engages it empty (clear the bound).
void read_clearable(object_reader& r, std::string_view name, std::optional<std::optional<time_point>>& out) {
    const ojson* v = r.member(name);
    if (v == nullptr) {
        return;
    }
    if (v->is_null()) {
        out.emplace(std::nullopt);
        return;
    }
    if (auto t = r.take<time_point>(name)) {
        out.emplace(*t);
    }
}

/// `must be one of pending, claimed, …`, listing every run status.
std::string run_status_choices() {
    std::string out = "must be one of ";
    for (int i = 0; i <= static_cast<int>(run_status::skipped); ++i) {
        if (i > 0) {
            out += ", ";
        }
        out += to_string(static_cast<run_status>(i));
    }
    return out;
}

// ---- encoding the model -------------------------------------------------------------------------

/// Writes stored JSON text as an embedded value. Text that does not parse (only a damaged store
/// holds such) goes out as a JSON string, so that the response itself stays valid JSON.
void write_embedded(json_writer& w, std::string_view text, bool sort_keys) {
    auto doc = parse_json(text, trailing::refused);
    if (doc) {
        write_value(w, *doc, sort_keys);
    } else {
        w.string_value(text);
    }
}

/// Writes `key: {…}` for a stored object (`body`, `input`) with sorted keys, unless it is empty:
/// Go's omitempty drops an empty map.
void write_object_member(json_writer& w, std::string_view key, std::string_view text) {
    if (text.empty()) {
        return;
    }
    auto doc = parse_json(text, trailing::refused);
    if (doc && doc->is_object() && doc->empty()) {
        return;
    }
    w.key(key);
    if (doc) {
        write_value(w, *doc, true);
    } else {
        w.string_value(text);
    }
}

void write_spec(json_writer& w, const schedule_spec& spec) {
    w.begin_object();
    w.key("kind").string_value(spec.kind);
    if (!spec.expr.empty()) {
        w.key("expr").string_value(spec.expr);
    }
    if (spec.every_seconds != 0) {
        w.key("every_seconds").int_value(spec.every_seconds);
    }
    if (spec.anchor_at) {
        w.key("anchor_at").time_value(*spec.anchor_at);
    }
    if (spec.at) {
        w.key("at").time_value(*spec.at);
    }
    if (spec.kind == "cron") {  // the DST policy means nothing to interval and once
        w.key("dst").begin_object();
        w.key("gap").string_value(to_string(spec.dst.gap));
        w.key("repeated").string_value(to_string(spec.dst.repeated));
        w.end_object();
    }
    w.end_object();
}

void write_target(json_writer& w, const target_spec& target) {
    w.begin_object();
    w.key("kind").string_value(target.kind);
    if (!target.method.empty()) {
        w.key("method").string_value(target.method);
    }
    if (!target.url.empty()) {
        w.key("url").string_value(target.url);
    }
    if (!target.headers.empty()) {
        w.key("headers").begin_object();
        for (const auto& [name, value] : target.headers) {
            w.key(name).string_value(value);
        }
        w.end_object();
    }
    write_object_member(w, "body", target.body_json);
    if (!target.command.empty()) {
        w.key("command").string_value(target.command);
    }
    if (!target.args.empty()) {
        w.key("args").begin_array();
        for (const auto& arg : target.args) {
            w.string_value(arg);
        }
        w.end_array();
    }
    if (!target.workflow_id.empty()) {
        w.key("workflow_id").string_value(target.workflow_id);
    }
    write_object_member(w, "input", target.input_json);
    w.end_object();
}

void write_policy(json_writer& w, const policy_spec& policy) {
    w.begin_object();
    w.key("overlap").string_value(policy.overlap);
    w.key("misfire").string_value(policy.misfire);
    w.key("timeout_seconds").int_value(policy.timeout_seconds);
    w.key("max_concurrency").int_value(policy.max_concurrency);
    w.key("misfire_grace_seconds").int_value(policy.misfire_grace_seconds);
    w.key("catch_up_limit").int_value(policy.catch_up_limit);
    w.key("jitter_seconds").int_value(policy.jitter_seconds);
    w.end_object();
}

void write_retry(json_writer& w, const retry_spec& retry) {
    w.begin_object();
    w.key("max_attempts").int_value(retry.max_attempts);
    w.key("strategy").string_value(retry.strategy);
    w.key("initial_delay_seconds").int_value(retry.initial_delay_seconds);
    w.key("max_delay_seconds").int_value(retry.max_delay_seconds);
    w.end_object();
}

void write_receipt(json_writer& w, const receipt& r) {
    w.begin_object();
    w.key("id").string_value(r.id);
    if (!r.run.empty()) {
        w.key("run_id").string_value(r.run);
    }
    w.key("receipt_kind").string_value(r.receipt_kind);
    w.key("content_type").string_value(r.content_type);
    w.key("body").string_value(r.body);
    w.key("created_at").time_value(r.created_at);
    if (r.truncated) {
        w.key("truncated").bool_value(true);
    }
    w.end_object();
}

// ---- base64url (RFC 4648 §5, no padding) --------------------------------------------------------

constexpr std::string_view base64url_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    std::uint32_t bits = 0;
    int count = 0;
    for (const char c : bytes) {
        bits = ((bits << 8) | static_cast<unsigned char>(c)) & 0xFFFF;
        count += 8;
        while (count >= 6) {
            count -= 6;
            out += base64url_alphabet[(bits >> count) & 0x3F];
        }
    }
    if (count > 0) {
        out += base64url_alphabet[(bits << (6 - count)) & 0x3F];
    }
    return out;
}

/// The value of a base64url digit, or -1 for any other character (padding `=` included, as Go's
/// RawURLEncoding refuses it).
int base64url_value(char c) noexcept {
    const auto at = base64url_alphabet.find(c);
    return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

/// Decodes unpadded base64url; nullopt on a foreign character or an impossible length. Non-zero
/// bits left over at the end are ignored, as Go's non-strict decoder ignores them.
std::optional<std::string> base64url_decode(std::string_view text) {
    if (text.size() % 4 == 1) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t bits = 0;
    int count = 0;
    for (const char c : text) {
        const int value = base64url_value(c);
        if (value < 0) {
            return std::nullopt;
        }
        bits = ((bits << 6) | static_cast<std::uint32_t>(value)) & 0xFFFF;
        count += 6;
        if (count >= 8) {
            count -= 8;
            out += static_cast<char>((bits >> count) & 0xFF);
        }
    }
    return out;
}

}  // namespace

// ---- public decoders ----------------------------------------------------------------------------

result<schedule_input> decode_schedule_input(std::string_view text) {
    auto doc = parse_object(text);
    if (!doc) {
        return pass_on(doc);
    }
    std::vector<field_error> errors;
    object_reader r(*doc, "", errors);
    schedule_input in;
    r.read("name", in.name);
    r.read("enabled", in.enabled);
    r.read("timezone", in.timezone);
    if (auto spec = r.object("schedule")) {
        in.schedule = read_spec(*spec);
    }
    if (auto target = r.object("target")) {
        in.target = read_target(*target);
    }
    if (auto policy = r.object("policy")) {
        read_policy(*policy, in.policy);
    }
    if (auto retry = r.object("retry")) {
        read_retry(*retry, in.retry);
    }
    r.read("start_at", in.start_at);
    r.read("end_at", in.end_at);
    if (!errors.empty()) {
        return invalid(std::move(errors));
    }
    return in;
}

result<std::string> decode_reason(std::string_view text, bool body_required) {
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos && !body_required) {
        return std::string{};  // an absent body: no reason given
    }
    auto doc = parse_object(text);
    if (!doc) {
        return pass_on(doc);
    }
    std::vector<field_error> errors;
    object_reader r(*doc, "", errors);
    std::string reason;
    r.read("reason", reason);
    if (!errors.empty()) {
        return invalid(std::move(errors));
    }
    return reason;
}

result<schedule_patch> decode_schedule_patch(std::string_view text) {
    auto doc = parse_object(text);
    if (!doc) {
        return pass_on(doc);
    }
    std::vector<field_error> errors;
    object_reader r(*doc, "", errors);
    schedule_patch patch;
    r.read("name", patch.name);
    r.read("enabled", patch.enabled);
    r.read("timezone", patch.timezone);
    if (auto spec = r.object("schedule")) {
        patch.schedule = read_spec(*spec);
    }
    if (auto target = r.object("target")) {
        patch.target = read_target(*target);
    }
    if (auto policy = r.object("policy")) {
        policy->read("overlap", patch.overlap);
        policy->read("misfire", patch.misfire);
        policy->read("timeout_seconds", patch.timeout_seconds);
        policy->read("max_concurrency", patch.max_concurrency);
        policy->read("misfire_grace_seconds", patch.misfire_grace_seconds);
        policy->read("catch_up_limit", patch.catch_up_limit);
        policy->read("jitter_seconds", patch.jitter_seconds);
    }
    if (auto retry = r.object("retry")) {
        retry->read("max_attempts", patch.max_attempts);
        retry->read("strategy", patch.strategy);
        retry->read("initial_delay_seconds", patch.initial_delay_seconds);
        retry->read("max_delay_seconds", patch.max_delay_seconds);
    }
    read_clearable(r, "start_at", patch.start_at);
    read_clearable(r, "end_at", patch.end_at);
    if (!errors.empty()) {
        return invalid(std::move(errors));
    }
    return patch;
}

result<schedule> decode_schedule(std::string_view text) {
    auto doc = parse_object(text);
    if (!doc) {
        return pass_on(doc);
    }
    std::vector<field_error> errors;
    object_reader r(*doc, "", errors);
    schedule s;
    r.read("id", s.id);
    r.read("name", s.name);
    r.read("enabled", s.enabled);
    r.read("timezone", s.timezone);
    if (auto spec = r.object("schedule")) {
        s.spec = read_spec(*spec);
    }
    if (auto target = r.object("target")) {
        s.target = read_target(*target);
    } else {
        r.read("target_kind", s.target.kind);  // a schedule summary
    }
    if (auto policy = r.object("policy")) {
        read_policy(*policy, s.policy);
    }
    if (auto retry = r.object("retry")) {
        read_retry(*retry, s.retry);
    }
    r.read("start_at", s.start_at);
    r.read("end_at", s.end_at);
    r.read("paused_at", s.paused_at);
    r.read("next_run_at", s.next_run_at);
    r.read("last_run_at", s.last_run_at);
    r.read("created_at", s.created_at);
    r.read("updated_at", s.updated_at);
    if (!errors.empty()) {
        return invalid(std::move(errors));
    }
    return s;
}

result<run> decode_run(std::string_view text) {
    auto doc = parse_object(text);
    if (!doc) {
        return pass_on(doc);
    }
    std::vector<field_error> errors;
    object_reader r(*doc, "", errors);
    run out;
    r.read("id", out.id);
    r.read("schedule_id", out.schedule);
    r.read("occurrence_key", out.occurrence_key);
    r.read("nominal_time", out.nominal_time);
    r.read("due_time", out.due_time);
    if (auto status = r.take<std::string>("status")) {
        if (const auto parsed = parse_run_status(*status)) {
            out.status = *parsed;
        } else {
            r.fail("status", run_status_choices());
        }
    }
    r.read("attempt", out.attempt);
    r.read("claimed_by_worker_id", out.claimed_by_worker_id);
    r.read("claim_expires_at", out.claim_expires_at);
    r.read("started_at", out.started_at);
    r.read("finished_at", out.finished_at);
    r.read("http_status_code", out.http_status_code);
    r.read("exit_code", out.exit_code);
    if (const ojson* result_json = r.present("result_json")) {
        out.result_json = to_text(*result_json, false);
    }
    r.read("error_text", out.error_text);
    r.read("retry_available_at", out.retry_available_at);
    r.read("created_at", out.created_at);
    r.read("updated_at", out.updated_at);
    r.read("trigger_reason", out.trigger_reason);
    if (!errors.empty()) {
        return invalid(std::move(errors));
    }
    return out;
}

// ---- public encoders ----------------------------------------------------------------------------

std::string encode_schedule_input(const schedule_input& in) {
    json_writer w;
    w.begin_object();
    w.key("name").string_value(in.name);
    if (in.enabled) {
        w.key("enabled").bool_value(*in.enabled);
    }
    w.key("timezone").string_value(in.timezone);
    w.key("schedule");
    write_spec(w, in.schedule);
    w.key("target");
    write_target(w, in.target);
    w.key("policy");
    write_policy(w, in.policy);
    w.key("retry");
    write_retry(w, in.retry);
    if (in.start_at) {
        w.key("start_at").time_value(*in.start_at);
    }
    if (in.end_at) {
        w.key("end_at").time_value(*in.end_at);
    }
    w.end_object();
    return w.take();
}

std::string encode_schedule(const schedule& s) {
    json_writer w;
    w.begin_object();
    w.key("id").string_value(s.id);
    w.key("name").string_value(s.name);
    w.key("enabled").bool_value(s.enabled);
    w.key("timezone").string_value(s.timezone);
    w.key("schedule");
    write_spec(w, s.spec);
    w.key("target");
    write_target(w, s.target);
    w.key("policy");
    write_policy(w, s.policy);
    w.key("retry");
    write_retry(w, s.retry);
    w.key("start_at").time_or_null(s.start_at);
    w.key("end_at").time_or_null(s.end_at);
    w.key("paused_at").time_or_null(s.paused_at);
    w.key("next_run_at").time_or_null(s.next_run_at);
    w.key("last_run_at").time_or_null(s.last_run_at);
    w.key("created_at").time_value(s.created_at);
    w.key("updated_at").time_value(s.updated_at);
    w.end_object();
    return w.take();
}

std::string encode_schedule_summary(const schedule& s) {
    json_writer w;
    w.begin_object();
    w.key("id").string_value(s.id);
    w.key("name").string_value(s.name);
    w.key("enabled").bool_value(s.enabled);
    w.key("timezone").string_value(s.timezone);
    w.key("schedule");
    write_spec(w, s.spec);
    w.key("target_kind").string_value(s.target.kind);
    w.key("paused_at").time_or_null(s.paused_at);
    w.key("next_run_at").time_or_null(s.next_run_at);
    w.key("last_run_at").time_or_null(s.last_run_at);
    w.key("created_at").time_value(s.created_at);
    w.key("updated_at").time_value(s.updated_at);
    w.end_object();
    return w.take();
}

std::string encode_run(const run& r, std::span<const receipt> receipts) {
    json_writer w;
    w.begin_object();
    w.key("id").string_value(r.id);
    w.key("schedule_id").string_value(r.schedule);
    w.key("occurrence_key").string_value(r.occurrence_key);
    w.key("nominal_time").time_value(r.nominal_time);
    w.key("due_time").time_value(r.due_time);
    w.key("status").string_value(to_string(r.status));
    w.key("attempt").int_value(r.attempt);
    if (r.claimed_by_worker_id) {
        w.key("claimed_by_worker_id").string_value(*r.claimed_by_worker_id);
    }
    if (r.claim_expires_at) {
        w.key("claim_expires_at").time_value(*r.claim_expires_at);
    }
    if (r.started_at) {
        w.key("started_at").time_value(*r.started_at);
    }
    if (r.finished_at) {
        w.key("finished_at").time_value(*r.finished_at);
    }
    if (r.http_status_code) {
        w.key("http_status_code").int_value(*r.http_status_code);
    }
    if (r.exit_code) {
        w.key("exit_code").int_value(*r.exit_code);
    }
    if (r.result_json) {
        w.key("result_json");
        write_embedded(w, *r.result_json, false);
    }
    if (r.error_text) {
        w.key("error_text").string_value(*r.error_text);
    }
    if (r.retry_available_at) {
        w.key("retry_available_at").time_value(*r.retry_available_at);
    }
    w.key("created_at").time_value(r.created_at);
    w.key("updated_at").time_value(r.updated_at);
    if (!receipts.empty()) {
        w.key("receipts").begin_array();
        for (const auto& rc : receipts) {
            write_receipt(w, rc);
        }
        w.end_array();
    }
    if (r.trigger_reason) {
        w.key("trigger_reason").string_value(*r.trigger_reason);
    }
    w.end_object();
    return w.take();
}

std::string encode_run_summary(const run& r) {
    json_writer w;
    w.begin_object();
    w.key("id").string_value(r.id);
    w.key("schedule_id").string_value(r.schedule);
    w.key("occurrence_key").string_value(r.occurrence_key);
    w.key("status").string_value(to_string(r.status));
    w.key("attempt").int_value(r.attempt);
    if (r.started_at) {
        w.key("started_at").time_value(*r.started_at);
    }
    if (r.finished_at) {
        w.key("finished_at").time_value(*r.finished_at);
    }
    w.key("created_at").time_value(r.created_at);
    w.key("updated_at").time_value(r.updated_at);
    w.end_object();
    return w.take();
}

std::string encode_receipt(const receipt& r) {
    json_writer w;
    write_receipt(w, r);
    return w.take();
}

std::string encode_dead_letter(const dead_letter& d) {
    json_writer w;
    w.begin_object();
    w.key("id").string_value(d.id);
    w.key("run_id").string_value(d.run);
    w.key("schedule_id").string_value(d.schedule);
    w.key("occurrence_key").string_value(d.occurrence_key);
    w.key("reason").string_value(d.reason);
    if (d.payload_json) {
        w.key("payload_json");
        write_embedded(w, *d.payload_json, false);
    }
    w.key("created_at").time_value(d.created_at);
    w.end_object();
    return w.take();
}

std::string encode_json_string(std::string_view text) {
    std::string out;
    append_json_string(out, text);
    return out;
}

result<std::string> compact_json(std::string_view text) {
    auto doc = parse_json(text, trailing::refused);
    if (!doc) {
        return pass_on(doc);
    }
    return to_text(*doc, false);
}

// ---- cursors ------------------------------------------------------------------------------------

std::string encode_cursor(time_point created_at, std::string_view id) {
    json_writer w;
    w.begin_object();
    w.key("created_at").time_value(created_at);
    w.key("id").string_value(id);
    w.end_object();
    return base64url_encode(w.take());
}

result<page_cursor> decode_cursor(std::string_view text) {
    const auto invalid_cursor = [] { return fail(errc::bad_request, "invalid cursor"); };
    const auto bytes = base64url_decode(text);
    if (!bytes) {
        return invalid_cursor();
    }
    auto doc = parse_json(*bytes, trailing::refused);
    if (!doc || !doc->is_object()) {
        return invalid_cursor();
    }
    page_cursor cursor;
    bool has_created_at = false;
    // Keys match exactly here: the original decodes the cursor into a map[string]string.
    for (const auto& item : doc->items()) {
        if (!item.value().is_string()) {
            return invalid_cursor();
        }
        const auto& value = item.value().get_ref<const std::string&>();
        if (item.key() == "created_at") {
            auto t = parse_rfc3339(value);
            if (!t) {
                return invalid_cursor();
            }
            cursor.created_at = *t;
            has_created_at = true;
        } else if (item.key() == "id") {
            cursor.id = value;
        }
    }
    if (!has_created_at) {
        return invalid_cursor();
    }
    return cursor;
}

}  // namespace wakeplane
