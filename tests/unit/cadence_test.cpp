// Cadences: next occurrence for cron (with the DST policy), interval and once, bounds, lazy range.
#include <wakeplane/cadence.hpp>

#include <wakeplane/time.hpp>

#include <catch2/catch.hpp>
#include <range/v3/range/conversion.hpp>
#include <range/v3/view/take.hpp>
#include <range/v3/view/transform.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using namespace wakeplane;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

time_point at(std::string_view rfc3339) {
    const auto t = parse_rfc3339(rfc3339);
    REQUIRE(t);
    return *t;
}

cadence cron(std::string_view expr, std::string_view zone, dst_policy dst = {}, bounds limits = {}) {
    const auto e = cron_expr::parse(expr);
    REQUIRE(e);
    const auto z = time_zone::locate(zone);
    REQUIRE(z);
    return cadence{cron_cadence{*e, *z, dst}, limits};
}

cadence every(std::string_view anchor, duration step, bounds limits = {}) {
    return cadence{interval_cadence{at(anchor), step}, limits};
}

/// The first `n` occurrences strictly after `after`, as RFC 3339 text (readable failures).
std::vector<std::string> fires(const cadence& c, std::string_view after, int n) {
    return occurrences(c, at(after)) | ranges::views::take(n) |
           ranges::views::transform([](time_point t) { return format_rfc3339(t); }) | ranges::to<std::vector>();
}

using strings = std::vector<std::string>;

constexpr dst_policy gap_skip{dst_gap::skip, dst_repeated::first};
constexpr dst_policy gap_shift{dst_gap::shift, dst_repeated::first};
constexpr dst_policy repeated_first{dst_gap::skip, dst_repeated::first};
constexpr dst_policy repeated_last{dst_gap::skip, dst_repeated::last};
constexpr dst_policy repeated_both{dst_gap::skip, dst_repeated::both};

/// One DST scenario: an expression in a zone, searched after an instant under a policy.
struct dst_case {
    std::string_view name;
    std::string_view zone;
    std::string_view expr;
    std::string_view after;
    dst_policy dst;
    strings expected;
};

}  // namespace

