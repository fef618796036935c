// The simulated workload: schedules drawn from a seed, operator edits, and what each execution
// does. Everything is a function of the seed (and, for executions, of the occurrence key and
// attempt), never of thread timing, so a seed replays byte for byte.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <wakeplane/model.hpp>
#include <wakeplane/time.hpp>

#include "prng.hpp"

namespace wakeplane::sim {

/// Which mix of schedules and executions to draw.
enum class workload_kind {
    /// Every cadence kind, policy and failure mode, at cadences of 10 min to a month: about 10
    /// occurrences per schedule-day; the mix that hunts bugs under faults.
    standard,
    /// A production fleet for the scale check: crons at a drawn minute and hour across the
    /// zones, mostly monthly and quarterly, some yearly and weekly, few daily or on weekdays, a
    /// handful of hourly intervals, some once schedules; executions that mostly succeed within
    /// 90 s. About 10.7 occurrences per schedule-year (scale_occurrences_per_year()).
    scale,
};

/// `standard` or `scale`.
[[nodiscard]] std::optional<workload_kind> parse_workload_kind(std::string_view name) noexcept;

/// `n` valid schedule inputs (defaults not applied): cron, interval and once cadences in many
/// timezones (several with DST transitions), every misfire and overlap policy, concurrency 1-3,
/// retries, timeouts and jitter. Each targets the simulated workflow. Once cadences fall in
/// [start - 1 day, end], so some are already missed at creation (DECISIONS 6).
/// Example: generate_schedules(rng, 16, start, start + 30 days).
[[nodiscard]] std::vector<schedule_input> generate_schedules(prng& rng, std::size_t n, time_point start, time_point end,
                                                             workload_kind kind = workload_kind::standard);

/// The expected nominal occurrences per schedule and 365 days of the scale mix, from its
/// weights (a once schedule counts one: its instant falls in the simulated window).
[[nodiscard]] double scale_occurrences_per_year() noexcept;

/// A simulated operator's edit of `in`: a new cadence, overlap, misfire or retry policy, or a
/// new timeout. The result is valid whenever `in` is.
[[nodiscard]] schedule_input edit_schedule(prng& rng, schedule_input in, time_point now);

/// What one simulated execution does.
struct behaviour {
    enum class kind {
        succeed,          ///< returns ok after `takes`
        fail,             ///< returns a failure after `takes`
        hang,             ///< would take `takes`, past its timeout; returns when asked to stop
        ignore_stop,      ///< takes `takes` whatever it is asked: a stop is ignored (abandoned past the grace)
    };
    kind what = kind::succeed;
    duration takes{};
    friend bool operator==(const behaviour&, const behaviour&) = default;
};

/// The behaviour of attempt `attempt` of `occurrence_key` under simulation seed `seed`. Equal
/// arguments give equal behaviours. Hangs take hours, past every timeout the workload draws.
/// The scale workload's executions mostly succeed quickly (see workload_kind::scale).
[[nodiscard]] behaviour behaviour_of(std::uint64_t seed, std::string_view occurrence_key, std::int64_t attempt,
                                     workload_kind kind = workload_kind::standard);

}  // namespace wakeplane::sim
