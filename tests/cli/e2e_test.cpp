// End-to-end: the real `wakeplane` binary against the real `wakeplaned` on a free 127.0.0.1 port
// with its database in a temporary directory. Meson passes the binaries' paths in
// WAKEPLANE_CLI_BIN and WAKEPLANED_BIN, and the examples directory in WAKEPLANE_EXAMPLES_DIR.
#include "process.hpp"

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <wakeplane/testing/temp_dir.hpp>

#include "../helpers/executor_support.hpp"

using wakeplane::testing::background_process;
using wakeplane::testing::eventually;
using wakeplane::testing::finished;
using wakeplane::testing::temp_dir;
using json = nlohmann::ordered_json;

namespace {

/// The value of a variable meson sets for this suite; the suite cannot run without it.
std::string required_env(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') {
        FAIL(std::string(name) + " is not set: run the suite through `meson test`");
    }
    return value;
}

std::string cli_bin() {
    return required_env("WAKEPLANE_CLI_BIN");
}

std::filesystem::path examples_dir() {
    return required_env("WAKEPLANE_EXAMPLES_DIR");
}

/// Runs `wakeplane <args…>` with `env` added; WAKEPLANE_ADDR is cleared so that only --addr counts.
finished run_cli(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), cli_bin());
    env.emplace_back("WAKEPLANE_ADDR=");
    return wakeplane::testing::run_to_end(args, env);
}

/// Checks the shape of every failure (DECISIONS 31): the exit code, nothing on stdout, and one
/// line on stderr starting with `wakeplane: `; returns that line without its newline.
std::string failure_line(const finished& f, int code) {
    INFO("stdout: " << f.out << "\nstderr: " << f.err);
    CHECK(f.exit_code == code);
    CHECK(f.out.empty());
    REQUIRE(!f.err.empty());
    CHECK(f.err.back() == '\n');
    CHECK(f.err.find('\n') == f.err.size() - 1);
    CHECK(f.err.rfind("wakeplane: ", 0) == 0);
    return f.err.substr(0, f.err.size() - 1);
}

/// Writes `text` to `dir/name` and returns the path.
std::string write_file(const std::filesystem::path& dir, const std::string& name, const std::string& text) {
    const auto path = dir / name;
    std::ofstream(path) << text;
    return path.string();
}

/// A manifest for a shell schedule that fires only on New Year (no surprise runs during a test).
std::string shell_manifest(const std::string& name, const std::string& command, const std::string& args,
                           const std::string& extra = "") {
    return "name: " + name + "\ntimezone: UTC\nschedule: {kind: cron, expr: \"0 0 1 1 *\"}\n"
           "target: {kind: shell, command: " + command + ", args: " + args + "}\n" + extra;
}

/// `wakeplaned` on a free port, stopped with SIGTERM when the fixture goes.
class daemon_fixture {
public:
    /// With `tokens` (a tokens file's text), the daemon requires API tokens.
    explicit daemon_fixture(const std::string& tokens = {}) {
        const std::string bin = required_env("WAKEPLANED_BIN");
        std::vector<std::string> env{"WAKEPLANE_DB_PATH=" + (dir_.path() / "wakeplane.db").string(),
                                     "WAKEPLANE_STORE=sqlite", "WAKEPLANE_SCHEDULER_INTERVAL_SECONDS=1",
                                     "WAKEPLANE_DISPATCHER_INTERVAL_SECONDS=1", "WAKEPLANE_LOG_LEVEL=warn"};
        if (!tokens.empty()) {
            env.push_back("WAKEPLANE_API_TOKENS_FILE=" + write_file(dir_.path(), "tokens", tokens));
        }
        // Another process may take the free port before the daemon binds it: retry on a new one.
        for (int attempt = 0; attempt < 3 && !daemon_; ++attempt) {
            port_ = wakeplane::testing::free_port();
            auto with_addr = env;
            with_addr.push_back("WAKEPLANE_HTTP_ADDR=127.0.0.1:" + std::to_string(port_));
            auto proc = std::make_unique<background_process>(std::vector<std::string>{bin}, with_addr,
                                                             dir_.path() / "daemon.out", dir_.path() / "daemon.err");
            const bool up = eventually([&] { return healthy() || !proc->running(); }, std::chrono::seconds{20});
            if (up && proc->running()) {
                daemon_ = std::move(proc);
            }
        }
        INFO("daemon log: " << wakeplane::testing::read_text(dir_.path() / "daemon.err"));
        REQUIRE(daemon_);
    }

