// A real daemon process for end-to-end tests: spawned with its own environment and working
// directory, its stderr (the JSON log) kept in a file, found on the port it reports.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

namespace wakeplane::testing {

/// How long the end-to-end tests wait for anything before they fail: generous, since a loaded
/// CI machine is slow, and never spent when things work (every wait polls a condition).
inline constexpr std::chrono::seconds patience{30};

/// Polls `done()` until it holds or `timeout` passes; true when it held.
template <class Pred>
bool eventually(Pred&& done, std::chrono::seconds timeout = patience) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;  // real-time ok: a real process
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) {  // real-time ok
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds{50});  // real-time ok: the poll interval
    }
    return true;
}

/// The path of a binary the build passes in `variable` (see tests/meson.build).
inline std::string binary_from_env(const char* variable) {
    const char* path = std::getenv(variable);
    if (path == nullptr) {
        throw std::runtime_error(std::string(variable) + " is not set; run the tests through meson");
    }
    return path;
}

/// One spawned process. The destructor kills it (SIGKILL) if it still runs.
class daemon_process {
public:
    /// Starts `binary args...` in `dir` with this process's environment plus `env`; stdout and
    /// stderr go to `dir/<log_name>`.
    daemon_process(const std::string& binary, const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env, const std::filesystem::path& dir,
                   const std::string& log_name = "daemon.log")
        : log_path_(dir / log_name) {
        std::vector<std::string> argv_text{binary};
        argv_text.insert(argv_text.end(), args.begin(), args.end());
        std::vector<std::string> env_text;
        for (char** e = environ; *e != nullptr; ++e) {
            const std::string kv = *e;
            if (env.find(kv.substr(0, kv.find('='))) == env.end()) {
                env_text.push_back(kv);
            }
        }
        for (const auto& [k, v] : env) {
            env_text.push_back(k + "=" + v);
        }
        auto argv = pointers(argv_text);
        auto envp = pointers(env_text);

        posix_spawn_file_actions_t actions;
        ::posix_spawn_file_actions_init(&actions);
        ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
        ::posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
        const int rc = ::posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
        ::posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) {
            throw std::runtime_error("cannot start " + binary);
        }
    }

    daemon_process(const daemon_process&) = delete;
    daemon_process& operator=(const daemon_process&) = delete;

    ~daemon_process() {
        if (!exit_status_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }

    /// Waits for the `listening` log line and returns its address (`127.0.0.1:41234`).
    std::string wait_listening() {
        std::string addr;
        const bool found = eventually([&] {
            if (auto line = find_log("listening")) {
                addr = (*line)["addr"].get<std::string>();
                return true;
            }
            return exited();
        });
        if (!found || addr.empty()) {
            throw std::runtime_error("the daemon did not listen; its log:\n" + log());
        }
        return addr;
    }

    void signal(int sig) const { ::kill(pid_, sig); }

    /// Waits for the exit and returns the exit status, or 128 + the signal that ended it;
    /// nullopt when it did not exit in time.
    std::optional<int> wait_exit(std::chrono::seconds timeout = patience) {
        eventually([&] { return exited(); }, timeout);
        return exit_status_;
    }

    /// The first log line whose `msg` is `message`, parsed.
    [[nodiscard]] std::optional<nlohmann::json> find_log(const std::string& message) const {
        std::istringstream lines{log()};
        for (std::string line; std::getline(lines, line);) {
            auto j = nlohmann::json::parse(line, nullptr, false);
            if (!j.is_discarded() && j.is_object() && j.value("msg", "") == message) {
                return j;
            }
        }
        return std::nullopt;
    }

    /// Everything the process wrote so far.
    [[nodiscard]] std::string log() const {
        std::ifstream in{log_path_};
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

private:
    static std::vector<char*> pointers(std::vector<std::string>& texts) {
        std::vector<char*> out;
        for (auto& t : texts) {
            out.push_back(t.data());
        }
        out.push_back(nullptr);
        return out;
    }

    bool exited() {
        if (exit_status_) {
            return true;
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return true;
        }
        return false;
    }

    std::filesystem::path log_path_;
    pid_t pid_ = -1;
    std::optional<int> exit_status_;
};

}  // namespace wakeplane::testing
