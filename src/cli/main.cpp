// `wakeplane`: the command-line client. Exit codes: 0 success, 1 an error from a server, 2 usage
// or invalid input (DECISIONS 31).
#include <iostream>

#include <CLI/CLI.hpp>

#include <wakeplane/clock.hpp>

#include "preview.hpp"

namespace {

constexpr int exit_usage = 2;

/// Prints one readable line on stderr, nothing on stdout.
int usage_error(const std::string& message) {
    std::cerr << "wakeplane: " << message << '\n';
    return exit_usage;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"wakeplane: durable scheduling control plane"};
    app.require_subcommand(1);

    auto* version = app.add_subcommand("version", "Print the version");

    wakeplane::cli::preview_request req;
    std::string from_text;
    std::string cron, tz, file, gap, repeated;
    auto* preview = app.add_subcommand("preview", "Print the next fire times, offline, one UTC RFC 3339 instant per line");
    auto* cron_opt = preview->add_option("--cron", cron, "Cron expression (5 fields, or 6 with seconds)");
    auto* file_opt = preview->add_option("-f,--file", file, "Schedule manifest (YAML)");
    cron_opt->excludes(file_opt);
    preview->add_option("--timezone", tz, "IANA timezone, required with --cron");
    preview->add_option("--from", from_text, "Instant to start after (RFC 3339; default now)");
    preview->add_option("--count", req.count, "How many fire times (default 10)");
    preview->add_option("--dst-gap", gap, "skip | shift (default skip)");
    preview->add_option("--dst-repeated", repeated, "first | last | both (default first)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        return usage_error(e.what());
    }

    if (version->parsed()) {
        std::cout << WAKEPLANE_VERSION << '\n';
        return 0;
    }

    if (cron.empty() && file.empty()) {
        return usage_error("preview needs --cron or -f");
    }
    if (!cron.empty()) {
        req.cron = cron;
    }
    if (!file.empty()) {
        req.manifest_path = file;
    }
    if (!tz.empty()) {
        req.timezone = tz;
    }
    if (!gap.empty()) {
        req.dst_gap = gap;
    }
    if (!repeated.empty()) {
        req.dst_repeated = repeated;
    }
    if (from_text.empty()) {
        req.from = wakeplane::system_clock{}.now();
    } else if (auto t = wakeplane::parse_rfc3339(from_text)) {
        req.from = *t;
    } else {
        return usage_error("--from: " + t.error().message);
    }

    auto times = wakeplane::cli::preview(req);
    if (!times) {
        return usage_error(wakeplane::cli::one_line(times.error()));
    }
    for (auto t : *times) {
        std::cout << wakeplane::format_rfc3339(t) << '\n';
    }
    return 0;
}
