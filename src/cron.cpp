// The cron dialect: parsing into bit masks, and next-match search by next-set-bit.
#include <wakeplane/cron.hpp>

#include <algorithm>
#include <bit>
#include <cctype>
#include <span>
#include <utility>
#include <vector>

namespace wakeplane {

namespace {

using namespace std::chrono;

/// Names as the text spells them (upper case; matched case-insensitively) and as messages do.
constexpr std::array<std::string_view, 12> month_abbreviations{"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                               "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 12> month_names{"January", "February", "March",     "April",   "May",      "June",
                                                       "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<std::string_view, 7> day_abbreviations{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

/// One field of the expression: its name in messages, the values its text may use, the values
/// `*` covers, and its names (names[i] stands for first_name_value + i).
struct field_spec {
    std::string_view name;
    int min;
    int max;       ///< largest value accepted in the text (7 for day-of-week: Sunday again)
    int star_max;  ///< largest value `*` and `a/n` reach (6 for day-of-week)
    std::span<const std::string_view> names;
    int first_name_value;
    std::string_view kind_of_name;  ///< for messages: `month`, `day`
    bool seven_is_sunday = false;   ///< day-of-week: 7 and a `SUN` range end mean Sunday (bit 0)
};

constexpr field_spec second_field{"second", 0, 59, 59, {}, 0, {}};
constexpr field_spec minute_field{"minute", 0, 59, 59, {}, 0, {}};
constexpr field_spec hour_field{"hour", 0, 23, 23, {}, 0, {}};
constexpr field_spec dom_field{"day-of-month", 1, 31, 31, {}, 0, {}};
constexpr field_spec month_field{"month", 1, 12, 12, month_abbreviations, 1, "month"};
constexpr field_spec dow_field{"day-of-week", 0, 7, 6, day_abbreviations, 0, "day", true};

/// A field-level outcome: the mask, or the one-line message explaining the rejection.
using field_result = tl::expected<std::uint64_t, std::string>;

/// The error every parse failure becomes: the message, and the same message on `schedule.expr`.
tl::unexpected<error> expr_error(std::string message) {
    std::vector<field_error> details{{"schedule.expr", message}};
    return tl::unexpected<error>(error{errc::validation_failed, std::move(message), std::move(details)});
}

/// `s` in double quotes. Appended piece by piece: GCC 12 at -O3 warns falsely (-Wrestrict) on
/// `"\"" + std::string{s} + "\""`.
std::string quoted(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    out += s;
    out += '"';
    return out;
}

/// The whitespace that separates fields.
bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/// `s` without leading and trailing whitespace.
std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

/// ASCII upper case, for case-insensitive names and macros.
std::string upper(std::string_view s) {
    std::string out{s};
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

/// True when `s` starts with the upper-case `prefix`, in any case.
bool starts_with_ci(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && upper(s.substr(0, prefix.size())) == prefix;
}

/// The whitespace-separated words of `s` (runs of whitespace count once).
std::vector<std::string_view> split_words(std::string_view s) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_space(s[i])) {
            ++i;
        }
        const auto start = i;
        while (i < s.size() && !is_space(s[i])) {
            ++i;
        }
        if (i > start) {
            words.push_back(s.substr(start, i - start));
        }
    }
    return words;
}

/// The pieces of `s` between `sep`s, empty ones included (`1,,2` has three).
std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        const auto at = s.find(sep, start);
        if (at == std::string_view::npos) {
            parts.push_back(s.substr(start));
            return parts;
        }
        parts.push_back(s.substr(start, at - start));
        start = at + 1;
    }
}

/// True for the Quartz/Jenkins extensions this dialect leaves out: `L`, `W`, `LW`, `5L`, `15W`,
/// `L-3`, `5#3`, `H`, `H(0-29)`. Checked before numbers so that the message says what is missing.
bool is_unsupported_extension(std::string_view part) {
    if (part.find('#') != std::string_view::npos) {
        return true;
    }
    const std::string u = upper(part);
    if (!u.empty() && u.front() == 'H') {
        return true;  // no month or day name starts with H
    }
    const auto digits_end = u.find_first_not_of("0123456789");
    if (digits_end == std::string::npos) {
        return false;
    }
    const std::string_view rest = std::string_view{u}.substr(digits_end);
    return rest.front() == 'L' || rest == "W" || rest == "LW";  // no name starts with L; WED is not "W"
}

/// A decimal number, saturated far above every field maximum so that long digit runs cannot overflow.
std::optional<int> parse_number(std::string_view s) {
    constexpr int saturation = 100'000'000;
    if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
    }
    int v = 0;
    for (const char c : s) {
        v = std::min(v * 10 + (c - '0'), saturation);
    }
    return v;
}

