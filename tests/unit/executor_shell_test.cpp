#include <wakeplane/executors/shell.hpp>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <future>
#include <string>

#include <catch2/catch.hpp>

#include "../helpers/executor_support.hpp"

using namespace wakeplane;
using namespace wakeplane::executors;
using namespace std::chrono_literals;
using wakeplane::testing::eventually;
using wakeplane::testing::test_context;

namespace {

/// The helper program built next to this test (tests/helpers/process_tree.cpp).
std::string helper() {
    return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "executor_process_tree").string();
}

target_spec shell_target(std::string command, std::vector<std::string> args = {}) {
    target_spec t;
    t.kind = "shell";
    t.command = std::move(command);
    t.args = std::move(args);
    return t;
}

/// Orphaned grandchildren are re-parented to this process, so that a test can reap them and
/// tell "killed" from "a zombie nobody reaps" (the container's init may not reap).
void adopt_orphans() {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
}

/// True once `pid` no longer exists (reaping it when it is ours).
bool gone(pid_t pid) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) {
        return true;
    }
    return ::kill(pid, 0) != 0 && errno == ESRCH;
}

/// A fresh path for a pid file, removed with the object.
struct temp_file {
    std::filesystem::path path;
    temp_file() {
        static std::atomic<int> counter{0};
        path = std::filesystem::temp_directory_path() /
               ("wakeplane-shell-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    }
    ~temp_file() { std::filesystem::remove(path); }
};

/// The "<child> <grandchild>" pids the helper's `tree` mode writes.
std::pair<pid_t, pid_t> read_pids(const std::filesystem::path& p) {
    std::ifstream in{p};
    int child = 0;
    int grandchild = 0;
    in >> child >> grandchild;
    return {child, grandchild};
}

const receipt_body& receipt_of(const execution_result& r, std::string_view kind) {
    for (const auto& rc : r.receipts) {
        if (rc.kind == kind) {
            return rc;
        }
    }
    FAIL("no " << kind << " receipt");
    throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("shell_executor models the executor concept", "[executor][shell]") {
    STATIC_REQUIRE(executor<shell_executor>);
    STATIC_REQUIRE(shell_executor::kind == "shell");
}

TEST_CASE("a program that succeeds gives its output as two text receipts", "[executor][shell]") {
    const shell_executor exec;
    const auto r = exec.execute(shell_target("/bin/sh", {"-c", "echo out; echo err >&2"}), test_context());
    CHECK(r.ok);
    CHECK_FALSE(r.stopped);
    CHECK(r.exit_code == 0);
    CHECK_FALSE(r.error_text);
    CHECK_FALSE(r.http_status_code);
    // Escaped as the original's encoding/json does: `>` and `&` become \u escapes.
    CHECK(r.result_json == R"({"args":["-c","echo out; echo err \u003e\u00262"],"command":"/bin/sh"})");
    REQUIRE(r.receipts.size() == 2);
    CHECK(r.receipts[0] == receipt_body{"stdout", "text/plain", "out\n", false});
    CHECK(r.receipts[1] == receipt_body{"stderr", "text/plain", "err\n", false});
}

TEST_CASE("the program finds its command in PATH and sees the run's identity", "[executor][shell]") {
    // A stale identity in the daemon's own environment must not reach the program.
    ::setenv("WAKEPLANE_RUN_ID", "run_stale", 1);
    const auto r = shell_executor{}.execute(shell_target("env"), test_context());
    ::unsetenv("WAKEPLANE_RUN_ID");
    REQUIRE(r.ok);
    CHECK(r.result_json == R"({"args":null,"command":"env"})");
    const std::string& env = receipt_of(r, "stdout").body;
    CHECK_THAT(env, Catch::Contains("\nWAKEPLANE_RUN_ID=run_01JPC3V9QF7D2M8K4X6T1R5N0B\n"));
    CHECK_THAT(env, !Catch::Contains("run_stale"));
    CHECK_THAT(env, Catch::Contains("\nWAKEPLANE_SCHEDULE_ID=sch_01JPC3V9QF7D2M8K4X6T1R5N0B\n"));
    CHECK_THAT(env, Catch::Contains("\nWAKEPLANE_OCCURRENCE_KEY=sch_01JPC3V9QF7D2M8K4X6T1R5N0B:2026-03-12T10:00:00Z\n"));
    CHECK_THAT(env, Catch::Contains("\nWAKEPLANE_ATTEMPT=2\n"));
    CHECK_THAT(env, Catch::Contains("\nWAKEPLANE_NOMINAL_TIME=2026-03-12T10:00:00Z\n"));
    CHECK_THAT(env, Catch::Contains("\nWAKEPLANE_FENCING_TOKEN=7\n"));
    CHECK_THAT(env, Catch::Contains("PATH="));  // the daemon's environment is inherited
}

TEST_CASE("stdin is the null device, so a program reading it sees end of file", "[executor][shell]") {
    const auto r = shell_executor{}.execute(shell_target("/bin/sh", {"-c", "cat; echo done"}), test_context());
    CHECK(r.ok);
    CHECK(receipt_of(r, "stdout").body == "done\n");
}

TEST_CASE("a non-zero exit is a failure that keeps the code and the output", "[executor][shell]") {
    const auto r = shell_executor{}.execute(shell_target("/bin/sh", {"-c", "echo partial; exit 3"}), test_context());
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.stopped);
    CHECK(r.exit_code == 3);
    CHECK(r.error_text == "exit status 3");
    CHECK(receipt_of(r, "stdout").body == "partial\n");
}

TEST_CASE("a program killed by a signal has exit code -1 and names the signal", "[executor][shell]") {
    const auto r = shell_executor{}.execute(shell_target("/bin/sh", {"-c", "kill -KILL $$"}), test_context());
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.stopped);
    CHECK(r.exit_code == -1);
    CHECK(r.error_text == "signal: killed");
}

TEST_CASE("a command that cannot start has no exit code and two empty receipts", "[executor][shell]") {
    SECTION("not found in PATH") {
        const auto r = shell_executor{}.execute(shell_target("wakeplane-no-such-program", {"x"}), test_context());
        CHECK_FALSE(r.ok);
        CHECK_FALSE(r.exit_code);
        CHECK(r.error_text == R"(exec: "wakeplane-no-such-program": executable file not found in $PATH)");
        CHECK(r.result_json == R"({"args":["x"],"command":"wakeplane-no-such-program"})");
        REQUIRE(r.receipts.size() == 2);
        CHECK(r.receipts[0] == receipt_body{"stdout", "text/plain", "", false});
        CHECK(r.receipts[1] == receipt_body{"stderr", "text/plain", "", false});
    }
    SECTION("a path that does not exist") {
        const auto r = shell_executor{}.execute(shell_target("/no/such/program"), test_context());
        CHECK_FALSE(r.exit_code);
        CHECK(r.error_text == "fork/exec /no/such/program: no such file or directory");
        CHECK(r.receipts.size() == 2);
    }
}

TEST_CASE("output beyond the bound is dropped and marked, and never blocks the program", "[executor][shell]") {
    // 300 kB on each stream is several times a pipe's buffer: a reader that stopped at the
    // bound would leave the program blocked on write forever.
    const shell_executor exec{executor_limits{1000}};
    const auto r = exec.execute(shell_target(helper(), {"flood", "300000"}), test_context());
    CHECK(r.ok);
    const auto& out = receipt_of(r, "stdout");
    const auto& err = receipt_of(r, "stderr");
    CHECK(out.truncated);
    CHECK(err.truncated);
    CHECK(out.body == std::string(1000, 'o'));
    CHECK(err.body == std::string(1000, 'e'));
}

TEST_CASE("output exactly at the bound is not marked truncated", "[executor][shell]") {
    const shell_executor exec{executor_limits{6}};
    const auto r = exec.execute(shell_target("/bin/sh", {"-c", "printf abcdef"}), test_context());
    CHECK(receipt_of(r, "stdout") == receipt_body{"stdout", "text/plain", "abcdef", false});
}

TEST_CASE("a stop kills the program's whole process group", "[executor][shell]") {
    adopt_orphans();
    temp_file pidfile;
    std::stop_source stop;
    const auto ctx = test_context(stop.get_token());
    const shell_executor exec;
    auto running = std::async(std::launch::async, [&] {
        return exec.execute(shell_target(helper(), {"tree", pidfile.path.string()}), ctx);
    });
    REQUIRE(eventually([&] { return std::filesystem::exists(pidfile.path); }));
    const auto [child, grandchild] = read_pids(pidfile.path);
    REQUIRE(grandchild > 0);

    stop.request_stop();
    REQUIRE(running.wait_for(10s) == std::future_status::ready);  // real-time ok: a failure bound
    const auto r = running.get();
    CHECK(r.stopped);
    CHECK_FALSE(r.ok);
    CHECK(r.exit_code == -1);
    CHECK(r.error_text == "signal: terminated");
    CHECK(eventually([&] { return gone(grandchild); }));
    const int group_signalled = ::kill(-child, 0);  // no process is left in the group
    const int group_errno = errno;
    CHECK(group_signalled == -1);
    CHECK(group_errno == ESRCH);
}

TEST_CASE("a group that ignores SIGTERM is killed once the grace has passed", "[executor][shell]") {
    adopt_orphans();
    temp_file pidfile;
    std::stop_source stop;
    const auto ctx = test_context(stop.get_token());
    const shell_executor exec{executor_limits{}, shell_options{50ms}};
    auto running = std::async(std::launch::async, [&] {
        return exec.execute(shell_target(helper(), {"tree", pidfile.path.string(), "ignore-term"}), ctx);
    });
    REQUIRE(eventually([&] { return std::filesystem::exists(pidfile.path); }));
    const auto grandchild = read_pids(pidfile.path).second;

    stop.request_stop();
    REQUIRE(running.wait_for(10s) == std::future_status::ready);  // real-time ok: a failure bound
    const auto r = running.get();
    CHECK(r.stopped);
    CHECK(r.exit_code == -1);
    CHECK(r.error_text == "signal: killed");
    CHECK(eventually([&] { return gone(grandchild); }));
}

TEST_CASE("a stop requested before the start starts nothing", "[executor][shell]") {
    std::stop_source stop;
    stop.request_stop();
    const auto r = shell_executor{}.execute(shell_target("/bin/sh", {"-c", "echo never"}), test_context(stop.get_token()));
    CHECK(r.stopped);
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.exit_code);
    CHECK(r.error_text == "context canceled");
    REQUIRE(r.receipts.size() == 2);
    CHECK(r.receipts[0].body.empty());
}

