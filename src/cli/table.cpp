// Aligned text tables.
#include "table.hpp"

#include <algorithm>

#include "text.hpp"

namespace wakeplane::cli {
namespace {

/// Appends one row, padding every cell but the last to its column's width.
void append_row(std::string& out, const std::vector<std::string>& cells, const std::vector<std::size_t>& widths) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
        out += cells[i];
        if (i + 1 < cells.size()) {
            out.append(widths[i] - display_width(cells[i]) + 2, ' ');
        }
    }
    // A row whose last cells are empty would end in padding.
    while (!out.empty() && out.back() == ' ') {
        out.pop_back();
    }
    out += '\n';
}

}  // namespace

std::string render_table(const text_table& table) {
    std::vector<std::vector<std::string>> lines;
    lines.reserve(table.rows.size() + 1);
    if (!table.headers.empty()) {
        lines.push_back(table.headers);
    }
    for (const auto& row : table.rows) {
        std::vector<std::string> cells;
        cells.reserve(row.size());
        for (const auto& cell : row) {
            cells.push_back(truncate_chars(escape_controls(cell), table.max_cell_chars));
        }
        lines.push_back(std::move(cells));
    }
    std::vector<std::size_t> widths;
    for (const auto& line : lines) {
        widths.resize(std::max(widths.size(), line.size()), 0);
        for (std::size_t i = 0; i < line.size(); ++i) {
            widths[i] = std::max(widths[i], display_width(line[i]));
        }
    }
    std::string out;
    for (const auto& line : lines) {
        append_row(out, line, widths);
    }
    return out;
}

}  // namespace wakeplane::cli
