// Time zones: the OS tz database through date/tz, plus the TZif footer rule beyond the last transition.
#include <wakeplane/tz.hpp>

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace wakeplane {

namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

/// The directory Debian's libdate-tz (built with USE_OS_TZDB) reads zones from; we read the
/// same files for the footer it ignores.
constexpr std::string_view zoneinfo_dir = "/usr/share/zoneinfo/";

/// Transitions are precomputed into the sorted table up to the end of this year (a few hundred
/// entries per zone); later instants evaluate the footer rule on the fly.
constexpr int precomputed_until_year = 2200;

/// The footer rule is evaluated for years up to this one; std::chrono::year stops at 32767 and
/// nothing schedules that far. Later instants keep the offset the rule gives at the end of it.
constexpr int last_rule_year = 9999;

/// Farther than any UTC offset in the database (the extremes, local mean times, are within ±16h): a wall time's
/// instants all lie within this distance of the wall time read as if it were UTC.
constexpr std::int64_t offset_reach = 26 * 3600;

/// One offset change: from `at` (seconds since the epoch, UTC) on, `offset` (seconds) applies.
struct transition {
    std::int64_t at = 0;
    std::int32_t offset = 0;
};

/// Makes a list of changes in time order minimal, in place: of two changes at one instant the
/// later one wins, and a change to the offset already in effect is dropped, so that every entry
/// left changes the offset. Returns how many entries are left at the front.
std::size_t collapse(std::span<transition> changes, std::int32_t initial) {
    std::size_t kept = 0;
    for (const transition t : changes) {
        if (kept > 0 && changes[kept - 1].at == t.at) {
            --kept;
        }
        const std::int32_t current = kept == 0 ? initial : changes[kept - 1].offset;
        if (t.offset != current) {
            changes[kept++] = t;
        }
    }
    return kept;
}

/// The calendar year (UTC) of an instant, clamped to the years the footer rule is evaluated for.
int year_of(std::int64_t t) {
    using namespace std::chrono;
    constexpr std::int64_t first = sys_seconds{sys_days{year{1} / January / 1}}.time_since_epoch().count();
    constexpr std::int64_t last = sys_seconds{sys_days{year{last_rule_year} / December / 31}}.time_since_epoch().count();
    const std::int64_t clamped = std::clamp(t, first, last);
    const year_month_day ymd{floor<days>(sys_seconds{seconds{clamped}})};
    return static_cast<int>(ymd.year());
}

/// A day of the year named by a POSIX TZ rule (`Jn`, `n` or `Mm.w.d`) and the wall-clock time of
/// the change on it, which RFC 8536 lets run from -167h to +167h (`M3.5.0/-1` in America/Nuuk,
/// `M3.4.4/50` in Asia/Gaza).
struct rule_day {
    enum class form { julian, zero_based, month_week_day };
    form kind = form::month_week_day;
    int number = 0;       ///< Jn: 1..365, never counting Feb 29; n: 0..365, counting it
    unsigned month_number = 1;
    unsigned week = 1;    ///< 1..4, or 5 for the last one of the month
    unsigned day_of_week = 0;  ///< 0 = Sunday
    seconds time = hours{2};

    /// The wall-clock instant of this change in year `y`.
    [[nodiscard]] local_seconds in_year(int y) const {
        using namespace std::chrono;
        const year yr{y};
        local_days day{};
        switch (kind) {
        case form::julian: {
            // Jn never counts Feb 29, so from March on a leap year's date is one day later.
            const bool after_leap_day = yr.is_leap() && number >= 60;
            day = local_days{yr / January / 1} + days{number - 1 + (after_leap_day ? 1 : 0)};
            break;
        }
        case form::zero_based: {
            day = local_days{yr / January / 1} + days{number};
            break;
        }
        case form::month_week_day: {
            const weekday wd{day_of_week};
            const month mo{month_number};
            day = week == 5 ? local_days{yr / mo / wd[last]} : local_days{yr / mo / wd[week]};
            break;
        }
        }
        return local_seconds{day} + time;
    }
};

/// A TZif footer: the standard offset and, when the zone observes daylight saving, its rule.
/// Offsets count east of UTC (the TZ string itself counts west).
struct posix_tz {
    seconds std_offset{0};
    bool has_dst = false;
    seconds dst_offset{0};
    rule_day start;  ///< change to dst_offset, on local standard time
    rule_day end;    ///< change back to std_offset, on local daylight time
};

/// Reads a TZ string left to right; every read returns nullopt on malformed input.
class posix_reader {
public:
    explicit posix_reader(std::string_view text) : text_(text) {}

    [[nodiscard]] bool at_end() const noexcept { return pos_ == text_.size(); }

    /// Consumes `c` when it is next.
    bool take(char c) {
        if (!at_end() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    /// True when a digit or a sign comes next (an offset, not a rule).
    [[nodiscard]] bool at_number() const noexcept {
        return !at_end() && (is_digit(text_[pos_]) || text_[pos_] == '+' || text_[pos_] == '-');
    }

    /// A zone abbreviation: three or more letters, or anything in angle brackets (`<+0545>`).
    bool name() {
        if (take('<')) {
            const auto close = text_.find('>', pos_);
            if (close == std::string_view::npos || close == pos_) {
                return false;
            }
            pos_ = close + 1;
            return true;
        }
        const auto start = pos_;
        while (!at_end() && is_alpha(text_[pos_])) {
            ++pos_;
        }
        return pos_ - start >= 3;
    }

    /// `[+-]hh[:mm[:ss]]` with up to three hour digits (RFC 8536 allows 167 hours).
    std::optional<seconds> time() {
        bool negative = false;
        if (take('-')) {
            negative = true;
        } else {
            take('+');
        }
        const auto h = number(3);
        if (!h || *h > 167) {
            return std::nullopt;
        }
        seconds total = hours{*h};
        if (take(':')) {
            const auto m = number(2);
            if (!m || *m > 59) {
                return std::nullopt;
            }
            total += minutes{*m};
            if (take(':')) {
                const auto s = number(2);
                if (!s || *s > 59) {
                    return std::nullopt;
                }
                total += seconds{*s};
            }
        }
        return negative ? -total : total;
    }

    /// `Jn`, `n` or `Mm.w.d`, optionally followed by `/time`.
    std::optional<rule_day> day() {
        rule_day r;
        if (take('J')) {
            const auto n = number(3);
            if (!n || *n < 1 || *n > 365) {
                return std::nullopt;
            }
            r.kind = rule_day::form::julian;
            r.number = *n;
        } else if (take('M')) {
            const auto m = number(2);
            const bool dot1 = take('.');
            const auto w = number(1);
            const bool dot2 = take('.');
            const auto d = number(1);
            if (!m || !w || !d || !dot1 || !dot2 || *m < 1 || *m > 12 || *w < 1 || *w > 5 || *d > 6) {
                return std::nullopt;
            }
            r.kind = rule_day::form::month_week_day;
            r.month_number = static_cast<unsigned>(*m);
            r.week = static_cast<unsigned>(*w);
            r.day_of_week = static_cast<unsigned>(*d);
        } else {
            const auto n = number(3);
            if (!n || *n > 365) {
                return std::nullopt;
            }
            r.kind = rule_day::form::zero_based;
            r.number = *n;
        }
        if (take('/')) {
            const auto t = time();
            if (!t) {
                return std::nullopt;
            }
            r.time = *t;
        }
        return r;
    }

private:
    static bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
    static bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

    /// One to `max_digits` decimal digits.
    std::optional<int> number(int max_digits) {
        int value = 0;
        int digits = 0;
        while (digits < max_digits && !at_end() && is_digit(text_[pos_])) {
            value = value * 10 + (text_[pos_] - '0');
            ++pos_;
            ++digits;
        }
        if (digits == 0) {
            return std::nullopt;
        }
        return value;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

/// Parses a TZ string as TZif footers spell it (RFC 8536 §3.3). nullopt when it is malformed or
/// names daylight time without a rule, which tzdata never writes and POSIX leaves undefined.
/// Our own reader because date's <date/ptz.h> (3.0.1) does not compile as C++20 with g++ 12 and
/// rejects negative rule times (America/Nuuk) and rule times of 100 hours or more.
std::optional<posix_tz> parse_posix_tz(std::string_view text) {
    posix_reader in{text};
    posix_tz tz;
    if (!in.name()) {
        return std::nullopt;
    }
    const auto std_west = in.time();
    if (!std_west) {
        return std::nullopt;
    }
    tz.std_offset = -*std_west;
    if (in.at_end()) {
        return tz;
    }
    if (!in.name()) {
        return std::nullopt;
    }
    tz.has_dst = true;
    tz.dst_offset = tz.std_offset + hours{1};
    if (in.at_number()) {
        const auto dst_west = in.time();
        if (!dst_west) {
            return std::nullopt;
        }
        tz.dst_offset = -*dst_west;
    }
    if (!in.take(',')) {
        return std::nullopt;
    }
    const auto start = in.day();
    if (!start || !in.take(',')) {
        return std::nullopt;
    }
    const auto end = in.day();
    if (!end || !in.at_end()) {
        return std::nullopt;
    }
    tz.start = *start;
    tz.end = *end;
    return tz;
}

/// The two changes a daylight-saving rule makes in year `y`, earlier first.
std::array<transition, 2> rule_transitions(const posix_tz& tz, int y) {
    const auto to_dst = (tz.start.in_year(y) - tz.std_offset).time_since_epoch().count();
    const auto to_std = (tz.end.in_year(y) - tz.dst_offset).time_since_epoch().count();
    const transition start{to_dst, static_cast<std::int32_t>(tz.dst_offset.count())};
    const transition end{to_std, static_cast<std::int32_t>(tz.std_offset.count())};
    if (end.at < start.at) {
        return {end, start};  // southern hemisphere, or negative DST (Europe/Dublin)
    }
    return {start, end};
}

/// Every change a daylight-saving rule makes in years [first_year, last_year], in order.
std::vector<transition> rule_transitions(const posix_tz& tz, int first_year, int last_year) {
    std::vector<transition> all;
    if (last_year < first_year) {
        return all;
    }
    all.reserve(static_cast<std::size_t>(2 * (last_year - first_year + 1)));
    for (int y = first_year; y <= last_year; ++y) {
        const auto pair = rule_transitions(tz, y);
        all.insert(all.end(), pair.begin(), pair.end());
    }
    // Rule times may cross a year boundary (`J365/25`); a stable sort keeps a later year's change
    // after an earlier year's change at the same instant, so the later one wins.
    std::stable_sort(all.begin(), all.end(), [](const transition& a, const transition& b) { return a.at < b.at; });
    return all;
}

/// What the TZif file adds to date/tz: its last transition and its footer TZ string.
struct tzif_tail {
    std::optional<std::int64_t> last_transition;  ///< nullopt: the file lists no transition
    std::string footer;
};

/// Reads a big-endian integer of N bytes at `pos`.
template <class T, std::size_t N>
T read_big_endian(std::string_view data, std::size_t pos) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < N; ++i) {
        v = (v << 8) | static_cast<unsigned char>(data[pos + i]);
    }
    return static_cast<T>(v);
}

/// Finds the last transition and the footer of a version 2+ TZif file (RFC 8536): past the
/// 32-bit block, a second header, the 64-bit block, then "\n<TZ string>\n". nullopt for a
/// version 1 file or a truncated one.
std::optional<tzif_tail> parse_tzif_tail(std::string_view data) {
    constexpr std::size_t header_size = 44;
    struct counts {
        std::uint64_t isut, isstd, leap, time, type, chars;
    };
    const auto read_header = [&](std::size_t pos) -> std::optional<counts> {
        if (data.size() < pos + header_size || data.substr(pos, 4) != "TZif") {
            return std::nullopt;
        }
        const auto at = [&](std::size_t i) { return read_big_endian<std::uint32_t, 4>(data, pos + 20 + 4 * i); };
        return counts{at(0), at(1), at(2), at(3), at(4), at(5)};
    };
    const auto v1 = read_header(0);
    if (!v1 || data[4] < '2') {
        return std::nullopt;
    }
    const std::uint64_t v1_block = v1->time * 5 + v1->type * 6 + v1->chars + v1->leap * 8 + v1->isstd + v1->isut;
    const std::size_t v2_pos = header_size + v1_block;
    const auto v2 = read_header(v2_pos);
    if (!v2) {
        return std::nullopt;
    }
    const std::size_t times_pos = v2_pos + header_size;
    const std::uint64_t v2_block = v2->time * 9 + v2->type * 6 + v2->chars + v2->leap * 12 + v2->isstd + v2->isut;
    const std::size_t footer_pos = times_pos + v2_block;
    if (data.size() < footer_pos + 2 || data[footer_pos] != '\n') {
        return std::nullopt;
    }
    const auto footer_end = data.find('\n', footer_pos + 1);
    if (footer_end == std::string_view::npos) {
        return std::nullopt;
    }
    tzif_tail tail;
    if (v2->time > 0) {
        tail.last_transition = read_big_endian<std::int64_t, 8>(data, times_pos + 8 * (v2->time - 1));
    }
    tail.footer = std::string{data.substr(footer_pos + 1, footer_end - footer_pos - 1)};
    return tail;
}

/// The whole content of a zone file (a few kilobytes); nullopt when it cannot be read.
std::optional<std::string> read_zone_file(std::string_view name) {
    std::ifstream in{std::string{zoneinfo_dir} + std::string{name}, std::ios::binary};
    if (!in) {
        return std::nullopt;
    }
    return std::string{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

}  // namespace

/// A zone's whole offset history as a sorted table, plus the footer rule for the far future.
class time_zone::impl {
public:
    impl(std::string name, std::int32_t initial, const std::vector<transition>& timeline,
         std::optional<posix_tz> rule, transition rule_from)
        : name_(std::move(name)), initial_(initial), rule_(std::move(rule)), rule_from_(rule_from) {
        at_.reserve(timeline.size());
        offset_.reserve(timeline.size());
        for (const auto& t : timeline) {
            at_.push_back(t.at);
            offset_.push_back(t.offset);
        }
    }

    [[nodiscard]] std::string_view name() const noexcept { return name_; }

    [[nodiscard]] std::int32_t offset_at(std::int64_t t) const {
        if (rule_ && t >= rule_from_.at) {
            return static_cast<std::int32_t>(rule_period(t).offset.count());
        }
        const auto k = std::upper_bound(at_.begin(), at_.end(), t) - at_.begin();
        return k == 0 ? initial_ : offset_[static_cast<std::size_t>(k - 1)];
    }

    [[nodiscard]] zone_period period_at(std::int64_t t) const {
        if (rule_ && t >= rule_from_.at) {
            return rule_period(t);
        }
        // Separate arrays keep the binary search on densely packed instants.
        const auto next = static_cast<std::size_t>(std::upper_bound(at_.begin(), at_.end(), t) - at_.begin());
        zone_period p;
        if (next == 0) {
            p.offset = seconds{initial_};
            p.offset_before = p.offset;
        } else {
            p.begin = sys_seconds{seconds{at_[next - 1]}};
            p.offset = seconds{offset_[next - 1]};
            p.offset_before = seconds{next >= 2 ? offset_[next - 2] : initial_};
        }
        if (next < at_.size()) {
            p.end = sys_seconds{seconds{at_[next]}};
            p.offset_after = seconds{offset_[next]};
        } else if (rule_) {
            p.end = sys_seconds{seconds{rule_from_.at}};
            p.offset_after = seconds{rule_from_.offset};
        } else {
            p.offset_after = p.offset;
        }
        return p;
    }

private:
    /// The period around `t` from the footer rule alone, for instants past the table. Works on
    /// the stack: the far future should not pay for an allocation per lookup.
    [[nodiscard]] zone_period rule_period(std::int64_t t) const {
        // A rule time moves a change by at most 167 hours, so the changes of the years either
        // side always include the one before `t`, the one before that and the one after; the
        // year before those tells the offset in effect before the first change listed.
        constexpr int reach = 1;
        const int y = year_of(t);
        const std::int32_t initial = rule_transitions(*rule_, y - reach - 1)[1].offset;
        std::array<transition, 2 * (2 * reach + 1)> changes{};
        for (int i = 0; i <= 2 * reach; ++i) {
            const auto pair = rule_transitions(*rule_, y - reach + i);
            changes[2 * i] = pair[0];
            changes[2 * i + 1] = pair[1];
        }
        std::stable_sort(changes.begin(), changes.end(), [](const transition& a, const transition& b) { return a.at < b.at; });
        const std::span<const transition> timeline{changes.data(), collapse(changes, initial)};
        const auto next = static_cast<std::size_t>(
            std::upper_bound(timeline.begin(), timeline.end(), t, [](std::int64_t v, const transition& tr) { return v < tr.at; }) -
            timeline.begin());
        zone_period p;
        if (next == 0) {
            p.begin = sys_seconds{seconds{rule_from_.at}};
            p.offset = seconds{initial};
            p.offset_before = p.offset;
        } else {
            p.begin = sys_seconds{seconds{timeline[next - 1].at}};
            p.offset = seconds{timeline[next - 1].offset};
            p.offset_before = seconds{next >= 2 ? timeline[next - 2].offset : initial};
        }
        if (next < timeline.size()) {
            p.end = sys_seconds{seconds{timeline[next].at}};
            p.offset_after = seconds{timeline[next].offset};
        } else {
            p.offset_after = p.offset;  // past the last year the rule is evaluated for
        }
        return p;
    }

    std::string name_;
    std::int32_t initial_;             ///< offset before the first transition (local mean time)
    std::vector<std::int64_t> at_;     ///< transition instants, ascending
    std::vector<std::int32_t> offset_; ///< offset from at_[i] on
    std::optional<posix_tz> rule_;     ///< daylight-saving rule for instants from rule_from_ on
    transition rule_from_{std::numeric_limits<std::int64_t>::max(), 0};  ///< first change past the table
};

namespace {

/// Builds a zone: date/tz's transitions up to the zone file's last one, then the file's footer.
/// nullopt when date/tz does not know the name.
std::unique_ptr<time_zone::impl> load_zone(std::string_view name) {
    const date::time_zone* zone = nullptr;
    try {
        zone = date::locate_zone(name);
    } catch (const std::exception&) {
        return nullptr;
    }

    // date/tz's history: the first period's offset, then every change. Past the file's last
    // transition it knows only the last offset (no daylight saving after 2037 in fat files).
    const auto earliest = date::sys_seconds{date::sys_days{date::year::min() / date::January / 1}};
    auto info = zone->get_info(earliest);
    const auto initial = static_cast<std::int32_t>(info.offset.count());
    std::vector<transition> timeline;
    for (int guard = 0; guard < 100000; ++guard) {
        const auto next = zone->get_info(info.end);
        if (next.begin <= info.begin) {
            break;  // the last period: its end is date/tz's "forever"
        }
        timeline.push_back({next.begin.time_since_epoch().count(), static_cast<std::int32_t>(next.offset.count())});
        info = next;
    }

    timeline.resize(collapse(timeline, initial));

    const auto file = read_zone_file(name);
    const auto tail = file ? parse_tzif_tail(*file) : std::nullopt;
    auto rule = tail ? parse_posix_tz(tail->footer) : std::nullopt;
    if (!rule || !rule->has_dst) {
        // A fixed footer offset is the last table offset already: the table is complete.
        return std::make_unique<time_zone::impl>(std::string{name}, initial, timeline, std::nullopt, transition{std::numeric_limits<std::int64_t>::max(), 0});
    }

    // The footer governs strictly after the file's last transition; a file without transitions
    // follows its footer throughout (from 1800, well before daylight saving existed).
    const std::int64_t cut = tail->last_transition.value_or(std::numeric_limits<std::int64_t>::min());
    std::erase_if(timeline, [&](const transition& t) { return t.at > cut; });
    const int first_year = tail->last_transition ? year_of(cut) - 1 : 1800;
    // The table always reaches past the file's own transitions (Morocco's run to 2087).
    const int table_last_year = std::max(precomputed_until_year, first_year + 2);
    for (const auto& t : rule_transitions(*rule, first_year, table_last_year + 1)) {
        if (t.at > cut) {
            timeline.push_back(t);
        }
    }
    timeline.resize(collapse(timeline, initial));

    // Split: the table ends before the horizon, the rule answers from its first change after it.
    const std::int64_t horizon = sys_seconds{std::chrono::sys_days{std::chrono::year{table_last_year + 1} / 1 / 1}}
                                     .time_since_epoch()
                                     .count();
    const auto split = std::find_if(timeline.begin(), timeline.end(), [&](const transition& t) { return t.at >= horizon; });
    if (split == timeline.end()) {
        // The rule never changes the offset (equal standard and daylight offsets).
        return std::make_unique<time_zone::impl>(std::string{name}, initial, timeline, std::nullopt, transition{std::numeric_limits<std::int64_t>::max(), 0});
    }
    const transition rule_from = *split;
    timeline.erase(split, timeline.end());
    return std::make_unique<time_zone::impl>(std::string{name}, initial, timeline, std::move(rule), rule_from);
}

/// One located zone: its data and the handle pointing at it, allocated once and never moved.
struct registry_entry {
    explicit registry_entry(std::unique_ptr<time_zone::impl> d) : data(std::move(d)), handle(data.get()) {}
    std::unique_ptr<time_zone::impl> data;
    time_zone handle;
};

/// The process-wide zone cache. Lookups of known zones take a shared lock only.
class zone_registry {
public:
    const time_zone* find_or_load(std::string_view name) {
        const std::string key{name};
        {
            const std::shared_lock lock{mutex_};
            const auto it = zones_.find(key);
            if (it != zones_.end()) {
                return &it->second->handle;
            }
        }
        const std::unique_lock lock{mutex_};
        const auto it = zones_.find(key);
        if (it != zones_.end()) {
            return &it->second->handle;
        }
        auto data = load_zone(name);
        if (!data) {
            return nullptr;  // unknown names are not cached: API input must not grow the cache
        }
        auto entry = std::make_unique<registry_entry>(std::move(data));
        const time_zone* handle = &entry->handle;
        zones_.emplace(key, std::move(entry));
        return handle;
    }

private:
    std::shared_mutex mutex_;
    std::unordered_map<std::string, std::unique_ptr<registry_entry>> zones_;
};

/// Never destroyed, so that pointers handed out stay valid even in other static destructors.
zone_registry& registry() {
    static auto* r = new zone_registry;
    return *r;
}

}  // namespace

result<const time_zone*> time_zone::locate(std::string_view name) {
    // `localtime` is a link to the host's /etc/localtime: it would make a schedule mean
    // something different on every machine.
    const bool refused = name.empty() || name == "localtime";
    const time_zone* zone = refused ? nullptr : registry().find_or_load(name);
    if (zone == nullptr) {
        return invalid({{"timezone", "must be a valid IANA timezone"}});
    }
    return zone;
}

std::string_view time_zone::name() const noexcept {
    return impl_->name();
}

std::chrono::seconds time_zone::offset_at(sys_seconds t) const {
    return seconds{impl_->offset_at(t.time_since_epoch().count())};
}

zone_period time_zone::period_at(sys_seconds t) const {
    return impl_->period_at(t.time_since_epoch().count());
}

sys_seconds time_zone::next_transition(sys_seconds t) const {
    return period_at(t).end;
}

local_resolution time_zone::resolve(local_seconds l) const {
    // Every instant of this wall time lies within offset_reach of it read as UTC: walk the
    // periods there and keep the readings that fall inside their own period.
    const std::int64_t limit = std::numeric_limits<std::int64_t>::max() / 2;
    const std::int64_t s = std::clamp(l.time_since_epoch().count(), -limit, limit);
    std::optional<sys_seconds> earliest;
    std::optional<sys_seconds> latest;
    std::optional<sys_seconds> gap_end;
    zone_period p = period_at(sys_seconds{seconds{s - offset_reach}});
    for (int guard = 0; guard < 64; ++guard) {
        const sys_seconds u{seconds{s} - p.offset};
        if (p.begin <= u && u < p.end) {
            earliest = earliest ? std::min(*earliest, u) : u;
            latest = latest ? std::max(*latest, u) : u;
        } else if (p.offset_before < p.offset && p.begin + p.offset_before <= sys_seconds{seconds{s}} &&
                   sys_seconds{seconds{s}} < p.begin + p.offset) {
            gap_end = p.begin;  // the clocks jumped over this wall time when this period began
        }
        if (p.end == sys_seconds::max() || p.end.time_since_epoch().count() > s + offset_reach) {
            break;
        }
        p = period_at(p.end);
    }
    local_resolution r;
    if (!earliest) {
        r.what = local_resolution::kind::nonexistent;
        r.first = gap_end.value_or(sys_seconds{seconds{s}} - offset_at(sys_seconds{seconds{s}}));
        r.second = r.first;
    } else {
        r.what = *earliest == *latest ? local_resolution::kind::unique : local_resolution::kind::ambiguous;
        r.first = *earliest;
        r.second = *latest;
    }
    return r;
}

}  // namespace wakeplane
