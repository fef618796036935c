#include <wakeplane/time.hpp>

#include <catch2/catch.hpp>
#include <date/date.h>

using namespace wakeplane;
using namespace std::chrono_literals;

namespace {
time_point at(std::string_view s) { return parse_rfc3339(s).value(); }
}  // namespace

TEST_CASE("format_rfc3339 trims the fraction and always writes Z", "[time]") {
    CHECK(format_rfc3339(at("2026-03-12T10:00:00Z")) == "2026-03-12T10:00:00Z");
    CHECK(format_rfc3339(at("2026-03-12T10:00:00.5Z")) == "2026-03-12T10:00:00.5Z");
    CHECK(format_rfc3339(at("2026-03-12T10:00:00.123456Z")) == "2026-03-12T10:00:00.123456Z");
    CHECK(format_rfc3339(at("2026-03-12T10:00:00.120000Z")) == "2026-03-12T10:00:00.12Z");
    CHECK(format_rfc3339(time_point{}) == "1970-01-01T00:00:00Z");
    CHECK(format_rfc3339(time_point{} - 1s) == "1969-12-31T23:59:59Z");
}

TEST_CASE("format_rfc3339 keeps printf's spelling of a year outside four digits", "[time]") {
    using namespace date;
    const auto day = [](year_month_day d) { return time_point{sys_days{d}.time_since_epoch()}; };
    CHECK(format_rfc3339(day(year{0} / 1 / 1)) == "0000-01-01T00:00:00Z");
    CHECK(format_rfc3339(day(year{9999} / 12 / 31) + 86399s + 999999us) == "9999-12-31T23:59:59.999999Z");
    CHECK(format_rfc3339(day(year{10000} / 1 / 1) + 1s) == "10000-01-01T00:00:01Z");
    CHECK(format_rfc3339(day(year{-1} / 12 / 31)) == "-001-12-31T00:00:00Z");
    CHECK(format_rfc3339_seconds(day(year{-32767} / 1 / 1) + 500ms) == "-32767-01-01T00:00:00Z");
}

TEST_CASE("format_rfc3339_seconds truncates", "[time]") {
    CHECK(format_rfc3339_seconds(at("2026-03-12T10:01:00.7Z")) == "2026-03-12T10:01:00Z");
}

TEST_CASE("parse_rfc3339 normalizes offsets to UTC", "[time]") {
    CHECK(at("2026-03-12T05:00:00-05:00") == at("2026-03-12T10:00:00Z"));
    CHECK(at("2026-03-12T15:45:00+05:45") == at("2026-03-12T10:00:00Z"));
    CHECK(at("2026-03-12t10:00:00z") == at("2026-03-12T10:00:00Z"));
    // digits beyond microseconds are truncated, not rounded
    CHECK(at("2026-03-12T10:00:00.1234569Z").time_since_epoch().count() % 1'000'000 == 123456);
    CHECK(to_unix_micros(at("1970-01-01T00:00:01.5Z")) == 1'500'000);
}

TEST_CASE("parse_rfc3339 rejects what is not RFC 3339 and says why", "[time]") {
    auto msg = [](std::string_view s) { return parse_rfc3339(s).error().message; };
    CHECK(msg("2026-03-12T10:00:00") == "\"2026-03-12T10:00:00\" is not an RFC 3339 timestamp: a time zone offset (Z or +hh:mm) is required");
    CHECK(msg("2026-13-12T10:00:00Z").ends_with("month out of range"));
    CHECK(msg("2026-02-30T10:00:00Z").ends_with("day out of range"));
    CHECK(msg("2026-02-10T24:00:00Z").ends_with("hour out of range"));
    CHECK(msg("2026-02-10T10:60:00Z").ends_with("minute out of range"));
    CHECK(msg("2026-02-10T10:00:60Z").ends_with("second out of range"));
    CHECK(msg("2026-02-10 10:00:00Z").ends_with("expected 'T' between date and time"));
    CHECK(msg("2026-02-10T10:00:00.Z").ends_with("expected digits after '.'"));
    CHECK(msg("2026-02-10T10:00:00+0100").ends_with("expected offset hh:mm"));
    CHECK(msg("2026-02-10T10:00:00Zjunk").ends_with("unexpected trailing characters"));
    CHECK(msg("").ends_with("expected YYYY-MM-DD"));
    CHECK(parse_rfc3339("2026-02-10T10:00:00Z").has_value());
    CHECK(parse_rfc3339("x").error().code == errc::bad_request);
}

TEST_CASE("parse_yaml_timestamp accepts the YAML forms", "[time]") {
    CHECK(parse_yaml_timestamp("2026-03-12").value() == at("2026-03-12T00:00:00Z"));
    CHECK(parse_yaml_timestamp("2026-03-12 10:00:00").value() == at("2026-03-12T10:00:00Z"));
    CHECK(parse_yaml_timestamp("2026-03-12 10:00:00 -05:00").value() == at("2026-03-12T15:00:00Z"));
    CHECK(parse_yaml_timestamp("2026-03-12T10:00:00.5Z").value() == at("2026-03-12T10:00:00.5Z"));
    CHECK_FALSE(parse_yaml_timestamp("2026-03-12 x").has_value());
    CHECK_FALSE(parse_yaml_timestamp("tomorrow").has_value());
}
