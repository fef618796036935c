// The cron dialect: what parses, what is rejected (with its message), and what matches.
#include <wakeplane/cron.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

namespace {

using namespace std::chrono;
using wakeplane::cron_expr;

cron_expr parse(std::string_view text) {
    auto e = cron_expr::parse(text);
    INFO(text);
    REQUIRE(e);
    return *e;
}

/// The parse error's message for an expression that must be rejected.
std::string rejection(std::string_view text) {
    const auto e = cron_expr::parse(text);
    INFO(text);
    REQUIRE_FALSE(e);
    CHECK(e.error().code == wakeplane::errc::validation_failed);
    REQUIRE(e.error().details.size() == 1);
    CHECK(e.error().details[0].field == "schedule.expr");
    CHECK(e.error().details[0].message == e.error().message);
    return e.error().message;
}

local_seconds wall(year_month_day d, seconds time_of_day = 0s) {
    return local_days{d} + time_of_day;
}

/// The first `n` matches at or after `from`, each search starting one second after the last.
std::vector<local_seconds> matches_from(const cron_expr& e, local_seconds from, int n) {
    std::vector<local_seconds> out;
    auto t = from;
    for (int i = 0; i < n; ++i) {
        const auto m = e.next_match(t, t + years{10});
        if (!m) {
            break;
        }
        out.push_back(*m);
        t = *m + 1s;
    }
    return out;
}

}  // namespace

TEST_CASE("five fields fire at second 0; the text is kept trimmed", "[cron]") {
    const auto e = parse("  */15 9-17 * * MON-FRI \t");
    CHECK(e.text() == "*/15 9-17 * * MON-FRI");
    // 2026-03-06 is a Friday.
    CHECK(matches_from(e, wall(2026y / March / 6, 17h + 40min), 3) ==
          std::vector{wall(2026y / March / 6, 17h + 45min), wall(2026y / March / 9, 9h), wall(2026y / March / 9, 9h + 15min)});
    CHECK(e.matches(wall(2026y / March / 6, 9h + 30min)));
    CHECK_FALSE(e.matches(wall(2026y / March / 6, 9h + 30min + 1s)));
    CHECK_FALSE(e.matches(wall(2026y / March / 7, 9h + 30min)));  // Saturday
}

TEST_CASE("a sixth, leading field is seconds", "[cron]") {
    const auto e = parse("*/20 30 10 * * *");
    CHECK(matches_from(e, wall(2026y / March / 6, 10h + 30min + 1s), 3) ==
          std::vector{wall(2026y / March / 6, 10h + 30min + 20s), wall(2026y / March / 6, 10h + 30min + 40s),
                      wall(2026y / March / 7, 10h + 30min)});
    CHECK(parse("5 * * * * *").next_match(wall(2026y / March / 6, 10h + 1s), wall(2026y / March / 7)) ==
          wall(2026y / March / 6, 10h + 5s));
}

TEST_CASE("lists, ranges and steps, including a/n from a to the maximum", "[cron]") {
    const auto e = parse("10/20 1-10/3,22 * * *");
    std::vector<local_seconds> expected;
    for (const auto h : {1, 4, 7, 10, 22}) {
        for (const auto m : {10, 30, 50}) {
            expected.push_back(wall(2026y / March / 6, hours{h} + minutes{m}));
        }
    }
    CHECK(matches_from(e, wall(2026y / March / 6), 15) == expected);
    CHECK(parse("0 0 ? * *").matches(wall(2026y / March / 6)));  // ? is *
}

TEST_CASE("month and day names are case-insensitive", "[cron]") {
    const auto e = parse("0 12 * jan,Jul sun");
    CHECK(matches_from(e, wall(2026y / January / 20), 3) ==
          std::vector{wall(2026y / January / 25, 12h), wall(2026y / July / 5, 12h), wall(2026y / July / 12, 12h)});
    CHECK(parse("0 0 * FEB-APR *").matches(wall(2026y / March / 15)));
    CHECK_FALSE(parse("0 0 * FEB-APR *").matches(wall(2026y / May / 15)));
}

TEST_CASE("7 is Sunday, alone and in ranges", "[cron]") {
    // 2026-03-06 Friday, 03-07 Saturday, 03-08 Sunday, 03-09 Monday.
    const auto sunday = parse("0 0 * * 7");
    CHECK(sunday.next_match(wall(2026y / March / 2), wall(2026y / April / 1)) == wall(2026y / March / 8));
    const auto weekend = std::vector{wall(2026y / March / 6), wall(2026y / March / 7), wall(2026y / March / 8),
                                     wall(2026y / March / 13)};
    CHECK(matches_from(parse("0 0 * * 5-7"), wall(2026y / March / 3), 4) == weekend);
    CHECK(matches_from(parse("0 0 * * FRI-SUN"), wall(2026y / March / 3), 4) == weekend);
    CHECK(parse("0 0 * * 0-7").matches(wall(2026y / March / 4)));
}

