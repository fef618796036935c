#include <wakeplane/ledger.hpp>

#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "../support.hpp"

using namespace wakeplane;
using namespace wakeplane::testing;

TEST_CASE("stored records round-trip losslessly", "[records]") {
    auto s = interval_schedule("sch_a", "alpha", at("2026-03-12T10:00:00.123456Z"));
    s.spec.dst = {dst_gap::shift, dst_repeated::both};
    s.target.headers = {{"A", "1"}};
    s.target.body_json = R"({"x":1})";
    s.target.args = {"a", "b"};
    s.end_at = at("2027-01-01T00:00:00Z");
    s.deleted = true;
    CHECK(decode_schedule_record(encode_schedule_record(s)).value() == s);

    auto r = pending_run(s, "run_1", at("2026-03-12T10:01:00Z"), at("2026-03-12T10:01:00.5Z"));
    r.http_status_code = 503;
    r.result_json = R"({"status":"503"})";
    r.trigger_reason = "because";
    r.fencing_token = 4;
    CHECK(decode_run_record(encode_run_record(r)).value() == r);

    receipt rc{"rcpt_1", "run_1", "stdout", "text/plain", "hi\n", true, at("2026-03-12T10:02:00Z")};
    CHECK(decode_receipt_record(encode_receipt_record(rc)).value() == rc);
    dead_letter d{"dlq_1", "run_1", "sch_a", "k", "boom", std::nullopt, at("2026-03-12T10:03:00Z")};
    CHECK(decode_dead_letter_record(encode_dead_letter_record(d)).value() == d);
}

TEST_CASE("ledger events round-trip with every payload", "[records][ledger]") {
    auto s = interval_schedule("sch_a", "alpha", at("2026-03-12T10:00:00Z"));
    ledger_event e;
    e.seq = 7;
    e.at = at("2026-03-12T10:00:01Z");
    e.kind = event_kind::run_finished;
    e.schedule = "sch_a";
    e.run = "run_1";
    e.occurrence_key = "sch_a:2026-03-12T10:00:00Z";
    e.attempt = 1;
    e.payload = run_change{pending_run(s, "run_1", e.at, e.at),
                           {receipt{"rcpt_1", "run_1", "stdout", "text/plain", "x", false, e.at}},
                           s};
    CHECK(decode_event(encode_event(e)).value() == e);  // an older ledger's whole schedule after
    // A store that has encoded the row already gets the same bytes without encoding it again.
    const auto row_record = encode_run_record(std::get<run_change>(e.payload).row);
    CHECK(encode_event(e, &row_record) == encode_event(e));
    CHECK(encode_stored_event_data(e, &row_record) == encode_event_data(e));
    e.payload = run_change{.row = pending_run(s, "run_1", e.at, e.at), .last_run_at = e.at};
    CHECK(encode_event(e, &row_record) == encode_event(e));
    CHECK(decode_event(encode_event(e)).value() == e);
    CHECK_THAT(encode_event_data(e), Catch::EndsWith(R"("receipts":[],"last_run_at":"2026-03-12T10:00:01Z"})"));
    e.payload = s;
    CHECK(decode_event(encode_event(e)).value() == e);
    e.payload = skipped_summary{40, e.at, e.at, "catch_up_limit"};
    CHECK(decode_event(encode_event(e)).value() == e);
    e.payload = next_run_change{e.at};
    CHECK(decode_event(encode_event(e)).value() == e);
    e.payload = next_run_change{std::nullopt};  // null is a value: no occurrence left
    CHECK(decode_event(encode_event(e)).value() == e);
    CHECK_THAT(encode_event_data(e), Catch::Equals(R"({"next_run_at":null})"));
    e.payload = std::monostate{};
    e.run.reset();
    CHECK(decode_event(encode_event(e)).value() == e);
    // The order of DECISIONS 28: seq, at, kind, schedule_id, run_id?, occurrence_key?, attempt?, data.
    CHECK(encode_event(e) == R"({"seq":7,"at":"2026-03-12T10:00:01Z","kind":"run_finished","schedule_id":"sch_a",)"
                             R"("occurrence_key":"sch_a:2026-03-12T10:00:00Z","attempt":1,"data":{}})");
}

