// Stop signals for wakeplaned: blocked in every thread and received by one sigwait.
#pragma once

#include <string_view>

namespace wakeplane::daemon {

/// Blocks SIGINT and SIGTERM in the calling thread and in every thread it starts later (call it
/// first in main), and ignores SIGPIPE (a client gone mid-response is not a reason to die).
void block_stop_signals();

/// Waits for SIGINT or SIGTERM; returns its name (`SIGTERM`).
[[nodiscard]] std::string_view wait_for_stop_signal();

/// Sends SIGTERM to this process, so that wait_for_stop_signal() returns (a failed server).
void request_stop();

}  // namespace wakeplane::daemon