TEST_CASE("day-of-month and day-of-week: OR when both are restricted, else the restricted one", "[cron]") {
    // 2026-03-01 is a Sunday; Mondays are the 2nd, 9th, 16th...
    CHECK(matches_from(parse("0 0 1 * MON"), wall(2026y / March / 1), 4) ==
          std::vector{wall(2026y / March / 1), wall(2026y / March / 2), wall(2026y / March / 9), wall(2026y / March / 16)});
    CHECK(matches_from(parse("0 0 * * MON"), wall(2026y / March / 1), 2) ==
          std::vector{wall(2026y / March / 2), wall(2026y / March / 9)});
    CHECK(matches_from(parse("0 0 1 * ?"), wall(2026y / March / 1), 2) ==
          std::vector{wall(2026y / March / 1), wall(2026y / April / 1)});
    // A stepped star restricts: `*/10` (1, 11, 21, 31) OR Monday.
    CHECK(matches_from(parse("0 0 */10 * MON"), wall(2026y / March / 1), 5) ==
          std::vector{wall(2026y / March / 1), wall(2026y / March / 2), wall(2026y / March / 9), wall(2026y / March / 11),
                      wall(2026y / March / 16)});
}

TEST_CASE("February 29 fires in leap years only; day 31 only in long months", "[cron]") {
    const auto leap = parse("0 0 29 2 *");
    CHECK(leap.next_match(wall(2026y / January / 1), wall(2036y / January / 1)) == wall(2028y / February / 29));
    // 2100 is not a leap year: eight years between two February 29ths.
    CHECK(leap.next_match(wall(2096y / March / 1), wall(2106y / March / 1)) == wall(2104y / February / 29));
    CHECK(leap.next_match(wall(2096y / March / 1), wall(2104y / February / 28, 23h)) == std::nullopt);

    CHECK(matches_from(parse("0 0 31 * *"), wall(2026y / April / 1), 3) ==
          std::vector{wall(2026y / May / 31), wall(2026y / July / 31), wall(2026y / August / 31)});
    CHECK(parse("0 0 31 1-4 *").next_match(wall(2026y / February / 1), wall(2027y / January / 1)) ==
          wall(2026y / March / 31));
}

TEST_CASE("each @ macro", "[cron]") {
    const auto from = wall(2026y / March / 6, 10h + 30min);  // a Friday
    CHECK(parse("@yearly").next_match(from, from + years{2}) == wall(2027y / January / 1));
    CHECK(parse("@annually").next_match(from, from + years{2}) == wall(2027y / January / 1));
    CHECK(parse("@monthly").next_match(from, from + years{2}) == wall(2026y / April / 1));
    CHECK(parse("@weekly").next_match(from, from + years{2}) == wall(2026y / March / 8));
    CHECK(parse("@daily").next_match(from, from + years{2}) == wall(2026y / March / 7));
    CHECK(parse("@midnight").next_match(from, from + years{2}) == wall(2026y / March / 7));
    CHECK(parse("@hourly").next_match(from, from + years{2}) == wall(2026y / March / 6, 11h));
    CHECK(parse("@Daily").text() == "@Daily");
}

TEST_CASE("next_match includes from, respects the limit, and is bounded", "[cron]") {
    const auto e = parse("0 9 * * *");
    CHECK(e.next_match(wall(2026y / March / 6, 9h), wall(2026y / March / 6, 9h)) == wall(2026y / March / 6, 9h));
    CHECK(e.next_match(wall(2026y / March / 6, 9h + 1s), wall(2026y / March / 7, 8h + 59min)) == std::nullopt);
    CHECK(e.next_match(wall(2026y / March / 7), wall(2026y / March / 6)) == std::nullopt);
    // A limit far away costs nothing when the next match is near.
    CHECK(e.next_match(wall(2026y / March / 6, 9h + 1s), local_seconds::max()) == wall(2026y / March / 7, 9h));
    // Searches stop at the end of year 9999.
    CHECK(e.next_match(wall(9999y / December / 31, 10h), local_seconds::max()) == std::nullopt);
    CHECK(cron_expr{}.next_match(wall(2026y / March / 6), local_seconds::max()) == std::nullopt);
    CHECK_FALSE(cron_expr{}.matches(wall(2026y / March / 6)));
}