TEST_CASE("a grandchild holding the pipes does not keep the run alive", "[executor][shell]") {
    adopt_orphans();
    const shell_executor exec;
    SECTION("inside the group: it is killed when the program exits") {
        auto running = std::async(std::launch::async, [&] { return exec.execute(shell_target(helper(), {"orphan"}), test_context()); });
        REQUIRE(running.wait_for(10s) == std::future_status::ready);  // real-time ok: a failure bound
        const auto r = running.get();
        CHECK(r.ok);
        const pid_t grandchild = std::stoi(receipt_of(r, "stdout").body);
        CHECK(eventually([&] { return gone(grandchild); }));
    }
    SECTION("outside the group (setsid): the output is read only briefly after the exit") {
        auto running = std::async(std::launch::async, [&] { return exec.execute(shell_target(helper(), {"escape"}), test_context()); });
        REQUIRE(running.wait_for(10s) == std::future_status::ready);  // real-time ok: a failure bound
        const auto r = running.get();
        CHECK(r.ok);
        const pid_t grandchild = std::stoi(receipt_of(r, "stdout").body);
        CHECK(::kill(grandchild, 0) == 0);  // it escaped the group kill, yet execute() returned
        ::kill(grandchild, SIGKILL);
        CHECK(eventually([&] { return gone(grandchild); }));
    }
}