    /// The address to pass with --addr.
    [[nodiscard]] std::string addr() const { return "http://127.0.0.1:" + std::to_string(port_); }

    /// `wakeplane --addr <daemon> <args…>` with `env` added.
    [[nodiscard]] finished cli(std::vector<std::string> args, std::vector<std::string> env = {}) const {
        args.insert(args.begin(), {"--addr", addr()});
        return run_cli(std::move(args), std::move(env));
    }

    /// `cli(args… -o json)`, which must succeed; its stdout parsed.
    json cli_json(std::vector<std::string> args) const {
        args.insert(args.end(), {"-o", "json"});
        const auto f = cli(args);
        INFO("stderr: " << f.err);
        REQUIRE(f.exit_code == 0);
        CHECK(f.err.empty());
        return json::parse(f.out);
    }

    /// A GET straight to the daemon, for waiting on conditions without spawning processes.
    [[nodiscard]] json get(const std::string& path) const {
        httplib::Client c("127.0.0.1", port_);
        auto res = c.Get(path);
        REQUIRE(res);
        REQUIRE(res->status == 200);
        return json::parse(res->body);
    }

    /// Creates a schedule from manifest text through the CLI; returns the created schedule.
    json create(const std::string& file_name, const std::string& manifest) const {
        return cli_json({"schedule", "create", "-f", write_file(dir_.path(), file_name, manifest)});
    }

    /// Waits until run `id` is in `status`.
    void await_run_status(const std::string& id, const std::string& status) const {
        const bool reached = eventually([&] { return get("/v1/runs/" + id)["status"] == status; },
                                        std::chrono::seconds{30});
        INFO("run " << id << " is " << get("/v1/runs/" + id).dump());
        REQUIRE(reached);
    }

    [[nodiscard]] const std::filesystem::path& dir() const { return dir_.path(); }
    [[nodiscard]] background_process& process() { return *daemon_; }

private:
    /// True once /healthz answers 200.
    [[nodiscard]] bool healthy() const {
        httplib::Client c("127.0.0.1", port_);
        c.set_connection_timeout(std::chrono::milliseconds{200});
        auto res = c.Get("/healthz");
        return res && res->status == 200;
    }

    temp_dir dir_{"wakeplane-cli-e2e"};
    int port_ = 0;
    std::unique_ptr<background_process> daemon_;
};

/// The ids of a list answer's items.
std::vector<std::string> ids_of(const json& list) {
    std::vector<std::string> ids;
    for (const auto& item : list["items"]) {
        ids.push_back(item["id"].get<std::string>());
    }
    return ids;
}

}  // namespace

TEST_CASE("usage errors exit 2 with one line and no output", "[cli][e2e]") {
    const auto missing_file = failure_line(run_cli({"schedule", "create"}), 2);
    CHECK(missing_file.find("--file is required") != std::string::npos);
    failure_line(run_cli({"schedule", "get"}), 2);
    failure_line(run_cli({"schedule", "get", "a", "b"}), 2);
    failure_line(run_cli({"schedule"}), 2);
    failure_line(run_cli({}), 2);
    failure_line(run_cli({"run", "list", "--bogus"}), 2);
    failure_line(run_cli({"run", "list", "-o", "xml"}), 2);
    failure_line(run_cli({"run", "list", "--limit", "0"}), 2);
    CHECK(failure_line(run_cli({"run", "list", "--status", "FAILED"}), 2).find("--status") != std::string::npos);
    CHECK(failure_line(run_cli({"--addr", "ftp://x", "run", "list"}), 2) ==
          "wakeplane: --addr \"ftp://x\": the scheme must be http or https");
    CHECK(failure_line(run_cli({"schedule", "preview", "sch_1", "--from", "yesterday"}), 2).rfind("wakeplane: --from: ", 0) == 0);
}

