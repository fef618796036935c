// The cron dialect (DECISIONS 1-2): parsing and local wall-clock matching.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <wakeplane/result.hpp>

namespace wakeplane {

/// A parsed cron expression: optional seconds field, minute, hour, day of month, month,
/// day of week; names, `?`, lists, ranges, steps, `7` as Sunday and the `@` macros.
/// Day of month and day of week combine with OR when both are restricted (Vixie/robfig rule);
/// a day field is unrestricted only when it is exactly `*` or `?` (`*/2` restricts).
/// It knows nothing of time zones: it matches local wall-clock times.
///
/// Example: `0 9 * * MON-FRI` matches 09:00:00 on weekdays; `0 0 1 * MON` matches midnight on
/// the 1st of every month and on every Monday. The dialect is described in docs/cron.md.
///
/// A default-constructed expression matches nothing; parse() is the only way to get one that does.
class cron_expr {
public:
    /// Parses `text`. A failure is errc::validation_failed whose message is one line naming the
    /// problem, e.g. `expected 5 or 6 fields, found 7`, `minute: 61 is above the maximum 59`,
    /// `can never fire: day-of-month 30 never occurs in February`; its details carry the same
    /// message for field `schedule.expr`. Expressions that can never match are rejected.
    [[nodiscard]] static result<cron_expr> parse(std::string_view text);

    /// The earliest local time >= `from` (whole seconds) that matches, searching at most until
    /// `limit` (inclusive); nullopt when none is found by then. Work is bounded by the number of
    /// distinct years, months, days, hours and minutes inspected, never by the number of seconds,
    /// and never exceeds a few thousand steps. Searches cover years 1 to 9999.
    [[nodiscard]] std::optional<std::chrono::local_seconds> next_match(std::chrono::local_seconds from,
                                                                       std::chrono::local_seconds limit) const;

    /// True when the local time `t` matches every field.
    [[nodiscard]] bool matches(std::chrono::local_seconds t) const;

    /// The expression as given (trimmed).
    [[nodiscard]] const std::string& text() const noexcept { return text_; }

private:
    /// The days (bit 1..31) of month `month` in year `year` that match both day fields.
    [[nodiscard]] std::uint32_t day_mask(int year, unsigned month) const;

    std::string text_;
    std::uint64_t seconds_ = 0;        // bit n: second n
    std::uint64_t minutes_ = 0;        // bit n: minute n
    std::uint32_t hours_ = 0;          // bit n: hour n
    std::uint32_t days_of_month_ = 0;  // bit 1..31
    std::uint32_t months_ = 0;         // bit 1..12
    /// Indexed by the weekday of the month's 1st (0 = Sunday): the days (bit 1..31) whose
    /// weekday is listed, so that matching a month's days is one table lookup.
    std::array<std::uint32_t, 7> days_by_week_{};
    bool dom_restricted_ = false;
    bool dow_restricted_ = false;
};

}  // namespace wakeplane
