// Cadences (cron, interval, once) with bounds and DST policy, and the lazy range of their occurrences.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <variant>

#include <wakeplane/cron.hpp>
#include <wakeplane/result.hpp>
#include <wakeplane/time.hpp>
#include <wakeplane/tz.hpp>

#include <range/v3/view/facade.hpp>

namespace wakeplane {

/// What a cron schedule does with a wall time that falls in a spring-forward gap.
enum class dst_gap { skip, shift };
/// What a cron schedule does with a wall time that occurs twice at fall-back.
enum class dst_repeated { first, last, both };

/// `schedule.dst` (DECISIONS 4). Default: a gap time does not fire; a repeated time fires once,
/// at its first instant.
struct dst_policy {
    dst_gap gap = dst_gap::skip;
    dst_repeated repeated = dst_repeated::first;
    friend bool operator==(const dst_policy&, const dst_policy&) = default;
};

/// `skip` or `shift`: the spelling in manifests and the API.
[[nodiscard]] std::string_view to_string(dst_gap g) noexcept;
/// `first`, `last` or `both`: the spelling in manifests and the API.
[[nodiscard]] std::string_view to_string(dst_repeated r) noexcept;
/// The policy spelled exactly `skip` or `shift`; nullopt otherwise.
[[nodiscard]] std::optional<dst_gap> parse_dst_gap(std::string_view s) noexcept;
/// The policy spelled exactly `first`, `last` or `both`; nullopt otherwise.
[[nodiscard]] std::optional<dst_repeated> parse_dst_repeated(std::string_view s) noexcept;

/// Optional inclusive bounds that apply to every kind and never move an occurrence off its grid.
struct bounds {
    std::optional<time_point> start_at;
    std::optional<time_point> end_at;
};

/// A cron expression evaluated in `zone`'s wall-clock time, mapped to UTC under `dst`.
/// Several wall times inside one spring-forward gap shifted by `dst_gap::shift` land on the same
/// instant and fire once there; occurrences are whole seconds.
struct cron_cadence {
    cron_expr expr;
    const time_zone* zone = nullptr;
    dst_policy dst;
};

/// Every `every` from `anchor` (UTC arithmetic; the zone plays no part).
struct interval_cadence {
    time_point anchor;
    duration every;
};

/// A single occurrence at `at`.
struct once_cadence {
    time_point at;
};

/// A typed cadence with its bounds: the single input of every next-time computation.
struct cadence {
    std::variant<cron_cadence, interval_cadence, once_cadence> kind;
    bounds limits;
};

/// The first occurrence strictly after `after`, or nullopt when there is none (bounds exhausted,
/// a once already past). Every search is bounded, whatever the expression: a cron cadence is
/// searched 10 years past the first allowed instant and never beyond 9999-12-31T23:59:59Z; an
/// interval grid point past the representable range is none.
///
/// Example: `0 12 * * *` in America/New_York after 2040-07-01T00:00Z gives 2040-07-01T16:00Z;
/// an interval anchored at 10:00:00Z every 15 min with start_at 10:07Z, after 09:00Z, gives
/// 10:15Z (start_at bounds the grid, it never moves it).
[[nodiscard]] std::optional<time_point> next_after(const cadence& c, time_point after);

/// The occurrences of a cadence strictly after an instant, in order, computed one at a time as
/// the range is walked (a forward range of time_point; it ends when none remain, so take() an
/// amount from a cadence without end_at). Owns a shared copy of the cadence: iterators stay
/// valid after the view is gone.
class occurrence_view : public ranges::view_facade<occurrence_view, ranges::unknown> {
public:
    occurrence_view() = default;
    occurrence_view(cadence c, time_point after)
        : cadence_(std::make_shared<const cadence>(std::move(c))), after_(after) {}

private:
    friend ranges::range_access;

    /// Walks the occurrences: holds the current one, nullopt at the end.
    class cursor {
    public:
        cursor() = default;
        cursor(std::shared_ptr<const cadence> c, std::optional<time_point> current)
            : cadence_(std::move(c)), current_(current) {}

        [[nodiscard]] time_point read() const { return *current_; }
        void next() { current_ = next_after(*cadence_, *current_); }
        [[nodiscard]] bool equal(ranges::default_sentinel_t) const { return !current_; }
        [[nodiscard]] bool equal(const cursor& other) const { return current_ == other.current_; }

    private:
        std::shared_ptr<const cadence> cadence_;
        std::optional<time_point> current_;
    };

    [[nodiscard]] cursor begin_cursor() const {
        if (!cadence_) {
            return cursor{};
        }
        return cursor{cadence_, next_after(*cadence_, after_)};
    }

    std::shared_ptr<const cadence> cadence_;
    time_point after_{};
};

/// The lazy range of `c`'s occurrences strictly after `after`.
/// Example: `occurrences(c, t) | ranges::views::take(10) | ranges::to<std::vector>()` previews ten.
[[nodiscard]] inline occurrence_view occurrences(const cadence& c, time_point after) {
    return occurrence_view{c, after};
}

}  // namespace wakeplane
