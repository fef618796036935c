// Child processes for the CLI's end-to-end tests: run a program to its end, or keep one in the
// background (the daemon, `ledger tail --follow`) with its output in files.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

namespace wakeplane::testing {

/// What a finished program left.
struct finished {
    int exit_code = -1;  ///< its exit status; 128 + N when killed by signal N
    std::string out;     ///< everything it wrote on stdout
    std::string err;     ///< everything it wrote on stderr
};

/// Runs `argv` (argv[0] a path) with `env` (`NAME=value` entries, overriding the inherited ones)
/// and stdin from /dev/null, and waits for it to end. A program still running after `limit` is
/// killed, so a hanging command fails its test instead of hanging the suite.
[[nodiscard]] finished run_to_end(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
                                  std::chrono::seconds limit = std::chrono::seconds{60});

/// A program running in the background, stdout and stderr going to files. The destructor stops
/// it (SIGTERM, then SIGKILL after 10 s) and reaps it.
class background_process {
public:
    background_process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                       std::filesystem::path out_file, std::filesystem::path err_file);
    background_process(const background_process&) = delete;
    background_process& operator=(const background_process&) = delete;
    ~background_process();

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

    /// True while it has not exited (reaping it if it has).
    [[nodiscard]] bool running();

    /// Sends `signal` and waits up to `limit` for the exit; returns its status as run_to_end()
    /// reports it, or -1 when it had to be killed.
    int stop(int signal, std::chrono::seconds limit = std::chrono::seconds{10});

    /// What it wrote on stdout / stderr so far.
    [[nodiscard]] std::string out() const;
    [[nodiscard]] std::string err() const;

private:
    pid_t pid_ = -1;
    int status_ = -1;  ///< exit status once reaped
    std::filesystem::path out_file_;
    std::filesystem::path err_file_;
};

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
[[nodiscard]] int free_port();

/// The whole content of a file, "" when it does not exist.
[[nodiscard]] std::string read_text(const std::filesystem::path& file);

}  // namespace wakeplane::testing
