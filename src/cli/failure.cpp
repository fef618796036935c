// One-line failure messages and their exit codes.
#include "failure.hpp"

#include <iostream>

#include <nlohmann/json.hpp>

#include "text.hpp"

namespace wakeplane::cli {
namespace {

/// The string member `key` of `object`, "" when absent or not a string.
std::string string_member(const nlohmann::json& object, const char* key) {
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

/// `field: message; field: message` from the envelope's `details`, skipping malformed entries.
std::string join_details(const nlohmann::json& details) {
    std::string line;
    if (!details.is_array()) {
        return line;
    }
    for (const auto& d : details) {
        if (!d.is_object()) {
            continue;
        }
        const auto field = string_member(d, "field");
        const auto message = string_member(d, "message");
        if (!line.empty()) {
            line += "; ";
        }
        line += field.empty() ? message : field + ": " + message;
    }
    return line;
}

/// True when `message` says nothing beyond `code` (`validation failed` for `validation_failed`).
bool restates_code(std::string_view code, std::string_view message) {
    std::string spoken(code);
    for (auto& c : spoken) {
        if (c == '_') {
            c = ' ';
        }
    }
    return spoken == message;
}

}  // namespace

std::string describe_error_answer(int status, std::string_view body) {
    const auto doc = nlohmann::json::parse(body, nullptr, false);
    const bool envelope = doc.is_object() && doc.contains("code") && doc["code"].is_string() &&
                          doc.contains("error") && doc["error"].is_string();
    if (!envelope) {
        const auto first_line = body.substr(0, body.find('\n'));
        std::string line = "HTTP " + std::to_string(status);
        if (!first_line.empty()) {
            line += ": " + std::string(first_line);
        }
        return one_printable_line(line);
    }
    const auto code = doc["code"].get<std::string>();
    const auto message = doc["error"].get<std::string>();
    const auto details = join_details(doc.value("details", nlohmann::json::array()));
    std::string line = code;
    if (details.empty() || !restates_code(code, message)) {
        line += ": " + message;
    }
    if (!details.empty()) {
        line += ": " + details;
    }
    return one_printable_line(line, 2000);
}

std::string one_printable_line(std::string_view text, std::size_t max_chars) {
    std::string flat;
    flat.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        flat += (byte < 0x20U || byte == 0x7FU) ? ' ' : c;
    }
    return truncate_chars(flat, max_chars);
}

int report(const failure& f) {
    std::cerr << "wakeplane: " << f.message << '\n';
    return static_cast<int>(f.code);
}

}  // namespace wakeplane::cli
