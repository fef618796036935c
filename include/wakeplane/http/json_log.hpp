// A logger that writes one JSON object per line on stderr through spdlog (DECISIONS 32).
#pragma once

#include <wakeplane/log.hpp>

namespace wakeplane::http {

/// A thread-safe logger writing events at `min` and above to stderr, one JSON object per line:
/// `{"time":"2026-03-12T10:00:00.123Z","level":"INFO","msg":"listening","addr":"127.0.0.1:8080"}`.
/// `time` is UTC RFC 3339 with the fraction trimmed; the fields follow `msg` in their order.
/// Each line is flushed at once, so a crash loses none.
[[nodiscard]] logger stderr_json_logger(log_level min);

}  // namespace wakeplane::http
