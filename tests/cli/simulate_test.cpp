// `wakeplane simulate`: the what-if report of the real scheduler around outages and edits.
#include "simulate.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include <wakeplane/testing/temp_dir.hpp>

#include "../support.hpp"
#include "preview.hpp"
#include "process.hpp"

using namespace wakeplane;
using namespace wakeplane::cli;
using wakeplane::testing::at;
using wakeplane::testing::temp_dir;

namespace {

/// A manifest of an interval schedule every `every` seconds anchored at midnight, with `policy`
/// (YAML mapping lines, indented by two) as its policy block.
std::string interval_manifest(int every, const std::string& policy) {
    return "name: probe\ntimezone: UTC\nschedule:\n  kind: interval\n  every_seconds: " + std::to_string(every) +
           "\n  anchor_at: 2026-03-12T00:00:00Z\ntarget:\n  kind: http\n  method: GET\n  url: https://example.com/\n"
           "policy:\n" +
           policy;
}

/// Writes `text` to `name` in `dir` and returns its path.
std::filesystem::path write(const temp_dir& dir, const std::string& name, const std::string& text) {
    const auto path = dir.path() / name;
    std::ofstream{path} << text;
    return path;
}

/// The request for `manifest` simulated over [from, to] with an outage [down, up).
simulate_request around_outage(const std::filesystem::path& manifest, const char* from, const char* to,
                               const char* down, const char* up) {
    simulate_request req;
    req.manifest = manifest;
    req.from = at(from);
    req.to = at(to);
    req.outage = time_window{at(down), at(up)};
    return req;
}

/// The occurrence lines of a report: between the first blank line and the next one.
std::vector<std::string> occurrence_lines(const std::string& report) {
    std::istringstream in(report);
    std::vector<std::string> out;
    std::string line;
    while (std::getline(in, line) && !line.empty()) {
    }
    while (std::getline(in, line) && !line.empty()) {
        out.push_back(line);
    }
    return out;
}

/// The last line of a report.
std::string summary_of(const std::string& report) {
    const auto end = report.find_last_not_of('\n');
    return report.substr(report.rfind('\n', end) + 1, end - report.rfind('\n', end));
}

/// Simulates `req` and returns the report; a failure fails the test with its message.
std::string report_of(const simulate_request& req) {
    auto account = simulate(req);
    if (!account) {
        FAIL(one_line(account.error()));
    }
    return format_report(req, *account);
}

}  // namespace

TEST_CASE("an outage under misfire skip: missed occurrences are skipped, punctual ones run", "[cli][simulate]") {
    temp_dir dir;
    const auto m = write(dir, "m.yaml", interval_manifest(300, "  misfire: skip\n"));
    const auto report = report_of(around_outage(m, "2026-03-12T09:50:00Z", "2026-03-12T10:40:00Z",
                                                "2026-03-12T10:00:00Z", "2026-03-12T10:30:00Z"));
    INFO(report);
    CHECK(report.rfind("schedule probe: interval every 5m in UTC\npolicies: misfire skip (grace 60s), overlap forbid", 0) == 0);
    CHECK(report.find("outage: 2026-03-12T10:00:00Z to 2026-03-12T10:30:00Z") != std::string::npos);
    const std::string skipped = "  skipped: missed during the outage (skipped due to misfire policy)";
    CHECK(occurrence_lines(report) == std::vector<std::string>{
                                          "2026-03-12T09:50:00Z  ran at 2026-03-12T09:50:00Z (on time)",
                                          "2026-03-12T09:55:00Z  ran at 2026-03-12T09:55:00Z (on time)",
                                          "2026-03-12T10:00:00Z" + skipped,
                                          "2026-03-12T10:05:00Z" + skipped,
                                          "2026-03-12T10:10:00Z" + skipped,
                                          "2026-03-12T10:15:00Z" + skipped,
                                          "2026-03-12T10:20:00Z" + skipped,
                                          "2026-03-12T10:25:00Z" + skipped,
                                          "2026-03-12T10:30:00Z  ran at 2026-03-12T10:30:00Z (on time)",
                                          "2026-03-12T10:35:00Z  ran at 2026-03-12T10:35:00Z (on time)",
                                          "2026-03-12T10:40:00Z  ran at 2026-03-12T10:40:00Z (on time)",
                                      });
    CHECK(summary_of(report) == "summary: 11 occurrences: 5 ran on time, 6 skipped");
}

