// Small text helpers for terminal output: widths and truncation in characters, not bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wakeplane::cli {

/// The number of characters (UTF-8 code points) in `text`; tables align on it so that a
/// name like `café` does not push its column out of line. Wide CJK glyphs count as one.
[[nodiscard]] std::size_t display_width(std::string_view text) noexcept;

/// `text` with every control character (newline, tab, ESC, …) replaced: `\n`, `\r` and `\t` by
/// their two-character escapes, others by `?`. A server-supplied value can then neither break a
/// table row nor send terminal escape sequences.
[[nodiscard]] std::string escape_controls(std::string_view text);

/// At most `max_chars` characters of `text`; a cut text ends with `…` (counted in the limit).
/// Cuts never split a UTF-8 sequence. `max_chars` below 1 is treated as 1.
[[nodiscard]] std::string truncate_chars(std::string_view text, std::size_t max_chars);

}  // namespace wakeplane::cli
