// The packed schedule of the schedule cache: every member comes back as it went in.
#include <wakeplane/detail/schedule_image.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include <catch2/catch.hpp>

#include "../support.hpp"

using namespace wakeplane;
using namespace wakeplane::testing;
using namespace std::chrono_literals;
using wakeplane::detail::pack_schedule;
using wakeplane::detail::unpack_schedule;

namespace {

/// A schedule with every member away from its default, each to a value no other member holds.
schedule every_member_set() {
    schedule s;
    s.id = "sch_01JPC3V9QF7D2M8K4X6T1R5N0B";
    s.name = "nightly-report";
    s.enabled = false;
    s.timezone = "Europe/Amsterdam";
    s.spec.kind = "cron";
    s.spec.expr = "0 3 * * 1-5";
    s.spec.every_seconds = 90;
    s.spec.anchor_at = at("2026-01-01T00:00:00Z");
    s.spec.at = at("2026-02-02T02:02:02.5Z");
    s.spec.dst = {dst_gap::shift, dst_repeated::both};
    s.target.kind = "http";
    s.target.method = "POST";
    s.target.url = "https://reports.example.com/v1/jobs";
    s.target.headers = {{"Authorization", "Bearer abc"}, {"X-Empty", ""}, {"", "no name"}};
    s.target.body_json = R"({"kind":"nightly"})";
    s.target.command = "/usr/bin/report";
    s.target.args = {"--all", "", std::string(300, 'a')};
    s.target.workflow_id = "wf";
    s.target.input_json = R"({"n":1})";
    s.policy = {"queue_latest", "catch_up", 301, 7, 61, 101, 5};
    s.retry = {4, "none", 31, 901};
    s.start_at = at("2026-03-01T00:00:00Z");
    s.end_at = at("2027-03-01T00:00:00Z");
    s.paused_at = at("2026-03-12T09:00:00Z");
    s.next_run_at = at("2026-03-13T03:00:00Z");
    s.last_run_at = at("1969-12-31T23:59:59.000001Z");  // before the epoch: a negative count
    s.created_at = at("2026-03-01T08:00:00Z");
    s.updated_at = at("2026-03-12T09:00:00Z");
    s.deleted = true;
    return s;
}

}  // namespace

TEST_CASE("schedule image: every member comes back", "[model][image]") {
    const auto full = every_member_set();
    CHECK(unpack_schedule(pack_schedule(full)) == full);

    const schedule empty;
    CHECK(unpack_schedule(pack_schedule(empty)) == empty);
}

TEST_CASE("schedule image: each optional instant and flag stands alone", "[model][image]") {
    // One member at a time: a presence bit read for the wrong member, or an instant read in the
    // wrong order, gives another schedule.
    const auto t = at("2026-05-05T05:05:05Z");
    std::vector<void (*)(schedule&, time_point)> setters{
        [](schedule& s, time_point v) { s.spec.anchor_at = v; },
        [](schedule& s, time_point v) { s.spec.at = v; },
        [](schedule& s, time_point v) { s.start_at = v; },
        [](schedule& s, time_point v) { s.end_at = v; },
        [](schedule& s, time_point v) { s.paused_at = v; },
        [](schedule& s, time_point v) { s.next_run_at = v; },
        [](schedule& s, time_point v) { s.last_run_at = v; },
        [](schedule& s, time_point) { s.enabled = false; },
        [](schedule& s, time_point) { s.deleted = true; },
    };
    for (std::size_t i = 0; i < setters.size(); ++i) {
        INFO("member " << i);
        schedule s;
        setters[i](s, t + std::chrono::seconds{static_cast<long>(i)});
        CHECK(unpack_schedule(pack_schedule(s)) == s);
    }
}

TEST_CASE("schedule image: lengths, bytes and integers at their edges", "[model][image]") {
    schedule s;
    SECTION("strings across each length width, with NUL and non-ASCII bytes") {
        for (const std::size_t n : {127u, 128u, 16383u, 16384u, 70000u}) {
            INFO("length " << n);
            s.name = std::string(n, 'n');
            s.target.body_json = std::string("a\0b\xff\xc3\xa9", 6) + std::string(n, 'x');
            CHECK(unpack_schedule(pack_schedule(s)) == s);
        }
    }
    SECTION("integers at both ends, small negatives and instants at both ends") {
        constexpr auto lo = std::numeric_limits<std::int64_t>::min();
        constexpr auto hi = std::numeric_limits<std::int64_t>::max();
        s.spec.every_seconds = hi;
        s.policy = {"allow", "skip", lo, -1, 0, 1, hi};
        s.retry = {-64, "exponential", 63, 64};
        s.created_at = time_point{duration{lo}};
        s.updated_at = time_point{duration{hi}};
        s.next_run_at = time_point{duration{-1}};
        CHECK(unpack_schedule(pack_schedule(s)) == s);
    }
    SECTION("many headers and arguments, kept in their order") {
        for (int i = 0; i < 200; ++i) {
            s.target.headers["h" + std::to_string(i)] = std::to_string(i);
            s.target.args.push_back(std::to_string(200 - i));
        }
        CHECK(unpack_schedule(pack_schedule(s)) == s);
    }
}

TEST_CASE("schedule image: an empty member costs a byte", "[model][image]") {
    // The point of the image: what a decoded schedule spends on its empty members, the image
    // does not. A workflow schedule's image is its set text plus a few bytes a member.
    schedule s;
    s.id = "sch_01JPC3V9QF7D2M8K4X6T1R5N0B";
    s.name = "nightly-report";
    s.timezone = "UTC";
    s.spec.kind = "interval";
    s.spec.every_seconds = 60;
    s.spec.anchor_at = at("2026-01-01T00:00:00Z");
    s.target.kind = "workflow";
    s.target.workflow_id = "noop";
    s.policy = {"forbid", "catch_up", 300, 1, 60, 100, 0};
    s.retry = {0, "exponential", 30, 900};
    s.next_run_at = at("2026-03-13T03:00:00Z");
    s.created_at = at("2026-03-01T08:00:00Z");
    s.updated_at = s.created_at;
    const auto image = pack_schedule(s);
    const std::size_t text = s.id.size() + s.name.size() + s.timezone.size() + s.spec.kind.size() +
                             s.target.kind.size() + s.target.workflow_id.size() + s.policy.overlap.size() +
                             s.policy.misfire.size() + s.retry.strategy.size();
    CHECK(image.size() <= text + 4 * 8 + 40);  // four instants, and lengths, counts and small integers
    CHECK(image.size() < sizeof(schedule) / 4);
    CHECK(unpack_schedule(image) == s);
}
