// `wakeplane`: the command-line client of the daemon. Exit codes: 0 success, 1 an error answer
// from the server or an unreachable server, 2 usage or invalid input (DECISIONS 31). Every
// failure is one line on stderr, `wakeplane: <what>`, with nothing on stdout.
#include <exception>

#include <CLI/CLI.hpp>

#include "commands.hpp"

int main(int argc, char** argv) {
    using namespace wakeplane::cli;
    CLI::App app{"wakeplane: durable scheduling control plane"};
    global_options globals;
    command_set set;
    declare_command_tree(app, globals, set);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // CLI11's own message, on one line and with our exit code: a usage error is always 2.
        return report({exit_code::usage, one_printable_line(e.what()) + " (see --help)"});
    }
    for (const auto& [command, action] : set.leaves) {
        if (command->parsed()) {
            try {
                auto done = action();
                return done ? static_cast<int>(exit_code::ok) : report(done.error());
            } catch (const std::exception& e) {
                // Expected failures are values; this keeps the one-line promise for the rest
                // (memory exhaustion, a broken stdout).
                return report({exit_code::failed, one_printable_line(e.what())});
            }
        }
    }
    return report({exit_code::usage, "no command given (see --help)"});
}
