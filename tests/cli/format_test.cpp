// The CLI's output: format choice, JSON, YAML, tables and text helpers.
#include "output.hpp"

#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include "table.hpp"
#include "text.hpp"
#include "views.hpp"
#include "yaml_text.hpp"

using namespace wakeplane::cli;

TEST_CASE("without -o the format follows the terminal", "[cli][output]") {
    CHECK(choose_format(std::nullopt, true).value() == output_format::table);
    CHECK(choose_format(std::nullopt, false).value() == output_format::json);
    CHECK(choose_format(std::string("yaml"), true).value() == output_format::yaml);
    CHECK(choose_format(std::string("json"), true).value() == output_format::json);
    CHECK(choose_format(std::string("table"), false).value() == output_format::table);
    const auto bad = choose_format(std::string("xml"), true);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == exit_code::usage);
}

TEST_CASE("JSON output keeps the server's key order and indents by two spaces", "[cli][output]") {
    const auto doc = json::parse(R"({"id":"sch_1","name":"a","enabled":true,"schedule":{"kind":"cron"}})");
    CHECK(to_json_text(doc) == "{\n  \"id\": \"sch_1\",\n  \"name\": \"a\",\n  \"enabled\": true,\n"
                               "  \"schedule\": {\n    \"kind\": \"cron\"\n  }\n}\n");
    CHECK(to_json_line(doc) == R"({"id":"sch_1","name":"a","enabled":true,"schedule":{"kind":"cron"}})"
                               "\n");
}

TEST_CASE("JSON output replaces invalid UTF-8 instead of failing", "[cli][output]") {
    const json doc = {{"body", std::string("a\xff")}};
    CHECK(to_json_line(doc) == "{\"body\":\"a\xEF\xBF\xBD\"}\n");
}

TEST_CASE("YAML output reads back with the JSON types", "[cli][output][yaml]") {
    const auto doc = json::parse(R"({"name":"123","flag":"yes","on":"off","empty":"","null_text":"null",
        "time":"2026-03-12T10:00:00Z","expr":"0 3 * * *","n":42,"x":0.5,"ok":false,"none":null,
        "args":[],"headers":{},"list":["a",1],"nested":{"k":"v: w"}})");
    const auto text = to_yaml_text(doc);
    const auto back = YAML::Load(text);
    CHECK(back["name"].Tag() == "!");  // quoted: a string, not the number 123
    CHECK(back["name"].as<std::string>() == "123");
    CHECK(back["flag"].Tag() == "!");
    CHECK(back["on"].as<std::string>() == "off");
    CHECK(back["empty"].as<std::string>() == "");
    CHECK(back["null_text"].as<std::string>() == "null");
    CHECK(back["time"].Tag() == "!");
    CHECK(back["expr"].as<std::string>() == "0 3 * * *");
    CHECK(back["n"].Tag() == "?");  // plain: resolves to a number
    CHECK(back["n"].as<int>() == 42);
    CHECK(back["x"].as<double>() == 0.5);
    CHECK_FALSE(back["ok"].as<bool>());
    CHECK(back["none"].IsNull());
    CHECK(back["args"].IsSequence());
    CHECK(back["args"].size() == 0);
    CHECK(back["headers"].IsMap());
    CHECK(back["list"][1].as<int>() == 1);
    CHECK(back["nested"]["k"].as<std::string>() == "v: w");
    CHECK(text.find("args: []") != std::string::npos);
    CHECK(text.find("headers: {}") != std::string::npos);
    CHECK(text.rfind("name:", 0) == 0);  // key order kept
}

TEST_CASE("text helpers count characters, not bytes", "[cli][text]") {
    CHECK(display_width("caf\xC3\xA9") == 4);
    CHECK(truncate_chars("abcdef", 4) == "abc\xE2\x80\xA6");
    CHECK(truncate_chars("abc", 3) == "abc");
    CHECK(truncate_chars("\xC3\xA9\xC3\xA9\xC3\xA9", 2) == "\xC3\xA9\xE2\x80\xA6");
    CHECK(escape_controls("a\nb\tc\x1b[31m") == "a\\nb\\tc?[31m");
}

TEST_CASE("tables align columns on characters and drop trailing spaces", "[cli][table]") {
    text_table t{{"ID", "NAME", "NOTE"}, {{"sch_1", "caf\xC3\xA9", ""}, {"sch_22", "b", "x\ny"}}};
    CHECK(render_table(t) == "ID      NAME  NOTE\n"
                             "sch_1   caf\xC3\xA9\n"
                             "sch_22  b     x\\ny\n");
}