namespace {

/// What a planner pass appends for one occurrence: a pending run created at the event's instant.
ledger_event fresh_materialization() {
    auto s = interval_schedule("sch_a", "alpha", at("2026-03-12T10:00:00Z"));
    ledger_event e;
    e.seq = 8;
    e.at = at("2026-03-12T10:00:01.5Z");
    e.kind = event_kind::occurrence_materialized;
    auto row = pending_run(s, "run_1", at("2026-03-12T10:00:00Z"), e.at);
    row.due_time = at("2026-03-12T10:00:07Z");  // jittered: the due time is kept apart
    e.schedule = row.schedule;
    e.run = row.id;
    e.occurrence_key = row.occurrence_key;
    e.attempt = row.attempt;
    e.payload = run_change{.row = row, .next_run = next_run_change{at("2026-03-12T10:01:00Z")}};
    return e;
}

ledger_event header_of(const ledger_event& e) {
    ledger_event h = e;
    h.payload = std::monostate{};
    return h;
}

}  // namespace

TEST_CASE("a fresh materialization is stored with its row compact and read back whole", "[records][ledger]") {
    const auto e = fresh_materialization();
    REQUIRE(is_fresh_materialization(e));
    const auto stored = encode_event(e);
    CHECK(stored == R"({"seq":8,"at":"2026-03-12T10:00:01.5Z","kind":"occurrence_materialized","schedule_id":"sch_a",)"
                    R"("run_id":"run_1","occurrence_key":"sch_a:2026-03-12T10:00:00Z","attempt":1,"data":)"
                    R"({"pending_run":{"due_time":"2026-03-12T10:00:07Z"},"next_run_at":"2026-03-12T10:01:00Z"}})");
    CHECK(decode_event(stored).value() == e);
    const auto row_record = encode_run_record(std::get<run_change>(e.payload).row);
    CHECK(encode_event(e, &row_record) == stored);  // the store's encoded row is not needed
    const auto data = encode_stored_event_data(e);
    CHECK(decode_event_data(header_of(e), data).value() == e);
    // /v1/ledger shows the whole row, which is also the form of ledgers written before; both read back.
    const auto api = encode_event_data(e);
    CHECK_THAT(api, Catch::StartsWith(R"({"run":{"id":"run_1","schedule_id":"sch_a",)"));
    CHECK(decode_event_data(header_of(e), api).value() == e);
    CHECK(data.size() * 4 < api.size());
}

TEST_CASE("a compact row names only the instants its header does not imply", "[records][ledger]") {
    auto e = fresh_materialization();
    auto& row = std::get<run_change>(e.payload).row;
    const auto compact = [&] {
        const auto data = encode_stored_event_data(e);
        CHECK(decode_event_data(header_of(e), data).value() == e);
        return data.substr(0, data.find(R"(,"next_run_at")"));
    };
    CHECK(compact() == R"({"pending_run":{"due_time":"2026-03-12T10:00:07Z"})");
    row.due_time = row.nominal_time;  // no jitter: the key names the nominal time, nothing is left
    CHECK(compact() == R"({"pending_run":{})");
    // A key that is not `<schedule>:<instant>` of the nominal time keeps the nominal time.
    for (const std::string key : {"sch_a:2026-03-12T10:00:01Z", "sch_b:2026-03-12T10:00:00Z", "sch_a",
                                  "sch_a:", "sch_a:yesterday", "manual:run_1", "sch_a-2026-03-12T10:00:00Z"}) {
        CAPTURE(key);
        auto other = e;
        auto& other_row = std::get<run_change>(other.payload).row;
        other.occurrence_key = key;
        other_row.occurrence_key = key;
        REQUIRE(is_fresh_materialization(other));
        const auto data = encode_stored_event_data(other);
        CHECK_THAT(data, Catch::StartsWith(R"({"pending_run":{"nominal_time":"2026-03-12T10:00:00Z"})"));
        CHECK(decode_event_data(header_of(other), data).value() == other);
    }
    // The same key with a fraction written otherwise still names the instant.
    row.nominal_time += std::chrono::milliseconds{500};
    row.due_time = row.nominal_time;
    e.occurrence_key = row.occurrence_key = occurrence_key(e.schedule, row.nominal_time);
    CHECK(compact() == R"({"pending_run":{})");
    // The form of versions before (SQLite schema 6 to 8, RocksDB layout 5) names both, and reads back.
    const auto both = R"({"pending_run":{"nominal_time":"2026-03-12T10:00:00.5Z","due_time":"2026-03-12T10:00:00.5Z"},)"
                      R"("next_run_at":"2026-03-12T10:01:00Z"})";
    CHECK(decode_event_data(header_of(e), both).value() == e);
}

