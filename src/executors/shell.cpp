// The shell executor: posix_spawn without a shell, its own process group, bounded capture.
#include <wakeplane/executors/shell.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

#include <wakeplane/codec.hpp>
#include <wakeplane/time.hpp>

#include "bounded_text.hpp"

namespace wakeplane::executors {
namespace {

using steady_clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// After the program exited and its group was killed, output still in flight is read for at
/// most this long. Only a descendant that left the group (setsid) can hold the pipes past it.
constexpr milliseconds output_drain{100};

/// Without a pidfd (kernels before 5.3) the child's exit is checked at this period.
constexpr milliseconds exit_poll_period{20};

/// A file descriptor, closed when it goes out of scope.
class unique_fd {
public:
    unique_fd() = default;
    explicit unique_fd(int fd) noexcept : fd_(fd) {}
    unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    unique_fd& operator=(unique_fd&& other) noexcept {
        if (this != &other) {
            reset(std::exchange(other.fd_, -1));
        }
        return *this;
    }
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd() { reset(); }

    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

/// `s` with its first letter lower-cased: glibc says "No such file or directory" where Go,
/// whose texts the original's users see, says "no such file or directory".
std::string lower_first(std::string s) {
    if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') {
        s[0] = static_cast<char>(s[0] - 'A' + 'a');
    }
    return s;
}

/// The text of an errno value, thread-safe (strerror may share a buffer between threads).
std::string errno_text(int err) {
    const char* text = strerrordesc_np(err);
    return text != nullptr ? lower_first(text) : "errno " + std::to_string(err);
}

/// How Go names a signal in `signal: <name>`: "killed", "terminated", "segmentation fault".
std::string signal_text(int sig) {
    const char* text = sigdescr_np(sig);
    return text != nullptr ? lower_first(text) : "signal " + std::to_string(sig);
}

/// The program to run: `command` itself when it names a path, else the first executable
/// `<dir>/<command>` of `PATH` (an empty entry meaning the working directory), as Go's
/// exec.LookPath does. The error is the original's start error text.
tl::expected<std::string, std::string> resolve_program(const std::string& command) {
    if (command.find('/') != std::string::npos) {
        return command;
    }
    const char* path = std::getenv("PATH");
    const std::string_view dirs = path != nullptr ? path : "";
    for (std::size_t begin = 0; !dirs.empty() && begin <= dirs.size();) {
        const std::size_t end = std::min(dirs.find(':', begin), dirs.size());
        const std::string_view dir = dirs.substr(begin, end - begin);
        std::string candidate = std::string(dir.empty() ? "." : dir) + "/" + command;
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && !S_ISDIR(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
        begin = end + 1;
    }
    return tl::unexpected("exec: \"" + command + "\": executable file not found in $PATH");
}

/// The daemon's environment with the run's identity added (DECISIONS 18). Identity variables
/// the daemon itself happens to carry are replaced, so the program always sees this run's.
std::vector<std::string> child_environment(const run_context& ctx) {
    const std::array<std::pair<std::string_view, std::string>, 6> identity{{
        {"WAKEPLANE_RUN_ID", ctx.run},
        {"WAKEPLANE_SCHEDULE_ID", ctx.schedule},
        {"WAKEPLANE_OCCURRENCE_KEY", ctx.occurrence_key},
        {"WAKEPLANE_ATTEMPT", std::to_string(ctx.attempt)},
        {"WAKEPLANE_NOMINAL_TIME", format_rfc3339(ctx.nominal_time)},
        {"WAKEPLANE_FENCING_TOKEN", std::to_string(ctx.fencing_token)},
    }};
    std::vector<std::string> env;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        const std::string_view text{*entry};
        const std::string_view name = text.substr(0, text.find('='));
        const bool replaced = std::any_of(identity.begin(), identity.end(), [&](const auto& v) { return v.first == name; });
        if (!replaced) {
            env.emplace_back(text);
        }
    }
    for (const auto& [name, value] : identity) {
        env.push_back(std::string(name) + "=" + value);
    }
    return env;
}

/// Pointers to `strings` ending in nullptr, as argv and envp need; valid while `strings` lives.
std::vector<char*> c_array(std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (auto& s : strings) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

/// `{"args":[...] or null,"command":"..."}`: keys sorted and strings escaped as the original's
/// encoding/json wrote them; no args at all is `null`, as the original's nil slice.
std::string result_json_of(const target_spec& target) {
    std::string out = "{\"args\":";
    if (target.args.empty()) {
        out += "null";
    } else {
        out += '[';
        for (std::size_t i = 0; i < target.args.size(); ++i) {
            out += (i == 0 ? "" : ",") + encode_json_string(target.args[i]);
        }
        out += ']';
    }
    out += ",\"command\":" + encode_json_string(target.command) + "}";
    return out;
}

/// A pipe for one output stream. Both ends close on exec, so programs that other runs spawn
/// concurrently never inherit them (posix_spawn's dup2 clears the flag on the child's copy).
/// The parent's read end is non-blocking so that draining stops when nothing is left.
struct output_pipe {
    unique_fd read_end;
    unique_fd write_end;
};

tl::expected<output_pipe, int> make_output_pipe() {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
        return tl::unexpected(errno);
    }
    output_pipe p{unique_fd{fds[0]}, unique_fd{fds[1]}};
    if (::fcntl(p.read_end.get(), F_SETFL, O_NONBLOCK) != 0) {
        return tl::unexpected(errno);
    }
    return p;
}

/// One captured stream: the parent's read end and what was kept of it.
struct output_stream {
    unique_fd fd;
    detail::bounded_text text;