TEST_CASE("long cells are shortened with an ellipsis", "[cli][table]") {
    text_table t{{}, {{std::string(70, 'a')}}, 10};
    CHECK(render_table(t) == std::string(9, 'a') + "\xE2\x80\xA6\n");
}

TEST_CASE("the schedule list table shows the cadence and a paging hint", "[cli][views]") {
    const auto doc = json::parse(R"({"items":[
        {"id":"sch_1","name":"backup","enabled":true,"timezone":"America/New_York",
         "schedule":{"kind":"cron","expr":"0 3 * * *"},"target_kind":"shell","paused_at":null,
         "next_run_at":"2026-03-13T07:00:00Z","last_run_at":null},
        {"id":"sch_2","name":"probe","enabled":false,"timezone":"UTC",
         "schedule":{"kind":"interval","every_seconds":300},"target_kind":"http","paused_at":"2026-03-12T10:00:00Z",
         "next_run_at":null,"last_run_at":null}],"next_cursor":"abc"})");
    const auto text = render_view(view::schedules, doc);
    CHECK(text ==
          "ID     NAME    ENABLED  CADENCE         TIMEZONE          TARGET  NEXT RUN              LAST RUN\n"
          "sch_1  backup  true     cron 0 3 * * *  America/New_York  shell   2026-03-13T07:00:00Z  -\n"
          "sch_2  probe   false    every 300s      UTC               http    -                     -\n"
          "(more rows: --cursor abc, or --all)\n");
}

TEST_CASE("an empty or null list prints only the header", "[cli][views]") {
    CHECK(render_view(view::runs, json::parse(R"({"items":null,"next_cursor":null})")) ==
          "ID  SCHEDULE  STATUS  ATTEMPT  STARTED  FINISHED  OCCURRENCE\n");
    CHECK(render_view(view::dead_letters, json::parse(R"({"items":[],"next_cursor":null})")) ==
          "ID  RUN  SCHEDULE  CREATED  REASON\n");
}

TEST_CASE("a single object prints as dotted field lines", "[cli][views]") {
    const auto doc = json::parse(R"({"id":"run_1","status":"succeeded","exit_code":0,
        "result_json":{"args":["--full","-v"],"command":"/bin/backup"},"error_text":null,
        "receipts":[{"receipt_kind":"stdout","body":"done\n"}],"headers":{}})");
    CHECK(render_view(view::object, doc) == "id                        run_1\n"
                                            "status                    succeeded\n"
                                            "exit_code                 0\n"
                                            "result_json.args          --full, -v\n"
                                            "result_json.command       /bin/backup\n"
                                            "error_text                -\n"
                                            "receipts[0].receipt_kind  stdout\n"
                                            "receipts[0].body          done\\n\n"
                                            "headers                   {}\n");
}

TEST_CASE("receipts print their bodies whole, indented", "[cli][views]") {
    const auto doc = json::parse(R"({"items":[
        {"id":"rcpt_1","run_id":"run_1","receipt_kind":"stdout","content_type":"text/plain","body":"line 1\nline 2\n"},
        {"id":"rcpt_2","run_id":"run_1","receipt_kind":"stderr","content_type":"text/plain","body":"","truncated":true}],
        "next_cursor":null})");
    CHECK(render_view(view::receipts, doc) == "== stdout text/plain, 14 bytes (rcpt_1)\n"
                                              "  line 1\n"
                                              "  line 2\n"
                                              "== stderr text/plain, 0 bytes (truncated) (rcpt_2)\n");
}

TEST_CASE("ledger lines have fixed columns so followed batches line up", "[cli][views]") {
    const auto items = json::parse(R"([{"seq":7,"at":"2026-03-12T10:00:00Z","kind":"run.succeeded",
        "schedule_id":"sch_1","run_id":"run_1","attempt":1,"data":{"exit_code":0}}])");
    CHECK(ledger_header() == "     SEQ  AT                           KIND\n");
    CHECK(ledger_lines(items) == "       7  2026-03-12T10:00:00Z         run.succeeded           schedule_id=sch_1  "
                                 "run_id=run_1  attempt=1  {\"exit_code\":0}\n");
}

TEST_CASE("preview instants print one per line", "[cli][views]") {
    const auto doc = json::parse(R"({"items":["2026-03-13T07:00:00Z","2026-03-14T07:00:00Z"]})");
    CHECK(render_view(view::instants, doc) == "2026-03-13T07:00:00Z\n2026-03-14T07:00:00Z\n");
    CHECK(render(output_format::json, view::instants, doc) ==
          "{\n  \"items\": [\n    \"2026-03-13T07:00:00Z\",\n    \"2026-03-14T07:00:00Z\"\n  ]\n}\n");
}