TEST_CASE("spring-forward gaps under skip and shift", "[cadence][dst]") {
    const auto scenario = GENERATE(values<dst_case>({
        // New York, 2026-03-08: 02:00 EST becomes 03:00 EDT at 07:00Z.
        {"NY skip", "America/New_York", "30 2 * * *", "2026-03-07T12:00:00Z", gap_skip,
         {"2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"}},
        {"NY shift", "America/New_York", "30 2 * * *", "2026-03-07T12:00:00Z", gap_shift,
         {"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}},
        // Four wall times in one gap shift onto one instant: one fire.
        {"NY shift, several in the gap", "America/New_York", "*/15 2 * * *", "2026-03-08T00:00:00Z", gap_shift,
         {"2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z", "2026-03-09T06:15:00Z"}},
        {"NY skip, several in the gap", "America/New_York", "*/15 2 * * *", "2026-03-08T00:00:00Z", gap_skip,
         {"2026-03-09T06:00:00Z", "2026-03-09T06:15:00Z"}},
        // 02:00 shifted and 03:00 EDT are the same instant: one fire.
        {"NY shift onto an existing time", "America/New_York", "0 2,3 * * *", "2026-03-08T00:00:00Z", gap_shift,
         {"2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z", "2026-03-09T07:00:00Z"}},
        // London, 2026-03-29: 01:00 GMT becomes 02:00 BST at 01:00Z.
        {"London skip", "Europe/London", "30 1 * * *", "2026-03-28T12:00:00Z", gap_skip, {"2026-03-30T00:30:00Z"}},
        {"London shift", "Europe/London", "30 1 * * *", "2026-03-28T12:00:00Z", gap_shift,
         {"2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}},
        // Lord Howe, 2026-10-04: 02:00 (+10:30) becomes 02:30 (+11) at 2026-10-03T15:30Z.
        {"Lord Howe skip", "Australia/Lord_Howe", "15 2 * * *", "2026-10-03T12:00:00Z", gap_skip, {"2026-10-04T15:15:00Z"}},
        {"Lord Howe shift", "Australia/Lord_Howe", "15 2 * * *", "2026-10-03T12:00:00Z", gap_shift,
         {"2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"}},
        // After 2037 the footer rule supplies the gap: New York, 2040-03-11 at 07:00Z.
        {"NY 2040 skip", "America/New_York", "30 2 * * *", "2040-03-10T12:00:00Z", gap_skip, {"2040-03-12T06:30:00Z"}},
        {"NY 2040 shift", "America/New_York", "30 2 * * *", "2040-03-10T12:00:00Z", gap_shift,
         {"2040-03-11T07:00:00Z", "2040-03-12T06:30:00Z"}},
    }));
    INFO(scenario.name);
    const auto c = cron(scenario.expr, scenario.zone, scenario.dst);
    CHECK(fires(c, scenario.after, static_cast<int>(scenario.expected.size())) == scenario.expected);
}

TEST_CASE("fall-back repeats under first, last and both", "[cadence][dst]") {
    const auto scenario = GENERATE(values<dst_case>({
        // New York, 2026-11-01: 01:00-02:00 runs first in EDT (05:00-06:00Z), then in EST (06:00-07:00Z).
        {"NY first", "America/New_York", "30 1 * * *", "2026-10-31T12:00:00Z", repeated_first,
         {"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}},
        {"NY last", "America/New_York", "30 1 * * *", "2026-10-31T12:00:00Z", repeated_last,
         {"2026-11-01T06:30:00Z", "2026-11-02T06:30:00Z"}},
        {"NY both", "America/New_York", "30 1 * * *", "2026-10-31T12:00:00Z", repeated_both,
         {"2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z", "2026-11-02T06:30:00Z"}},
        // `after` inside the second pass: first-pass times never fire again.
        {"NY first, after in the second pass", "America/New_York", "*/20 1 * * *", "2026-11-01T06:10:00Z", repeated_first,
         {"2026-11-02T06:00:00Z"}},
        {"NY last, after in the second pass", "America/New_York", "*/20 1 * * *", "2026-11-01T06:10:00Z", repeated_last,
         {"2026-11-01T06:20:00Z", "2026-11-01T06:40:00Z", "2026-11-02T06:00:00Z"}},
        {"NY both, after in the second pass", "America/New_York", "*/20 1 * * *", "2026-11-01T06:10:00Z", repeated_both,
         {"2026-11-01T06:20:00Z", "2026-11-01T06:40:00Z", "2026-11-02T06:00:00Z"}},
        // `after` inside the first pass.
        {"NY first, after in the first pass", "America/New_York", "*/20 1 * * *", "2026-11-01T05:10:00Z", repeated_first,
         {"2026-11-01T05:20:00Z", "2026-11-01T05:40:00Z", "2026-11-02T06:00:00Z"}},
        {"NY last, after in the first pass", "America/New_York", "*/20 1 * * *", "2026-11-01T05:10:00Z", repeated_last,
         {"2026-11-01T06:00:00Z", "2026-11-01T06:20:00Z", "2026-11-01T06:40:00Z", "2026-11-02T06:00:00Z"}},
        {"NY both, after in the first pass", "America/New_York", "*/20 1 * * *", "2026-11-01T05:10:00Z", repeated_both,
         {"2026-11-01T05:20:00Z", "2026-11-01T05:40:00Z", "2026-11-01T06:00:00Z", "2026-11-01T06:20:00Z",
          "2026-11-01T06:40:00Z", "2026-11-02T06:00:00Z"}},
        // London, 2026-10-25: 01:00-02:00 in BST (00:00-01:00Z), then in GMT (01:00-02:00Z).
        {"London first", "Europe/London", "30 1 * * *", "2026-10-24T12:00:00Z", repeated_first,
         {"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
        {"London last", "Europe/London", "30 1 * * *", "2026-10-24T12:00:00Z", repeated_last,
         {"2026-10-25T01:30:00Z", "2026-10-26T01:30:00Z"}},
        {"London both", "Europe/London", "30 1 * * *", "2026-10-24T12:00:00Z", repeated_both,
         {"2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z", "2026-10-26T01:30:00Z"}},
        // Lord Howe, 2026-04-05: 01:30-02:00 at +11 (14:30-15:00Z), then at +10:30 (15:00-15:30Z).
        {"Lord Howe first", "Australia/Lord_Howe", "45 1 * * *", "2026-04-04T00:00:00Z", repeated_first,
         {"2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"}},
        {"Lord Howe last", "Australia/Lord_Howe", "45 1 * * *", "2026-04-04T00:00:00Z", repeated_last,
         {"2026-04-04T15:15:00Z", "2026-04-05T15:15:00Z"}},
        {"Lord Howe both", "Australia/Lord_Howe", "45 1 * * *", "2026-04-04T00:00:00Z", repeated_both,
         {"2026-04-04T14:45:00Z", "2026-04-04T15:15:00Z", "2026-04-05T15:15:00Z"}},
    }));
    INFO(scenario.name);
    const auto c = cron(scenario.expr, scenario.zone, scenario.dst);
    CHECK(fires(c, scenario.after, static_cast<int>(scenario.expected.size())) == scenario.expected);
}

TEST_CASE("the default DST policy is gap skip, repeated first", "[cadence][dst]") {
    CHECK(dst_policy{} == dst_policy{dst_gap::skip, dst_repeated::first});
    const auto c = cron("30 1,2 * * *", "America/New_York");
    CHECK(fires(c, "2026-03-07T12:00:00Z", 2) == strings{"2026-03-08T06:30:00Z", "2026-03-09T05:30:00Z"});
    CHECK(fires(c, "2026-10-31T12:00:00Z", 3) ==
          strings{"2026-11-01T05:30:00Z", "2026-11-01T07:30:00Z", "2026-11-02T06:30:00Z"});
}

TEST_CASE("Pacific/Apia skipped 2011-12-30 entirely", "[cadence][dst]") {
    // 2011-12-29 24:00 at -10 became 2011-12-31 00:00 at +14, at 2011-12-30T10:00Z.
    CHECK(fires(cron("0 12 * * *", "Pacific/Apia"), "2011-12-29T00:00:00Z", 2) ==
          strings{"2011-12-29T22:00:00Z", "2011-12-30T22:00:00Z"});
    CHECK(fires(cron("0 12 * * *", "Pacific/Apia", {dst_gap::shift, dst_repeated::first}), "2011-12-29T00:00:00Z", 3) ==
          strings{"2011-12-29T22:00:00Z", "2011-12-30T10:00:00Z", "2011-12-30T22:00:00Z"});
    // The 30th of December comes back a year later (at +14 in the southern summer).
    CHECK(fires(cron("0 0 30 12 *", "Pacific/Apia"), "2011-06-01T00:00:00Z", 1) == strings{"2012-12-29T10:00:00Z"});
    // Every hour of the lost day shifts onto the same instant, which is also the next day's midnight.
    CHECK(fires(cron("0 * * * *", "Pacific/Apia", {dst_gap::shift, dst_repeated::first}), "2011-12-30T09:30:00Z", 2) ==
          strings{"2011-12-30T10:00:00Z", "2011-12-30T11:00:00Z"});
}

TEST_CASE("a +05:45 zone without DST", "[cadence]") {
    CHECK(fires(cron("0 9 * * *", "Asia/Kathmandu"), "2026-06-01T00:00:00Z", 2) ==
          strings{"2026-06-01T03:15:00Z", "2026-06-02T03:15:00Z"});
    CHECK(fires(cron("*/30 * * * *", "Asia/Kathmandu"), "2026-06-01T00:00:00Z", 2) ==
          strings{"2026-06-01T00:15:00Z", "2026-06-01T00:45:00Z"});
}

TEST_CASE("cron fire times after 2037 keep daylight saving", "[cadence][dst]") {
    const auto noon = [](std::string_view zone, std::string_view after) { return fires(cron("0 12 * * *", zone), after, 1); };
    CHECK(noon("America/New_York", "2038-07-01T00:00:00Z") == strings{"2038-07-01T16:00:00Z"});
    CHECK(noon("America/New_York", "2040-07-01T00:00:00Z") == strings{"2040-07-01T16:00:00Z"});
    CHECK(noon("America/New_York", "2040-12-01T00:00:00Z") == strings{"2040-12-01T17:00:00Z"});
    CHECK(noon("America/New_York", "2100-07-01T00:00:00Z") == strings{"2100-07-01T16:00:00Z"});
    CHECK(noon("America/New_York", "2100-12-01T00:00:00Z") == strings{"2100-12-01T17:00:00Z"});
    CHECK(noon("Europe/London", "2040-07-01T00:00:00Z") == strings{"2040-07-01T11:00:00Z"});
    CHECK(noon("Europe/London", "2040-12-01T00:00:00Z") == strings{"2040-12-01T12:00:00Z"});
    CHECK(noon("Europe/Dublin", "2040-07-01T00:00:00Z") == strings{"2040-07-01T11:00:00Z"});
    CHECK(noon("Europe/Dublin", "2040-12-01T00:00:00Z") == strings{"2040-12-01T12:00:00Z"});
    CHECK(noon("Europe/Dublin", "2100-07-01T00:00:00Z") == strings{"2100-07-01T11:00:00Z"});
    CHECK(noon("Australia/Sydney", "2040-06-30T12:00:00Z") == strings{"2040-07-01T02:00:00Z"});
    CHECK(noon("Australia/Sydney", "2040-11-30T12:00:00Z") == strings{"2040-12-01T01:00:00Z"});
    CHECK(noon("Australia/Lord_Howe", "2100-01-14T12:00:00Z") == strings{"2100-01-15T01:00:00Z"});
}

TEST_CASE("February 29, day 31, the OR rule and seconds through a cadence", "[cadence]") {
    CHECK(fires(cron("0 0 29 2 *", "UTC"), "2026-01-01T00:00:00Z", 2) ==
          strings{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"});
    // Eight years apart across 2100, still within the 10-year search.
    CHECK(fires(cron("0 0 29 2 *", "UTC"), "2096-03-01T00:00:00Z", 1) == strings{"2104-02-29T00:00:00Z"});
    CHECK(fires(cron("0 0 31 * *", "UTC"), "2026-04-01T00:00:00Z", 2) ==
          strings{"2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z"});
    // The 13th OR a Friday (2026-03-06 and 03-13 are Fridays).
    CHECK(fires(cron("0 0 13 * FRI", "UTC"), "2026-03-01T00:00:00Z", 4) ==
          strings{"2026-03-06T00:00:00Z", "2026-03-13T00:00:00Z", "2026-03-20T00:00:00Z", "2026-03-27T00:00:00Z"});
    const auto half_minutes = cron("*/30 * * * * *", "UTC");
    CHECK(fires(half_minutes, "2026-03-06T10:00:00.5Z", 1) == strings{"2026-03-06T10:00:30Z"});
    CHECK(fires(half_minutes, "2026-03-06T10:00:29.999999Z", 1) == strings{"2026-03-06T10:00:30Z"});
    CHECK(fires(half_minutes, "2026-03-06T10:00:30Z", 1) == strings{"2026-03-06T10:01:00Z"});
}

TEST_CASE("cron bounds: the first grid time at or after start_at, nothing after end_at", "[cadence]") {
    const auto hourly = [](bounds b) { return cron("0 * * * *", "UTC", {}, b); };
    CHECK(fires(hourly({at("2026-03-06T10:20:00Z"), {}}), "2026-03-06T09:00:00Z", 1) == strings{"2026-03-06T11:00:00Z"});
    CHECK(fires(hourly({at("2026-03-06T11:00:00Z"), {}}), "2026-03-06T09:00:00Z", 1) == strings{"2026-03-06T11:00:00Z"});
    CHECK(fires(hourly({{}, at("2026-03-06T11:00:00Z")}), "2026-03-06T09:30:00Z", 5) ==
          strings{"2026-03-06T10:00:00Z", "2026-03-06T11:00:00Z"});
    CHECK(fires(hourly({{}, at("2026-03-06T10:59:59Z")}), "2026-03-06T10:00:00Z", 1).empty());
    // end_at in the past: nothing, at once.
    CHECK(next_after(hourly({{}, at("2020-01-01T00:00:00Z")}), at("2026-03-06T10:00:00Z")) == std::nullopt);
    CHECK(next_after(cron("0 0 29 2 *", "UTC", {}, {{}, at("2103-12-31T00:00:00Z")}), at("2096-03-01T00:00:00Z")) ==
          std::nullopt);
}

TEST_CASE("interval: a grid from the anchor, bounds never move it", "[cadence]") {
    const auto hourly = every("2026-03-11T00:00:00Z", hours{1});
    CHECK(next_after(hourly, at("2026-03-11T01:30:00Z")) == at("2026-03-11T02:00:00Z"));
    CHECK(next_after(hourly, at("2026-03-11T02:00:00Z")) == at("2026-03-11T03:00:00Z"));
    CHECK(next_after(hourly, at("2026-03-10T12:00:00Z")) == at("2026-03-11T00:00:00Z"));
    CHECK(next_after(hourly, at("2026-03-10T23:59:59.999999Z")) == at("2026-03-11T00:00:00Z"));
    CHECK(next_after(hourly, at("2026-03-11T00:00:00Z")) == at("2026-03-11T01:00:00Z"));

    // Microseconds of the anchor are kept exactly.
    const auto seconds_grid = every("2026-03-12T10:00:00.123456Z", seconds{1});
    CHECK(next_after(seconds_grid, at("2026-03-12T10:00:05Z")) == at("2026-03-12T10:00:05.123456Z"));
    CHECK(next_after(seconds_grid, at("2026-03-12T10:00:05.123456Z")) == at("2026-03-12T10:00:06.123456Z"));

    // start_at off the grid bounds it: the first grid point at or after 10:07 is 10:15.
    const auto quarter = [](bounds b) { return every("2026-03-12T10:00:00Z", minutes{15}, b); };
    CHECK(next_after(quarter({at("2026-03-12T10:07:00Z"), {}}), at("2026-03-12T09:00:00Z")) == at("2026-03-12T10:15:00Z"));
    CHECK(next_after(quarter({at("2026-03-12T10:15:00Z"), {}}), at("2026-03-12T09:00:00Z")) == at("2026-03-12T10:15:00Z"));
    CHECK(next_after(quarter({{}, at("2026-03-12T10:30:00Z")}), at("2026-03-12T10:15:00Z")) == at("2026-03-12T10:30:00Z"));
    CHECK(next_after(quarter({{}, at("2026-03-12T10:29:59Z")}), at("2026-03-12T10:15:00Z")) == std::nullopt);

    CHECK(next_after(every("2026-03-12T10:00:00Z", duration::zero()), at("2026-03-12T09:00:00Z")) == std::nullopt);
    CHECK(next_after(hourly, time_point::max()) == std::nullopt);
    // A grid point past the representable range is none, not an overflow.
    const auto huge = duration{std::numeric_limits<std::int64_t>::max() / 2};
    const auto far = every("2026-03-12T10:00:00Z", huge);
    CHECK(next_after(far, at("2026-03-12T10:00:00Z")) == at("2026-03-12T10:00:00Z") + huge);
    CHECK(next_after(far, at("2026-03-12T10:00:00Z") + huge) == std::nullopt);
}

TEST_CASE("once: at, if it is later and within the bounds", "[cadence]") {
    const auto once = [](bounds b) { return cadence{once_cadence{at("2026-03-12T10:00:00Z")}, b}; };
    CHECK(next_after(once({}), at("2026-03-12T09:59:59.999999Z")) == at("2026-03-12T10:00:00Z"));
    CHECK(next_after(once({}), at("2026-03-12T10:00:00Z")) == std::nullopt);
    CHECK(next_after(once({at("2026-03-12T10:00:00Z"), at("2026-03-12T10:00:00Z")}), at("2026-03-12T09:00:00Z")) ==
          at("2026-03-12T10:00:00Z"));
    // A start_at later than `at` does not move it: it never fires.
    CHECK(next_after(once({at("2026-03-12T10:00:01Z"), {}}), at("2026-03-12T09:00:00Z")) == std::nullopt);
    CHECK(next_after(once({{}, at("2026-03-12T09:59:59Z")}), at("2026-03-12T09:00:00Z")) == std::nullopt);
}

TEST_CASE("occurrences is a lazy range that ends when the cadence does", "[cadence]") {
    STATIC_REQUIRE(ranges::view_<occurrence_view>);
    STATIC_REQUIRE(ranges::forward_range<occurrence_view>);
    STATIC_REQUIRE(std::is_same_v<ranges::range_value_t<occurrence_view>, time_point>);

    const auto quarter = every("2026-03-12T10:00:00Z", minutes{15}, {{}, at("2026-03-12T11:00:00Z")});
    CHECK(fires(quarter, "2026-03-12T09:00:00Z", 100) ==
          strings{"2026-03-12T10:00:00Z", "2026-03-12T10:15:00Z", "2026-03-12T10:30:00Z", "2026-03-12T10:45:00Z",
                  "2026-03-12T11:00:00Z"});
    CHECK(fires(cadence{once_cadence{at("2026-03-12T10:00:00Z")}, {}}, "2026-03-12T09:00:00Z", 100) ==
          strings{"2026-03-12T10:00:00Z"});
    CHECK(fires(cadence{once_cadence{at("2026-03-12T10:00:00Z")}, {}}, "2026-03-12T10:00:00Z", 100).empty());

    // Unbounded: only what is taken is computed; the range agrees with chained next_after.
    const auto c = cron("0 9 * * MON-FRI", "Europe/Berlin");
    const auto taken = occurrences(c, at("2026-03-06T12:00:00Z")) | ranges::views::take(3) | ranges::to<std::vector>();
    REQUIRE(taken.size() == 3);
    CHECK(taken[0] == next_after(c, at("2026-03-06T12:00:00Z")));
    CHECK(taken[1] == next_after(c, taken[0]));
    CHECK(taken[2] == next_after(c, taken[1]));
    CHECK(format_rfc3339(taken[0]) == "2026-03-09T08:00:00Z");

    // Iterators own the cadence: the view may go away first.
    auto it = occurrences(c, at("2026-03-06T12:00:00Z")).begin();
    ++it;
    CHECK(format_rfc3339(*it) == "2026-03-10T08:00:00Z");
}

TEST_CASE("DST policy names", "[cadence][dst]") {
    CHECK(to_string(dst_gap::skip) == "skip");
    CHECK(to_string(dst_gap::shift) == "shift");
    CHECK(to_string(dst_repeated::first) == "first");
    CHECK(to_string(dst_repeated::last) == "last");
    CHECK(to_string(dst_repeated::both) == "both");
    CHECK(parse_dst_gap("shift") == dst_gap::shift);
    CHECK(parse_dst_gap("skip") == dst_gap::skip);
    CHECK(parse_dst_gap("Shift") == std::nullopt);
    CHECK(parse_dst_repeated("both") == dst_repeated::both);
    CHECK(parse_dst_repeated("last") == dst_repeated::last);
    CHECK(parse_dst_repeated("first") == dst_repeated::first);
    CHECK(parse_dst_repeated("") == std::nullopt);
}
