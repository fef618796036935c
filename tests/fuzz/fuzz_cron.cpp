// libFuzzer target: the cron parser and the next-time computation over it.
//
// Input: a header line `<unix seconds> <zone> <dst>` (numbers; a missing or malformed one is 0),
// then the expression. `zone` picks one of a few zones with unusual offsets or transitions, `dst`
// one of the six DST policies. Properties, for every expression that parses:
//   - a chain of next_after() calls never fails to end (libFuzzer's -timeout catches a loop),
//     each result is strictly after its input, and its wall-clock time matches the expression,
//     except a spring-forward gap time moved to the gap's end by dst_gap::shift;
//   - cron_expr::next_match() in local time returns a match at or after its input, and no
//     earlier one: checked second by second when the answer is less than an hour away.
#include <wakeplane/cadence.hpp>
#include <wakeplane/cron.hpp>
#include <wakeplane/tz.hpp>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <string_view>

#include "fuzz_input.hpp"

namespace {

using namespace std::chrono;
using wakeplane::fuzz::require;

/// UTC, two usual DST zones, a 30-minute DST shift and a zone at +05:45 without DST.
constexpr std::array<std::string_view, 5> zones{"UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe",
                                                "Asia/Kathmandu"};

/// How many successive occurrences each input walks.
constexpr int chain_length = 3;

/// Answers this close to their input are checked against every second in between.
constexpr seconds exhaustive_window = hours{1};

/// The header's numbers, in order; 0 for any that is missing or malformed.
std::array<std::int64_t, 3> header_numbers(std::string_view line) {
    std::array<std::int64_t, 3> out{};
    for (auto& n : out) {
        while (line.starts_with(' ')) {
            line.remove_prefix(1);
        }
        const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), n);
        if (ec != std::errc{}) {
            n = 0;
        }
        line.remove_prefix(static_cast<std::size_t>(end - line.data()));
    }
    return out;
}

/// An instant from any 64-bit number, within the years 1970 ± 8000 that RFC 3339 can spell.
wakeplane::time_point instant_of(std::int64_t n) {
    constexpr std::int64_t span = 250'000'000'000;  // seconds, about 7900 years
    return wakeplane::time_point{seconds{n % span}};
}

wakeplane::dst_policy dst_of(std::int64_t n) {
    const auto k = static_cast<std::uint64_t>(n) % 6;
    return {k < 3 ? wakeplane::dst_gap::skip : wakeplane::dst_gap::shift, static_cast<wakeplane::dst_repeated>(k % 3)};
}

/// next_match() in local time: a match, not before `from`, and the first one.
void check_local_search(const wakeplane::cron_expr& e, local_seconds from) {
    const auto found = e.next_match(from, from + years{10});
    if (!found) {
        return;
    }
    require(*found >= from, "next_match is at or after its input");
    require(e.matches(*found), "next_match matches the expression");
    if (*found - from < exhaustive_window) {
        for (auto t = from; t < *found; t += seconds{1}) {
            require(!e.matches(t), "next_match is the earliest match");
        }
    }
}

/// A chain of next_after() from `after` in `zone` under `dst`.
void check_occurrences(const wakeplane::cron_expr& e, const wakeplane::time_zone* zone, wakeplane::dst_policy dst,
                       wakeplane::time_point after) {
    const wakeplane::cadence c{wakeplane::cron_cadence{e, zone, dst}, {}};
    for (int i = 0; i < chain_length; ++i) {
        const auto next = wakeplane::next_after(c, after);
        if (!next) {
            return;
        }
        require(*next > after, "next_after is strictly after its input");
        const auto at = floor<seconds>(*next);
        require(at == *next, "cron occurrences are whole seconds");
        const bool shifted_gap_time = dst.gap == wakeplane::dst_gap::shift && zone->next_transition(at - seconds{1}) == at;
        require(e.matches(zone->to_local(at)) || shifted_gap_time, "next_after matches the expression in its zone");
        after = *next;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto text = wakeplane::fuzz::as_text(data, size);
    const auto [after_seconds, zone_index, dst_index] = header_numbers(wakeplane::fuzz::take_line(text));
    const auto expr = wakeplane::cron_expr::parse(text);
    if (!expr) {
        require(!expr.error().message.empty(), "a parse failure says why");
        return 0;
    }
    const auto zone = wakeplane::time_zone::locate(zones[static_cast<std::uint64_t>(zone_index) % zones.size()]);
    require(zone.has_value(), "the fuzzed zones exist");
    const auto after = instant_of(after_seconds);
    check_local_search(*expr, local_seconds{floor<seconds>(after).time_since_epoch()});
    check_occurrences(*expr, *zone, dst_of(dst_index), after);
    return 0;
}
