// `wakeplane schedule …`: schedules over /v1/schedules.
#include <memory>

#include <wakeplane/codec.hpp>
#include <wakeplane/manifest.hpp>
#include <wakeplane/time.hpp>

#include "commands.hpp"

namespace wakeplane::cli {
namespace {

constexpr const char* schedule_id_help = "Schedule id (sch_…)";

/// The create-request JSON of the manifest at `path`. Manifest problems are usage failures that
/// name the file: `examples/x.yaml: schedule.every_seconds: must be an integer`.
outcome<std::string> manifest_body(const std::string& path) {
    auto input = load_manifest(path);
    if (!input) {
        const auto& e = input.error();
        if (e.details.empty()) {
            return usage_failure(e.message);  // already starts with the path
        }
        std::string line = path + ": ";
        for (std::size_t i = 0; i < e.details.size(); ++i) {
            line += (i == 0 ? "" : "; ") + e.details[i].field + ": " + e.details[i].message;
        }
        return usage_failure(line);
    }
    return encode_schedule_input(*input);
}

void add_create(CLI::App& group, const global_options& globals, command_set& set) {
    auto* cmd = group.add_subcommand("create", "Create a schedule from a YAML manifest (POST /v1/schedules)");
    auto file = std::make_shared<std::string>();
    cmd->add_option("-f,--file", *file, "Schedule manifest (YAML)")->required();
    set.add(cmd, [&globals, file]() -> outcome<void> {
        auto body = manifest_body(*file);
        if (!body) {
            return tl::unexpected(std::move(body).error());
        }
        return run_and_print(globals, view::object,
                             [&](const api_client& c) { return c.post("/v1/schedules", *body); });
    });
}

void add_update(CLI::App& group, const global_options& globals, command_set& set) {
    auto* cmd = group.add_subcommand("update", "Replace a schedule with a YAML manifest (PUT /v1/schedules/{id})");
    auto file = std::make_shared<std::string>();
    auto id = std::make_shared<std::string>();
    cmd->add_option("-f,--file", *file, "Schedule manifest (YAML)")->required();
    cmd->add_option("id", *id, schedule_id_help)->required();
    set.add(cmd, [&globals, file, id]() -> outcome<void> {
        auto body = manifest_body(*file);
        if (!body) {
            return tl::unexpected(std::move(body).error());
        }
        return run_and_print(globals, view::object,
                             [&](const api_client& c) { return c.put(schedule_path(*id), *body); });
    });
}

void add_list(CLI::App& group, const global_options& globals, command_set& set) {
    auto* cmd = group.add_subcommand("list", "List schedules, newest first (GET /v1/schedules)");
    auto paging = std::make_shared<page_options>();
    auto enabled = std::make_shared<std::string>();
    cmd->add_flag("--enabled{true},--disabled{false}", *enabled, "Only enabled (or only paused) schedules");
    add_page_options(*cmd, *paging);
    set.add(cmd, [&globals, paging, enabled] {
        query_params filters;
        if (!enabled->empty()) {
            filters.emplace_back("enabled", *enabled);
        }
        return run_and_print(globals, view::schedules, [&](const api_client& c) {
            return fetch_list(c, "/v1/schedules", filters, *paging);
        });
    });
}

void add_trigger(CLI::App& group, const global_options& globals, command_set& set) {
    auto reason = std::make_shared<std::string>("manual operator trigger");  // the original's fixed reason
    auto* cmd = add_id_command(group, "trigger", "Start a run now, even when paused (POST …/trigger)", schedule_id_help, globals, set,
                               [reason](const api_client& c, const std::string& id) {
                                   return c.post(schedule_path(id) + "/trigger", json{{"reason", *reason}}.dump());
                               });
    cmd->add_option("--reason", *reason, "Why; kept on the run as trigger_reason")->capture_default_str();
}

void add_preview(CLI::App& group, const global_options& globals, command_set& set) {
    auto* cmd = group.add_subcommand("preview", "Next fire times of a stored schedule (GET …/preview)");
    auto id = std::make_shared<std::string>();
    auto count = std::make_shared<std::optional<int>>();
    auto from = std::make_shared<std::optional<std::string>>();
    cmd->add_option("id", *id, schedule_id_help)->required();
    cmd->add_option("--count", *count, "How many fire times (default 10)")->check(positive_number());
    cmd->add_option("--from", *from, "Instant to start after (RFC 3339; default now)");
    set.add(cmd, [&globals, id, count, from]() -> outcome<void> {
        query_params query;
        if (*count) {
            query.emplace_back("count", std::to_string(**count));
        }
        if (*from) {
            auto t = parse_rfc3339(**from);
            if (!t) {
                return usage_failure("--from: " + t.error().message);
            }
            query.emplace_back("from", format_rfc3339(*t));
        }
        return run_and_print(globals, view::instants,
                             [&](const api_client& c) { return c.get(schedule_path(*id) + "/preview", query); });
    });
}

}  // namespace

void add_schedule_commands(CLI::App& app, const global_options& globals, command_set& set) {
    auto* group = app.add_subcommand("schedule", "Create, inspect and control schedules");
    group->require_subcommand(1);
    add_create(*group, globals, set);
    add_update(*group, globals, set);
    add_list(*group, globals, set);
    add_id_command(*group, "get", "Show one schedule (GET /v1/schedules/{id})", schedule_id_help, globals, set,
                   [](const api_client& c, const std::string& id) { return c.get(schedule_path(id)); });
    add_id_command(*group, "pause", "Stop planning new runs (POST …/pause)", schedule_id_help, globals, set,
                   [](const api_client& c, const std::string& id) { return c.post(schedule_path(id) + "/pause", "{}"); });
    add_id_command(*group, "resume", "Plan runs again (POST …/resume)", schedule_id_help, globals, set,
                   [](const api_client& c, const std::string& id) { return c.post(schedule_path(id) + "/resume", "{}"); });
    add_id_command(*group, "delete", "Delete a schedule; its runs stay readable (DELETE /v1/schedules/{id})",
                   schedule_id_help, globals, set, [](const api_client& c, const std::string& id) { return c.del(schedule_path(id)); });
    add_trigger(*group, globals, set);
    add_preview(*group, globals, set);
}

}  // namespace wakeplane::cli
