// YAML manifests: converted to the JSON create request, then decoded by the JSON decoder, so that
// both report the same field paths and messages.
#include <wakeplane/manifest.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <wakeplane/codec.hpp>
#include <wakeplane/time.hpp>

namespace wakeplane {
namespace {

using ojson = nlohmann::ordered_json;

/// How many nodes one manifest may expand to. Aliases can make a small file expand
/// exponentially ("billion laughs"); a real manifest has a few dozen nodes.
constexpr std::size_t max_nodes = 100'000;

/// What a manifest field holds, which decides how a scalar converts.
enum class field_type {
    any,      ///< free-form (`body`, `input`) or unknown: the scalar's YAML type
    text,     ///< a string field: any scalar gives its text, as yaml.v3 decodes into a Go string
    boolean,  ///< `enabled`: YAML 1.1 words (`yes`, `off`) too, as yaml.v3 accepts for a Go bool
    time,     ///< an unquoted YAML timestamp, or a quoted RFC 3339 string
};

/// The type of the field at `path` (lower-cased keys joined by dots, `[]` for a list element).
/// Integer fields are `any`: a plain `300` is an integer, a quoted "300" a string the decoder refuses.
field_type type_of(std::string_view path) {
    static const std::map<std::string_view, field_type> fields = {
        {"name", field_type::text},
        {"enabled", field_type::boolean},
        {"timezone", field_type::text},
        {"start_at", field_type::time},
        {"end_at", field_type::time},
        {"schedule.kind", field_type::text},
        {"schedule.expr", field_type::text},
        {"schedule.anchor_at", field_type::time},
        {"schedule.at", field_type::time},
        {"schedule.dst.gap", field_type::text},
        {"schedule.dst.repeated", field_type::text},
        {"target.kind", field_type::text},
        {"target.method", field_type::text},
        {"target.url", field_type::text},
        {"target.command", field_type::text},
        {"target.args[]", field_type::text},
        {"target.workflow_id", field_type::text},
        {"policy.overlap", field_type::text},
        {"policy.misfire", field_type::text},
        {"retry.strategy", field_type::text},
    };
    if (path.starts_with("target.headers.") && path.find('.', 15) == std::string_view::npos) {
        return field_type::text;
    }
    const auto found = fields.find(path);
    return found == fields.end() ? field_type::any : found->second;
}

std::string lower_ascii(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
    return out;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// A YAML integer as yaml.v3 reads one: `_` separators dropped, an optional sign, then decimal
/// digits or a `0x`, `0o` or `0b` prefix. Values beyond 64 bits are not integers (they read as floats).
std::optional<ojson> yaml_integer(std::string_view text) {
    std::string digits;
    std::copy_if(text.begin(), text.end(), std::back_inserter(digits), [](char c) { return c != '_'; });
    std::string_view rest = digits;
    const bool negative = rest.starts_with('-');
    if (negative || rest.starts_with('+')) {
        rest.remove_prefix(1);
    }
    int base = 10;
    if (rest.starts_with("0x")) {
        base = 16;
    } else if (rest.starts_with("0o")) {
        base = 8;
    } else if (rest.starts_with("0b")) {
        base = 2;
    }
    if (base != 10) {
        rest.remove_prefix(2);
    }
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value, base);
    if (rest.empty() || ec != std::errc{} || end != rest.data() + rest.size()) {
        return std::nullopt;
    }
    constexpr auto int_max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (!negative) {
        return value <= int_max ? ojson(static_cast<std::int64_t>(value)) : ojson(value);
    }
    if (value > int_max + 1) {
        return std::nullopt;
    }
    return ojson(value == int_max + 1 ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(value));
}

/// True when `s` matches yaml.v3's float syntax `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
bool is_yaml_float(std::string_view s) noexcept {
    std::size_t i = 0;
    const auto digits = [&] {
        const std::size_t start = i;
        while (i < s.size() && is_digit(s[i])) {
            ++i;
        }
        return i - start;
    };
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
        ++i;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        if (digits() == 0) {
            return false;
        }
    } else {
        if (digits() == 0) {
            return false;
        }
        if (i < s.size() && s[i] == '.') {
            ++i;
            digits();
        }
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
            ++i;
        }
        if (digits() == 0) {
            return false;
        }
    }
    return i == s.size();
}

