// Time zones: lookup, offsets (also past 2037, where the TZif footer rule takes over), resolution.
#include <wakeplane/tz.hpp>

#include <wakeplane/time.hpp>

#include <catch2/catch.hpp>

#include <thread>
#include <vector>

namespace {

using namespace std::chrono;
using wakeplane::local_resolution;
using wakeplane::time_zone;

const time_zone& zone(std::string_view name) {
    const auto z = time_zone::locate(name);
    REQUIRE(z);
    return **z;
}

sys_seconds utc(std::string_view rfc3339) {
    const auto t = wakeplane::parse_rfc3339(rfc3339);
    REQUIRE(t);
    return floor<seconds>(*t);
}

local_seconds wall(year_month_day d, seconds time_of_day) {
    return local_days{d} + time_of_day;
}

}  // namespace

TEST_CASE("locate finds IANA zones and hands out one stable pointer per name", "[tz]") {
    const auto a = time_zone::locate("America/New_York");
    const auto b = time_zone::locate("America/New_York");
    REQUIRE(a);
    REQUIRE(b);
    CHECK(*a == *b);
    CHECK((*a)->name() == "America/New_York");
    CHECK(time_zone::locate("UTC"));
    CHECK(time_zone::locate("EST"));          // legacy names stay valid
    CHECK(time_zone::locate("US/Eastern"));   // and links
}

TEST_CASE("locate rejects what is not an exact IANA name", "[tz]") {
    for (const std::string_view name : {"Mars/Olympus_Mons", "america/new_york", "", "localtime", "posix/UTC",
                                        "America/../UTC", "/usr/share/zoneinfo/UTC", "zone.tab"}) {
        CAPTURE(name);
        const auto z = time_zone::locate(name);
        REQUIRE_FALSE(z);
        CHECK(z.error().code == wakeplane::errc::validation_failed);
        REQUIRE(z.error().details.size() == 1);
        CHECK(z.error().details[0] == wakeplane::field_error{"timezone", "must be a valid IANA timezone"});
    }
}