TEST_CASE("manifest problems exit 2 naming the file, before any request", "[cli][e2e]") {
    const temp_dir dir{"wakeplane-cli-manifest"};
    // The address is unreachable on purpose: a manifest error must win over the network.
    const std::vector<std::string> addr = {"--addr", "http://127.0.0.1:" + std::to_string(wakeplane::testing::free_port())};
    const auto missing = (dir.path() / "missing.yaml").string();
    auto args = addr;
    args.insert(args.end(), {"schedule", "create", "-f", missing});
    CHECK(failure_line(run_cli(args), 2) == "wakeplane: " + missing + ": cannot read the file: No such file or directory");

    const auto bad_yaml = write_file(dir.path(), "bad.yaml", "name: [unclosed\n");
    args = addr;
    args.insert(args.end(), {"schedule", "create", "-f", bad_yaml});
    CHECK(failure_line(run_cli(args), 2).rfind("wakeplane: " + bad_yaml + ": ", 0) == 0);

    const auto bad_type = write_file(dir.path(), "type.yaml", "name: x\npolicy: {timeout_seconds: \"300\"}\n");
    args = addr;
    args.insert(args.end(), {"schedule", "update", "sch_1", "-f", bad_type});
    CHECK(failure_line(run_cli(args), 2) == "wakeplane: " + bad_type + ": policy.timeout_seconds: must be an integer");
}

TEST_CASE("an unreachable server exits 1 with one line", "[cli][e2e]") {
    const auto port = std::to_string(wakeplane::testing::free_port());
    CHECK(failure_line(run_cli({"--addr", "http://127.0.0.1:" + port, "schedule", "list"}), 1) ==
          "wakeplane: cannot reach http://127.0.0.1:" + port + ": connection refused");
    // WAKEPLANE_ADDR is read when --addr is absent.
    const auto from_env = wakeplane::testing::run_to_end({cli_bin(), "run", "get", "run_1"},
                                                         {"WAKEPLANE_ADDR=127.0.0.1:" + port});
    CHECK(failure_line(from_env, 1) == "wakeplane: cannot reach http://127.0.0.1:" + port + ": connection refused");
}

TEST_CASE("version prints the version the daemon reports", "[cli][e2e]") {
    const daemon_fixture d;
    const auto v = run_cli({"version"});
    REQUIRE(v.exit_code == 0);
    CHECK(v.out == d.get("/v1/status")["version"].get<std::string>() + "\n");
}

