// `-o table|json|yaml`: how answers are printed.
#pragma once

#include <optional>
#include <string>

#include "api_client.hpp"
#include "failure.hpp"
#include "views.hpp"

namespace wakeplane::cli {

/// The output formats of `-o`.
enum class output_format { table, json, yaml };

/// The format for `-o <flag>`; without the flag, a table when stdout is a terminal and JSON
/// otherwise, so `wakeplane schedule list | jq` works without options. An unknown name is a
/// usage failure (CLI11 checks it first; this keeps the function total).
[[nodiscard]] outcome<output_format> choose_format(const std::optional<std::string>& flag, bool stdout_is_terminal);

/// `doc` as JSON indented by two spaces plus a newline, the original CLI's output, key order
/// kept. Invalid UTF-8 from the server is replaced by U+FFFD rather than failing.
[[nodiscard]] std::string to_json_text(const json& doc);

/// `doc` as compact JSON on one line plus a newline (JSON Lines, for streams).
[[nodiscard]] std::string to_json_line(const json& doc);

/// `doc` in `format`; `v` chooses the table layout and is ignored for JSON and YAML.
[[nodiscard]] std::string render(output_format format, view v, const json& doc);

}  // namespace wakeplane::cli