/// One value of a field: a number within [min, max] or a name.
tl::expected<int, std::string> parse_value(std::string_view token, const field_spec& f) {
    const std::string prefix = std::string{f.name} + ": ";
    if (const auto n = parse_number(token)) {
        if (*n < f.min) {
            return tl::unexpected(prefix + std::string{token} + " is below the minimum " + std::to_string(f.min));
        }
        if (*n > f.max) {
            return tl::unexpected(prefix + std::string{token} + " is above the maximum " + std::to_string(f.max));
        }
        return *n;
    }
    const std::string u = upper(token);
    for (std::size_t i = 0; i < f.names.size(); ++i) {
        if (u == f.names[i]) {
            return f.first_name_value + static_cast<int>(i);
        }
    }
    if (f.names.empty()) {
        return tl::unexpected(prefix + quoted(token) + " is not a number");
    }
    return tl::unexpected(prefix + quoted(token) + " is not a " + std::string{f.kind_of_name} + " number or name");
}

/// One comma-separated part: `*`, `?`, `a`, `a-b`, each optionally with `/step`.
field_result parse_part(std::string_view part, const field_spec& f) {
    const std::string prefix = std::string{f.name} + ": ";
    if (is_unsupported_extension(part)) {
        return tl::unexpected(prefix + quoted(part) + " is not supported (this dialect has no L, W, # or H)");
    }
    const auto slash = split(part, '/');
    if (slash.size() > 2) {
        return tl::unexpected(prefix + quoted(part) + " is not a valid step");
    }
    const std::string_view base = slash[0];
    int step = 1;
    if (slash.size() == 2) {
        const auto n = parse_number(slash[1]);
        if (!n) {
            return tl::unexpected(prefix + quoted(part) + " is not a valid step");
        }
        if (*n < 1) {
            return tl::unexpected(prefix + "step in " + quoted(part) + " must be at least 1");
        }
        step = *n;
    }
    int lo = f.min;
    int hi = f.star_max;
    if (base != "*" && base != "?") {
        const auto dash = split(base, '-');
        if (dash.size() > 2 || dash[0].empty() || (dash.size() == 2 && dash[1].empty())) {
            return tl::unexpected(prefix + quoted(part) + " is not a valid range");
        }
        const auto first = parse_value(dash[0], f);
        if (!first) {
            return tl::unexpected(first.error());
        }
        lo = *first;
        if (dash.size() == 2) {
            const auto last = parse_value(dash[1], f);
            if (!last) {
                return tl::unexpected(last.error());
            }
            hi = *last;
            // `FRI-SUN` ends on Sunday: read the name SUN as a range end as 7, like `5-7`.
            if (f.seven_is_sunday && lo > 0 && upper(dash[1]) == "SUN") {
                hi = 7;
            }
            if (lo > hi) {
                return tl::unexpected(prefix + "range " + quoted(base) + " starts after it ends");
            }
        } else if (slash.size() == 1) {
            hi = lo;  // a single value; `a/n` runs from a to the field's maximum
        }
    }
    std::uint64_t mask = 0;
    for (int v = lo; v <= hi; v += step) {
        const int bit = (f.seven_is_sunday && v == 7) ? 0 : v;  // 7 is Sunday again
        mask |= std::uint64_t{1} << bit;
    }
    return mask;
}

/// A whole field: comma-separated parts, OR-ed together.
field_result parse_field(std::string_view text, const field_spec& f) {
    std::uint64_t mask = 0;
    for (const auto part : split(text, ',')) {
        if (part.empty()) {
            return tl::unexpected(std::string{f.name} + ": " + quoted(text) + " has an empty list element");
        }
        const auto m = parse_part(part, f);
        if (!m) {
            return m;
        }
        mask |= *m;
    }
    return mask;
}

/// `a`, `a or b`, `a, b or c`.
std::string join_or(const std::vector<std::string>& items) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) {
            out += i + 1 == items.size() ? " or " : ", ";
        }
        out += items[i];
    }
    return out;
}