TEST_CASE("schedules: create from the examples, get, pause, resume, update, delete", "[cli][e2e]") {
    const daemon_fixture d;
    for (const char* example : {"backup-shell.yaml", "health-check-http.yaml", "nightly-sync.yaml"}) {
        INFO(example);
        const auto s = d.cli_json({"schedule", "create", "-f", (examples_dir() / example).string()});
        CHECK(s["id"].get<std::string>().rfind("sch_", 0) == 0);
        CHECK(s["enabled"] == true);
    }

    // Unquoted YAML timestamps and quoted RFC 3339 strings both reach the server as instants.
    const auto bounded = d.create("bounded.yaml", shell_manifest("bounded", "/bin/echo", "[hi]",
                                                                 "start_at: 2030-01-01 00:00:00\n"
                                                                 "end_at: \"2031-06-01T12:30:00+02:00\"\n"));
    CHECK(bounded["start_at"] == "2030-01-01T00:00:00Z");
    CHECK(bounded["end_at"] == "2031-06-01T10:30:00Z");
    const std::string id = bounded["id"];

    const auto got = d.cli_json({"schedule", "get", id});
    CHECK(got["name"] == "bounded");
    CHECK(got["target"]["command"] == "/bin/echo");

    const auto paused = d.cli_json({"schedule", "pause", id});
    CHECK(paused["enabled"] == false);
    CHECK(paused["paused_at"].is_string());
    CHECK(d.cli_json({"schedule", "list", "--disabled"})["items"].size() == 1);

    const auto resumed = d.cli_json({"schedule", "resume", id});
    CHECK(resumed["enabled"] == true);
    CHECK(resumed["paused_at"].is_null());
    CHECK(d.cli_json({"schedule", "list", "--enabled"})["items"].size() == 4);

    const auto preview = d.cli_json({"schedule", "preview", id, "--count", "2", "--from", "2030-03-01T00:00:00Z"});
    CHECK(preview["items"] == json::array({"2031-01-01T00:00:00Z"}));  // end_at stops the second

    const auto updated = d.cli_json(
        {"schedule", "update", id, "-f", write_file(d.dir(), "upd.yaml", shell_manifest("renamed", "/bin/true", "[]"))});
    CHECK(updated["name"] == "renamed");
    CHECK(updated["start_at"].is_null());

    const auto deleted = d.cli_json({"schedule", "delete", id});
    CHECK(deleted["deleted"] == true);
    CHECK(failure_line(d.cli({"schedule", "get", id}), 1) == "wakeplane: not_found: schedule \"" + id + "\" was not found");
}

TEST_CASE("server errors exit 1 with the code and every detail on one line", "[cli][e2e]") {
    const daemon_fixture d;
    const auto bad = write_file(d.dir(), "bad.yaml",
                                "name: \"\"\ntimezone: UTC\nschedule: {kind: cron, expr: \"nope\"}\n"
                                "target: {kind: shell, command: /bin/true}\n");
    const auto line = failure_line(d.cli({"schedule", "create", "-f", bad}), 1);
    CHECK(line.rfind("wakeplane: validation_failed: ", 0) == 0);
    CHECK(line.find("name: ") != std::string::npos);
    CHECK(line.find("; schedule.expr: ") != std::string::npos);

    d.create("dup.yaml", shell_manifest("dup", "/bin/true", "[]"));
    const auto dup = failure_line(d.cli({"schedule", "create", "-f", (d.dir() / "dup.yaml").string()}), 1);
    CHECK(dup.rfind("wakeplane: conflict: ", 0) == 0);

    CHECK(failure_line(d.cli({"run", "get", "run_missing"}), 1) == "wakeplane: not_found: run \"run_missing\" was not found");
}

TEST_CASE("list pagination returns every row exactly once", "[cli][e2e]") {
    const daemon_fixture d;
    std::set<std::string> created;
    for (int i = 0; i < 7; ++i) {
        created.insert(d.create("s" + std::to_string(i) + ".yaml",
                                shell_manifest("page-" + std::to_string(i), "/bin/true", "[]"))["id"].get<std::string>());
    }

    const auto all = ids_of(d.cli_json({"schedule", "list", "--limit", "3", "--all"}));
    CHECK(all.size() == 7);
    CHECK(std::set<std::string>(all.begin(), all.end()) == created);

    // Page by hand with --cursor, as a script would.
    std::vector<std::string> paged;
    auto page = d.cli_json({"schedule", "list", "--limit", "3"});
    CHECK(page["items"].size() == 3);
    int pages = 1;
    while (page["next_cursor"].is_string()) {
        for (const auto& id : ids_of(page)) {
            paged.push_back(id);
        }
        page = d.cli_json({"schedule", "list", "--limit", "3", "--cursor", page["next_cursor"].get<std::string>()});
        ++pages;
    }
    for (const auto& id : ids_of(page)) {
        paged.push_back(id);
    }
    CHECK(pages == 3);
    CHECK(paged == all);
}

