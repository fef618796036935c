// A child program for the shell executor's tests: floods its pipes or builds small process trees.
//
//   process_tree flood <bytes>               writes <bytes> to stdout and to stderr, exits 0
//   process_tree tree <pidfile> [ignore-term] forks a grandchild, writes "<pid> <grandchild>" to
//                                             <pidfile>, waits for the grandchild
//   process_tree orphan                       forks a grandchild that holds the pipes, prints its
//                                             pid and exits at once
//   process_tree escape                       the same, but the grandchild first leaves the
//                                             process group (setsid)
//
// Every grandchild ends itself after 60 s (alarm), so a failed test leaves nothing behind for long.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr unsigned grandchild_lifetime_seconds = 60;

/// Writes all of `data` to `fd`; false when the pipe is gone.
bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

/// Waits in pause() until a signal ends the process (SIGALRM at the latest).
[[noreturn]] void idle() {
    ::alarm(grandchild_lifetime_seconds);
    while (true) {
        ::pause();
    }
}

/// Writes `bytes` bytes to stdout and to stderr, in turns, so that both pipes fill up.
int flood(std::size_t bytes) {
    const std::string out_chunk(4096, 'o');
    const std::string err_chunk(4096, 'e');
    for (std::size_t done = 0; done < bytes; done += out_chunk.size()) {
        const std::size_t n = std::min(out_chunk.size(), bytes - done);
        if (!write_all(STDOUT_FILENO, {out_chunk.data(), n}) || !write_all(STDERR_FILENO, {err_chunk.data(), n})) {
            return 1;
        }
    }
    return 0;
}

/// Forks a grandchild that idles, records both pids in `pidfile` (written whole, then renamed,
/// so a reader never sees half of it) and waits for the grandchild.
int tree(const std::string& pidfile, bool ignore_term) {
    if (ignore_term) {
        ::signal(SIGTERM, SIG_IGN);  // inherited by the grandchild: only SIGKILL ends them
    }
    const pid_t grandchild = ::fork();
    if (grandchild == 0) {
        idle();
    }
    const std::string tmp = pidfile + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    if (f == nullptr) {
        return 2;
    }
    std::fprintf(f, "%d %d\n", static_cast<int>(::getpid()), static_cast<int>(grandchild));
    std::fclose(f);
    std::rename(tmp.c_str(), pidfile.c_str());
    ::waitpid(grandchild, nullptr, 0);
    return 0;
}

/// Forks a grandchild that keeps stdout and stderr open, prints its pid and exits. With
/// `leave_group` the grandchild calls setsid() first, and the parent waits for that.
int orphan(bool leave_group) {
    int ready[2];
    if (::pipe(ready) != 0) {
        return 2;
    }
    const pid_t grandchild = ::fork();
    if (grandchild == 0) {
        if (leave_group) {
            ::setsid();
        }
        [[maybe_unused]] const auto n = ::write(ready[1], "x", 1);
        idle();
    }
    char byte = 0;
    [[maybe_unused]] const auto n = ::read(ready[0], &byte, 1);
    std::printf("%d\n", static_cast<int>(grandchild));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    if (args.size() == 2 && args[0] == "flood") {
        return flood(std::stoul(std::string(args[1])));
    }
    if ((args.size() == 2 || args.size() == 3) && args[0] == "tree") {
        return tree(std::string(args[1]), args.size() == 3 && args[2] == "ignore-term");
    }
    if (args.size() == 1 && (args[0] == "orphan" || args[0] == "escape")) {
        return orphan(args[0] == "escape");
    }
    std::fprintf(stderr, "usage: process_tree flood <bytes> | tree <pidfile> [ignore-term] | orphan | escape\n");
    return 64;
}
