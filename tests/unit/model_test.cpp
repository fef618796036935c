#include <wakeplane/model.hpp>

#include <catch2/catch.hpp>

#include <limits>
#include <utility>
#include <variant>
#include <vector>

using namespace wakeplane;
using namespace std::chrono_literals;

namespace {

time_point at(std::string_view s) { return parse_rfc3339(s).value(); }

schedule base_schedule(std::string kind) {
    schedule s;
    s.id = "sch_01JPC3V9QF7D2M8K4X6T1R5N0B";
    s.name = "n";
    s.timezone = "America/New_York";
    s.spec.kind = std::move(kind);
    s.created_at = at("2026-03-12T10:00:00.734512Z");
    s.updated_at = s.created_at;
    return s;
}

}  // namespace

TEST_CASE("run statuses have the original's names and parse back", "[model]") {
    const std::vector<std::pair<run_status, std::string_view>> names = {
        {run_status::pending, "pending"},     {run_status::claimed, "claimed"},
        {run_status::running, "running"},     {run_status::succeeded, "succeeded"},
        {run_status::failed, "failed"},       {run_status::retry_scheduled, "retry_scheduled"},
        {run_status::dead_lettered, "dead_lettered"}, {run_status::cancelled, "cancelled"},
        {run_status::skipped, "skipped"},
    };
    for (const auto& [status, name] : names) {
        CHECK(to_string(status) == name);
        CHECK(parse_run_status(name) == status);
    }
    CHECK_FALSE(parse_run_status("Pending").has_value());
    CHECK_FALSE(parse_run_status("").has_value());
}

TEST_CASE("terminal statuses are the five final ones", "[model]") {
    CHECK_FALSE(is_terminal(run_status::pending));
    CHECK_FALSE(is_terminal(run_status::claimed));
    CHECK_FALSE(is_terminal(run_status::running));
    CHECK_FALSE(is_terminal(run_status::retry_scheduled));
    CHECK(is_terminal(run_status::succeeded));
    CHECK(is_terminal(run_status::failed));
    CHECK(is_terminal(run_status::dead_lettered));
    CHECK(is_terminal(run_status::cancelled));
    CHECK(is_terminal(run_status::skipped));
}

TEST_CASE("occurrence keys keep the fraction of the nominal time", "[model]") {
    CHECK(occurrence_key("sch_1", at("2026-03-12T10:01:00Z")) == "sch_1:2026-03-12T10:01:00Z");
    CHECK(occurrence_key("sch_1", at("2026-03-12T10:01:00.7Z")) == "sch_1:2026-03-12T10:01:00.7Z");
    CHECK(occurrence_key("sch_1", at("2026-03-12T05:01:00-05:00")) == "sch_1:2026-03-12T10:01:00Z");
    CHECK(manual_occurrence_key("run_01JPC3VA0000000000000000") == "manual:run_01JPC3VA0000000000000000");
}

TEST_CASE("an interval anchors on anchor_at, else start_at, else created_at to the second", "[model]") {
    schedule s = base_schedule("interval");
    s.spec.every_seconds = 90;

    auto c = cadence_of(s);
    REQUIRE(c);
    const auto& unanchored = std::get<interval_cadence>(c->kind);
    CHECK(unanchored.anchor == at("2026-03-12T10:00:00Z"));
    CHECK(unanchored.every == 90s);

    s.start_at = at("2026-03-13T00:00:00.5Z");
    CHECK(std::get<interval_cadence>(cadence_of(s)->kind).anchor == at("2026-03-13T00:00:00.5Z"));

    s.spec.anchor_at = at("2026-03-01T08:00:00Z");
    CHECK(std::get<interval_cadence>(cadence_of(s)->kind).anchor == at("2026-03-01T08:00:00Z"));
}

TEST_CASE("a cadence carries the schedule's bounds", "[model]") {
    schedule s = base_schedule("interval");
    s.spec.every_seconds = 60;
    s.start_at = at("2026-03-12T11:00:00Z");
    s.end_at = at("2026-03-12T12:00:00Z");
    const auto c = cadence_of(s);
    REQUIRE(c);
    CHECK(c->limits.start_at == s.start_at);
    CHECK(c->limits.end_at == s.end_at);
}

TEST_CASE("a cron cadence has the parsed expression, the zone and the DST policy", "[model]") {
    schedule s = base_schedule("cron");
    s.spec.expr = " 0 3 * * * ";
    s.spec.dst = {dst_gap::shift, dst_repeated::both};
    const auto c = cadence_of(s);
    REQUIRE(c);
    const auto& cron = std::get<cron_cadence>(c->kind);
    CHECK(cron.expr.text() == "0 3 * * *");
    REQUIRE(cron.zone != nullptr);
    CHECK(cron.zone->name() == "America/New_York");
    CHECK(cron.dst == dst_policy{dst_gap::shift, dst_repeated::both});
}

TEST_CASE("a once cadence fires at its time", "[model]") {
    schedule s = base_schedule("once");
    s.spec.at = at("2026-04-01T09:30:00Z");
    const auto c = cadence_of(s);
    REQUIRE(c);
    CHECK(std::get<once_cadence>(c->kind).at == at("2026-04-01T09:30:00Z"));
}

TEST_CASE("a schedule that cannot have a cadence says which field is wrong", "[model]") {
    SECTION("unknown kind") {
        const auto c = cadence_of(base_schedule("weekly"));
        REQUIRE_FALSE(c);
        CHECK(c.error().code == errc::validation_failed);
        CHECK(c.error().details == std::vector<field_error>{{"schedule.kind", "must be one of cron, interval, once"}});
    }
    SECTION("unknown zone") {
        schedule s = base_schedule("cron");
        s.spec.expr = "0 3 * * *";
        s.timezone = "Mars/Olympus";
        const auto c = cadence_of(s);
        REQUIRE_FALSE(c);
        REQUIRE(c.error().details.size() == 1);
        CHECK(c.error().details.front().field == "timezone");
    }
    SECTION("bad expression") {
        schedule s = base_schedule("cron");
        s.spec.expr = "nope";
        const auto c = cadence_of(s);
        REQUIRE_FALSE(c);
        CHECK(c.error().code == errc::validation_failed);
    }
    SECTION("interval out of range, which would overflow microseconds") {
        schedule s = base_schedule("interval");
        s.spec.every_seconds = std::numeric_limits<std::int64_t>::max();
        const auto c = cadence_of(s);
        REQUIRE_FALSE(c);
        CHECK(c.error().details.front().field == "schedule.every_seconds");
    }
    SECTION("once without at") {
        const auto c = cadence_of(base_schedule("once"));
        REQUIRE_FALSE(c);
        CHECK(c.error().details == std::vector<field_error>{{"schedule.at", "is required for once"}});
    }
}

TEST_CASE("an unanchored interval's occurrences fall on whole seconds", "[model]") {
    schedule s = base_schedule("interval");
    s.spec.every_seconds = 60;
    const auto c = cadence_of(s);
    REQUIRE(c);
    const auto next = next_after(*c, s.created_at);
    REQUIRE(next.has_value());
    CHECK(*next == at("2026-03-12T10:01:00Z"));
    CHECK(occurrence_key(s.id, *next) == "sch_01JPC3V9QF7D2M8K4X6T1R5N0B:2026-03-12T10:01:00Z");
}
