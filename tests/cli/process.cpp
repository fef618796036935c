// Child processes for the end-to-end tests, on posix_spawn.
#include "process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace wakeplane::testing {
namespace {

/// The inherited environment with `overrides` (`NAME=value`) replacing or adding entries.
std::vector<std::string> merged_env(const std::vector<std::string>& overrides) {
    std::vector<std::string> out;
    const auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string entry = *e;
        bool replaced = false;
        for (const auto& o : overrides) {
            replaced = replaced || name_of(o) == name_of(entry);
        }
        if (!replaced) {
            out.push_back(entry);
        }
    }
    out.insert(out.end(), overrides.begin(), overrides.end());
    return out;
}

/// Null-terminated `char*` views of `strings` for the exec family.
std::vector<char*> c_strings(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& s : strings) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

/// Throws with errno's text: the helpers fail loudly, a test cannot continue without its child.
[[noreturn]] void fail_errno(const std::string& what, int code) {
    throw std::runtime_error(what + ": " + std::strerror(code));
}

/// The exit status of a reaped child, 128 + N for a signal N (as shells report it).
int decode_status(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// Spawns `argv` with the given file actions.
pid_t spawn(const std::vector<std::string>& argv_in, const std::vector<std::string>& env_in,
            const posix_spawn_file_actions_t& actions) {
    auto argv_strings = argv_in;
    auto env_strings = merged_env(env_in);
    auto argv = c_strings(argv_strings);
    auto envp = c_strings(env_strings);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    if (rc != 0) {
        fail_errno("cannot start " + argv_in.at(0), rc);
    }
    return pid;
}

/// Reads what is available on `fd` into `into`; false at end of file.
bool drain(int fd, std::string& into) {
    std::array<char, 65536> buf{};
    const auto n = ::read(fd, buf.data(), buf.size());
    if (n > 0) {
        into.append(buf.data(), static_cast<std::size_t>(n));
        return true;
    }
    return n < 0 && errno == EINTR;
}

}  // namespace

finished run_to_end(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                    std::chrono::seconds limit) {
    int out_pipe[2];
    int err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
        fail_errno("pipe", errno);
    }
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    ::posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    ::posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    const pid_t pid = spawn(argv, env, actions);
    ::posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);

    finished result;
    std::array<pollfd, 2> fds{pollfd{out_pipe[0], POLLIN, 0}, pollfd{err_pipe[0], POLLIN, 0}};
    const auto deadline = std::chrono::steady_clock::now() + limit;  // real-time ok: a failure bound
    bool killed = false;
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 && !killed) {
            ::kill(pid, SIGKILL);
            killed = true;
        }
        if (::poll(fds.data(), fds.size(), killed ? 1000 : static_cast<int>(left.count())) < 0 && errno != EINTR) {
            fail_errno("poll", errno);
        }
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
                !drain(fds[i].fd, i == 0 ? result.out : result.err)) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
            }
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exit_code = decode_status(status);
    return result;
}

background_process::background_process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                                       std::filesystem::path out_file, std::filesystem::path err_file)
    : out_file_(std::move(out_file)), err_file_(std::move(err_file)) {
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    ::posix_spawn_file_actions_addopen(&actions, 1, out_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::posix_spawn_file_actions_addopen(&actions, 2, err_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_ = spawn(argv, env, actions);
    ::posix_spawn_file_actions_destroy(&actions);
}

background_process::~background_process() {
    if (running()) {
        stop(SIGTERM);
    }
}

bool background_process::running() {
    if (status_ >= 0) {
        return false;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        status_ = decode_status(status);
        return false;
    }
    return true;
}

int background_process::stop(int signal, std::chrono::seconds limit) {
    if (!running()) {
        return status_;
    }
    ::kill(pid_, signal);
    const auto deadline = std::chrono::steady_clock::now() + limit;  // real-time ok: a failure bound
    while (running()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
            status_ = decode_status(status);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds{5});  // real-time ok: polling for the exit
    }
    return status_;
}

std::string background_process::out() const {
    return read_text(out_file_);
}

std::string background_process::err() const {
    return read_text(err_file_);
}

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fail_errno("socket", errno);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        const int code = errno;
        ::close(fd);
        fail_errno("bind 127.0.0.1:0", code);
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

std::string read_text(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace wakeplane::testing
