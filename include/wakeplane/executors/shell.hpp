// The shell executor: runs a program directly (no shell) in its own process group.
#pragma once

#include <chrono>
#include <string_view>
#include <utility>

#include <wakeplane/executor.hpp>
#include <wakeplane/executors/shell_policy.hpp>
#include <wakeplane/model.hpp>

namespace wakeplane::executors {

/// Tuning of the shell executor.
struct shell_options {
    /// Real time a stopped program's process group gets between SIGTERM and SIGKILL, so that
    /// a well-behaved program can clean up (remove temporary files, release locks).
    std::chrono::milliseconds kill_grace{2000};
    /// Which commands may run; checked before every attempt, so a command that the server no
    /// longer allows fails its run (`command "/bin/sh" is not allowed on this server`) without
    /// anything being started.
    shell_policy commands = shell_policy::allow_all();
};

/// Runs `target.command` with `target.args` as argv, without a shell (ORIGINAL-BEHAVIOR §6.2,
/// DECISIONS 18, 19):
/// - a command without `/` is looked up in `PATH`; stdin is /dev/null; the environment is the
///   daemon's plus `WAKEPLANE_RUN_ID`, `WAKEPLANE_SCHEDULE_ID`, `WAKEPLANE_OCCURRENCE_KEY`,
///   `WAKEPLANE_ATTEMPT`, `WAKEPLANE_NOMINAL_TIME` (UTC RFC 3339) and `WAKEPLANE_FENCING_TOKEN`;
/// - the program leads its own process group. When `ctx.stop` is requested the whole group gets
///   SIGTERM, then SIGKILL after `kill_grace`; when the program exits, whatever is left of its
///   group is killed, and output is read for at most a brief moment more, so a grandchild that
///   holds the pipes cannot keep the run alive (§11.25);
/// - stdout and stderr are read as they come, each kept up to `max_receipt_bytes` (the rest is
///   read and dropped, so the program never blocks on a full pipe).
///
/// Result: `exit_code` is the exit status, -1 when a signal ended the program, absent when it
/// could not start; `error_text` is `exit status N`, `signal: killed` (`signal: terminated`, ...)
/// or a start error such as `exec: "nope": executable file not found in $PATH`; `result_json` is
/// `{"args":[...] or null,"command":"..."}`; there are always two receipts, `stdout` and
/// `stderr` (text/plain), even when empty or when the program could not start.
///
/// Thread safety: execute() may run on many threads at once; it never throws.
class shell_executor {
public:
    static constexpr std::string_view kind = "shell";

    explicit shell_executor(executor_limits limits = {}, shell_options options = {})
        : limits_(limits), options_(std::move(options)) {}

    /// Runs one attempt and blocks until the program has exited (or was killed after a stop).
    [[nodiscard]] execution_result execute(const target_spec& target, const run_context& ctx) const;

private:
    executor_limits limits_;
    shell_options options_;
};

static_assert(executor<shell_executor>);

}  // namespace wakeplane::executors