TEST_CASE("an event whose row its header does not describe is stored whole", "[records][ledger]") {
    const auto base = fresh_materialization();
    const auto row_of = [](ledger_event& e) -> run& { return std::get<run_change>(e.payload).row; };
    const std::vector<std::pair<std::string, std::function<void(ledger_event&)>>> changes{
        {"another kind", [](ledger_event& e) { e.kind = event_kind::run_triggered; }},
        {"created before the event", [&](ledger_event& e) { row_of(e).created_at -= std::chrono::seconds{1}; }},
        {"updated after creation", [&](ledger_event& e) { row_of(e).updated_at += std::chrono::seconds{1}; }},
        {"a trigger reason", [&](ledger_event& e) { row_of(e).trigger_reason = "manual"; }},
        {"not pending", [&](ledger_event& e) { row_of(e).status = run_status::skipped; }},
        {"a second attempt", [&](ledger_event& e) { row_of(e).attempt = 2; }},
        {"another occurrence key", [&](ledger_event& e) { row_of(e).occurrence_key += "x"; }},
        {"another run id", [&](ledger_event& e) { e.run = "run_2"; }},
        {"another schedule", [&](ledger_event& e) { e.schedule = "sch_b"; }},
        {"no attempt in the header", [&](ledger_event& e) { e.attempt.reset(); }},
        {"a fencing token", [&](ledger_event& e) { row_of(e).fencing_token = 1; }},
        {"requeued attempts", [&](ledger_event& e) { row_of(e).requeued_attempts = 1; }},
        {"an error text", [&](ledger_event& e) { row_of(e).error_text = "x"; }},
        {"a receipt", [&](ledger_event& e) {
             std::get<run_change>(e.payload).receipts.push_back(receipt{"rcpt_1", "run_1", "stdout", "text/plain", "x",
                                                                        false, e.at});
         }},
        {"a last run", [&](ledger_event& e) { std::get<run_change>(e.payload).last_run_at = e.at; }},
    };
    for (const auto& [what, change] : changes) {
        CAPTURE(what);
        auto e = base;
        change(e);
        CHECK_FALSE(is_fresh_materialization(e));
        const auto stored = encode_event(e);
        CHECK_THAT(stored, Catch::Contains(R"("data":{"run":{)"));
        CHECK(decode_event(stored).value() == e);
        CHECK(encode_stored_event_data(e) == encode_event_data(e));
    }
}