TEST_CASE("concurrent runs keep their own output", "[executor][shell]") {
    const shell_executor exec;
    std::vector<std::future<execution_result>> runs;
    for (int i = 0; i < 4; ++i) {
        runs.push_back(std::async(std::launch::async, [&exec, i] {
            return exec.execute(shell_target("/bin/sh", {"-c", "echo " + std::to_string(i)}), test_context());
        }));
    }
    for (int i = 0; i < 4; ++i) {
        CHECK(receipt_of(runs[static_cast<std::size_t>(i)].get(), "stdout").body == std::to_string(i) + "\n");
    }
}

// ---- the allow list (WAKEPLANE_SHELL_ALLOW, WAKEPLANE_SHELL=off) --------------------------------

TEST_CASE("an allow list holds absolute paths and directories, nothing else", "[executor][shell][allow]") {
    const auto policy = shell_policy::parse("# jobs\n\n  /usr/local/bin/backup.sh  \n/opt/jobs/\n").value();
    CHECK(policy.entries() == std::vector<std::string>{"/usr/local/bin/backup.sh", "/opt/jobs/"});
    CHECK_FALSE(policy.refusal("/usr/local/bin/backup.sh"));
    CHECK_FALSE(policy.refusal("/opt/jobs/sync"));
    CHECK_FALSE(policy.refusal("/opt/jobs/nested/run"));
    for (const auto* refused : {"/usr/local/bin/backup.sh.old", "/usr/local/bin/other", "/opt/jobsX/run", "/opt/jobs",
                                "/opt/jobs/../../bin/sh", "/opt/jobs/./run", "/opt/jobs//run", "backup.sh", "sh", ""}) {
        INFO(refused);
        CHECK(policy.refusal(refused) == "command \"" + std::string(refused) + "\" is not allowed on this server");
    }
    CHECK_FALSE(shell_policy::allow_all().refusal("echo"));  // no list: PATH lookup as before
    CHECK(shell_policy::disabled().refusal("/bin/echo") == "shell targets are disabled on this server");

    const std::vector<std::pair<std::string, std::string>> bad{
        {"/bin/echo\nbin/sh\n", "line 2: \"bin/sh\" is not an absolute path without . or .. segments"},
        {"./run.sh", "line 1: \"./run.sh\" is not an absolute path without . or .. segments"},
        {"/opt/../bin/", "line 1: \"/opt/../bin/\" is not an absolute path without . or .. segments"},
        {"# nothing\n\n", "allows no command; to disable shell targets set WAKEPLANE_SHELL=off"},
    };
    for (const auto& [text, message] : bad) {
        INFO(text);
        const auto p = shell_policy::parse(text);
        REQUIRE_FALSE(p);
        CHECK(p.error().message == message);
    }
    const auto missing = shell_policy::load("/nonexistent/wakeplane-allow");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message == "cannot read \"/nonexistent/wakeplane-allow\": No such file or directory");
}

