// The `wakeplane` command tree: registration of every command with CLI11 and what it runs.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "api_client.hpp"
#include "failure.hpp"
#include "output.hpp"

namespace wakeplane::cli {

/// The options every command accepts, before or after the subcommand (`wakeplane -o json
/// run list` and `wakeplane run list -o json` are the same).
struct global_options {
    std::string addr = "http://127.0.0.1:8080";  ///< --addr, or WAKEPLANE_ADDR
    std::optional<std::string> output;           ///< -o/--output; absent: table on a terminal, else JSON
};

/// What a leaf command does after parsing. It prints on stdout only when it succeeds, so a
/// failure leaves stdout empty (DECISIONS 31).
using command_action = std::function<outcome<void>()>;

/// Every leaf command with its action; main() runs the one CLI11 parsed.
struct command_set {
    std::vector<std::pair<CLI::App*, command_action>> leaves;

    /// Registers `action` for the leaf `command`.
    void add(CLI::App* command, command_action action) { leaves.emplace_back(command, std::move(action)); }
};

/// A client for `--addr` and the output format for `-o`, made once the arguments are parsed.
struct session {
    api_client client;
    output_format format;
};

/// The session for the parsed global options; a bad `--addr` or `-o` is a usage failure.
[[nodiscard]] outcome<session> open_session(const global_options& globals);

/// Paging options of the list commands.
struct page_options {
    std::optional<int> limit;           ///< --limit: rows per page (the server clamps it to 500)
    std::optional<std::string> cursor;  ///< --cursor: start after this page position
    bool all = false;                   ///< --all: follow next_cursor until it is null
};

/// Adds `--limit`, `--cursor` and `--all` to a list command.
void add_page_options(CLI::App& command, page_options& paging);

/// `GET path` of a list: one page, or with `--all` every page, following next_cursor until it is
/// null; then the answer is `{"items":[every row], "next_cursor":null}`. A server that repeats a
/// cursor is an error rather than an endless loop.
[[nodiscard]] outcome<json> fetch_list(const api_client& client, const std::string& path, query_params filters,
                                       const page_options& paging);

/// A CLI11 check for a whole number ≥ 1 with a readable message.
[[nodiscard]] CLI::Validator positive_number();

/// `/v1/schedules/<id>` with the id percent-encoded.
[[nodiscard]] std::string schedule_path(const std::string& id);

/// `/v1/runs/<id>` with the id percent-encoded.
[[nodiscard]] std::string run_path(const std::string& id);

/// Prints `text` on stdout in one write, then reports success.
outcome<void> print(const std::string& text);

/// A command's request, sent once the session is open.
using request_fn = std::function<outcome<json>(const api_client&)>;

/// Opens the session, sends `request` and prints its answer as `v` in the session's format.
[[nodiscard]] outcome<void> run_and_print(const global_options& globals, view v, const request_fn& request);

/// The request of an id command (`schedule get <id>`), given the client and the id.
using id_request = std::function<outcome<json>(const api_client&, const std::string&)>;

/// Registers `<name> <id>` under `group`: exactly one id argument, and an action that sends
/// `request` and prints the answer as an object. Returns the command to add options to.
CLI::App* add_id_command(CLI::App& group, const std::string& name, const std::string& description,
                         const std::string& id_help, const global_options& globals, command_set& set,
                         id_request request);

// One registration function per branch of the tree; each keeps its option storage alive in the
// actions it registers.

/// `schedule create|update|list|get|pause|resume|delete|trigger|preview`.
void add_schedule_commands(CLI::App& app, const global_options& globals, command_set& set);
/// `run list|get|receipts|cancel`.
void add_run_commands(CLI::App& app, const global_options& globals, command_set& set);
/// `dead-letters list`.
void add_dead_letter_commands(CLI::App& app, const global_options& globals, command_set& set);
/// `ledger tail [--after N] [-n N] [--follow]`.
void add_ledger_commands(CLI::App& app, const global_options& globals, command_set& set);
/// `version`, `serve` (runs the daemon), the offline `preview` and the what-if `simulate`.
void add_local_commands(CLI::App& app, command_set& set);

/// Declares the whole command tree on `app`: the global options, stored in `globals`, and every
/// command, each leaf registered in `set`. After app.parse(), the parsed leaf's action runs.
void declare_command_tree(CLI::App& app, global_options& globals, command_set& set);

}  // namespace wakeplane::cli