TEST_CASE("a compact row without the header that completes it is corrupt", "[records][ledger]") {
    const auto e = fresh_materialization();
    const auto data = encode_stored_event_data(e);
    const auto message = [&](ledger_event header, std::string_view text) {
        auto decoded = decode_event_data(std::move(header), text);
        REQUIRE_FALSE(decoded.has_value());
        CHECK(decoded.error().code == errc::storage);
        return decoded.error().message;
    };
    auto other_kind = header_of(e);
    other_kind.kind = event_kind::run_triggered;
    CHECK_THAT(message(other_kind, data), Catch::Contains("pending_run needs an occurrence_materialized event"));
    auto no_run = header_of(e);
    no_run.run.reset();
    CHECK_THAT(message(no_run, data), Catch::Contains("run_id, occurrence_key and attempt come before its data"));
    auto unkeyed = header_of(e);
    unkeyed.occurrence_key = "manual:run_1";
    CHECK_THAT(message(unkeyed, R"({"pending_run":{"due_time":"2026-03-12T10:00:00Z"}})"),
               Catch::Contains("pending_run has no nominal_time, and its occurrence key names none"));
    const auto api = encode_event_data(e);
    const auto both = R"({"pending_run":{"nominal_time":"2026-03-12T10:00:00Z","due_time":"2026-03-12T10:00:00Z"},)" +
                      api.substr(1);
    CHECK_THAT(message(header_of(e), both), Catch::Contains("pending_run comes alone"));
    // The whole event with its data before the header it needs.
    const auto stored = encode_event(e);
    const auto data_at = stored.find(R"(,"data":)");
    REQUIRE(data_at != std::string::npos);
    const auto reordered = R"({"data":)" + stored.substr(data_at + 8, stored.size() - data_at - 9) + "," +
                           stored.substr(1, data_at - 1) + "}";
    CHECK_THAT(decode_event(reordered).error().message, Catch::Contains("come before its data"));
}

TEST_CASE("every event kind has a name that parses back", "[records][ledger]") {
    for (int k = 0; k <= static_cast<int>(event_kind::lease_recovered); ++k) {
        auto kind = static_cast<event_kind>(k);
        CHECK(parse_event_kind(to_string(kind)) == kind);
    }
    CHECK_FALSE(parse_event_kind("nope").has_value());
}

TEST_CASE("record strings escape what JSON requires", "[records]") {
    receipt rc{"rcpt_1", "run_1", "stdout", "text/plain", std::string("q\"b\\n\n\t\x01\xc3\xa9", 10), false,
               at("2026-03-12T10:02:00Z")};
    const auto text = encode_receipt_record(rc);
    CHECK(text.find(R"("body":"q\"b\\n\n\t\u0001)") != std::string::npos);
    CHECK(decode_receipt_record(text).value() == rc);
}

