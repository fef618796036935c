// `wakeplane preview`: the next fire times of a cron expression or a manifest, offline.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include <wakeplane/result.hpp>
#include <wakeplane/time.hpp>

namespace wakeplane::cli {

/// What `wakeplane preview` was asked; exactly one of `cron` and `manifest_path` is set.
struct preview_request {
    std::optional<std::string> cron;
    std::optional<std::string> timezone;
    std::optional<std::string> manifest_path;
    std::optional<std::string> dst_gap;
    std::optional<std::string> dst_repeated;
    time_point from{};
    std::int64_t count = 10;
};

/// The next `count` fire times strictly after `from`, in order; fewer when the cadence ends
/// (a passed end_at, a once already fired). Errors name the flag or the manifest field.
[[nodiscard]] result<std::vector<time_point>> preview(const preview_request& req);

/// Formats an error as the one line the CLI prints: `schedule.expr: must parse …; timezone: is required`.
[[nodiscard]] std::string one_line(const error& e);

}  // namespace wakeplane::cli
