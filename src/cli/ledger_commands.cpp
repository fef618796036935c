// `wakeplane ledger tail`: the append-only ledger over GET /v1/ledger.
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>

#include <wakeplane/clock.hpp>

#include "commands.hpp"
#include "yaml_text.hpp"

namespace wakeplane::cli {
namespace {

/// Rows per request while walking the ledger: the server's maximum, so a walk takes few requests.
constexpr int ledger_page_size = 500;

/// What `ledger tail` was asked.
struct tail_options {
    std::optional<std::int64_t> after;     ///< --after: entries with a greater seq, all of them
    int lines = 20;                        ///< -n: without --after, only the newest this many
    bool follow = false;                   ///< --follow: keep polling for new entries
    double interval_seconds = 1.0;         ///< --interval: time between polls when following
    std::optional<std::string> schedule;   ///< --schedule: only this schedule's entries
    std::optional<std::string> run;        ///< --run: only this run's entries
};

/// The entries after `after` (all of them when absent), in seq order, walking every page; only
/// the newest `keep_last` are kept when it is not 0. `after` moves to the last seq seen, so the
/// next call continues where this one stopped. The next page starts after the last entry's `seq`,
/// which works whatever the server puts in next_cursor.
outcome<json> fetch_entries(const api_client& client, const query_params& filters, std::optional<std::int64_t>& after,
                            std::size_t keep_last) {
    std::deque<json> kept;
    while (true) {
        auto query = filters;
        query.emplace_back("limit", std::to_string(ledger_page_size));
        if (after) {
            query.emplace_back("after", std::to_string(*after));
        }
        auto page = client.get("/v1/ledger", query);
        if (!page) {
            return tl::unexpected(std::move(page).error());
        }
        const json items = page->is_object() ? page->value("items", json::array()) : json{};
        if (!items.is_array()) {
            return server_failure("the answer to GET /v1/ledger is not a list");
        }
        for (const auto& entry : items) {
            if (!entry.is_object() || !entry.contains("seq") || !entry["seq"].is_number_integer()) {
                return server_failure("a ledger entry has no integer seq: " + to_json_line(entry));
            }
            const auto seq = entry["seq"].get<std::int64_t>();
            if (after && seq <= *after) {
                return server_failure("the ledger went backwards: seq " + std::to_string(seq) + " after " +
                                      std::to_string(*after));
            }
            after = seq;
            kept.push_back(entry);
            if (keep_last != 0 && kept.size() > keep_last) {
                kept.pop_front();
            }
        }
        if (items.empty() || !page->value("next_cursor", json{}).is_string()) {
            break;
        }
    }
    json out = json::array();
    for (auto& entry : kept) {
        out.push_back(std::move(entry));
    }
    return out;
}

/// Entries as a stream in `format`: table lines, JSON Lines, or one YAML document each.
std::string stream_text(output_format format, const json& items) {
    if (format == output_format::table) {
        return ledger_lines(items);
    }
    std::string out;
    for (const auto& entry : items) {
        out += format == output_format::json ? to_json_line(entry) : "---\n" + to_yaml_text(entry);
    }
    return out;
}

/// Runs `ledger tail`. Without --follow the answer is printed like any list; with it, the entries
/// are streamed and polling continues until the process is interrupted or a request fails.
outcome<void> tail(const global_options& globals, const tail_options& opts) {
    auto s = open_session(globals);
    if (!s) {
        return tl::unexpected(std::move(s).error());
    }
    query_params filters;
    if (opts.schedule) {
        filters.emplace_back("schedule_id", *opts.schedule);
    }
    if (opts.run) {
        filters.emplace_back("run_id", *opts.run);
    }
    auto after = opts.after;
    const std::size_t keep_last = opts.after ? 0 : static_cast<std::size_t>(opts.lines);
    auto first = fetch_entries(s->client, filters, after, keep_last);
    if (!first) {
        return tl::unexpected(std::move(first).error());
    }
    if (!opts.follow) {
        return print(render(s->format, view::ledger, json{{"items", *first}, {"next_cursor", nullptr}}));
    }
    print((s->format == output_format::table ? ledger_header() : "") + stream_text(s->format, *first));
    const system_clock clock;
    const auto interval = std::chrono::microseconds(static_cast<std::int64_t>(opts.interval_seconds * 1e6));
    while (true) {
        clock.sleep_until(clock.now() + interval);
        auto more = fetch_entries(s->client, filters, after, 0);
        if (!more) {
            return tl::unexpected(std::move(more).error());
        }
        print(stream_text(s->format, *more));
    }
}

}  // namespace

void add_ledger_commands(CLI::App& app, const global_options& globals, command_set& set) {
    auto* group = app.add_subcommand("ledger", "Read the append-only ledger of decisions");
    group->require_subcommand(1);
    auto* cmd = group->add_subcommand("tail", "Show the newest ledger entries, oldest first (GET /v1/ledger)");
    auto opts = std::make_shared<tail_options>();
    auto* after = cmd->add_option("--after", opts->after, "Every entry with a greater seq (instead of the newest -n)")
                      ->check(CLI::NonNegativeNumber);
    cmd->add_option("-n,--lines", opts->lines, "How many of the newest entries (default 20)")
        ->check(positive_number())
        ->excludes(after);
    cmd->add_flag("-f,--follow", opts->follow, "Keep polling and print new entries as they come");
    cmd->add_option("--interval", opts->interval_seconds, "Seconds between polls with --follow (default 1)")
        ->check(CLI::Range(0.05, 3600.0));
    cmd->add_option("--schedule", opts->schedule, "Only entries of this schedule id");
    cmd->add_option("--run", opts->run, "Only entries of this run id");
    set.add(cmd, [&globals, opts] { return tail(globals, *opts); });
}

}  // namespace wakeplane::cli