TEST_CASE("member names that are data are escaped, integers are written whole", "[records]") {
    // Header names are the one place a member name comes from the user: written as any string.
    auto s = interval_schedule("sch_a", "alpha", at("2026-03-12T10:00:00Z"));
    s.target.headers = {{"X-\"q\"\\", "1"}, {std::string("ctl\x01", 4), "2"}};
    const auto text = encode_schedule_record(s);
    CHECK(text.find(R"("X-\"q\"\\":"1")") != std::string::npos);
    CHECK(text.find(R"("ctl\u0001":"2")") != std::string::npos);
    CHECK(decode_schedule_record(text).value() == s);

    auto r = pending_run(s, "run_1", at("2026-03-12T10:01:00Z"), at("2026-03-12T10:01:00Z"));
    for (const std::int64_t v : {std::int64_t{0}, std::int64_t{-1}, std::numeric_limits<std::int64_t>::min(),
                                 std::numeric_limits<std::int64_t>::max()}) {
        r.fencing_token = v;
        const auto record = encode_run_record(r);
        CHECK(record.find("\"fencing_token\":" + std::to_string(v) + ",") != std::string::npos);
        CHECK(decode_run_record(record).value() == r);
    }
}

TEST_CASE("corrupt records are reported, never guessed", "[records]") {
    CHECK(decode_run_record("{").error().code == errc::storage);
    CHECK(decode_run_record(R"({"id":"x"})").error().code == errc::storage);
    CHECK(decode_event(R"({"seq":1,"at":"bad","kind":"run_finished","schedule_id":"s","data":{}})").error().code ==
          errc::storage);
}

TEST_CASE("record decoding takes members in any order and skips unknown ones", "[records]") {
    receipt rc{"rcpt_1", "run_1", "stdout", "text/plain", "hi", false, at("2026-03-12T10:02:00Z")};
    const auto reordered = R"({"created_at":"2026-03-12T10:02:00Z","truncated":false,"body":"hi",)"
                           R"("future":{"a":[1,2.5e3,null,true,{"b":"\u00e9"}]},"content_type":"text/plain",)"
                           R"("receipt_kind":"stdout","run_id":"run_1","id":"rcpt_1"})";
    CHECK(decode_receipt_record(reordered).value() == rc);
}

TEST_CASE("a member's key is matched whole, however it is written", "[records]") {
    // The decoder first compares the text with the key it expects next (the member table's
    // order); whatever else is there must still be read as written.
    receipt rc{"r", "x", "k", "c", "b", false, at("2026-03-12T10:02:00Z")};
    const std::string tail = R"("receipt_kind":"k","content_type":"c","body":"b","truncated":false,)"
                             R"("created_at":"2026-03-12T10:02:00Z"})";
    // An escaped key is the same key.
    CHECK(decode_receipt_record(R"({"i\u0064":"r","run_\u0069d":"x",)" + tail).value() == rc);
    // Keys that begin or end like the expected one are other keys, skipped as unknown.
    CHECK(decode_receipt_record(R"({"idx":"no","i":"no","id":"r","xrun_id":"no","run_id":"x",)" + tail).value() == rc);
    // Whitespace around keys and values.
    CHECK(decode_receipt_record("{ \"id\" :\t\"r\" ,\n\"run_id\"\r\n: \"x\" ," + tail).value() == rc);
    // A record cut off inside or right after the expected key is corrupt, not read past its end.
    for (const std::string_view cut : {R"({")", R"({"i)", R"({"id)", R"({"id")", R"({"id":)", R"({"id":"r",)"}) {
        CAPTURE(cut);
        CHECK(decode_receipt_record(cut).error().code == errc::storage);
    }
}

TEST_CASE("record strings unescape every JSON escape, surrogate pairs included", "[records]") {
    const auto text = R"({"id":"r","run_id":"x","receipt_kind":"k","content_type":"c",)"
                      R"("body":"a\/b\b\f\u00e9\u20ac\ud83d\ude00\"","truncated":true,"created_at":"2026-03-12T10:02:00Z"})";
    CHECK(decode_receipt_record(text).value().body == "a/b\b\f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
}

TEST_CASE("a string's quote, escape or control character is found at any offset", "[records]") {
    // The decoder scans plain bytes eight at a time; put the byte that ends the plain run at every
    // offset of the first words, after plain ASCII, DEL and UTF-8 bytes alike.
    const auto decoded_body = [](std::string_view json_body) {
        return decode_receipt_record(R"({"id":"r","run_id":"x","receipt_kind":"k","content_type":"c","body":")" +
                                     std::string(json_body) +
                                     R"(","truncated":false,"created_at":"2026-03-12T10:02:00Z"})");
    };
    for (const std::string plain : {"a", "\x7f", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"}) {
        for (std::size_t offset = 0; offset <= 24; ++offset) {
            // ASCII up to `offset`, then whole copies of `plain` (whole UTF-8 sequences only)
            std::string before(offset % 8, 'a');
            while (before.size() < offset) {
                before += plain;
            }
            CAPTURE(plain, offset);
            CHECK(decoded_body(before).value().body == before);
            CHECK(decoded_body(before + R"(\"tail)").value().body == before + "\"tail");
            CHECK(decoded_body(before + R"(\n)" + before).value().body == before + "\n" + before);
            CHECK_THAT(decoded_body(before + '\x1f' + "tail").error().message, Catch::Contains("control character"));
            CHECK_THAT(decoded_body(before + '\0' + "tail").error().message, Catch::Contains("control character"));
            CHECK_THAT(decode_receipt_record(R"({"id":")" + before).error().message, Catch::Contains("unterminated"));
        }
    }
}

TEST_CASE("a record string that is not UTF-8 is corrupt", "[records][regression]") {
    // Found by fuzz_records: the decoder passed such bytes through, and the encoder (which
    // replaces them with U+FFFD) then wrote a record that read back as another value. The
    // encoder never stores them, so a record holding them did not come from it.
    const auto decoded_kind = [](std::string_view kind) {
        return decode_receipt_record(R"({"id":"r","run_id":"x","receipt_kind":")" + std::string(kind) +
                                     R"(","content_type":"c","body":"b","truncated":false,)"
                                     R"("created_at":"2026-03-12T10:02:00Z"})");
    };
    for (const std::string bad : {"\x80", "\xff", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                  "\xe2\x82", "\xf0\x9f\x98"}) {
        for (const std::string& around : {std::string{}, std::string("stdout-and-more-"), std::string("x\\n")}) {
            CAPTURE(bad, around);
            CHECK_THAT(decoded_kind(around + bad).error().message, Catch::Contains("invalid UTF-8"));
            CHECK_THAT(decoded_kind(bad + around).error().message, Catch::Contains("invalid UTF-8"));
        }
    }
    CHECK(decoded_kind("\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf").has_value());
    // The fuzzer's input: a receipt kind of "\x80\xff\xff\xff\xff\xff\xff\xe8stdout".
    CHECK_THAT(decoded_kind("\x80\xff\xff\xff\xff\xff\xff\xe8stdout").error().message,
               Catch::Contains("invalid UTF-8"));
}

TEST_CASE("a corrupt record names the member and the problem", "[records]") {
    const auto message = [](std::string_view text) { return decode_receipt_record(text).error().message; };
    const std::string ok_tail = R"("content_type":"c","body":"b","truncated":false,"created_at":"2026-03-12T10:02:00Z"})";
    CHECK_THAT(message(R"({"id":"r","run_id":"x",)" + ok_tail),
               Catch::Contains("receipt record is corrupt") && Catch::Contains("receipt.receipt_kind is missing"));
    CHECK_THAT(message(R"({"id":"r","run_id":"x","receipt_kind":7,)" + ok_tail),
               Catch::Contains("receipt.receipt_kind"));
    CHECK_THAT(message(R"({"id":"r","run_id":"x","receipt_kind":"k","content_type":"c","body":"b",)"
                       R"("truncated":false,"created_at":"2026-13-12T10:02:00Z"})"),
               Catch::Contains("receipt.created_at") && Catch::Contains("month out of range"));
    CHECK_THAT(message(R"({"id":"r","run_id":"x","receipt_kind":"k",)" + ok_tail + " {}"),
               Catch::Contains("unexpected text after the value"));
    CHECK_THAT(message(R"({"id":"r\ud800","run_id":"x","receipt_kind":"k",)" + ok_tail),
               Catch::Contains("surrogate"));
    CHECK_THAT(message(std::string(R"({"id":"a)") + '\x01' + R"(","run_id":"x","receipt_kind":"k",)" + ok_tail),
               Catch::Contains("control character"));
    CHECK_THAT(message(R"({"extra":)" + std::string(200, '[') + std::string(200, ']') + "}"),
               Catch::Contains("nested too deeply"));
    auto run_text = encode_run_record(run{});
    const auto at_attempt = run_text.find(R"("attempt":1)");
    REQUIRE(at_attempt != std::string::npos);
    run_text.replace(at_attempt, 11, R"("attempt":1.5)");
    CHECK_THAT(decode_run_record(run_text).error().message, Catch::Contains("run.attempt"));
}