TEST_CASE("global options work before and after the subcommand; JSON is the default off a terminal",
          "[cli][e2e]") {
    const daemon_fixture d;
    d.create("one.yaml", shell_manifest("one", "/bin/true", "[]"));
    const auto before = run_cli({"--addr", d.addr(), "-o", "yaml", "schedule", "list"});
    const auto after = run_cli({"schedule", "list", "--addr", d.addr(), "--output", "yaml"});
    REQUIRE(before.exit_code == 0);
    CHECK(before.out == after.out);
    CHECK(before.out.rfind("items:\n  - id: sch_", 0) == 0);

    const auto plain = run_cli({"schedule", "list", "--addr", d.addr()});
    REQUIRE(plain.exit_code == 0);
    CHECK(json::parse(plain.out)["items"].size() == 1);

    const auto table = run_cli({"schedule", "list", "--addr", d.addr(), "-o", "table"});
    REQUIRE(table.exit_code == 0);
    CHECK(table.out.rfind("ID ", 0) == 0);
    CHECK(table.out.find("  one  ") != std::string::npos);
}

TEST_CASE("runs: trigger with a reason, get, list, receipts, cancel", "[cli][e2e]") {
    const daemon_fixture d;
    const std::string id = d.create("echo.yaml", shell_manifest("echo", "/bin/echo", "[hello]"))["id"];
    d.cli_json({"schedule", "pause", id});  // a manual trigger works on a paused schedule

    const auto triggered = d.cli_json({"schedule", "trigger", id, "--reason", "e2e check"});
    CHECK(triggered["status"] == "pending");
    const std::string run = triggered["run_id"];
    d.await_run_status(run, "succeeded");

    const auto r = d.cli_json({"run", "get", run});
    CHECK(r["trigger_reason"] == "e2e check");
    CHECK(r["exit_code"] == 0);

    const auto receipts = d.cli_json({"run", "receipts", run});
    bool saw_stdout = false;
    for (const auto& rc : receipts["items"]) {
        saw_stdout = saw_stdout || (rc["receipt_kind"] == "stdout" && rc["body"] == "hello\n");
    }
    CHECK(saw_stdout);
    const auto receipts_table = d.cli({"run", "receipts", run, "-o", "table"});
    CHECK(receipts_table.out.find("== stdout text/plain, 6 bytes") != std::string::npos);
    CHECK(receipts_table.out.find("\n  hello\n") != std::string::npos);

    CHECK(ids_of(d.cli_json({"run", "list", "--schedule", id, "--status", "succeeded"})) == std::vector<std::string>{run});
    CHECK(d.cli_json({"run", "list", "--schedule", id, "--status", "failed"})["items"].empty());

    // A finished run cannot be cancelled; a sleeping one can.
    CHECK(failure_line(d.cli({"run", "cancel", run}), 1).rfind("wakeplane: conflict: ", 0) == 0);
    const std::string sleeper_schedule = d.create("sleep.yaml", shell_manifest("sleep", "/bin/sleep", "[\"30\"]"))["id"];
    const std::string sleeper = d.cli_json({"schedule", "trigger", sleeper_schedule})["run_id"];
    const auto cancelled = d.cli_json({"run", "cancel", sleeper, "--reason", "not needed"});
    CHECK(cancelled["id"] == sleeper);
    d.await_run_status(sleeper, "cancelled");

    // Deleting the schedule keeps its history readable.
    d.cli_json({"schedule", "delete", id});
    CHECK(d.cli_json({"run", "get", run})["status"] == "succeeded");
}

TEST_CASE("dead letters list the runs that failed for good", "[cli][e2e]") {
    const daemon_fixture d;
    const std::string id = d.create("fail.yaml", shell_manifest("fail", "/bin/false", "[]",
                                                                "retry: {max_attempts: 1}\n"))["id"];
    const std::string run = d.cli_json({"schedule", "trigger", id})["run_id"];
    d.await_run_status(run, "dead_lettered");
    const auto letters = d.cli_json({"dead-letters", "list", "--schedule", id});
    REQUIRE(letters["items"].size() == 1);
    CHECK(letters["items"][0]["run_id"] == run);
    const auto table = d.cli({"dead-letters", "list", "-o", "table"});
    CHECK(table.out.find(run) != std::string::npos);
}

