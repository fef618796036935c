// JSON to YAML on yaml-cpp's emitter.
#include "yaml_text.hpp"

#include <array>
#include <cctype>
#include <string_view>

#include <yaml-cpp/yaml.h>

namespace wakeplane::cli {
namespace {

/// True when a plain (unquoted) `text` could be read back as something other than a string.
/// yaml-cpp quotes what would break the syntax, but not `123`, `true` or `yes`. Anything that
/// starts like a number (times and cron expressions included) is quoted too: simpler than
/// knowing every resolver's number and timestamp grammar, and always correct.
bool looks_like_non_string(std::string_view text) {
    if (text.empty()) {
        return true;
    }
    if (std::string_view("0123456789+-.").find(text.front()) != std::string_view::npos) {
        return true;
    }
    // YAML 1.1 and 1.2 spellings of null and the booleans, compared case-insensitively.
    static constexpr std::array<std::string_view, 12> words = {
        "~", "null", "true", "false", "yes", "no", "y", "n", "on", "off", "nan", "inf"};
    std::string lower(text);
    for (auto& c : lower) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    for (const auto w : words) {
        if (lower == w) {
            return true;
        }
    }
    return false;
}

/// Writes one JSON value at the emitter's current position. Recursion depth follows the
/// document's nesting, which the daemon bounds (max_json_depth in codec.hpp).
void emit(YAML::Emitter& out, const nlohmann::ordered_json& value) {
    switch (value.type()) {
    case nlohmann::json::value_t::object:
        if (value.empty()) {
            out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
            return;
        }
        out << YAML::BeginMap;
        for (const auto& [key, member] : value.items()) {
            out << YAML::Key;
            emit(out, nlohmann::ordered_json(key));
            out << YAML::Value;
            emit(out, member);
        }
        out << YAML::EndMap;
        return;
    case nlohmann::json::value_t::array:
        if (value.empty()) {
            out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
            return;
        }
        out << YAML::BeginSeq;
        for (const auto& element : value) {
            emit(out, element);
        }
        out << YAML::EndSeq;
        return;
    case nlohmann::json::value_t::string: {
        const auto& text = value.get_ref<const std::string&>();
        if (looks_like_non_string(text)) {
            out << YAML::DoubleQuoted;
        }
        out << text;
        return;
    }
    case nlohmann::json::value_t::boolean:
        out << (value.get<bool>() ? "true" : "false");
        return;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
        out << value.dump();  // the shortest spelling that reads back as the same number
        return;
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
    case nlohmann::json::value_t::binary:
        out << YAML::Null;
        return;
    }
}

}  // namespace

std::string to_yaml_text(const nlohmann::ordered_json& value) {
    YAML::Emitter out;
    out.SetIndent(2);
    emit(out, value);
    std::string text = out.c_str();
    text += '\n';
    return text;
}

}  // namespace wakeplane::cli