    /// Reads all that is available now; closes the pipe at end of file or on a read error.
    /// Bytes beyond the bound are read and dropped, so the writer never blocks on a full pipe.
    void read_available() {
        std::array<char, 16 * 1024> chunk{};
        while (fd.valid()) {
            const ssize_t n = ::read(fd.get(), chunk.data(), chunk.size());
            if (n > 0) {
                text.append({chunk.data(), static_cast<std::size_t>(n)});
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                return;
            } else {
                fd.reset();
            }
        }
    }
};

/// posix_spawn's file actions and attributes, destroyed on every way out.
class spawn_setup {
public:
    spawn_setup() {
        actions_ok_ = ::posix_spawn_file_actions_init(&actions_) == 0;
        attr_ok_ = ::posix_spawnattr_init(&attr_) == 0;
    }
    spawn_setup(const spawn_setup&) = delete;
    spawn_setup& operator=(const spawn_setup&) = delete;
    ~spawn_setup() {
        if (actions_ok_) {
            ::posix_spawn_file_actions_destroy(&actions_);
        }
        if (attr_ok_) {
            ::posix_spawnattr_destroy(&attr_);
        }
    }

    /// Prepares: stdin from /dev/null, stdout and stderr onto the pipes, a new process group
    /// led by the child, no blocked signals and default dispositions (the daemon may block or
    /// ignore signals such as SIGPIPE or SIGTERM; the program must not inherit that).
    /// Returns 0 or an errno value.
    int prepare(int stdout_fd, int stderr_fd) {
        if (!actions_ok_ || !attr_ok_) {
            return ENOMEM;
        }
        sigset_t none;
        sigset_t all;
        sigemptyset(&none);
        sigfillset(&all);
        const std::array<int, 7> steps{
            ::posix_spawn_file_actions_addopen(&actions_, STDIN_FILENO, "/dev/null", O_RDONLY, 0),
            ::posix_spawn_file_actions_adddup2(&actions_, stdout_fd, STDOUT_FILENO),
            ::posix_spawn_file_actions_adddup2(&actions_, stderr_fd, STDERR_FILENO),
            ::posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF),
            ::posix_spawnattr_setpgroup(&attr_, 0),
            ::posix_spawnattr_setsigmask(&attr_, &none),
            ::posix_spawnattr_setsigdefault(&attr_, &all),
        };
        const auto failed = std::find_if(steps.begin(), steps.end(), [](int rc) { return rc != 0; });
        return failed == steps.end() ? 0 : *failed;
    }

    [[nodiscard]] const posix_spawn_file_actions_t* actions() const noexcept { return &actions_; }
    [[nodiscard]] const posix_spawnattr_t* attributes() const noexcept { return &attr_; }

private:
    posix_spawn_file_actions_t actions_{};
    posix_spawnattr_t attr_{};
    bool actions_ok_ = false;
    bool attr_ok_ = false;
};

/// True once `pid` has exited. The child is NOT reaped (WNOWAIT): while it is a zombie its pid,
/// which is also its process group id, cannot be reused, so signalling the group stays safe.
/// ECHILD (the host set SIGCHLD to SIG_IGN, so the kernel reaped it) also counts as exited.
bool has_exited(pid_t pid) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
        return errno != EINTR;
    }
    return info.si_pid == pid;
}

/// A pidfd for `pid` (readable once it exits), or -1 on kernels before 5.3. Called through
/// syscall(): glibc 2.36's <sys/pidfd.h> lacks the extern "C" that C++ needs to link it.
int pidfd_of(pid_t pid) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0U));
}

