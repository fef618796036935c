// Stop signals: a blocked set that only sigwait() ever receives, so no handler runs in a
// random thread and shutdown is ordinary code on the main thread.
#include "signals.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

namespace wakeplane::daemon {
namespace {

sigset_t stop_set() {
    sigset_t set;
    ::sigemptyset(&set);
    ::sigaddset(&set, SIGINT);
    ::sigaddset(&set, SIGTERM);
    return set;
}

}  // namespace

void block_stop_signals() {
    const sigset_t set = stop_set();
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
}

std::string_view wait_for_stop_signal() {
    const sigset_t set = stop_set();
    int sig = 0;
    while (::sigwait(&set, &sig) != 0) {
        // sigwait fails only for an invalid set; ours is valid, so this does not spin.
    }
    return sig == SIGINT ? "SIGINT" : "SIGTERM";
}

void request_stop() { ::kill(::getpid(), SIGTERM); }

}  // namespace wakeplane::daemon
