// `wakeplane run …` and `wakeplane dead-letters …`: runs, receipts and dead letters.
#include <memory>

#include <wakeplane/model.hpp>

#include "commands.hpp"

namespace wakeplane::cli {
namespace {

constexpr const char* run_id_help = "Run id (run_…)";

/// The run statuses, comma-separated, for the message of a bad `--status`.
std::string status_names() {
    using enum run_status;
    std::string names;
    for (const auto s : {pending, claimed, running, succeeded, failed, retry_scheduled, dead_lettered, cancelled, skipped}) {
        names += (names.empty() ? "" : ", ") + std::string(to_string(s));
    }
    return names;
}

/// Adds `--status`, checked against the run statuses here so that a typo is a usage error (exit
/// 2) instead of a round trip to the server.
void add_status_filter(CLI::App& command, std::optional<std::string>& status) {
    command.add_option("--status", status, "Only runs in this status (" + status_names() + ")")
        ->check(CLI::Validator(
            [](std::string& text) -> std::string {
                if (parse_run_status(text)) {
                    return {};
                }
                return "must be one of " + status_names() + "; got \"" + text + "\"";
            },
            "STATUS"));
}

void add_list(CLI::App& group, const global_options& globals, command_set& set) {
    auto* cmd = group.add_subcommand("list", "List runs, newest first (GET /v1/runs)");
    auto paging = std::make_shared<page_options>();
    auto status = std::make_shared<std::optional<std::string>>();
    auto schedule = std::make_shared<std::optional<std::string>>();
    add_status_filter(*cmd, *status);
    cmd->add_option("--schedule", *schedule, "Only runs of this schedule id");
    add_page_options(*cmd, *paging);
    set.add(cmd, [&globals, paging, status, schedule] {
        query_params filters;
        if (*schedule) {
            filters.emplace_back("schedule_id", **schedule);
        }
        if (*status) {
            filters.emplace_back("status", **status);
        }
        return run_and_print(globals, view::runs,
                             [&](const api_client& c) { return fetch_list(c, "/v1/runs", filters, *paging); });
    });
}

void add_receipts(CLI::App& group, const global_options& globals, command_set& set) {
    auto* cmd = group.add_subcommand("receipts", "Show what a run left: stdout, stderr, HTTP response, … "
                                                 "(GET /v1/runs/{id}/receipts)");
    auto id = std::make_shared<std::string>();
    cmd->add_option("id", *id, run_id_help)->required();
    set.add(cmd, [&globals, id] {
        // A run has a handful of receipts: always fetch them all.
        return run_and_print(globals, view::receipts, [&](const api_client& c) {
            return fetch_list(c, run_path(*id) + "/receipts", {}, page_options{{}, {}, true});
        });
    });
}

void add_cancel(CLI::App& group, const global_options& globals, command_set& set) {
    auto reason = std::make_shared<std::optional<std::string>>();
    auto* cmd = add_id_command(group, "cancel", "Cancel a pending or running run (POST /v1/runs/{id}/cancel)",
                               run_id_help, globals, set, [reason](const api_client& c, const std::string& id) {
                                   const json body = *reason ? json{{"reason", **reason}} : json::object();
                                   return c.post(run_path(id) + "/cancel", body.dump());
                               });
    cmd->add_option("--reason", *reason, "Why; recorded with the cancellation");
}

void add_dead_letter_list(CLI::App& group, const global_options& globals, command_set& set) {
    auto* cmd = group.add_subcommand("list", "List runs that failed for good, newest first (GET /v1/dead-letters)");
    auto paging = std::make_shared<page_options>();
    auto schedule = std::make_shared<std::optional<std::string>>();
    cmd->add_option("--schedule", *schedule, "Only dead letters of this schedule id");
    add_page_options(*cmd, *paging);
    set.add(cmd, [&globals, paging, schedule] {
        query_params filters;
        if (*schedule) {
            filters.emplace_back("schedule_id", **schedule);
        }
        return run_and_print(globals, view::dead_letters, [&](const api_client& c) {
            return fetch_list(c, "/v1/dead-letters", filters, *paging);
        });
    });
}

}  // namespace

void add_run_commands(CLI::App& app, const global_options& globals, command_set& set) {
    auto* group = app.add_subcommand("run", "Inspect and cancel runs");
    group->require_subcommand(1);
    add_list(*group, globals, set);
    add_id_command(*group, "get", "Show one run with its receipts (GET /v1/runs/{id})", run_id_help, globals, set,
                   [](const api_client& c, const std::string& id) { return c.get(run_path(id)); });
    add_receipts(*group, globals, set);
    add_cancel(*group, globals, set);
}

void add_dead_letter_commands(CLI::App& app, const global_options& globals, command_set& set) {
    auto* group = app.add_subcommand("dead-letters", "Runs that exhausted their retries");
    group->require_subcommand(1);
    add_dead_letter_list(*group, globals, set);
}

}  // namespace wakeplane::cli