/// Gregorian leap year.
constexpr bool is_leap(int y) noexcept {
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

/// Days in month `m` (1..12) of year `y`.
constexpr unsigned days_in_month(int y, unsigned m) noexcept {
    constexpr std::array<unsigned char, 13> lengths{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29U : lengths[m];
}

/// The lowest set bit of `mask` at or above `from`, or -1.
int next_bit(std::uint64_t mask, unsigned from) noexcept {
    if (from >= 64) {
        return -1;
    }
    const std::uint64_t rest = mask >> from;
    return rest == 0 ? -1 : static_cast<int>(from) + std::countr_zero(rest);
}

/// The expansions of the `@` macros.
std::optional<std::string_view> expand_macro(std::string_view name) {
    const std::string u = upper(name);
    if (u == "@YEARLY" || u == "@ANNUALLY") {
        return "0 0 1 1 *";
    }
    if (u == "@MONTHLY") {
        return "0 0 1 * *";
    }
    if (u == "@WEEKLY") {
        return "0 0 * * 0";
    }
    if (u == "@DAILY" || u == "@MIDNIGHT") {
        return "0 0 * * *";
    }
    if (u == "@HOURLY") {
        return "0 * * * *";
    }
    return std::nullopt;
}

/// Searches cover these local times: the years RFC 3339 can spell, within std::chrono::year.
constexpr local_seconds earliest_local{local_days{year{1} / January / 1}};
constexpr local_seconds latest_local{local_days{year{9999} / December / 31} + hours{23} + minutes{59} + seconds{59}};

/// More than any valid expression needs (each step moves to the next month, day, hour or
/// minute, and every valid expression matches within 8 years); a guard, never the answer.
constexpr int max_search_steps = 4096;

}  // namespace

result<cron_expr> cron_expr::parse(std::string_view text) {
    const std::string_view trimmed = trim(text);
    for (const std::string_view prefix : {"CRON_TZ=", "TZ="}) {
        if (starts_with_ci(trimmed, prefix)) {
            return expr_error("a " + std::string{prefix} + " prefix is not supported: set the schedule's timezone field instead");
        }
    }
    std::string_view body = trimmed;
    if (!body.empty() && body.front() == '@') {
        const auto words = split_words(body);
        if (upper(words[0]) == "@EVERY") {
            return expr_error("@every is not supported: use an interval schedule");
        }
        const auto expansion = expand_macro(words[0]);
        if (!expansion) {
            return expr_error("unknown macro " + quoted(words[0]) +
                              " (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)");
        }
        if (words.size() > 1) {
            return expr_error("expected nothing after " + std::string{words[0]});
        }
        body = *expansion;
    }

    const auto words = split_words(body);
    if (words.size() != 5 && words.size() != 6) {
        return expr_error("expected 5 or 6 fields, found " + std::to_string(words.size()));
    }
    const std::size_t first = words.size() == 6 ? 1 : 0;  // the optional seconds field leads
    const std::array<const field_spec*, 5> specs{&minute_field, &hour_field, &dom_field, &month_field, &dow_field};
    std::array<std::uint64_t, 5> masks{};
    for (std::size_t i = 0; i < specs.size(); ++i) {
        const auto mask = parse_field(words[first + i], *specs[i]);
        if (!mask) {
            return expr_error(mask.error());
        }
        masks[i] = *mask;
    }
    std::uint64_t seconds_mask = 1;  // five fields: at second 0
    if (first == 1) {
        const auto mask = parse_field(words[0], second_field);
        if (!mask) {
            return expr_error(mask.error());
        }
        seconds_mask = *mask;
    }

    cron_expr e;
    e.text_ = std::string{trimmed};
    e.seconds_ = seconds_mask;
    e.minutes_ = masks[0];
    e.hours_ = static_cast<std::uint32_t>(masks[1]);
    e.days_of_month_ = static_cast<std::uint32_t>(masks[2]);
    e.months_ = static_cast<std::uint32_t>(masks[3]);
    const auto days_of_week = static_cast<unsigned>(masks[4]);
    const auto unrestricted = [](std::string_view w) { return w == "*" || w == "?"; };
    e.dom_restricted_ = !unrestricted(words[first + 2]);
    e.dow_restricted_ = !unrestricted(words[first + 4]);
    for (unsigned first_weekday = 0; first_weekday < 7; ++first_weekday) {
        std::uint32_t days = 0;
        for (unsigned d = 1; d <= 31; ++d) {
            if ((days_of_week >> ((first_weekday + d - 1) % 7)) & 1U) {
                days |= 1U << d;
            }
        }
        e.days_by_week_[first_weekday] = days;
    }

    // Only day-of-month alone can rule out every day: a restricted day-of-week matches some day
    // of every month, and under the OR rule that is enough.
    if (e.dom_restricted_ && !e.dow_restricted_) {
        bool possible = false;
        for (unsigned m = 1; m <= 12; ++m) {
            if ((e.months_ >> m) & 1U) {
                const std::uint32_t in_month = ((1U << days_in_month(2000, m)) - 1) << 1;  // 2000: Feb 29 exists
                possible = possible || (e.days_of_month_ & in_month) != 0;
            }
        }
        if (!possible) {
            std::vector<std::string> days;
            std::vector<std::string> months;
            for (unsigned d = 1; d <= 31; ++d) {
                if ((e.days_of_month_ >> d) & 1U) {
                    days.push_back(std::to_string(d));
                }
            }
            for (unsigned m = 1; m <= 12; ++m) {
                if ((e.months_ >> m) & 1U) {
                    months.emplace_back(month_names[m - 1]);
                }
            }
            return expr_error("can never fire: day-of-month " + join_or(days) + " never occurs in " + join_or(months));
        }
    }
    return e;
}

std::uint32_t cron_expr::day_mask(int y, unsigned m) const {
    const std::uint32_t in_month = ((1U << days_in_month(y, m)) - 1) << 1;
    if (!dow_restricted_) {
        return (dom_restricted_ ? days_of_month_ : ~0U) & in_month;
    }
    const unsigned first_weekday = weekday{local_days{year{y} / month{m} / 1}}.c_encoding();
    const std::uint32_t by_week = days_by_week_[first_weekday];
    return (dom_restricted_ ? (days_of_month_ | by_week) : by_week) & in_month;
}

bool cron_expr::matches(local_seconds t) const {
    if (t < earliest_local || t > latest_local) {
        return false;
    }
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss<seconds> tod{t - day};
    const int y = static_cast<int>(ymd.year());
    const auto m = static_cast<unsigned>(ymd.month());
    const auto d = static_cast<unsigned>(ymd.day());
    return ((months_ >> m) & 1U) && ((day_mask(y, m) >> d) & 1U) && ((hours_ >> tod.hours().count()) & 1U) &&
           ((minutes_ >> tod.minutes().count()) & 1U) && ((seconds_ >> tod.seconds().count()) & 1U);
}

std::optional<local_seconds> cron_expr::next_match(local_seconds from, local_seconds limit) const {
    from = std::max(from, earliest_local);
    limit = std::min(limit, latest_local);
    if (months_ == 0 || from > limit) {
        return std::nullopt;
    }
    const local_days limit_day = floor<days>(limit);
    const local_days from_day = floor<days>(from);
    const year_month_day ymd{from_day};
    const auto tod = (from - from_day).count();

    // The candidate, field by field. Whenever a field moves forward, the fields after it restart
    // at their first value; each pass of the loop settles one field or moves one forward.
    int y = static_cast<int>(ymd.year());
    auto mo = static_cast<unsigned>(ymd.month());
    auto d = static_cast<unsigned>(ymd.day());
    auto h = static_cast<unsigned>(tod / 3600);
    auto mi = static_cast<unsigned>(tod / 60 % 60);
    auto s = static_cast<unsigned>(tod % 60);

    const auto next_month = [&] {
        d = 1;
        h = mi = s = 0;
        if (++mo > 12) {
            mo = 1;
            ++y;
        }
    };
    const auto next_day = [&] {
        h = mi = s = 0;
        if (++d > days_in_month(y, mo)) {
            d = 1;
            if (++mo > 12) {
                mo = 1;
                ++y;
            }
        }
    };

    for (int step = 0; step < max_search_steps; ++step) {
        if (local_days{year{y} / month{mo} / day{d}} > limit_day) {
            return std::nullopt;
        }
        const int match_mo = next_bit(months_, mo);
        if (match_mo < 0) {
            ++y;
            mo = 1;
            d = 1;
            h = mi = s = 0;
            continue;
        }
        if (static_cast<unsigned>(match_mo) != mo) {
            mo = static_cast<unsigned>(match_mo);
            d = 1;
            h = mi = s = 0;
            continue;
        }
        const int match_d = next_bit(day_mask(y, mo), d);
        if (match_d < 0) {
            next_month();
            continue;
        }
        if (static_cast<unsigned>(match_d) != d) {
            d = static_cast<unsigned>(match_d);
            h = mi = s = 0;
            continue;
        }
        const int match_h = next_bit(hours_, h);
        if (match_h < 0) {
            next_day();
            continue;
        }
        if (static_cast<unsigned>(match_h) != h) {
            h = static_cast<unsigned>(match_h);
            mi = s = 0;
        }
        const int match_mi = next_bit(minutes_, mi);
        if (match_mi < 0) {
            mi = s = 0;
            if (++h == 24) {
                next_day();
            }
            continue;
        }
        if (static_cast<unsigned>(match_mi) != mi) {
            mi = static_cast<unsigned>(match_mi);
            s = 0;
        }
        const int match_s = next_bit(seconds_, s);
        if (match_s < 0) {
            s = 0;
            if (++mi == 60) {
                mi = 0;
                if (++h == 24) {
                    next_day();
                }
            }
            continue;
        }
        const local_seconds found = local_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{match_s};
        if (found > limit) {
            return std::nullopt;
        }
        return found;
    }
    return std::nullopt;
}

}  // namespace wakeplane