TEST_CASE("ledger tail prints the newest entries and follows new ones", "[cli][e2e]") {
    const daemon_fixture d;
    const std::string id = d.create("echo.yaml", shell_manifest("echo", "/bin/echo", "[hi]"))["id"];

    const auto all = d.cli_json({"ledger", "tail", "-n", "1000"});
    REQUIRE_FALSE(all["items"].empty());
    std::int64_t previous = 0;
    for (const auto& e : all["items"]) {
        CHECK(e["seq"].get<std::int64_t>() > previous);  // oldest first
        previous = e["seq"];
    }
    const auto last_one = d.cli_json({"ledger", "tail", "-n", "1"});
    REQUIRE(last_one["items"].size() == 1);
    CHECK(last_one["items"][0] == all["items"].back());
    CHECK(d.cli_json({"ledger", "tail", "--after", std::to_string(previous)})["items"].empty());

    background_process follow({cli_bin(), "--addr", d.addr(), "ledger", "tail", "--follow", "--after",
                               std::to_string(previous), "--interval", "0.1", "-o", "json"},
                              {}, d.dir() / "follow.out", d.dir() / "follow.err");
    const std::string run = d.cli_json({"schedule", "trigger", id, "--reason", "followed"})["run_id"];
    const bool seen = eventually([&] { return follow.out().find(run) != std::string::npos; }, std::chrono::seconds{30});
    CHECK(seen);
    CHECK(follow.stop(SIGTERM) == 128 + SIGTERM);
    INFO("follow stderr: " << follow.err());
    std::istringstream lines(follow.out());
    for (std::string line; std::getline(lines, line);) {
        const auto entry = json::parse(line);  // JSON Lines: one entry per line
        CHECK(entry["seq"].get<std::int64_t>() > previous);
    }
}

TEST_CASE("serve execs the daemon with the arguments that follow", "[cli][e2e]") {
    const temp_dir dir{"wakeplane-cli-serve"};
    const int port = wakeplane::testing::free_port();
    background_process serve({cli_bin(), "serve", "--addr", "127.0.0.1:" + std::to_string(port), "--db",
                              (dir.path() / "serve.db").string()},
                             {"WAKEPLANE_HTTP_ADDR=127.0.0.1:1", "WAKEPLANE_LOG_LEVEL=warn"}, dir.path() / "serve.out",
                             dir.path() / "serve.err");
    const bool up = eventually(
        [&] {
            httplib::Client c("127.0.0.1", port);
            auto res = c.Get("/v1/status");
            return res && res->status == 200;
        },
        std::chrono::seconds{20});
    INFO("serve stderr: " << serve.err());
    REQUIRE(up);
    httplib::Client c("127.0.0.1", port);
    CHECK(json::parse(c.Get("/v1/status")->body)["database"]["path"] == (dir.path() / "serve.db").string());
    CHECK(serve.stop(SIGTERM) == 0);  // the daemon itself got the signal: same process
}

TEST_CASE("the CLI sends WAKEPLANE_TOKEN to a daemon that requires tokens", "[cli][e2e][auth]") {
    const daemon_fixture d{"# the operators\nops:tok-0123456789\n"};

    const auto anonymous = failure_line(d.cli({"schedule", "list"}), 1);
    CHECK(anonymous == "wakeplane: unauthorized: authentication required: send the header Authorization: Bearer "
                       "followed by an API token (set WAKEPLANE_TOKEN to one of the daemon's API tokens)");
    const auto wrong = failure_line(d.cli({"schedule", "list"}, {"WAKEPLANE_TOKEN=tok-9876543210"}), 1);
    CHECK(wrong == "wakeplane: unauthorized: the bearer token is not valid "
                   "(WAKEPLANE_TOKEN is not one of the daemon's tokens)");

    const auto listed = d.cli({"schedule", "list", "-o", "json"}, {"WAKEPLANE_TOKEN=tok-0123456789"});
    INFO("stderr: " << listed.err);
    CHECK(listed.exit_code == 0);
    CHECK(json::parse(listed.out)["items"].empty());
}