TEST_CASE("validation refuses a shell target the policy does not allow", "[executor][shell][allow]") {
    const auto policy = shell_policy::parse("/bin/echo\n").value();
    CHECK(policy.check(shell_target("/bin/echo")).empty());
    CHECK(policy.check(shell_target("/bin/sh")) == std::vector<field_error>{{"target.command", "is not allowed on this server"}});
    CHECK(policy.check(shell_target("echo")) == std::vector<field_error>{{"target.command", "is not allowed on this server"}});
    CHECK(policy.check(shell_target("  ")).empty());  // already `is required for shell`
    target_spec http;
    http.kind = "http";
    CHECK(policy.check(http).empty());
    CHECK(shell_policy::disabled().check(shell_target("/bin/echo")) ==
          std::vector<field_error>{{"target.kind", "shell is disabled on this server"}});
    CHECK(shell_policy::allow_all().check(shell_target("anything")).empty());
}

TEST_CASE("a command outside the allow list fails its run and is never started", "[executor][shell][allow]") {
    temp_file marker;
    const auto target = shell_target("/bin/sh", {"-c", "echo ran > " + marker.path.string()});
    shell_options only_echo;
    only_echo.commands = shell_policy::parse("/bin/echo\n").value();

    const auto refused = shell_executor{executor_limits{}, only_echo}.execute(target, test_context());
    CHECK_FALSE(refused.ok);
    CHECK(refused.error_text == "command \"/bin/sh\" is not allowed on this server");
    CHECK_FALSE(refused.exit_code);
    REQUIRE(refused.receipts.size() == 2);
    CHECK(receipt_of(refused, "stdout").body.empty());
    CHECK_FALSE(std::filesystem::exists(marker.path));

    shell_options off;
    off.commands = shell_policy::disabled();
    const auto disabled = shell_executor{executor_limits{}, off}.execute(target, test_context());
    CHECK(disabled.error_text == "shell targets are disabled on this server");
    CHECK_FALSE(std::filesystem::exists(marker.path));

    shell_options under_bin;
    under_bin.commands = shell_policy::parse("/bin/\n").value();
    const auto allowed = shell_executor{executor_limits{}, under_bin}.execute(target, test_context());
    CHECK(allowed.ok);
    CHECK(std::filesystem::exists(marker.path));  // the same target runs once the list allows it
}
