// What the commands share: session, paging and small helpers.
#include "commands.hpp"

#include <charconv>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <set>

#include <unistd.h>

namespace wakeplane::cli {

void declare_command_tree(CLI::App& app, global_options& globals, command_set& set) {
    // Subcommands copy `fallthrough` when they are created, so it is set first: an option a
    // subcommand does not know is then tried on its parents, and `--addr` and `-o` work after the
    // subcommand too.
    app.fallthrough();
    app.require_subcommand(1);
    app.add_option("--addr", globals.addr, "Daemon address (default http://127.0.0.1:8080)")
        ->envname("WAKEPLANE_ADDR")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // a later --addr overrides, as in most CLIs
    app.add_option("-o,--output", globals.output, "Output format: table, json or yaml "
                                                  "(default: table on a terminal, else json)")
        ->check(CLI::IsMember({"table", "json", "yaml"}))
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    add_schedule_commands(app, globals, set);
    add_run_commands(app, globals, set);
    add_dead_letter_commands(app, globals, set);
    add_ledger_commands(app, globals, set);
    add_local_commands(app, set);
}

outcome<session> open_session(const global_options& globals) {
    auto ep = parse_endpoint(globals.addr);
    if (!ep) {
        return tl::unexpected(std::move(ep).error());
    }
    auto format = choose_format(globals.output, ::isatty(STDOUT_FILENO) == 1);
    if (!format) {
        return tl::unexpected(std::move(format).error());
    }
    // The token comes only from the environment: a flag would show it in `ps` to every local user.
    const char* token = std::getenv("WAKEPLANE_TOKEN");
    std::optional<std::string> bearer;
    if (token != nullptr && *token != '\0') {
        bearer = token;
    }
    return session{api_client(*std::move(ep), {}, std::move(bearer)), *format};
}

void add_page_options(CLI::App& command, page_options& paging) {
    command.add_option("--limit", paging.limit, "Rows per page (default 50, at most 500)")->check(positive_number());
    command.add_option("--cursor", paging.cursor, "Start at this page position (a next_cursor of an earlier page)");
    command.add_flag("--all", paging.all, "Fetch every page, following next_cursor until it is null");
}

outcome<json> fetch_list(const api_client& client, const std::string& path, query_params filters,
                         const page_options& paging) {
    if (paging.limit) {
        filters.emplace_back("limit", std::to_string(*paging.limit));
    }
    std::optional<std::string> cursor = paging.cursor;
    json items = json::array();
    std::set<std::string> seen;
    while (true) {
        auto query = filters;
        if (cursor) {
            query.emplace_back("cursor", *cursor);
        }
        auto page = client.get(path, query);
        if (!page) {
            return page;
        }
        if (!paging.all) {
            return page;
        }
        if (!page->is_object()) {
            return server_failure("the answer to GET " + path + " is not a list");
        }
        if (page->contains("items") && (*page)["items"].is_array()) {
            for (auto& item : (*page)["items"]) {
                items.push_back(std::move(item));
            }
        }
        const auto next = page->value("next_cursor", json{});
        if (!next.is_string()) {
            break;
        }
        cursor = next.get<std::string>();
        if (!seen.insert(*cursor).second) {
            return server_failure("the server repeated the cursor " + *cursor + " while listing " + path);
        }
    }
    return json{{"items", std::move(items)}, {"next_cursor", nullptr}};
}

CLI::Validator positive_number() {
    return CLI::Validator(
        [](std::string& text) -> std::string {
            long long value = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (ec != std::errc{} || end != text.data() + text.size() || value < 1 || value > 1'000'000'000) {
                return "must be a whole number from 1 to 1000000000, got \"" + text + "\"";
            }
            return {};
        },
        "N>=1");
}

std::string schedule_path(const std::string& id) {
    return "/v1/schedules/" + percent_encode(id);
}

std::string run_path(const std::string& id) {
    return "/v1/runs/" + percent_encode(id);
}

outcome<void> print(const std::string& text) {
    std::cout << text << std::flush;
    return {};
}

outcome<void> run_and_print(const global_options& globals, view v, const request_fn& request) {
    auto s = open_session(globals);
    if (!s) {
        return tl::unexpected(std::move(s).error());
    }
    auto answer = request(s->client);
    if (!answer) {
        return tl::unexpected(std::move(answer).error());
    }
    return print(render(s->format, v, *answer));
}

CLI::App* add_id_command(CLI::App& group, const std::string& name, const std::string& description,
                         const std::string& id_help, const global_options& globals, command_set& set,
                         id_request request) {
    auto* cmd = group.add_subcommand(name, description);
    auto id = std::make_shared<std::string>();
    cmd->add_option("id", *id, id_help)->required();
    set.add(cmd, [&globals, id, request = std::move(request)] {
        return run_and_print(globals, view::object, [&](const api_client& c) { return request(c, *id); });
    });
    return cmd;
}

}  // namespace wakeplane::cli
