// `wakeplane serve`: hands the process over to the daemon.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "failure.hpp"

namespace wakeplane::cli {

/// Where `serve` looks for the daemon, in order: `wakeplaned` in the directory of the running
/// `wakeplane` (an installation), then `src/daemon/wakeplaned` below it (a meson build tree).
/// When neither exists, `serve` searches PATH.
[[nodiscard]] std::vector<std::filesystem::path> daemon_candidates(const std::filesystem::path& self_dir);

/// Replaces this process with `wakeplaned <args…>`, keeping the environment, so the daemon's
/// signals, exit status and logs are the daemon's own. Returns only when no daemon could be
/// started (exit 1, naming where it looked).
[[nodiscard]] failure exec_daemon(const std::vector<std::string>& args);

}  // namespace wakeplane::cli
