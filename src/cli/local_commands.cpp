// Commands that need no server: `version`, `serve`, the offline `preview` and `simulate`.
#include <chrono>
#include <memory>
#include <tuple>
#include <vector>

#include <wakeplane/clock.hpp>

#include "commands.hpp"
#include "preview.hpp"
#include "serve.hpp"
#include "simulate.hpp"

namespace wakeplane::cli {
namespace {

/// The flags of the offline `preview`, as typed.
struct preview_flags {
    std::string cron;
    std::string timezone;
    std::string file;
    std::string from;
    std::string dst_gap;
    std::string dst_repeated;
    std::int64_t count = 10;
};

/// Turns the flags into a preview request; `--from` must be RFC 3339.
outcome<preview_request> make_request(const preview_flags& flags) {
    if (flags.cron.empty() && flags.file.empty()) {
        return usage_failure("preview needs --cron or -f");
    }
    preview_request req;
    req.count = flags.count;
    const auto set_if_given = [](std::optional<std::string>& field, const std::string& value) {
        if (!value.empty()) {
            field = value;
        }
    };
    set_if_given(req.cron, flags.cron);
    set_if_given(req.manifest_path, flags.file);
    set_if_given(req.timezone, flags.timezone);
    set_if_given(req.dst_gap, flags.dst_gap);
    set_if_given(req.dst_repeated, flags.dst_repeated);
    if (flags.from.empty()) {
        req.from = system_clock{}.now();
    } else if (auto t = parse_rfc3339(flags.from)) {
        req.from = *t;
    } else {
        return usage_failure("--from: " + t.error().message);
    }
    return req;
}

/// Prints the next fire times, one UTC RFC 3339 instant per line; bad input is a usage failure.
outcome<void> run_preview(const preview_flags& flags) {
    auto req = make_request(flags);
    if (!req) {
        return tl::unexpected(std::move(req).error());
    }
    auto times = preview(*req);
    if (!times) {
        return usage_failure(one_line(times.error()));
    }
    std::string out;
    for (const auto t : *times) {
        out += format_rfc3339(t) + "\n";
    }
    return print(out);
}

void add_preview(CLI::App& app, command_set& set) {
    auto* cmd = app.add_subcommand("preview", "Print the next fire times, offline, one UTC RFC 3339 instant per line");
    auto flags = std::make_shared<preview_flags>();
    auto* cron = cmd->add_option("--cron", flags->cron, "Cron expression (5 fields, or 6 with seconds)");
    auto* file = cmd->add_option("-f,--file", flags->file, "Schedule manifest (YAML)");
    cron->excludes(file);
    cmd->add_option("--timezone", flags->timezone, "IANA timezone, required with --cron");
    cmd->add_option("--from", flags->from, "Instant to start after (RFC 3339; default now)");
    cmd->add_option("--count", flags->count, "How many fire times (default 10)");
    cmd->add_option("--dst-gap", flags->dst_gap, "skip | shift (default skip)");
    cmd->add_option("--dst-repeated", flags->dst_repeated, "first | last | both (default first)");
    set.add(cmd, [flags] { return run_preview(*flags); });
}

/// The flags of `simulate`, as typed.
struct simulate_flags {
    std::string file;
    std::string outage;
    std::vector<std::string> edits;
    std::string from;
    std::string to;
    double duration_seconds = 0;
    bool json = false;
};

/// An RFC 3339 instant of `flag`; a malformed one is a usage failure naming the flag.
outcome<time_point> instant_of(const std::string& flag, std::string_view text) {
    auto t = parse_rfc3339(text);
    if (!t) {
        return usage_failure(flag + ": " + t.error().message);
    }
    return *t;
}

/// `<from>/<to>` of --outage.
outcome<time_window> outage_of(const std::string& text) {
    const auto slash = text.find('/');
    if (slash == std::string::npos) {
        return usage_failure("--outage: must be <from>/<to>, two RFC 3339 instants, not \"" + text + "\"");
    }
    auto from = instant_of("--outage", std::string_view(text).substr(0, slash));
    if (!from) {
        return tl::unexpected(from.error());
    }
    auto to = instant_of("--outage", std::string_view(text).substr(slash + 1));
    if (!to) {
        return tl::unexpected(to.error());
    }
    return time_window{*from, *to};
}

/// `<manifest>@<instant>` of --edit; the last `@` separates them, so a path may hold one.
outcome<timed_edit> edit_of(const std::string& text) {
    const auto at = text.rfind('@');
    if (at == std::string::npos || at == 0) {
        return usage_failure("--edit: must be <manifest.yaml>@<RFC 3339 instant>, not \"" + text + "\"");
    }
    auto when = instant_of("--edit", std::string_view(text).substr(at + 1));
    if (!when) {
        return tl::unexpected(when.error());
    }
    return timed_edit{text.substr(0, at), *when};
}

/// Turns the flags into a simulation request; every malformed value is a usage failure.
outcome<simulate_request> make_simulate_request(const simulate_flags& flags) {
    simulate_request req;
    req.manifest = flags.file;
    if (!flags.outage.empty()) {
        auto outage = outage_of(flags.outage);
        if (!outage) {
            return tl::unexpected(outage.error());
        }
        req.outage = *outage;
    }
    for (const auto& text : flags.edits) {
        auto edit = edit_of(text);
        if (!edit) {
            return tl::unexpected(edit.error());
        }
        req.edits.push_back(*edit);
    }
    for (auto [flag, text, bound] : {std::tuple{"--from", &flags.from, &req.from}, std::tuple{"--to", &flags.to, &req.to}}) {
        if (!text->empty()) {
            auto t = instant_of(flag, *text);
            if (!t) {
                return tl::unexpected(t.error());
            }
            *bound = *t;
        }
    }
    req.work = std::chrono::duration_cast<duration>(std::chrono::duration<double>{flags.duration_seconds});
    return req;
}

/// Simulates and prints the report (or JSON Lines); any invalid input is a usage failure.
outcome<void> run_simulate(const simulate_flags& flags) {
    auto req = make_simulate_request(flags);
    if (!req) {
        return tl::unexpected(std::move(req).error());
    }
    auto account = simulate(*req);
    if (!account) {
        return usage_failure(one_line(account.error()));
    }
    return print(flags.json ? format_json_lines(*req, *account) : format_report(*req, *account));
}

void add_simulate(CLI::App& app, command_set& set) {
    auto* cmd = app.add_subcommand(
        "simulate", "What-if, offline: what the scheduler would do with a manifest around an outage or an edit");
    auto flags = std::make_shared<simulate_flags>();
    cmd->add_option("-f,--file", flags->file, "Schedule manifest (YAML)")->required();
    cmd->add_option("--outage", flags->outage, "<from>/<to>: the scheduler is down over [from, to) (RFC 3339)");
    cmd->add_option("--edit", flags->edits, "<manifest.yaml>@<instant>: replace the schedule then, as PUT would (repeatable)");
    cmd->add_option("--from", flags->from, "Start of the simulation (RFC 3339; default a day before the first outage or edit)");
    cmd->add_option("--to", flags->to, "End of the simulation (RFC 3339; default a day after the last outage or edit)");
    cmd->add_option("--duration", flags->duration_seconds, "Seconds every execution takes, in simulated time (default 0)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_flag("--json", flags->json, "One JSON object per occurrence (JSON Lines) instead of the report");
    set.add(cmd, [flags] { return run_simulate(*flags); });
}

void add_serve(CLI::App& app, command_set& set) {
    auto* cmd = app.add_subcommand("serve", "Run the daemon: execs wakeplaned with the arguments that follow");
    // Everything after `serve`, --help and --addr included, belongs to the daemon.
    cmd->prefix_command();
    cmd->fallthrough(false);
    cmd->allow_extras();
    cmd->set_help_flag();
    set.add(cmd, [cmd]() -> outcome<void> { return tl::unexpected(exec_daemon(cmd->remaining())); });
}

}  // namespace

void add_local_commands(CLI::App& app, command_set& set) {
    auto* version = app.add_subcommand("version", "Print the version (the one the daemon reports in /v1/status)");
    set.add(version, [] { return print(std::string(WAKEPLANE_VERSION) + "\n"); });
    add_serve(app, set);
    add_preview(app, set);
    add_simulate(app, set);
}

}  // namespace wakeplane::cli