/// The YAML 1.2 spellings of infinity and not-a-number, which JSON cannot carry.
bool is_yaml_non_finite(std::string_view s) noexcept {
    constexpr std::array<std::string_view, 12> words = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
                                                        "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN"};
    return std::find(words.begin(), words.end(), s) != words.end();
}

std::optional<bool> yaml_core_bool(std::string_view s) noexcept {
    if (s == "true" || s == "True" || s == "TRUE") {
        return true;
    }
    if (s == "false" || s == "False" || s == "FALSE") {
        return false;
    }
    return std::nullopt;
}

/// The YAML 1.1 boolean words yaml.v3 still accepts when the target is a Go bool.
std::optional<bool> yaml_legacy_bool(std::string_view s) noexcept {
    constexpr std::array<std::string_view, 8> yes = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON"};
    constexpr std::array<std::string_view, 8> no = {"n", "N", "no", "No", "NO", "off", "Off", "OFF"};
    if (std::find(yes.begin(), yes.end(), s) != yes.end()) {
        return true;
    }
    if (std::find(no.begin(), no.end(), s) != no.end()) {
        return false;
    }
    return std::nullopt;
}

/// Converts a parsed YAML document to the JSON create request, typing scalars by the field they
/// fill (see field_type), and collects the problems JSON cannot express.
class converter {
public:
    /// The JSON form of `root`, a mapping.
    result<ojson> document(const YAML::Node& root) {
        ojson doc = convert(root, "", 0);
        if (too_large_) {
            return fail(errc::bad_request, "the manifest is too large or nested too deeply");
        }
        if (!errors_.empty()) {
            return invalid(std::move(errors_));
        }
        return doc;
    }

private:
    ojson convert(const YAML::Node& node, const std::string& path, std::size_t depth) {
        if (++nodes_ > max_nodes || depth > max_json_depth) {
            too_large_ = true;
            return nullptr;
        }
        switch (node.Type()) {
        case YAML::NodeType::Scalar: return scalar(node, path);
        case YAML::NodeType::Sequence: {
            ojson array = ojson::array();
            for (const auto& element : node) {
                array.push_back(convert(element, path + "[]", depth + 1));
                if (too_large_) {
                    break;
                }
            }
            return array;
        }
        case YAML::NodeType::Map: {
            ojson object = ojson::object();
            for (const auto& member : node) {
                if (!member.first.IsScalar()) {
                    errors_.push_back({path.empty() ? "manifest" : path, "has a key that is not a string"});
                    continue;
                }
                const std::string& key = member.first.Scalar();
                const std::string child = path.empty() ? lower_ascii(key) : path + "." + lower_ascii(key);
                object[key] = convert(member.second, child, depth + 1);
                if (too_large_) {
                    break;
                }
            }
            return object;
        }
        default:  // Null and Undefined
            return nullptr;
        }
    }

    ojson scalar(const YAML::Node& node, const std::string& path) {
        const std::string& text = node.Scalar();
        // yaml-cpp tags a plain scalar "?" and a quoted one "!"; an explicit `!!str` keeps the text.
        const bool plain = node.Tag() != "!" && node.Tag() != "tag:yaml.org,2002:str";
        if (!plain) {
            return text;
        }
        switch (type_of(path)) {
        case field_type::text: return text;
        case field_type::boolean:
            if (const auto legacy = yaml_legacy_bool(text)) {
                return *legacy;
            }
            break;
        case field_type::time:
            if (const auto t = parse_yaml_timestamp(text)) {
                return format_rfc3339(*t);
            }
            break;
        case field_type::any: break;
        }
        return infer(text, path);
    }