TEST_CASE("an outage under run_once_if_late: the newest missed occurrence runs late, once", "[cli][simulate]") {
    temp_dir dir;
    const auto m = write(dir, "m.yaml", interval_manifest(300, "  misfire: run_once_if_late\n"));
    const auto report = report_of(around_outage(m, "2026-03-12T09:55:00Z", "2026-03-12T10:35:00Z",
                                                "2026-03-12T10:00:00Z", "2026-03-12T10:15:30Z"));
    INFO(report);
    const std::string skipped = "  skipped: missed during the outage (skipped due to run_once_if_late policy)";
    CHECK(occurrence_lines(report) ==
          std::vector<std::string>{
              "2026-03-12T09:55:00Z  ran at 2026-03-12T09:55:00Z (on time)",
              "2026-03-12T10:00:00Z" + skipped,
              "2026-03-12T10:05:00Z" + skipped,
              "2026-03-12T10:10:00Z  late: ran at 2026-03-12T10:15:30Z, 5m 30s after its time (missed, run by misfire "
              "run_once_if_late)",
              "2026-03-12T10:15:00Z  late: ran at 2026-03-12T10:15:30Z, 30s after its time (planned at the "
              "restart, within the 60s misfire grace)",
              "2026-03-12T10:20:00Z  ran at 2026-03-12T10:20:00Z (on time)",
              "2026-03-12T10:25:00Z  ran at 2026-03-12T10:25:00Z (on time)",
              "2026-03-12T10:30:00Z  ran at 2026-03-12T10:30:00Z (on time)",
              "2026-03-12T10:35:00Z  ran at 2026-03-12T10:35:00Z (on time)",
          });
    CHECK(summary_of(report) == "summary: 9 occurrences: 5 ran on time, 2 ran late, 2 skipped");
}

TEST_CASE("an outage under catch_up: the newest catch_up_limit replay, the rest are one summary", "[cli][simulate]") {
    temp_dir dir;
    const auto m = write(dir, "m.yaml", interval_manifest(300, "  misfire: catch_up\n  catch_up_limit: 2\n"));
    const auto report = report_of(around_outage(m, "2026-03-12T09:55:00Z", "2026-03-12T10:30:00Z",
                                                "2026-03-12T10:00:00Z", "2026-03-12T10:30:00Z"));
    INFO(report);
    const std::string late = " after its time (missed, run by misfire catch_up)";
    CHECK(occurrence_lines(report) ==
          std::vector<std::string>{
              "2026-03-12T09:55:00Z  ran at 2026-03-12T09:55:00Z (on time)",
              "2026-03-12T10:00:00Z  skipped: 4 occurrences from here to 2026-03-12T10:15:00Z (skipped due to "
              "catch_up_limit; one summary event in the ledger)",
              "2026-03-12T10:20:00Z  late: ran at 2026-03-12T10:30:00Z, 10m" + late,
              "2026-03-12T10:25:00Z  late: ran at 2026-03-12T10:30:00Z, 5m" + late,
              "2026-03-12T10:30:00Z  ran at 2026-03-12T10:30:00Z (on time)",
          });
    CHECK(report.find("policies: misfire catch_up (grace 60s, catch_up_limit 2)") != std::string::npos);
    CHECK(summary_of(report) == "summary: 8 occurrences: 2 ran on time, 2 ran late, 4 skipped");
}