/// Milliseconds from now until `t`, rounded up, at least 0: a poll() timeout.
int millis_until(steady_clock::time_point t) {
    const auto left = std::chrono::ceil<milliseconds>(t - steady_clock::now()).count();
    return static_cast<int>(std::clamp<std::int64_t>(left, 0, 60'000));
}

/// A started program and everything needed to watch it. Should an attempt end unexpectedly
/// (an exception), the destructor kills the group and reaps the child, so no process outlives it.
struct running_child {
    pid_t pid = -1;                        ///< -1 once reaped
    unique_fd exit_fd;                     ///< pidfd: readable once the child exits; may be invalid
    std::array<output_stream, 2> streams;  ///< stdout, stderr

    running_child(pid_t p, unique_fd exit, std::array<output_stream, 2> s) noexcept
        : pid(p), exit_fd(std::move(exit)), streams(std::move(s)) {}
    running_child(running_child&& other) noexcept
        : pid(std::exchange(other.pid, -1)), exit_fd(std::move(other.exit_fd)), streams(std::move(other.streams)) {}
    running_child& operator=(running_child&&) = delete;
    running_child(const running_child&) = delete;
    running_child& operator=(const running_child&) = delete;
    ~running_child() {
        if (pid > 0) {
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }

    /// Reaps the child; returns its wait status, or the error text when it cannot be had.
    tl::expected<int, std::string> reap() {
        int status = 0;
        while (::waitpid(std::exchange(pid, -1), &status, 0) < 0) {
            if (errno != EINTR) {
                return tl::unexpected("wait: " + errno_text(errno));
            }
        }
        return status;
    }
};

/// Reads output until the direct child exits. When `stop` is requested the group gets SIGTERM,
/// and SIGKILL `grace` later. `wake_fd` turns readable when stop is requested, so poll() returns
/// at once. Returns whether the stop made it signal the group.
bool supervise(running_child& child, int wake_fd, const std::stop_token& stop, milliseconds grace) {
    constexpr auto never = steady_clock::time_point::max();
    bool stop_signalled = false;
    steady_clock::time_point kill_at = never;  // when SIGKILL follows the SIGTERM of a stop
    while (!has_exited(child.pid)) {
        std::array<pollfd, 4> fds{};
        nfds_t count = 0;
        for (auto& s : child.streams) {
            fds[count++] = pollfd{s.fd.get(), POLLIN, 0};  // a closed stream (-1) is ignored by poll
        }
        if (!stop_signalled) {
            fds[count++] = pollfd{wake_fd, POLLIN, 0};
        }
        if (child.exit_fd.valid()) {
            fds[count++] = pollfd{child.exit_fd.get(), POLLIN, 0};
        }
        int timeout = child.exit_fd.valid() ? -1 : static_cast<int>(exit_poll_period.count());
        if (kill_at != never) {
            timeout = timeout < 0 ? millis_until(kill_at) : std::min(timeout, millis_until(kill_at));
        }
        ::poll(fds.data(), count, timeout);  // EINTR and timeouts only mean "look again"
        for (auto& s : child.streams) {
            s.read_available();
        }
        if (!stop_signalled && stop.stop_requested()) {
            ::kill(-child.pid, SIGTERM);
            stop_signalled = true;
            kill_at = steady_clock::now() + grace;
        }
        if (kill_at != never && steady_clock::now() >= kill_at) {
            ::kill(-child.pid, SIGKILL);
            kill_at = never;
        }
    }
    return stop_signalled;
}

/// After the child exited: kills what is left of its group (grandchildren die with the run),
/// then reads the output still in the pipes for at most `output_drain`.
void finish_group(running_child& child) {
    ::kill(-child.pid, SIGKILL);
    const auto deadline = steady_clock::now() + output_drain;
    for (auto& s : child.streams) {
        s.read_available();
    }
    while ((child.streams[0].fd.valid() || child.streams[1].fd.valid()) && steady_clock::now() < deadline) {
        std::array<pollfd, 2> fds{
            pollfd{child.streams[0].fd.get(), POLLIN, 0},
            pollfd{child.streams[1].fd.get(), POLLIN, 0},
        };
        ::poll(fds.data(), fds.size(), millis_until(deadline));
        for (auto& s : child.streams) {
            s.read_available();
        }
    }
}

/// Fills exit_code, ok and error_text from a wait status, with the original's texts.
void describe_status(int status, execution_result& r) {
    if (WIFEXITED(status)) {
        r.exit_code = WEXITSTATUS(status);
        r.ok = *r.exit_code == 0;
        if (!r.ok) {
            r.error_text = "exit status " + std::to_string(*r.exit_code);
        }
        return;
    }
    // Only exits and deaths by signal are waited for (no WUNTRACED), so this is a signal.
    r.exit_code = -1;
    r.error_text = "signal: " + signal_text(WTERMSIG(status)) + (WCOREDUMP(status) ? " (core dumped)" : "");
}

/// Starts the program described by `target`, or says why it could not start.
tl::expected<running_child, std::string> start(const target_spec& target, const run_context& ctx, std::size_t bound) {
    auto program = resolve_program(target.command);
    if (!program) {
        return tl::unexpected(program.error());
    }
    auto out = make_output_pipe();
    if (!out) {
        return tl::unexpected("pipe: " + errno_text(out.error()));
    }
    auto err = make_output_pipe();
    if (!err) {
        return tl::unexpected("pipe: " + errno_text(err.error()));
    }
    spawn_setup setup;
    if (const int rc = setup.prepare(out->write_end.get(), err->write_end.get()); rc != 0) {
        return tl::unexpected("fork/exec " + *program + ": " + errno_text(rc));
    }
    std::vector<std::string> args{target.command};  // argv[0] is the name as given, as in Go
    args.insert(args.end(), target.args.begin(), target.args.end());
    std::vector<std::string> env = child_environment(ctx);
    const auto argv = c_array(args);
    const auto envp = c_array(env);
    pid_t pid = -1;
    if (const int rc = ::posix_spawn(&pid, program->c_str(), setup.actions(), setup.attributes(), argv.data(), envp.data());
        rc != 0) {
        return tl::unexpected("fork/exec " + *program + ": " + errno_text(rc));
    }
    // The parent's copies of the write ends must go, or the pipes would never reach end of file.
    out->write_end.reset();
    err->write_end.reset();
    return running_child{
        pid,
        unique_fd{pidfd_of(pid)},
        {output_stream{std::move(out->read_end), detail::bounded_text{bound}},
         output_stream{std::move(err->read_end), detail::bounded_text{bound}}},
    };
}

/// Runs the whole attempt; may throw std::bad_alloc, which execute() turns into a result.
execution_result run_attempt(const target_spec& target, const run_context& ctx, std::size_t bound,
                             const shell_options& options) {
    execution_result r;
    r.result_json = result_json_of(target);
    // Both receipts exist on every path, empty when nothing ran (ORIGINAL-BEHAVIOR §6.2).
    const std::vector<receipt_body> empty_receipts{receipt_body{"stdout", "text/plain", "", false},
                                                   receipt_body{"stderr", "text/plain", "", false}};
    if (ctx.stop.stop_requested()) {
        // Nothing was started, so there is nothing to kill; Go's exec reports the done context.
        r.stopped = true;
        r.error_text = "context canceled";
        r.receipts = empty_receipts;
        return r;
    }
    if (auto refused = options.commands.refusal(target.command)) {
        r.error_text = std::move(*refused);
        r.receipts = empty_receipts;
        return r;
    }
    // Turns readable when stop is requested, so that the wait below wakes at once.
    const unique_fd wake{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
    if (!wake.valid()) {
        r.error_text = "eventfd: " + errno_text(errno);
        r.receipts = empty_receipts;
        return r;
    }
    std::stop_callback on_stop{ctx.stop, [fd = wake.get()] {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto n = ::write(fd, &one, sizeof one);
    }};
    auto child = start(target, ctx, bound);
    if (!child) {
        r.error_text = child.error();
        r.receipts = empty_receipts;
        return r;
    }
    r.stopped = supervise(*child, wake.get(), ctx.stop, options.kill_grace);
    finish_group(*child);
    if (auto status = child->reap()) {
        describe_status(*status, r);
    } else {
        r.error_text = status.error();
    }
    r.receipts.push_back(std::move(child->streams[0].text).into_receipt("stdout", "text/plain"));
    r.receipts.push_back(std::move(child->streams[1].text).into_receipt("stderr", "text/plain"));
    return r;
}

}  // namespace

execution_result shell_executor::execute(const target_spec& target, const run_context& ctx) const {
    try {
        return run_attempt(target, ctx, limits_.max_receipt_bytes, options_);
    } catch (const std::exception& e) {
        execution_result r;
        r.error_text = std::string("shell executor: ") + e.what();
        return r;
    }
}

}  // namespace wakeplane::executors
