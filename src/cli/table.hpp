// Aligned text tables for a terminal.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace wakeplane::cli {

/// Rows of text cells under optional headers. Cells may hold anything: rendering escapes
/// control characters and shortens long values.
struct text_table {
    std::vector<std::string> headers;             ///< empty: no header line
    std::vector<std::vector<std::string>> rows;   ///< each as long as `headers` (when present)
    std::size_t max_cell_chars = 64;              ///< longer cells end with `…`
};

/// The table with columns left-aligned and separated by two spaces, one line per row, no
/// trailing spaces. Widths count characters, not bytes.
///
/// Example:
///     ID     NAME          ENABLED
///     sch_1  health-check  true
[[nodiscard]] std::string render_table(const text_table& table);

}  // namespace wakeplane::cli
