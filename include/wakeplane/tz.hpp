// Time zones from the operating system's tz database, correct beyond 2037.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <wakeplane/result.hpp>

namespace wakeplane {

using sys_seconds = std::chrono::sys_seconds;
using local_seconds = std::chrono::local_seconds;

/// How a local wall-clock time maps to UTC in a zone.
struct local_resolution {
    enum class kind { unique, nonexistent, ambiguous };
    kind what = kind::unique;
    /// unique: the instant. ambiguous: the earlier instant (first pass through the wall time).
    /// nonexistent: the first instant after the gap (the transition instant).
    sys_seconds first{};
    /// ambiguous: the later instant (second pass). Otherwise equal to `first`.
    sys_seconds second{};
};

/// A maximal stretch of UTC time [begin, end) during which a zone keeps one offset, with the
/// offsets on either side. Example, America/New_York at 2026-07-01T00:00Z: begin
/// 2026-03-08T07:00Z, end 2026-11-01T06:00Z, offset -4h, offset_before and offset_after -5h.
struct zone_period {
    /// First instant of the stretch; sys_seconds::min() when the offset never changed before.
    sys_seconds begin = sys_seconds::min();
    /// First instant after the stretch; sys_seconds::max() when the offset never changes again.
    sys_seconds end = sys_seconds::max();
    /// Offset in effect inside the stretch (local = utc + offset).
    std::chrono::seconds offset{0};
    /// Offset in effect just before `begin` (equal to `offset` when begin is unbounded).
    std::chrono::seconds offset_before{0};
    /// Offset in effect from `end` on (equal to `offset` when end is unbounded).
    std::chrono::seconds offset_after{0};
};

/// An IANA time zone. Transitions come from date/tz (the OS tz database); beyond the zone
/// file's last transition the POSIX TZ rule in the file's footer applies, because Debian's
/// libdate-tz ignores it and would otherwise report no daylight saving after 2037.
///
/// Instances are immutable and shared: locate() returns a pointer that stays valid for the life
/// of the process. All members are thread-safe.
class time_zone {
public:
    /// Finds a zone by its exact IANA name (`America/New_York`, `UTC`, legacy `EST`).
    /// An unknown name is errc::validation_failed with field `timezone`. `localtime` is refused
    /// too: it names the host's setting, not a zone, and a schedule must mean the same everywhere.
    [[nodiscard]] static result<const time_zone*> locate(std::string_view name);

    /// The name the zone was located by.
    [[nodiscard]] std::string_view name() const noexcept;

    /// UTC offset in effect at `t` (local = utc + offset).
    [[nodiscard]] std::chrono::seconds offset_at(sys_seconds t) const;

    /// The wall-clock time at `t`.
    [[nodiscard]] local_seconds to_local(sys_seconds t) const { return local_seconds{(t + offset_at(t)).time_since_epoch()}; }

    /// Resolves a local wall-clock time to UTC, reporting gaps and repeated times.
    /// Example, America/New_York: 2026-03-08 02:30 is nonexistent (first = 07:00Z);
    /// 2026-11-01 01:30 is ambiguous (first = 05:30Z, second = 06:30Z).
    [[nodiscard]] local_resolution resolve(local_seconds l) const;

    /// The first offset change strictly after `t`, or sys_seconds::max() when there is none.
    [[nodiscard]] sys_seconds next_transition(sys_seconds t) const;

    /// The stretch of constant offset that contains `t`: one lookup that gives a next-time
    /// computation everything it needs to map wall-clock times near `t` without further lookups.
    [[nodiscard]] zone_period period_at(sys_seconds t) const;

    class impl;
    explicit time_zone(impl* p) noexcept : impl_(p) {}

private:
    impl* impl_;
};

}  // namespace wakeplane
