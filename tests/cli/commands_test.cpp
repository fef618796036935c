// The command tree: which command a command line selects and where the global options land.
#include "commands.hpp"

#include <catch2/catch.hpp>

using namespace wakeplane::cli;

namespace {

/// A freshly declared tree, parsed from one command line (without the program name).
struct parsed_line {
    CLI::App app{"wakeplane"};
    global_options globals;
    command_set set;

    explicit parsed_line(const std::string& line) {
        declare_command_tree(app, globals, set);
        app.parse(line, false);
    }

    /// The full name of the parsed leaf: `schedule list`.
    [[nodiscard]] std::string leaf() const {
        for (const auto& [command, action] : set.leaves) {
            if (command->parsed()) {
                const auto* parent = command->get_parent();
                return parent == &app ? command->get_name() : parent->get_name() + " " + command->get_name();
            }
        }
        return "";
    }
};

}  // namespace

TEST_CASE("every command of the tree is reachable", "[cli][commands]") {
    for (const char* line : {"schedule create -f m.yaml", "schedule update -f m.yaml sch_1", "schedule list",
                             "schedule get sch_1", "schedule pause sch_1", "schedule resume sch_1",
                             "schedule delete sch_1", "schedule trigger sch_1", "schedule preview sch_1",
                             "run list", "run get run_1", "run receipts run_1", "run cancel run_1",
                             "dead-letters list", "ledger tail", "version", "serve", "preview --cron x",
                             "simulate -f m.yaml --outage a/b"}) {
        INFO(line);
        const parsed_line p(line);
        const std::string name = line;
        REQUIRE_FALSE(p.leaf().empty());
        CHECK(name.rfind(p.leaf(), 0) == 0);
    }
}

TEST_CASE("global options are accepted before and after the subcommand", "[cli][commands]") {
    const parsed_line before("--addr http://h:1 -o yaml run list --status failed");
    CHECK(before.leaf() == "run list");
    CHECK(before.globals.addr == "http://h:1");
    CHECK(before.globals.output == std::optional<std::string>("yaml"));

    const parsed_line after("schedule get sch_1 --output json --addr h:2");
    CHECK(after.leaf() == "schedule get");
    CHECK(after.globals.addr == "h:2");
    CHECK(after.globals.output == std::optional<std::string>("json"));

    const parsed_line twice("-o yaml run list -o table");
    CHECK(twice.globals.output == std::optional<std::string>("table"));

    const parsed_line neither("run list");
    CHECK(neither.globals.addr == "http://127.0.0.1:8080");
    CHECK_FALSE(neither.globals.output);
}

TEST_CASE("serve passes every following argument to the daemon", "[cli][commands]") {
    const parsed_line p("--addr http://h:1 serve --addr 127.0.0.1:9 --db x.db --help");
    CHECK(p.leaf() == "serve");
    CHECK(p.globals.addr == "http://h:1");
    const auto* serve = p.app.get_subcommand("serve");
    CHECK(serve->remaining() == std::vector<std::string>{"--addr", "127.0.0.1:9", "--db", "x.db", "--help"});
}

TEST_CASE("parse errors are CLI11 errors, which main() turns into exit 2", "[cli][commands]") {
    for (const char* line : {"", "schedule", "schedule get", "schedule get a b", "schedule create",
                             "run list --limit 0", "run list --limit x", "run list --status FAILED", "run list -o xml",
                             "ledger tail --after 3 -n 2", "schedule list --bogus", "nope"}) {
        INFO(line);
        CHECK_THROWS_AS(parsed_line(line), CLI::ParseError);
    }
}
