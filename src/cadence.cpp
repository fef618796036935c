// Next occurrence of a cadence: cron through the zone's offset periods, interval grids, once.
#include <wakeplane/cadence.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace wakeplane {

namespace {

using namespace std::chrono;

/// How far past its first allowed instant a cron search looks. The sparsest valid expression,
/// `0 0 29 2 *`, can wait 8 years (2096-02-29 to 2104-02-29).
constexpr seconds cron_search_span = duration_cast<seconds>(years{10});

/// Cron occurrences lie within the years the expression search covers.
constexpr sys_seconds earliest_cron{sys_days{year{1} / January / 1}};
constexpr sys_seconds latest_cron{sys_days{year{9999} / December / 31} + hours{23} + minutes{59} + seconds{59}};

/// A guard on the offset periods one cron search walks (a zone changes offset about twice a year).
constexpr int max_periods = 1000;

/// The earliest instant an occurrence may take: strictly after `after`, and not before start_at.
/// nullopt when nothing can be later than `after`.
std::optional<time_point> earliest_allowed(time_point after, const bounds& b) {
    if (after == time_point::max()) {
        return std::nullopt;
    }
    time_point lower = after + duration{1};
    if (b.start_at && *b.start_at > lower) {
        lower = *b.start_at;
    }
    return lower;
}

local_seconds wall_clock(sys_seconds u, seconds offset) {
    return local_seconds{u.time_since_epoch() + offset};
}

sys_seconds instant(local_seconds l, seconds offset) {
    return sys_seconds{l.time_since_epoch() - offset};
}

/// Walks the zone's offset periods from the first allowed instant. In each period the wall
/// times it covers map to UTC by one offset, so the first match there is the answer, after two
/// DST adjustments at its edges:
/// - a period that starts with a spring-forward gap: under `shift`, a match inside the gap fires
///   at the period's first instant (once, however many wall times the gap swallowed);
/// - a period that starts after a fall-back repeats wall times the previous period showed; under
///   `first` they already fired there, so the search starts after them;
/// - a period that ends in a fall-back shows wall times the next period repeats; under `last`
///   they fire there instead, so the search stops before them.
/// Under `both` repeated wall times fire in both periods, each at its own instant, and because
/// periods are visited in UTC order the first match found is the true minimum.
std::optional<time_point> next_cron(const cron_cadence& c, const bounds& b, time_point after) {
    if (c.zone == nullptr) {
        return std::nullopt;
    }
    const auto lower = earliest_allowed(after, b);
    if (!lower || *lower > latest_cron) {
        return std::nullopt;
    }
    sys_seconds t = std::max(ceil<seconds>(*lower), earliest_cron);
    sys_seconds stop = std::min(t + cron_search_span, latest_cron);
    if (b.end_at) {
        stop = std::min(stop, floor<seconds>(*b.end_at));
    }
    for (int guard = 0; t <= stop && guard < max_periods; ++guard) {
        const zone_period p = c.zone->period_at(t);
        const bool gap_before = p.offset_before < p.offset;
        if (gap_before && p.begin == t && c.dst.gap == dst_gap::shift) {
            const auto gap_first = wall_clock(p.begin, p.offset_before);
            const auto gap_last = wall_clock(p.begin, p.offset) - seconds{1};
            if (c.expr.next_match(gap_first, gap_last)) {
                return time_point{p.begin};
            }
        }
        local_seconds lo = wall_clock(t, p.offset);
        if (c.dst.repeated == dst_repeated::first && p.offset_before > p.offset) {
            lo = std::max(lo, wall_clock(p.begin, p.offset_before));
        }
        const sys_seconds last_here = std::min(p.end - seconds{1}, stop);
        local_seconds hi = wall_clock(last_here, p.offset);
        if (c.dst.repeated == dst_repeated::last && p.offset_after < p.offset) {
            hi = std::min(hi, wall_clock(p.end, p.offset_after) - seconds{1});
        }
        if (lo <= hi) {
            if (const auto match = c.expr.next_match(lo, hi)) {
                return time_point{instant(*match, p.offset)};
            }
        }
        if (p.end > stop) {
            break;
        }
        t = p.end;
    }
    return std::nullopt;
}

/// The first grid point anchor + k*every (k >= 0) at or after the earliest allowed instant.
/// Unsigned arithmetic: the distance between any two instants fits in 64 bits unsigned.
std::optional<time_point> next_interval(const interval_cadence& c, const bounds& b, time_point after) {
    if (c.every <= duration::zero()) {
        return std::nullopt;
    }
    const auto lower = earliest_allowed(after, b);
    if (!lower) {
        return std::nullopt;
    }
    time_point candidate = c.anchor;
    if (*lower > c.anchor) {
        using u64 = std::uint64_t;
        const auto anchor = static_cast<u64>(c.anchor.time_since_epoch().count());
        const u64 distance = static_cast<u64>(lower->time_since_epoch().count()) - anchor;
        const auto every = static_cast<u64>(c.every.count());
        const u64 steps = distance / every + (distance % every != 0 ? 1 : 0);
        const u64 room = static_cast<u64>(std::numeric_limits<std::int64_t>::max()) - anchor;
        if (steps > room / every) {
            return std::nullopt;  // the next grid point lies beyond the representable range
        }
        candidate = time_point{duration{static_cast<std::int64_t>(anchor + steps * every)}};
    }
    if (b.end_at && candidate > *b.end_at) {
        return std::nullopt;
    }
    return candidate;
}

/// `at` when it is after `after` and inside the bounds; bounds never move it.
std::optional<time_point> next_once(const once_cadence& c, const bounds& b, time_point after) {
    const bool in_bounds = (!b.start_at || c.at >= *b.start_at) && (!b.end_at || c.at <= *b.end_at);
    if (c.at > after && in_bounds) {
        return c.at;
    }
    return std::nullopt;
}

}  // namespace

std::string_view to_string(dst_gap g) noexcept {
    switch (g) {
    case dst_gap::skip: return "skip";
    case dst_gap::shift: return "shift";
    }
    return "skip";
}

std::string_view to_string(dst_repeated r) noexcept {
    switch (r) {
    case dst_repeated::first: return "first";
    case dst_repeated::last: return "last";
    case dst_repeated::both: return "both";
    }
    return "first";
}

std::optional<dst_gap> parse_dst_gap(std::string_view s) noexcept {
    if (s == "skip") {
        return dst_gap::skip;
    }
    if (s == "shift") {
        return dst_gap::shift;
    }
    return std::nullopt;
}

std::optional<dst_repeated> parse_dst_repeated(std::string_view s) noexcept {
    if (s == "first") {
        return dst_repeated::first;
    }
    if (s == "last") {
        return dst_repeated::last;
    }
    if (s == "both") {
        return dst_repeated::both;
    }
    return std::nullopt;
}

std::optional<time_point> next_after(const cadence& c, time_point after) {
    return std::visit(
        [&](const auto& kind) -> std::optional<time_point> {
            using kind_t = std::decay_t<decltype(kind)>;
            if constexpr (std::is_same_v<kind_t, cron_cadence>) {
                return next_cron(kind, c.limits, after);
            } else if constexpr (std::is_same_v<kind_t, interval_cadence>) {
                return next_interval(kind, c.limits, after);
            } else {
                return next_once(kind, c.limits, after);
            }
        },
        c.kind);
}

}  // namespace wakeplane
