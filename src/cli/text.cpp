// Terminal text helpers.
#include "text.hpp"

namespace wakeplane::cli {
namespace {

/// True for the bytes that continue a UTF-8 sequence (10xxxxxx).
constexpr bool is_continuation(unsigned char byte) noexcept {
    return (byte & 0xC0U) == 0x80U;
}

constexpr std::string_view ellipsis = "\xE2\x80\xA6";  // U+2026, one character wide

}  // namespace

std::size_t display_width(std::string_view text) noexcept {
    std::size_t width = 0;
    for (const char c : text) {
        if (!is_continuation(static_cast<unsigned char>(c))) {
            ++width;
        }
    }
    return width;
}

std::string escape_controls(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (byte < 0x20U || byte == 0x7FU) {
            out += '?';
        } else {
            out += c;
        }
    }
    return out;
}

std::string truncate_chars(std::string_view text, std::size_t max_chars) {
    if (max_chars < 1) {
        max_chars = 1;
    }
    if (display_width(text) <= max_chars) {
        return std::string(text);
    }
    // Keep max_chars - 1 characters and spend the last one on the ellipsis.
    std::size_t kept = 0;
    std::size_t end = 0;
    while (end < text.size()) {
        if (!is_continuation(static_cast<unsigned char>(text[end]))) {
            if (kept == max_chars - 1) {
                break;
            }
            ++kept;
        }
        ++end;
    }
    return std::string(text.substr(0, end)) + std::string(ellipsis);
}

}  // namespace wakeplane::cli
