// What the fuzz targets share: their input as text, read line by line, and a property check
// that fails loudly enough for libFuzzer to keep the input as a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace wakeplane::fuzz {

/// libFuzzer's bytes as text; every parser under test takes arbitrary bytes, NULs included.
[[nodiscard]] inline std::string_view as_text(const std::uint8_t* data, std::size_t size) noexcept {
    return {reinterpret_cast<const char*>(data), size};
}

/// The first line of `text` without its `\n`, removed from `text` (all of it when there is no `\n`).
[[nodiscard]] inline std::string_view take_line(std::string_view& text) noexcept {
    const auto newline = text.find('\n');
    const auto line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    return line;
}

/// Aborts when a property does not hold: libFuzzer reports the abort as a crash and saves the
/// input, and the message says which property broke.
inline void require(bool holds, const char* property) {
    if (!holds) {
        std::fprintf(stderr, "fuzz property violated: %s\n", property);
        std::abort();
    }
}

}  // namespace wakeplane::fuzz
