// Commands that need no server: `version`, `serve` and the offline `preview`.
#include <memory>

#include <wakeplane/clock.hpp>

#include "commands.hpp"
#include "preview.hpp"
#include "serve.hpp"

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
}

}  // namespace wakeplane::cli
