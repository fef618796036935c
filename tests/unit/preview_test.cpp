#include "../../src/cli/preview.hpp"

#include <fstream>

#include <catch2/catch.hpp>

#include <wakeplane/testing/temp_dir.hpp>

#include "../support.hpp"

using namespace wakeplane;
using namespace wakeplane::cli;
using namespace wakeplane::testing;

namespace {

std::vector<std::string> texts(const std::vector<time_point>& v) {
    std::vector<std::string> out;
    for (auto t : v) {
        out.push_back(format_rfc3339(t));
    }
    return out;
}

preview_request cron(std::string expr, std::string tz, std::string from, std::int64_t count) {
    preview_request r;
    r.cron = std::move(expr);
    r.timezone = std::move(tz);
    r.from = at(from);
    r.count = count;
    return r;
}

}  // namespace

TEST_CASE("preview lists fire times strictly after --from, honouring the DST flags", "[cli][preview]") {
    auto r = cron("30 2 * * *", "America/New_York", "2026-03-07T07:30:00Z", 3);
    CHECK(texts(preview(r).value()) ==
          std::vector<std::string>{"2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z", "2026-03-11T06:30:00Z"});
    r.dst_gap = "shift";
    CHECK(texts(preview(r).value()).front() == "2026-03-08T07:00:00Z");  // 03:00 EDT, the end of the gap
    auto fall = cron("30 1 * * *", "America/New_York", "2026-11-01T00:00:00Z", 2);
    fall.dst_repeated = "both";
    CHECK(texts(preview(fall).value()) == std::vector<std::string>{"2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z"});
}

TEST_CASE("preview of a manifest validates it like the daemon", "[cli][preview]") {
    temp_dir dir;
    const auto path = dir.path() / "m.yaml";
    std::ofstream{path} << "name: sync\ntimezone: America/Los_Angeles\nschedule:\n  kind: cron\n  expr: \"0 2 * * *\"\n"
                           "  dst: {gap: shift}\ntarget:\n  kind: workflow\n  workflow_id: x\n";
    preview_request r;
    r.manifest_path = path.string();
    r.from = at("2026-03-07T00:00:00Z");
    r.count = 2;
    CHECK(texts(preview(r).value()) == std::vector<std::string>{"2026-03-07T10:00:00Z", "2026-03-08T10:00:00Z"});
    std::ofstream{path} << "name: \"\"\nschedule: {kind: cron, expr: \"0 0 30 2 *\"}\ntarget: {kind: workflow}\n";
    auto bad = preview(r);
    REQUIRE_FALSE(bad.has_value());
    const auto line = one_line(bad.error());
    CHECK(line.find("name: must be non-empty") != std::string::npos);
    CHECK(line.find("timezone: is required") != std::string::npos);
    CHECK(line.find("schedule.expr: must parse as a cron expression") != std::string::npos);
    CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("preview rejects bad flags with errors that name them", "[cli][preview]") {
    auto r = cron("0 0 30 2 *", "Mars/Base", "2026-01-01T00:00:00Z", 0);
    CHECK(one_line(preview(r).error()) == "--count: must be between 1 and 100000");
    r.count = 3;
    auto e = one_line(preview(r).error());
    CHECK(e.find("--cron: ") != std::string::npos);
    CHECK(e.find("--timezone: must be a valid IANA timezone") != std::string::npos);
    r = cron("* * * * *", "", "2026-01-01T00:00:00Z", 1);
    CHECK(one_line(preview(r).error()) == "--timezone: is required with --cron");
    r = cron("* * * * *", "UTC", "2026-01-01T00:00:00Z", 1);
    r.dst_gap = "sometimes";
    CHECK(one_line(preview(r).error()) == "--dst-gap: must be one of skip, shift");
}

TEST_CASE("preview of an ended cadence prints fewer times", "[cli][preview]") {
    temp_dir dir;
    const auto path = dir.path() / "once.yaml";
    std::ofstream{path} << "name: once\ntimezone: UTC\nschedule: {kind: once, at: 2026-05-01T12:00:00Z}\n"
                           "target: {kind: workflow, workflow_id: x}\n";
    preview_request r;
    r.manifest_path = path.string();
    r.from = at("2026-01-01T00:00:00Z");
    r.count = 5;
    CHECK(texts(preview(r).value()) == std::vector<std::string>{"2026-05-01T12:00:00Z"});
    r.from = at("2026-06-01T00:00:00Z");
    CHECK(preview(r).value().empty());
}