TEST_CASE("an edit that changes the cadence takes effect at its instant, through replace", "[cli][simulate]") {
    temp_dir dir;
    simulate_request req;
    req.manifest = write(dir, "m.yaml", interval_manifest(600, "  misfire: skip\n"));
    req.edits.push_back({write(dir, "e.yaml", interval_manifest(300, "  misfire: catch_up\n")), at("2026-03-12T10:02:00Z")});
    req.from = at("2026-03-12T09:40:00Z");
    req.to = at("2026-03-12T10:20:00Z");
    const auto report = report_of(req);
    INFO(report);
    CHECK(report.find("edit at 2026-03-12T10:02:00Z: " + req.edits[0].manifest.string() +
                      " -> interval every 5m in UTC; misfire catch_up (grace 60s, catch_up_limit 100)") != std::string::npos);
    CHECK(occurrence_lines(report) == std::vector<std::string>{
                                          "2026-03-12T09:40:00Z  ran at 2026-03-12T09:40:00Z (on time)",
                                          "2026-03-12T09:50:00Z  ran at 2026-03-12T09:50:00Z (on time)",
                                          "2026-03-12T10:00:00Z  ran at 2026-03-12T10:00:00Z (on time)",
                                          "2026-03-12T10:05:00Z  ran at 2026-03-12T10:05:00Z (on time)",
                                          "2026-03-12T10:10:00Z  ran at 2026-03-12T10:10:00Z (on time)",
                                          "2026-03-12T10:15:00Z  ran at 2026-03-12T10:15:00Z (on time)",
                                          "2026-03-12T10:20:00Z  ran at 2026-03-12T10:20:00Z (on time)",
                                      });
}

TEST_CASE("long executions under queue_latest coalesce the waiting occurrences", "[cli][simulate]") {
    temp_dir dir;
    simulate_request req;
    req.manifest = write(dir, "m.yaml", interval_manifest(300, "  overlap: queue_latest\n  timeout_seconds: 3600\n"));
    req.from = at("2026-03-12T10:00:00Z");
    req.to = at("2026-03-12T10:25:00Z");
    req.work = std::chrono::minutes{12};
    const auto report = report_of(req);
    INFO(report);
    CHECK(report.find("each execution takes 12m") != std::string::npos);
    const std::string coalesced = " (superseded by newer queued occurrence)";
    CHECK(occurrence_lines(report) ==
          std::vector<std::string>{
              "2026-03-12T10:00:00Z  ran at 2026-03-12T10:00:00Z (on time)",
              "2026-03-12T10:05:00Z  coalesced into 2026-03-12T10:10:00Z" + coalesced,
              "2026-03-12T10:10:00Z  late: ran at 2026-03-12T10:12:00Z, 2m after its time (waited for a free slot: "
              "overlap queue_latest, max_concurrency 1)",
              "2026-03-12T10:15:00Z  coalesced into 2026-03-12T10:20:00Z" + coalesced,
              "2026-03-12T10:20:00Z  still running when the simulation ends (started 2026-03-12T10:24:00Z)",
              "2026-03-12T10:25:00Z  still pending when the simulation ends",
          });
}

TEST_CASE("an execution in flight when the scheduler goes down is recovered after the restart", "[cli][simulate]") {
    temp_dir dir;
    const auto m = write(dir, "m.yaml",
                         interval_manifest(3600, "  misfire: skip\n  timeout_seconds: 3600\nretry:\n  max_attempts: 2\n  initial_delay_seconds: 30\n"));
    auto req = around_outage(m, "2026-03-12T09:00:00Z", "2026-03-12T10:30:00Z", "2026-03-12T09:05:00Z",
                             "2026-03-12T09:10:00Z");
    req.work = std::chrono::minutes{10};
    const auto report = report_of(req);
    INFO(report);
    // The crashed process's lease has expired by the restart: the run fails and is retried 30 s later.
    CHECK(occurrence_lines(report) ==
          std::vector<std::string>{
              "2026-03-12T09:00:00Z  late: ran at 2026-03-12T09:10:30Z on attempt 2, 10m 30s after its time (retried "
              "after: worker lease expired during execution)",
              "2026-03-12T10:00:00Z  ran at 2026-03-12T10:00:00Z (on time)",
          });
}