    /// The YAML 1.2 core type of a plain scalar; a timestamp stays a string, as yaml.v3 leaves it
    /// when decoding into an untyped value.
    ojson infer(const std::string& text, const std::string& path) {
        if (const auto b = yaml_core_bool(text)) {
            return *b;
        }
        if (auto integer = yaml_integer(text)) {
            return std::move(*integer);
        }
        std::string number;
        std::copy_if(text.begin(), text.end(), std::back_inserter(number), [](char c) { return c != '_'; });
        if (is_yaml_float(number)) {
            double value = 0;
            const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(),
                                                   value);
            if (ec == std::errc{} && std::isfinite(value)) {
                return value;
            }
            errors_.push_back({path, "must be a finite number"});
            return nullptr;
        }
        if (is_yaml_non_finite(text)) {
            errors_.push_back({path, "must be a finite number"});
            return nullptr;
        }
        return text;
    }

    std::vector<field_error> errors_;
    std::size_t nodes_ = 0;
    bool too_large_ = false;
};

/// One line for a yaml-cpp error: `invalid YAML at line 3, column 7: illegal map value`.
std::string describe(const YAML::Exception& e) {
    if (e.mark.is_null()) {
        return "invalid YAML: " + e.msg;
    }
    return "invalid YAML at line " + std::to_string(e.mark.line + 1) + ", column " + std::to_string(e.mark.column + 1) +
           ": " + e.msg;
}

/// Counts the documents of a YAML stream that hold more than a null, reading at most
/// `max_documents`. Bounded because yaml-cpp 0.7's parser reports an endless run of empty
/// documents on some malformed streams (`,- a` then `- b`), which makes YAML::LoadAll hang
/// (found by tests/fuzz/fuzz_manifest).
std::size_t documents_with_content(const std::string& text, std::size_t max_documents = 64) {
    /// Notes whether each document's first node is something other than a null.
    struct first_nodes final : YAML::EventHandler {
        std::size_t with_content = 0;
        bool at_root = false;

        void root(bool content) {
            if (at_root && content) {
                ++with_content;
            }
            at_root = false;
        }
        void OnDocumentStart(const YAML::Mark&) override { at_root = true; }
        void OnDocumentEnd() override {}
        void OnNull(const YAML::Mark&, YAML::anchor_t) override { root(false); }
        void OnAlias(const YAML::Mark&, YAML::anchor_t) override { root(true); }
        void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override { root(true); }
        void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
            root(true);
        }
        void OnSequenceEnd() override {}
        void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
            root(true);
        }
        void OnMapEnd() override {}
    };
    std::istringstream in(text);
    YAML::Parser parser(in);
    first_nodes seen;
    for (std::size_t n = 0; n < max_documents && parser.HandleNextDocument(seen); ++n) {
    }
    return seen.with_content;
}

}  // namespace

result<schedule_input> decode_manifest(std::string_view yaml_text) {
    const std::string text(yaml_text);
    YAML::Node root;
    try {
        // A manifest is one schedule: YAML::Load would silently drop every document after the first.
        if (const auto documents = documents_with_content(text); documents > 1) {
            return fail(errc::bad_request, "the manifest holds " + std::to_string(documents) +
                                               " YAML documents; it describes one schedule, so give each its own file");
        }
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        return fail(errc::bad_request, describe(e));
    }
    if (root.IsNull() || !root.IsDefined()) {
        return fail(errc::bad_request, "the manifest is empty");
    }
    if (!root.IsMap()) {
        return fail(errc::bad_request, "a manifest must be a YAML mapping of the schedule's fields");
    }
    converter convert;
    auto doc = convert.document(root);
    if (!doc) {
        return tl::unexpected<error>(std::move(doc.error()));
    }
    return decode_schedule_input(doc->dump(-1, ' ', false, ojson::error_handler_t::replace));
}

result<schedule_input> load_manifest(const std::filesystem::path& path) {
    const std::string name = path.string();
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        return fail(errc::bad_request, name + ": cannot read the file: it is a directory");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int code = errno;  // set by the failed open(2) underneath the stream
        return fail(errc::bad_request, name + ": cannot read the file: " + std::generic_category().message(code));
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        return fail(errc::bad_request, name + ": cannot read the file");
    }
    auto decoded = decode_manifest(text.str());
    if (!decoded) {
        decoded.error().message = name + ": " + decoded.error().message;
    }
    return decoded;
}

}  // namespace wakeplane