TEST_CASE("locate is safe from many threads at once", "[tz]") {
    std::vector<const time_zone*> seen(8, nullptr);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < seen.size(); ++i) {
        threads.emplace_back([&seen, i] {
            const auto z = time_zone::locate("Europe/Vienna");
            seen[i] = z ? *z : nullptr;
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    for (const auto* z : seen) {
        CHECK(z != nullptr);
        CHECK(z == seen[0]);
    }
}

TEST_CASE("offsets from the zone file's transitions", "[tz]") {
    const auto& ny = zone("America/New_York");
    CHECK(ny.offset_at(utc("2026-01-15T12:00:00Z")) == -5h);
    CHECK(ny.offset_at(utc("2026-07-01T12:00:00Z")) == -4h);
    CHECK(ny.offset_at(utc("2026-03-08T06:59:59Z")) == -5h);
    CHECK(ny.offset_at(utc("2026-03-08T07:00:00Z")) == -4h);
    CHECK(ny.to_local(utc("2026-07-01T16:00:00Z")) == wall(2026y / July / 1, 12h));

    const auto& kathmandu = zone("Asia/Kathmandu");
    CHECK(kathmandu.offset_at(utc("2026-06-01T00:00:00Z")) == 5h + 45min);
    CHECK(kathmandu.offset_at(utc("1985-06-01T00:00:00Z")) == 5h + 30min);
    CHECK(kathmandu.next_transition(utc("2026-06-01T00:00:00Z")) == sys_seconds::max());

    const auto& u = zone("UTC");
    CHECK(u.offset_at(utc("2040-07-01T00:00:00Z")) == 0s);
    CHECK(u.next_transition(utc("1970-01-01T00:00:00Z")) == sys_seconds::max());
}

TEST_CASE("after 2037 the footer rule keeps daylight saving going", "[tz][dst]") {
    // Debian's libdate-tz alone answers EST for every one of these summer instants.
    const auto& ny = zone("America/New_York");
    CHECK(ny.offset_at(utc("2038-07-01T00:00:00Z")) == -4h);
    CHECK(ny.offset_at(utc("2040-07-01T00:00:00Z")) == -4h);
    CHECK(ny.offset_at(utc("2040-12-01T00:00:00Z")) == -5h);
    CHECK(ny.offset_at(utc("2100-07-01T00:00:00Z")) == -4h);
    // Beyond the precomputed table (2200) the rule is evaluated on the fly.
    CHECK(ny.offset_at(utc("2300-07-01T00:00:00Z")) == -4h);
    CHECK(ny.offset_at(utc("2300-12-01T00:00:00Z")) == -5h);
    CHECK(ny.next_transition(utc("2040-01-01T00:00:00Z")) == utc("2040-03-11T07:00:00Z"));
    CHECK(ny.next_transition(utc("2040-03-11T07:00:00Z")) == utc("2040-11-04T06:00:00Z"));

    const auto& london = zone("Europe/London");
    CHECK(london.offset_at(utc("2040-07-01T00:00:00Z")) == 1h);
    CHECK(london.offset_at(utc("2040-01-01T00:00:00Z")) == 0h);

    // Negative DST: standard time IST (+1) in summer, "daylight" GMT (0) in winter.
    const auto& dublin = zone("Europe/Dublin");
    CHECK(dublin.offset_at(utc("2040-07-01T00:00:00Z")) == 1h);
    CHECK(dublin.offset_at(utc("2040-12-01T00:00:00Z")) == 0h);
    CHECK(dublin.next_transition(utc("2040-01-01T00:00:00Z")) == utc("2040-03-25T01:00:00Z"));

    const auto& sydney = zone("Australia/Sydney");
    CHECK(sydney.offset_at(utc("2040-01-01T00:00:00Z")) == 11h);
    CHECK(sydney.offset_at(utc("2040-07-01T00:00:00Z")) == 10h);

    // A 30-minute DST shift.
    const auto& lord_howe = zone("Australia/Lord_Howe");
    CHECK(lord_howe.offset_at(utc("2040-01-01T00:00:00Z")) == 11h);
    CHECK(lord_howe.offset_at(utc("2040-07-01T00:00:00Z")) == 10h + 30min);
    CHECK(lord_howe.offset_at(utc("2100-01-15T00:00:00Z")) == 11h);
    CHECK(lord_howe.next_transition(utc("2040-01-01T00:00:00Z")) == utc("2040-03-31T15:00:00Z"));
    CHECK(lord_howe.next_transition(utc("2040-04-01T00:00:00Z")) == utc("2040-10-06T15:30:00Z"));

    // Changes at -1:00 local time (`M3.5.0/-1`): Saturday 23:00 standard time.
    const auto& nuuk = zone("America/Nuuk");
    CHECK(nuuk.next_transition(utc("2040-01-01T00:00:00Z")) == utc("2040-03-25T01:00:00Z"));
    CHECK(nuuk.offset_at(utc("2040-07-01T00:00:00Z")) == -1h);
    CHECK(nuuk.offset_at(utc("2040-01-01T00:00:00Z")) == -2h);
}

TEST_CASE("resolve classifies unique, skipped and repeated wall times", "[tz][dst]") {
    using kind = local_resolution::kind;
    const auto& ny = zone("America/New_York");

    const auto summer = ny.resolve(wall(2026y / July / 1, 12h));
    CHECK(summer.what == kind::unique);
    CHECK(summer.first == utc("2026-07-01T16:00:00Z"));
    CHECK(summer.second == summer.first);

    const auto gap = ny.resolve(wall(2026y / March / 8, 2h + 30min));
    CHECK(gap.what == kind::nonexistent);
    CHECK(gap.first == utc("2026-03-08T07:00:00Z"));
    CHECK(gap.second == gap.first);

    const auto repeated = ny.resolve(wall(2026y / November / 1, 1h + 30min));
    CHECK(repeated.what == kind::ambiguous);
    CHECK(repeated.first == utc("2026-11-01T05:30:00Z"));
    CHECK(repeated.second == utc("2026-11-01T06:30:00Z"));

    // Edges: the gap is [02:00, 03:00), the repeat [01:00, 02:00).
    CHECK(ny.resolve(wall(2026y / March / 8, 2h)).what == kind::nonexistent);
    CHECK(ny.resolve(wall(2026y / March / 8, 3h)).what == kind::unique);
    CHECK(ny.resolve(wall(2026y / November / 1, 1h)).what == kind::ambiguous);
    CHECK(ny.resolve(wall(2026y / November / 1, 2h)).what == kind::unique);

    const auto gap_2040 = ny.resolve(wall(2040y / March / 11, 2h + 30min));
    CHECK(gap_2040.what == kind::nonexistent);
    CHECK(gap_2040.first == utc("2040-03-11T07:00:00Z"));
}

TEST_CASE("resolve handles half-hour DST, a skipped day and fixed offsets", "[tz][dst]") {
    using kind = local_resolution::kind;
    const auto& lord_howe = zone("Australia/Lord_Howe");
    const auto gap = lord_howe.resolve(wall(2026y / October / 4, 2h + 15min));
    CHECK(gap.what == kind::nonexistent);
    CHECK(gap.first == utc("2026-10-03T15:30:00Z"));
    const auto repeated = lord_howe.resolve(wall(2026y / April / 5, 1h + 45min));
    CHECK(repeated.what == kind::ambiguous);
    CHECK(repeated.first == utc("2026-04-04T14:45:00Z"));
    CHECK(repeated.second == utc("2026-04-04T15:15:00Z"));

    // Samoa moved across the date line: 2011-12-30 never happened in Apia.
    const auto& apia = zone("Pacific/Apia");
    const auto skipped = apia.resolve(wall(2011y / December / 30, 12h));
    CHECK(skipped.what == kind::nonexistent);
    CHECK(skipped.first == utc("2011-12-30T10:00:00Z"));
    CHECK(apia.resolve(wall(2011y / December / 29, 23h + 59min)).first == utc("2011-12-30T09:59:00Z"));
    CHECK(apia.resolve(wall(2011y / December / 31, 0h)).first == utc("2011-12-30T10:00:00Z"));

    const auto kathmandu = zone("Asia/Kathmandu").resolve(wall(2026y / June / 1, 9h));
    CHECK(kathmandu.what == kind::unique);
    CHECK(kathmandu.first == utc("2026-06-01T03:15:00Z"));

    const auto u = zone("UTC").resolve(wall(2026y / June / 1, 9h));
    CHECK(u.what == kind::unique);
    CHECK(u.first == utc("2026-06-01T09:00:00Z"));
}

TEST_CASE("period_at describes the stretch of constant offset", "[tz]") {
    const auto p = zone("America/New_York").period_at(utc("2026-07-01T00:00:00Z"));
    CHECK(p.begin == utc("2026-03-08T07:00:00Z"));
    CHECK(p.end == utc("2026-11-01T06:00:00Z"));
    CHECK(p.offset == -4h);
    CHECK(p.offset_before == -5h);
    CHECK(p.offset_after == -5h);

    const auto far = zone("America/New_York").period_at(utc("2300-07-01T00:00:00Z"));
    CHECK(far.begin == utc("2300-03-11T07:00:00Z"));
    CHECK(far.end == utc("2300-11-04T06:00:00Z"));
    CHECK(far.offset == -4h);

    const auto fixed = zone("Asia/Kathmandu").period_at(utc("2026-07-01T00:00:00Z"));
    CHECK(fixed.begin == utc("1985-12-31T18:30:00Z"));
    CHECK(fixed.end == sys_seconds::max());
    CHECK(fixed.offset == 5h + 45min);
    CHECK(fixed.offset_before == 5h + 30min);
    CHECK(fixed.offset_after == 5h + 45min);
}