TEST_CASE("bad requests name their flag", "[cli][simulate]") {
    temp_dir dir;
    const auto m = write(dir, "m.yaml", interval_manifest(300, "  misfire: skip\n"));
    auto message = [](const simulate_request& req) {
        auto r = simulate(req);
        return r ? std::string("no error") : one_line(r.error());
    };
    auto req = around_outage(m, "2026-03-12T09:00:00Z", "2026-03-12T11:00:00Z", "2026-03-12T10:30:00Z",
                             "2026-03-12T10:00:00Z");
    CHECK(message(req) == "--outage: its end must be after its start");
    req.outage = time_window{at("2026-03-12T10:00:00Z"), at("2026-03-12T12:00:00Z")};
    CHECK(message(req) == "--to: must leave the outage end 2026-03-12T12:00:00Z inside the simulation");
    req.outage.reset();
    req.from.reset();
    CHECK(message(req) == "--outage: give an --outage, an --edit, or both --from and --to");
    req.from = at("2026-03-12T09:00:00Z");
    req.edits.push_back({m, at("2026-03-12T10:30:00Z")});
    req.outage = time_window{at("2026-03-12T10:00:00Z"), at("2026-03-12T10:45:00Z")};
    CHECK(message(req) == "--edit: 2026-03-12T10:30:00Z falls inside the outage, when the API is down too");
    req.edits.clear();
    req.manifest = dir.path() / "missing.yaml";
    CHECK(message(req).rfind((dir.path() / "missing.yaml").string() + ": cannot read the file", 0) == 0);
    req.manifest = write(dir, "bad.yaml", "name: x\ntimezone: Mars/Base\nschedule: {kind: interval, every_seconds: 60}\n"
                                          "target: {kind: http, method: GET, url: https://example.com/}\n");
    CHECK(message(req) == (dir.path() / "bad.yaml").string() + ": timezone: must be a valid IANA timezone");
}

TEST_CASE("the simulate command rejects malformed flags with exit 2 and one line", "[cli][simulate]") {
    const char* bin = std::getenv("WAKEPLANE_CLI_BIN");
    if (bin == nullptr || *bin == '\0') {
        FAIL("WAKEPLANE_CLI_BIN is not set: run the suite through `meson test`");
    }
    temp_dir dir;
    const auto m = write(dir, "m.yaml", interval_manifest(300, "  misfire: skip\n")).string();
    auto run = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {bin, "simulate"});
        return wakeplane::testing::run_to_end(args);
    };
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"--outage", "2026-03-12T10:00:00Z/2026-03-12T11:00:00Z"}, "wakeplane: --file is required"},
        {{"-f", m, "--outage", "2026-03-12T10:00:00Z"}, "wakeplane: --outage: must be <from>/<to>"},
        {{"-f", m, "--outage", "yesterday/2026-03-12T11:00:00Z"}, "wakeplane: --outage: \"yesterday\" is not"},
        {{"-f", m, "--outage", "2026-03-12T11:00:00Z/2026-03-12T10:00:00Z"},
         "wakeplane: --outage: its end must be after its start"},
        {{"-f", m, "--edit", m}, "wakeplane: --edit: must be <manifest.yaml>@<RFC 3339 instant>"},
        {{"-f", m, "--edit", m + "@noon"}, "wakeplane: --edit: \"noon\" is not"},
        {{"-f", m, "--edit", m + "@2026-03-12T10:00:00Z", "--from", "2026-03-12"}, "wakeplane: --from: "},
        {{"-f", m, "--edit", m + "@2026-03-12T10:00:00Z", "--duration=-1"}, "wakeplane: --duration: "},
    };
    for (const auto& [args, start] : cases) {
        const auto f = run(args);
        INFO(f.err);
        CHECK(f.exit_code == 2);
        CHECK(f.out.empty());
        CHECK(f.err.rfind(start, 0) == 0);
        CHECK(f.err.find('\n') == f.err.size() - 1);
    }
    const auto ok = run({"-f", m, "--edit", m + "@2026-03-12T10:00:00Z", "--from", "2026-03-12T09:55:00Z", "--to",
                         "2026-03-12T10:05:00Z", "--json"});
    CHECK(ok.exit_code == 0);
    CHECK(ok.out.rfind(R"({"nominal":"2026-03-12T09:55:00Z","outcome":"ran","status":"succeeded",)", 0) == 0);
    CHECK(std::count(ok.out.begin(), ok.out.end(), '\n') == 3);
}