TEST_CASE("rejected expressions say why, naming the field", "[cron]") {
    CHECK(rejection("") == "expected 5 or 6 fields, found 0");
    CHECK(rejection("* * * *") == "expected 5 or 6 fields, found 4");
    CHECK(rejection("0 0 0 * * * *") == "expected 5 or 6 fields, found 7");
    CHECK(rejection("61 * * * *") == "minute: 61 is above the maximum 59");
    CHECK(rejection("60 * * * * *") == "second: 60 is above the maximum 59");
    CHECK(rejection("0 24 * * *") == "hour: 24 is above the maximum 23");
    CHECK(rejection("0 0 0 * *") == "day-of-month: 0 is below the minimum 1");
    CHECK(rejection("0 0 32 * *") == "day-of-month: 32 is above the maximum 31");
    CHECK(rejection("0 0 * 13 *") == "month: 13 is above the maximum 12");
    CHECK(rejection("0 0 * 0 *") == "month: 0 is below the minimum 1");
    CHECK(rejection("0 0 * * 8") == "day-of-week: 8 is above the maximum 7");
    CHECK(rejection("0 99999999999999999999 * * *") == "hour: 99999999999999999999 is above the maximum 23");
    CHECK(rejection("*/0 * * * *") == "minute: step in \"*/0\" must be at least 1");
    CHECK(rejection("*/x * * * *") == "minute: \"*/x\" is not a valid step");
    CHECK(rejection("1/2/3 * * * *") == "minute: \"1/2/3\" is not a valid step");
    CHECK(rejection("0 20-5 * * *") == "hour: range \"20-5\" starts after it ends");
    CHECK(rejection("0 0 * * SAT-MON") == "day-of-week: range \"SAT-MON\" starts after it ends");
    CHECK(rejection("0 1- * * *") == "hour: \"1-\" is not a valid range");
    CHECK(rejection("0 1-2-3 * * *") == "hour: \"1-2-3\" is not a valid range");
    CHECK(rejection("1,,2 * * * *") == "minute: \"1,,2\" has an empty list element");
    CHECK(rejection("x * * * *") == "minute: \"x\" is not a number");
    CHECK(rejection("0 0 * FOO *") == "month: \"FOO\" is not a month number or name");
    CHECK(rejection("0 0 * * MONDAY") == "day-of-week: \"MONDAY\" is not a day number or name");
}

TEST_CASE("Quartz and Jenkins extensions are rejected as unsupported", "[cron]") {
    const std::string why = " is not supported (this dialect has no L, W, # or H)";
    CHECK(rejection("0 0 L * *") == "day-of-month: \"L\"" + why);
    CHECK(rejection("0 0 15W * *") == "day-of-month: \"15W\"" + why);
    CHECK(rejection("0 0 LW * *") == "day-of-month: \"LW\"" + why);
    CHECK(rejection("0 0 * * 5L") == "day-of-week: \"5L\"" + why);
    CHECK(rejection("0 0 * * MON#2") == "day-of-week: \"MON#2\"" + why);
    CHECK(rejection("H * * * *") == "minute: \"H\"" + why);
    CHECK(rejection("H/15 * * * *") == "minute: \"H/15\"" + why);
}

TEST_CASE("macros and prefixes outside the dialect are rejected", "[cron]") {
    CHECK(rejection("@every 5m") == "@every is not supported: use an interval schedule");
    CHECK(rejection("@fortnightly") ==
          "unknown macro \"@fortnightly\" (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)");
    CHECK(rejection("@daily 0") == "expected nothing after @daily");
    CHECK(rejection("CRON_TZ=Asia/Tokyo 0 2 * * *") ==
          "a CRON_TZ= prefix is not supported: set the schedule's timezone field instead");
    CHECK(rejection("TZ=Asia/Tokyo 0 2 * * *") == "a TZ= prefix is not supported: set the schedule's timezone field instead");
    CHECK(rejection("CRON_TZ=UTC") == "a CRON_TZ= prefix is not supported: set the schedule's timezone field instead");
}

TEST_CASE("expressions that can never fire are rejected at parse", "[cron]") {
    CHECK(rejection("0 0 30 2 *") == "can never fire: day-of-month 30 never occurs in February");
    CHECK(rejection("0 0 30,31 2 *") == "can never fire: day-of-month 30 or 31 never occurs in February");
    CHECK(rejection("0 0 31 4,6,9,11 *") ==
          "can never fire: day-of-month 31 never occurs in April, June, September or November");
    CHECK(rejection("0 0 0 31 2 ?") == "can never fire: day-of-month 31 never occurs in February");
    // Possible after all: leap years, a long month in the list, or the OR rule.
    CHECK(cron_expr::parse("0 0 29 2 *"));
    CHECK(cron_expr::parse("0 0 31 4,5 *"));
    CHECK(cron_expr::parse("0 0 30 2 MON"));
}
