// The RocksDB store beyond the conformance suite: key encodings, the write-once ledger, index
// hygiene against the reference store, reopen, open failures and concurrent readers.
#include <wakeplane/stores/rocksdb.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <rocksdb/db.h>

#include <wakeplane/stores/memory.hpp>

#include "../../stores/rocksdb/keys.hpp"
#include "../support.hpp"
#include "fixtures.hpp"
#include "plans.hpp"

using namespace wakeplane;
using namespace wakeplane::testing;
using namespace std::chrono_literals;
namespace layout = wakeplane::stores::rocksdb_layout;

namespace {

const time_point t0 = at("2026-03-12T10:00:00Z");

/// A closed store's directory opened with RocksDB directly, to read keys or to write them as
/// another layout would have. RocksDB opens a database only with every column family it has:
/// this opens those it lists, or the default one of a new database.
struct raw_database {
    explicit raw_database(const std::filesystem::path& dir, bool read_only = false) {
        rocksdb::Options options;
        options.create_if_missing = !read_only;
        std::vector<std::string> names;
        if (!rocksdb::DB::ListColumnFamilies(options, dir.string(), &names).ok()) {
            names = {rocksdb::kDefaultColumnFamilyName};
        }
        std::vector<rocksdb::ColumnFamilyDescriptor> families;
        for (const auto& name : names) {
            families.emplace_back(name, rocksdb::ColumnFamilyOptions{});
        }
        rocksdb::DB* raw = nullptr;
        auto st = read_only ? rocksdb::DB::OpenForReadOnly(options, dir.string(), families, &handles, &raw)
                            : rocksdb::DB::Open(options, dir.string(), families, &handles, &raw);
        REQUIRE(st.ok());
        db.reset(raw);
    }
    raw_database(const raw_database&) = delete;
    raw_database& operator=(const raw_database&) = delete;
    ~raw_database() {
        for (auto* h : handles) {
            db->DestroyColumnFamilyHandle(h);
        }
    }
    rocksdb::DB* operator->() const { return db.get(); }
    /// The family named `name`; nullptr when the database has none.
    [[nodiscard]] rocksdb::ColumnFamilyHandle* family(std::string_view name) const {
        auto it = std::find_if(handles.begin(), handles.end(), [&](auto* h) { return h->GetName() == name; });
        return it == handles.end() ? nullptr : *it;
    }
    [[nodiscard]] rocksdb::ColumnFamilyHandle* ledger() const { return family(layout::ledger_family); }
    /// Creates the family `name`; closed with the database.
    rocksdb::ColumnFamilyHandle* create_family(std::string_view name) {
        rocksdb::ColumnFamilyHandle* created = nullptr;
        REQUIRE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions{}, std::string(name), &created).ok());
        handles.push_back(created);
        return created;
    }
    /// Creates the ledger family, as a store of the current layout has it.
    rocksdb::ColumnFamilyHandle* create_ledger() { return create_family(layout::ledger_family); }
    /// Every key of family `f` with its value, in key order.
    [[nodiscard]] std::vector<std::pair<std::string, std::string>> entries(rocksdb::ColumnFamilyHandle* f) const {
        std::unique_ptr<rocksdb::Iterator> it{db->NewIterator(rocksdb::ReadOptions{}, f)};
        std::vector<std::pair<std::string, std::string>> out;
        for (it->SeekToFirst(); it->Valid(); it->Next()) {
            out.emplace_back(it->key().ToString(), it->value().ToString());
        }
        REQUIRE(it->status().ok());
        return out;
    }

    std::unique_ptr<rocksdb::DB> db;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;  // closed before db
};

/// The number of keys of each tag in a closed store's directory, in all its column families,
/// read with RocksDB directly.
std::map<char, std::size_t> keys_by_tag(const std::filesystem::path& dir) {
    raw_database db{dir, true};
    std::map<char, std::size_t> out;
    for (auto* family : db.handles) {
        for (const auto& [key, value] : db.entries(family)) {
            ++out[key[0]];
        }
    }
    return out;
}

/// Turns a closed store of the current layout into one of layout 3: the ledger back in the
/// default family, the ledger family dropped, the layout key 3.
void to_layout_3(const std::filesystem::path& dir) {
    raw_database db{dir};
    REQUIRE(db.ledger() != nullptr);
    rocksdb::WriteBatch writes;
    for (const auto& [key, value] : db.entries(db.ledger())) {
        REQUIRE(writes.Put(key, value).ok());
    }
    REQUIRE(writes.Put(std::string(layout::layout_key), std::string(layout::layout_version_3)).ok());
    REQUIRE(db->Write(rocksdb::WriteOptions{}, &writes).ok());
    REQUIRE(db->DropColumnFamily(db.ledger()).ok());
}

/// Checks a closed store's layout: the layout key says the current one, every ledger key is in
/// the ledger family, and the schedule times are as layout 3 made them: every times value
/// (`t`, and the due entries' values) has a record version, and every due entry's value is
/// its schedule's `t` value, which the planner's moves rely on (the due memo).
void check_current_layout(const std::filesystem::path& dir) {
    raw_database db{dir, true};
    std::string version;
    REQUIRE(db->Get(rocksdb::ReadOptions{}, std::string(layout::layout_key), &version).ok());
    CHECK(version == layout::layout_version);
    REQUIRE(db.ledger() != nullptr);
    for (const auto& [key, value] : db.entries(db.ledger())) {
        CHECK(key[0] == layout::tag::ledger);
    }
    std::map<std::string, std::string> times_of;  // schedule id → its t value
    std::vector<std::pair<std::string, std::string>> due;  // (schedule id, due value)
    std::unique_ptr<rocksdb::Iterator> it{db->NewIterator(rocksdb::ReadOptions{})};
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
        const std::string key = it->key().ToString();
        CHECK(key[0] != layout::tag::ledger);
        if (key[0] != layout::tag::schedule_times && key[0] != layout::tag::due) {
            continue;
        }
        auto times = layout::decode_times(it->value().ToString());
        REQUIRE(times.has_value());
        CHECK(times->record_version != 0);
        if (key[0] == layout::tag::schedule_times) {
            times_of[key.substr(1)] = it->value().ToString();
        } else {
            due.emplace_back(key.substr(1 + layout::fixed_width), it->value().ToString());
        }
    }
    REQUIRE(it->status().ok());
    for (const auto& [id, value] : due) {
        CHECK(times_of.at(id) == value);
    }
}

/// Writes one key into the default family of the database at `dir` (created when missing).
void raw_put(const std::filesystem::path& dir, std::string_view key, std::string_view value) {
    raw_database db{dir};
    REQUIRE(db->Put(rocksdb::WriteOptions{}, rocksdb::Slice{key.data(), key.size()},
                    rocksdb::Slice{value.data(), value.size()})
                .ok());
}

std::string key_of(auto&& write) {
    std::string k;
    write(layout::key_writer{k, 'z'});
    return k;
}

/// Schedules of the three kinds a layout migration must carry over: due (with a last run),
/// paused and deleted, in this order, as read back; the store is closed afterwards.
std::vector<schedule> due_paused_and_deleted(rocksdb_fixture& fx) {
    auto a = interval_schedule("sch_a", "alpha", t0);
    a.last_run_at = t0 - 1h;
    auto paused = interval_schedule("sch_p", "paused", t0 + 5s);
    paused.enabled = false;
    paused.paused_at = t0;
    REQUIRE(fx->create_schedule(a).has_value());
    REQUIRE(fx->create_schedule(paused).has_value());
    REQUIRE(fx->create_schedule(interval_schedule("sch_d", "deleted", t0)).has_value());
    REQUIRE(fx->delete_schedule("sch_d", t0).has_value());
    std::vector<schedule> out{fx->get_schedule("sch_a").value().value(), fx->get_schedule("sch_p").value().value(),
                              fx->get_schedule("sch_d").value().value()};
    fx.close();
    return out;
}

/// After a migration of due_paused_and_deleted()'s store: every schedule reads as before, the
/// due one alone is due, and the moves work on it (the paused and the deleted one refuse them).
/// Leaves sch_a moved to t0 + 60s, its last run at t0.
void check_migrated(stores::rocksdb_store& s, const std::vector<schedule>& before) {
    for (const auto& sc : before) {
        CHECK(s.get_schedule(sc.id).value() == sc);
    }
    // The ledger of the three creations and the deletion, moved into its family.
    const auto events = s.read_ledger(ledger_query{0, 10, std::nullopt, std::nullopt}).value();
    REQUIRE(events.size() == 4);
    CHECK(events.back().kind == event_kind::schedule_deleted);
    CHECK(s.read_ledger(ledger_query{0, 10, std::string("sch_d"), std::nullopt}).value().size() == 2);
    CHECK(s.due_schedules(t0, 10).value() == std::vector{before[0]});
    auto tx = s.backend().begin();
    REQUIRE(tx.has_value());
    CHECK(tx->move_next_run_at("sch_a", t0, t0 + 60s).value());
    CHECK_FALSE(tx->move_next_run_at("sch_p", t0 + 5s, t0 + 60s).value());
    CHECK_FALSE(tx->move_next_run_at("sch_d", t0, t0 + 60s).value());
    CHECK(tx->advance_last_run_at("sch_a", t0).value());
    REQUIRE(tx->commit().has_value());
    auto moved = before[0];
    moved.next_run_at = t0 + 60s;
    moved.last_run_at = t0;
    CHECK(s.get_schedule("sch_a").value() == moved);
}

auto always(overlap_action a) {
    return [a](overlap_state) noexcept { return a; };
}

// ---- a seeded script of operations, applied to two stores side by side --------------------

/// One randomly chosen operation with all its parameters, so that both stores get the same.
struct operation {
    int kind = 0;
    std::string schedule;     ///< the schedule it acts on
    std::string run;          ///< the run it acts on
    std::int64_t amount = 0;  ///< seconds, or a choice among variants
    std::string fresh_id;     ///< id of a row the operation creates
};

/// Applies `op` at `now` and describes the outcome as text, so that two stores can be compared
/// step by step: the same script must give the same answers.
template <class Store>
std::string apply(Store& s, const operation& op, time_point now) {
    auto describe = [](const auto& r, auto&& what) -> std::string {
        return r ? what(*r) : "error " + std::to_string(static_cast<int>(r.error().code));
    };
    auto schedule_text = [](const schedule& x) { return encode_schedule_record(x); };
    auto run_text = [](const run& x) { return encode_run_record(x); };
    const std::string& sid = op.schedule;
    const std::string& rid = op.run;
    auto current_run = [&]() -> std::optional<run> {
        auto r = s.get_run(rid);
        return r ? *r : std::nullopt;
    };
    switch (op.kind) {
    case 0: {  // create; names repeat on purpose, to hit the unique-name rule
        auto sc = interval_schedule(op.fresh_id, "name-" + std::to_string(op.amount % 5), now);
        sc.next_run_at = now + std::chrono::seconds{op.amount};
        sc.enabled = op.amount % 3 != 0;
        if (!sc.enabled) {
            sc.paused_at = now;
        }
        return describe(s.create_schedule(sc), schedule_text);
    }
    case 1: {  // edit: rename, move next_run_at, toggle enabled
        auto cur = s.get_schedule(sid);
        if (!cur || !*cur) {
            return "no schedule";
        }
        schedule next = **cur;
        next.name = "name-" + std::to_string(op.amount % 5);
        next.next_run_at = now + std::chrono::seconds{op.amount};
        next.enabled = !next.enabled;
        next.paused_at = next.enabled ? std::nullopt : std::optional<time_point>{now};
        next.updated_at = now;
        return describe(s.update_schedule(next), schedule_text);
    }
    case 2:
        return describe(s.pause_schedule(sid, now), schedule_text);
    case 3:
        return describe(s.resume_schedule(sid, now, now + 5s), schedule_text);
    case 4:
        return describe(s.delete_schedule(sid, now), schedule_text);
    case 5: {  // one planner pass for one schedule
        auto cur = s.get_schedule(sid);
        if (!cur || !*cur || !(*cur)->next_run_at) {
            return "nothing to plan";
        }
        schedule_plan p;
        p.schedule = sid;
        p.expected_next_run_at = (*cur)->next_run_at;
        p.next_run_at = *(*cur)->next_run_at + std::chrono::seconds{10 + op.amount};
        p.runs.push_back(pending_run(**cur, op.fresh_id, *(*cur)->next_run_at, now));
        auto out = s.apply_plan(std::vector{p}, now);
        return describe(out, [](const plan_outcome& o) {
            return std::to_string(o.materialized) + "/" + std::to_string(o.duplicates) + "/" + std::to_string(o.stale);
        });
    }
    case 6: {  // manual trigger
        auto cur = s.get_schedule(sid);
        if (!cur || !*cur) {
            return "no schedule";
        }
        run r = pending_run(**cur, op.fresh_id, now, now);
        r.occurrence_key = manual_occurrence_key(op.fresh_id);
        return describe(s.trigger(r), run_text);
    }
    case 7: {  // claim, mostly; sometimes another overlap decision
        static constexpr std::array actions{overlap_action::claim, overlap_action::claim, overlap_action::wait,
                                            overlap_action::supersede, overlap_action::cancel_active};
        auto c = s.claim_run(rid, "worker", now, std::chrono::seconds{5 + op.amount},
                             always(actions[static_cast<std::size_t>(op.amount) % actions.size()]));
        return describe(c, [&](const claim_outcome& o) {
            std::string text = std::to_string(static_cast<int>(o.action));
            for (const auto& id : o.cancel) {
                text += " " + id;
            }
            return o.claimed ? text + " " + run_text(*o.claimed) : text;
        });
    }
    case 8: {  // start with the current token
        auto r = current_run();
        return r ? describe(s.start_run(rid, r->fencing_token, now), run_text) : "no run";
    }
    case 9: {  // renew with the current token, or a stale one
        auto r = current_run();
        return r ? describe(s.renew_lease(rid, r->fencing_token - (op.amount % 4 == 0 ? 1 : 0), now,
                                          now + std::chrono::seconds{op.amount}),
                            run_text)
                 : "no run";
    }
    case 10: {  // finish: success, retry, dead letter or requeue
        auto r = current_run();
        if (!r) {
            return "no run";
        }
        finish_request f;
        f.run = rid;
        f.fencing_token = r->fencing_token;
        f.at = now;
        f.new_run_id = op.fresh_id;
        f.dead_letter_id = "dlq_" + op.fresh_id;
        switch (op.amount % 4) {
        case 0:
            f.outcome = run_status::succeeded;
            f.receipts.push_back(receipt{"rcpt_" + op.fresh_id, rid, "stdout", "text/plain", "ok", false, now});
            break;
        case 1:
            f.outcome = run_status::failed;
            f.error_text = "boom";
            f.retry_delay = std::chrono::seconds{op.amount};
            break;
        case 2:
            f.outcome = run_status::failed;
            f.error_text = "fatal";
            break;
        default:
            f.outcome = run_status::cancelled;
            f.requeue = true;
            break;
        }
        return describe(s.finish_run(f), run_text);
    }
    case 11:
        return describe(s.cancel_waiting_run(rid, now, "operator"), run_text);
    default: {  // lease recovery, retrying odd attempts
        auto retry_for = [](const schedule&, std::int64_t attempt) {
            return attempt % 2 == 1 ? std::optional<duration>{7s} : std::nullopt;
        };
        auto ids = [&, n = 0](auto) mutable { return op.fresh_id + "_" + std::to_string(++n); };
        return describe(s.recover_expired(now, 1000, retry_for, ids), [](std::size_t n) { return std::to_string(n); });
    }
    }
}

/// The runs whose status an operation of `kind` can act on, from the reference store.
std::vector<std::string> suited_runs(stores::memory_store& s, int kind, time_point now) {
    std::vector<run_status> statuses;
    switch (kind) {
    case 7:
        statuses = {run_status::pending, run_status::retry_scheduled};
        break;
    case 8:
        statuses = {run_status::claimed};
        break;
    case 9:
    case 10:
        statuses = {run_status::claimed, run_status::running};
        break;
    case 11:
        statuses = {run_status::pending, run_status::retry_scheduled, run_status::claimed};
        break;
    default:
        break;
    }
    std::vector<std::string> out;
    for (auto status : statuses) {
        const auto listed = s.list_runs(run_filter{std::nullopt, status}, page_request{std::nullopt, 100000}).value();
        for (const auto& r : listed.items) {
            if (kind != 7 || is_eligible(r, now)) {
                out.push_back(r.id);
            }
        }
    }
    return out;
}

/// Everything a store answers about its state at `now`, as comparable text.
template <class Store>
std::vector<std::string> observe(Store& s, time_point now, const std::vector<std::string>& schedules,
                                 const std::vector<std::string>& runs) {
    std::vector<std::string> out;
    auto ids = [](const auto& rows) {
        std::string text;
        for (const auto& r : rows) {
            text += r.id + " ";
        }
        return text;
    };
    auto instant = [](const std::optional<time_point>& t) { return t ? format_rfc3339(*t) : std::string("none"); };
    out.push_back("due " + ids(s.due_schedules(now, 1000).value()));
    out.push_back("due limited " + ids(s.due_schedules(now, 2).value()));
    out.push_back("next due " + instant(s.next_due_at().value()));
    out.push_back("eligible " + ids(s.eligible_runs(now, 1000).value()));
    out.push_back("next eligible " + instant(s.next_eligible_at().value()));
    out.push_back("expired " + ids(s.expired_leases(now, 1000).value()));
    out.push_back("next expiry " + instant(s.next_lease_expiry().value()));
    auto c = s.counts(now).value();
    std::string counts = "counts";
    for (auto n : {c.schedules, c.schedules_enabled, c.runs, c.runs_due, c.dead_letters, c.leases_active,
                   c.claimed_but_expired, c.last_seq}) {
        counts += " " + std::to_string(n);
    }
    for (auto n : c.by_status) {
        counts += " " + std::to_string(n);
    }
    out.push_back(counts);
    // Every listing, walked in small pages so that cursors are exercised too.
    auto walk = [&](auto&& list) {
        std::string text;
        std::optional<page_cursor> cursor;
        do {
            auto p = list(page_request{cursor, 3}).value();
            text += ids(p.items) + "| ";
            cursor = p.next;
        } while (cursor);
        return text;
    };
    for (std::optional<bool> enabled : {std::optional<bool>{}, std::optional<bool>{true}, std::optional<bool>{false}}) {
        for (bool deleted : {false, true}) {
            out.push_back("schedules " + walk([&](const page_request& p) {
                              return s.list_schedules(schedule_filter{enabled, deleted}, p);
                          }));
        }
    }
    std::vector<std::optional<std::string>> scopes{std::nullopt};
    scopes.insert(scopes.end(), schedules.begin(), schedules.end());
    for (const auto& scope : scopes) {
        out.push_back("letters " + walk([&](const page_request& p) {
                          return s.list_dead_letters(dead_letter_filter{scope}, p);
                      }));
        std::vector<std::optional<run_status>> statuses{std::nullopt};
        for (int st = 0; st < 9; ++st) {
            statuses.emplace_back(static_cast<run_status>(st));
        }
        for (const auto& status : statuses) {
            out.push_back("runs " + walk([&](const page_request& p) { return s.list_runs(run_filter{scope, status}, p); }));
        }
        out.push_back("ledger " + std::to_string(s.read_ledger(ledger_query{3, 100000, scope, std::nullopt}).value().size()));
    }
    for (const auto& id : runs) {
        auto row = s.get_run(id).value();
        out.push_back(row ? encode_run_record(*row) : "no " + id);
        out.push_back("receipts " + ids(s.list_receipts(id).value()));
        out.push_back("ledger " + std::to_string(s.read_ledger(ledger_query{0, 100000, std::nullopt, id}).value().size()));
    }
    for (const auto& id : schedules) {
        auto row = s.get_schedule(id).value();
        out.push_back(row ? encode_schedule_record(*row) : "no " + id);
    }
    return out;
}

}  // namespace

TEST_CASE("rocksdb: key encodings keep the order of the values", "[store][rocksdb][layout]") {
    std::vector<time_point> instants{from_unix_micros(std::numeric_limits<std::int64_t>::min()),
                                     from_unix_micros(-86'400'000'000), from_unix_micros(-1), from_unix_micros(0),
                                     from_unix_micros(1), t0, t0 + 1us, from_unix_micros(std::numeric_limits<std::int64_t>::max())};
    std::vector<std::string> keys;
    for (auto t : instants) {
        keys.push_back(key_of([&](auto&& w) { w.instant(t).raw("id"); }));
        CHECK(layout::read_instant(std::string_view{keys.back()}.substr(1)) == t);
    }
    CHECK(std::is_sorted(keys.begin(), keys.end()));
    CHECK(std::adjacent_find(keys.begin(), keys.end()) == keys.end());

    // Escaped text sorts as the text does, and no component is a prefix of another.
    std::vector<std::string> texts{"", std::string("\0", 1), std::string("\0\0", 2), "a", std::string("a\0", 2),
                                   std::string("a\0b", 3), "ab", "b", "\xFF"};
    REQUIRE(std::is_sorted(texts.begin(), texts.end()));
    keys.clear();
    for (const auto& t : texts) {
        keys.push_back(key_of([&](auto&& w) { w.escaped(t).raw("\xFF\xFF"); }));
    }
    CHECK(std::is_sorted(keys.begin(), keys.end()));
    const auto a = key_of([](auto&& w) { w.escaped("a"); });
    const auto ab = key_of([](auto&& w) { w.escaped("ab"); });
    CHECK_FALSE(ab.starts_with(a));

    keys.clear();
    for (std::int64_t v : {std::int64_t{-5}, std::int64_t{0}, std::int64_t{1}, std::int64_t{2}, std::int64_t{300}}) {
        keys.push_back(key_of([&](auto&& w) { w.signed64(v); }));
    }
    CHECK(std::is_sorted(keys.begin(), keys.end()));
    const auto seq = key_of([](auto&& w) { w.seq(258); });
    CHECK(seq == std::string("z\0\0\0\0\0\0\x01\x02", 9));
    CHECK(layout::read_seq(std::string_view{seq}.substr(1)) == 258);

    CHECK(layout::prefix_end("a\xFF") == "b");
    CHECK(layout::prefix_end("ab") == "ac");
    CHECK(layout::prefix_end("\xFF\xFF").empty());

    std::set<char> codes;
    for (int st = 0; st < 9; ++st) {
        const auto status = static_cast<run_status>(st);
        codes.insert(layout::status_code(status));
        CHECK(layout::status_of_code(layout::status_code(status)) == status);
    }
    CHECK(codes.size() == 9);
    CHECK_FALSE(layout::status_of_code('?').has_value());
}

TEST_CASE("rocksdb: a ledger key is written once and never overwritten", "[store][rocksdb][ledger]") {
    rocksdb_fixture fx;
    auto sc = interval_schedule("sch_a", "alpha", t0);
    REQUIRE(fx->create_schedule(sc).has_value());
    const auto original = fx->read_ledger(ledger_query{0, 10, std::nullopt, std::nullopt}).value();
    REQUIRE(original.size() == 1);

    auto& backend = fx->backend();
    ledger_event forged = original[0];
    forged.kind = event_kind::schedule_deleted;
    forged.at = t0 + 1h;
    {
        auto tx = backend.begin();
        REQUIRE(tx.has_value());
        auto again = tx->append(forged);  // seq 1 again
        REQUIRE_FALSE(again.has_value());
        CHECK(again.error().code == errc::storage);
        CHECK_THAT(again.error().message, Catch::Contains("exists already"));
        forged.seq = 3;  // a gap
        auto gap = tx->append(forged);
        REQUIRE_FALSE(gap.has_value());
        CHECK_THAT(gap.error().message, Catch::Contains("not the next one"));
        forged.seq = 0;
        CHECK(tx->append(forged).error().code == errc::storage);
        REQUIRE(tx->commit().has_value());  // nothing was written, and nothing is
    }
    CHECK(fx.reopen().read_ledger(ledger_query{0, 10, std::nullopt, std::nullopt}).value() == original);

    // Inside one transaction, an entry appended earlier is protected just the same.
    forged.seq = 2;
    auto tx = fx->backend().begin();
    REQUIRE(tx.has_value());
    REQUIRE(tx->append(forged).has_value());
    auto twice = tx->append(forged);
    REQUIRE_FALSE(twice.has_value());
    CHECK_THAT(twice.error().message, Catch::Contains("exists already"));
    forged.seq = 3;
    REQUIRE(tx->append(forged).has_value());
    REQUIRE(tx->commit().has_value());
    auto& s = fx.reopen();
    CHECK(s.last_seq().value() == 3);
    CHECK(s.read_ledger(ledger_query{0, 10, std::nullopt, std::nullopt}).value().front() == original[0]);
}

TEST_CASE("rocksdb: an open-run entry of a status code alone is completed from its row", "[store][rocksdb][layout]") {
    rocksdb_fixture fx;
    auto sc = interval_schedule("sch_a", "alpha", t0);
    REQUIRE(fx->create_schedule(sc).has_value());
    auto r = pending_run(sc, "run_1", t0, t0);
    r.due_time = t0 + 5s;
    REQUIRE(fx->trigger(r).has_value());
    const auto open_key = key_of([](layout::key_writer w) { w.escaped("sch_a").raw("run_1"); }).substr(1);
    const auto open_runs = [&] {
        auto tx = fx->backend().begin();
        REQUIRE(tx.has_value());
        return tx->open_runs("sch_a");
    };
    fx.close();
    // The value an earlier version wrote: the status code only.
    raw_put(fx.dir.path(), std::string(1, layout::tag::open_run) + open_key,
            std::string(1, layout::status_code(run_status::pending)));
    fx.reopen();
    CHECK(open_runs().value() == std::vector{open_run{"run_1", run_status::pending, t0, t0 + 5s}});
    fx.close();
    raw_put(fx.dir.path(), std::string(1, layout::tag::open_run) + open_key, "p1234");  // neither form
    fx.reopen();
    const auto bad = open_runs();
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().code == errc::storage);
    CHECK_THAT(bad.error().message, Catch::Contains("malformed open-run index value for run \"run_1\""));
}

TEST_CASE("rocksdb: an uncommitted transaction leaves nothing; its reads see its own writes",
          "[store][rocksdb][transaction]") {
    rocksdb_fixture fx;
    auto& backend = fx->backend();
    auto sc = interval_schedule("sch_a", "alpha", t0);
    auto r = pending_run(sc, "run_1", t0, t0);
    {
        auto tx = backend.begin();
        REQUIRE(tx.has_value());
        REQUIRE(tx->put_schedule(sc, std::nullopt).has_value());
        REQUIRE(tx->insert_run(r).value());
        CHECK_FALSE(tx->insert_run(r).value());  // same id and occurrence: refused
        CHECK(tx->load_schedule("sch_a").value() == sc);
        CHECK(tx->live_schedule_named("alpha").value() == "sch_a");
        const std::array waiting{run_status::pending};
        CHECK(tx->runs_of("sch_a", waiting).value() == std::vector{r});
        CHECK(tx->runs_of("sch_", waiting).value().empty());  // a prefix of the id is another schedule
        CHECK_FALSE(backend.get_schedule("sch_a").value().has_value());  // not committed: invisible
        CHECK(backend.due_schedules(t0 + 1h, 10).value().empty());
    }  // destroyed uncommitted
    CHECK_FALSE(backend.get_schedule("sch_a").value().has_value());
    CHECK_FALSE(fx.reopen().get_run("run_1").value().has_value());
    CHECK(fx->last_seq().value() == 0);
    // The next transaction starts clean: the discarded writes do not resurface.
    auto tx = fx->backend().begin();
    REQUIRE(tx.has_value());
    CHECK_FALSE(tx->load_schedule("sch_a").value().has_value());
    REQUIRE(tx->commit().has_value());
}

TEST_CASE("rocksdb: reopening keeps last_seq and numbering goes on from it", "[store][rocksdb][reopen]") {
    rocksdb_fixture fx;
    for (int i = 0; i < 5; ++i) {
        REQUIRE(fx->create_schedule(interval_schedule("sch_" + std::to_string(i), "n" + std::to_string(i), t0))
                    .has_value());
    }
    REQUIRE(fx->pause_schedule("sch_0", t0 + 1s).has_value());
    auto& s = fx.reopen();
    CHECK(s.last_seq().value() == 6);
    CHECK(s.counts(t0).value().last_seq == 6);
    REQUIRE(s.resume_schedule("sch_0", t0 + 2s, std::nullopt).has_value());
    auto events = fx.reopen().read_ledger(ledger_query{0, 100, std::nullopt, std::nullopt}).value();
    REQUIRE(events.size() == 7);
    for (std::size_t i = 0; i < events.size(); ++i) {
        CHECK(events[i].seq == static_cast<std::int64_t>(i + 1));
    }
    CHECK(fx->read_ledger(ledger_query{5, 100, std::nullopt, std::nullopt}).value().size() == 2);
    CHECK(fx->read_ledger(ledger_query{0, 100, std::string("sch_0"), std::nullopt}).value().size() == 3);
    CHECK(fx->read_ledger(ledger_query{std::numeric_limits<std::int64_t>::max(), 100, std::nullopt, std::nullopt})
              .value()
              .empty());
}

TEST_CASE("rocksdb: indexes follow every transition exactly as the reference store's do",
          "[store][rocksdb][index]") {
    memory_fixture reference;
    rocksdb_fixture fx;
    std::mt19937 rng{20260312};  // fixed seed: the script is the same on every run
    // Operation kinds (see apply) weighted towards the run life cycle.
    constexpr std::array mix{0, 1, 2, 3, 4, 5, 5, 5, 5, 6, 6, 6, 7, 7, 7, 7, 8, 8, 9, 10, 10, 10, 11, 12};
    std::vector<std::string> schedules, runs;
    time_point now = t0;
    constexpr int steps = 600;
    for (int i = 0; i < steps; ++i) {
        operation op;
        op.kind = i < 5 ? 0 : mix[rng() % mix.size()];  // a few schedules first
        op.amount = static_cast<std::int64_t>(rng() % 60);
        // Mostly a live schedule, and a run whose status suits the operation, so that transitions
        // happen; sometimes any, so that refusals happen too.
        std::vector<std::string> live;
        const auto listed = reference->list_schedules({}, page_request{std::nullopt, 100000}).value();
        for (const auto& sc : listed.items) {
            live.push_back(sc.id);
        }
        if (live.empty() || rng() % 5 == 0) {
            live = schedules;
        }
        op.schedule = live.empty() ? "sch_none" : live[rng() % live.size()];
        auto suited = suited_runs(*reference, op.kind, now);
        if (suited.empty() || rng() % 5 == 0) {
            suited = runs;
        }
        op.run = suited.empty() ? "run_none" : suited[rng() % suited.size()];
        op.fresh_id = "x" + std::to_string(i);
        if (op.kind == 0) {
            op.fresh_id = "sch_" + std::to_string(i);
        } else if (op.kind == 5 || op.kind == 6 || op.kind == 10) {
            op.fresh_id = "run_" + std::to_string(i);
        }
        const auto expected = apply(*reference, op, now);
        const auto got = apply(*fx, op, now);
        INFO("step " << i << " kind " << op.kind);
        REQUIRE(got == expected);
        if (op.kind == 0 && !expected.starts_with("error")) {
            schedules.push_back(op.fresh_id);
        }
        // New runs: the operation's own id, or the ids lease recovery numbered after it.
        for (int n = 0; n <= 2 * static_cast<int>(runs.size()) + 2; ++n) {
            const auto candidate = n == 0 ? op.fresh_id : op.fresh_id + "_" + std::to_string(n);
            if (reference->get_run(candidate).value() && std::find(runs.begin(), runs.end(), candidate) == runs.end()) {
                runs.push_back(candidate);
            }
        }
        now += std::chrono::seconds{rng() % 15};
        if (i % 50 == 49) {
            CHECK(observe(*fx, now, schedules, runs) == observe(*reference, now, schedules, runs));
        }
        if (i % 150 == 149) {
            fx.reopen();
        }
    }
    // The script went through every kind of transition.
    std::map<std::string, int> kinds;
    const auto events = reference->read_ledger(ledger_query{0, 100000, std::nullopt, std::nullopt}).value();
    for (const auto& e : events) {
        ++kinds[std::string(to_string(e.kind))];
    }
    for (const char* k : {"schedule_updated", "schedule_paused", "schedule_resumed", "schedule_deleted",
                          "occurrence_materialized", "occurrence_coalesced", "run_triggered",
                          "run_claimed", "run_started", "lease_renewed", "run_finished", "retry_scheduled",
                          "run_requeued", "dead_lettered", "lease_recovered"}) {
        CAPTURE(k);
        CHECK(kinds[k] > 0);
    }
    REQUIRE(runs.size() > 100);
    for (auto when : {t0, now - 1h, now, now + 1h, now + 1000h}) {
        CHECK(observe(*fx, when, schedules, runs) == observe(*reference, when, schedules, runs));
    }

    // No stale index key: each index holds exactly as many keys as the reference's.
    const auto& disk = *reference.disk;
    std::size_t open_runs = 0;
    for (const auto& [sched, ids] : disk.open_runs) {
        open_runs += ids.size();
    }
    fx.store.reset();
    check_current_layout(fx.dir.path());
    auto keys = keys_by_tag(fx.dir.path());
    namespace tag = layout::tag;
    CHECK(keys[tag::due] == disk.due.size());
    CHECK(keys[tag::eligible] == disk.eligible.size());
    CHECK(keys[tag::lease] == disk.leases.size());
    CHECK(keys[tag::open_run] == open_runs);
    CHECK(keys[tag::live_name] == disk.live_names.size());
    CHECK(keys[tag::occurrence] == disk.by_occurrence.size());
    CHECK(keys[tag::schedules_created] == disk.schedules.size());
    CHECK(keys[tag::schedule] == disk.schedules.size());
    CHECK(keys[tag::schedule_times] == disk.schedules.size());
    for (char t : {tag::run, tag::runs_created, tag::runs_by_schedule, tag::runs_by_status}) {
        CHECK(keys[t] == disk.runs.size());
    }
    CHECK(keys[tag::ledger] == disk.ledger.size());
    CHECK(keys[tag::ledger_by_schedule] == disk.ledger.size());
    CHECK(keys[tag::dead_letter] == disk.dead_letters.size());
    CHECK(keys[tag::letters_created] == disk.dead_letters.size());
    CHECK(keys[tag::letters_by_schedule] == disk.dead_letters.size());
}

TEST_CASE("rocksdb: paths that cannot hold a store are storage errors that name them", "[store][rocksdb][open]") {
    temp_dir dir{"wakeplane-rocksdb-open"};
    const auto file = dir.path() / "plain-file";
    std::ofstream{file} << "not a database";

    auto on_file = stores::rocksdb_backend::open({.path = file});
    REQUIRE_FALSE(on_file.has_value());
    CHECK(on_file.error().code == errc::storage);
    CHECK_THAT(on_file.error().message, Catch::Contains(file.string()) && Catch::Contains("not a directory"));

    auto under_file = stores::rocksdb_backend::open({.path = file / "store"});
    REQUIRE_FALSE(under_file.has_value());
    CHECK(under_file.error().code == errc::storage);
    CHECK_THAT(under_file.error().message, Catch::Contains((file / "store").string()));

    auto missing = stores::rocksdb_backend::open({.path = dir.path() / "missing", .create_if_missing = false});
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().code == errc::storage);
    CHECK_FALSE(std::filesystem::exists(dir.path() / "missing"));

    CHECK(stores::rocksdb_backend::open({}).error().code == errc::storage);

    // A second backend on an open store: RocksDB's lock refuses it.
    auto first = stores::open_rocksdb_store({.path = dir.path() / "store"});
    REQUIRE(first.has_value());
    auto second = stores::rocksdb_backend::open({.path = dir.path() / "store"});
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error().code == errc::storage);
    CHECK_THAT(second.error().message, Catch::Contains("lock"));

    // Someone else's database, and a store of an unknown layout, are refused rather than misread.
    raw_put(dir.path() / "foreign", "user:1", "{}");
    auto foreign = stores::rocksdb_backend::open({.path = dir.path() / "foreign"});
    REQUIRE_FALSE(foreign.has_value());
    CHECK_THAT(foreign.error().message, Catch::Contains("not a Wakeplane store"));
    {
        raw_database db{dir.path() / "foreign", true};  // refused without a write: no family was added
        CHECK(db.handles.size() == 1);
        CHECK(db.entries(db->DefaultColumnFamily()).size() == 1);
    }
    raw_put(dir.path() / "future", layout::layout_key, "99");
    auto future = stores::rocksdb_backend::open({.path = dir.path() / "future"});
    REQUIRE_FALSE(future.has_value());
    CHECK_THAT(future.error().message, Catch::Contains("layout version \"99\""));
}

TEST_CASE("rocksdb: a store of layout 1 gets its schedule times keys at the next open", "[store][rocksdb][layout]") {
    rocksdb_fixture fx;
    const auto before = due_paused_and_deleted(fx);
    {
        // What layout 1 wrote: the same rows (every full write keeps them current) without times
        // keys, and the ledger in the default family. A times key no layout-1 writer would leave
        // is planted to show it is replaced.
        to_layout_3(fx.dir.path());
        raw_database db{fx.dir.path()};
        rocksdb::WriteBatch downgrade;
        for (const auto& sc : before) {
            REQUIRE(downgrade.Delete(std::string(1, layout::tag::schedule_times) + sc.id).ok());
        }
        // Layout 1's due entries had empty values.
        std::string due = key_of([](layout::key_writer w) { w.instant(t0).raw("sch_a"); });
        due.front() = layout::tag::due;
        REQUIRE(downgrade.Put(due, "").ok());
        layout::schedule_times wrong{true, false, t0 + 1000h, std::nullopt};
        REQUIRE(downgrade.Put(std::string(1, layout::tag::schedule_times) + "sch_a", layout::encode_times(wrong)).ok());
        REQUIRE(downgrade.Put(std::string(layout::layout_key), std::string(layout::layout_version_1)).ok());
        REQUIRE(db->Write(rocksdb::WriteOptions{}, &downgrade).ok());
    }
    CHECK(keys_by_tag(fx.dir.path())[layout::tag::schedule_times] == 1);

    fx.store = fx.open();
    check_migrated(*fx.store, before);
    fx.close();
    check_current_layout(fx.dir.path());
    auto keys = keys_by_tag(fx.dir.path());
    CHECK(keys[layout::tag::schedule_times] == 3);
    auto& again = fx.reopen();
    auto moved = before[0];
    moved.next_run_at = t0 + 60s;
    moved.last_run_at = t0;
    CHECK(again.get_schedule("sch_a").value() == moved);
    CHECK(again.due_schedules(t0 + 60s, 10).value() == std::vector{moved});
}

TEST_CASE("rocksdb: a store of layout 2 gets record versions at the next open", "[store][rocksdb][layout]") {
    rocksdb_fixture fx;
    const auto before = due_paused_and_deleted(fx);

    // Layout 2's times values: the same without the trailing 8-byte record version; its ledger
    // in the default family.
    auto rewrite_times = [&](auto&& change) {
        to_layout_3(fx.dir.path());
        raw_database db{fx.dir.path()};
        rocksdb::WriteBatch writes;
        std::unique_ptr<rocksdb::Iterator> it{db->NewIterator(rocksdb::ReadOptions{})};
        std::size_t seen = 0;
        for (it->SeekToFirst(); it->Valid(); it->Next()) {
            const char tag = it->key()[0];
            if (tag == layout::tag::schedule_times || tag == layout::tag::due) {
                REQUIRE(writes.Put(it->key(), change(it->value().ToString())).ok());
                ++seen;
            }
        }
        REQUIRE(it->status().ok());
        REQUIRE(seen == 4);  // three times keys, one due entry
        REQUIRE(writes.Put(std::string(layout::layout_key), std::string(layout::layout_version_2)).ok());
        REQUIRE(db->Write(rocksdb::WriteOptions{}, &writes).ok());
    };

    SECTION("every times value gets a version; the schedules read and move as before") {
        rewrite_times([](std::string v) { return v.substr(0, v.size() - 8); });
        fx.store = fx.open();
        check_migrated(*fx.store, before);
        fx.close();
        check_current_layout(fx.dir.path());
    }
    SECTION("a value that is no layout 2 times value stops the open, naming the migration") {
        rewrite_times([](std::string v) { return v.substr(0, 3); });
        auto reopened = stores::rocksdb_backend::open({.path = fx.dir.path()});
        REQUIRE_FALSE(reopened.has_value());
        CHECK(reopened.error().code == errc::storage);
        CHECK_THAT(reopened.error().message, Catch::Contains("layout 3") && Catch::Contains("layout 2 times"));
    }
}

TEST_CASE("rocksdb: a store of layout 3 gets its ledger moved into the ledger family at the next open",
          "[store][rocksdb][layout]") {
    rocksdb_fixture fx;
    auto sc = interval_schedule("sch_a", "alpha", t0);
    REQUIRE(fx->create_schedule(sc).has_value());
    REQUIRE(fx->trigger(pending_run(sc, "run_1", t0, t0)).has_value());
    // More events than two of the move's synced batches (4,096 events each) hold.
    constexpr std::int64_t events = 9000;
    {
        auto base = fx->read_ledger(ledger_query{0, 1, std::nullopt, std::nullopt}).value().front();
        auto tx = fx->backend().begin();
        REQUIRE(tx.has_value());
        for (auto seq = fx->last_seq().value() + 1; seq <= events; ++seq) {
            base.seq = seq;
            base.at = t0 + std::chrono::seconds{seq};
            REQUIRE(tx->append(base).has_value());
        }
        REQUIRE(tx->commit().has_value());
    }
    const ledger_query all{0, 2 * events, std::nullopt, std::nullopt};
    const ledger_query of_schedule{0, 2 * events, std::string("sch_a"), std::nullopt};
    const ledger_query of_run{0, 2 * events, std::nullopt, std::string("run_1")};
    const auto ledger = fx->read_ledger(all).value();
    const auto ledger_of_schedule = fx->read_ledger(of_schedule).value();
    const auto ledger_of_run = fx->read_ledger(of_run).value();
    REQUIRE(ledger.size() == events);
    REQUIRE_FALSE(ledger_of_run.empty());
    fx.close();
    to_layout_3(fx.dir.path());
    REQUIRE(keys_by_tag(fx.dir.path())[layout::tag::ledger] == events);

    SECTION("in one open") {}
    SECTION("after a crash between two of its batches") {
        // What such a crash leaves: the first events in the ledger family (written there and
        // deleted from the default family in one batch), the rest in the default family, and
        // the layout key still at 3.
        raw_database db{fx.dir.path()};
        auto* family = db.create_ledger();
        rocksdb::WriteBatch moved;
        const auto in_default = db.entries(db->DefaultColumnFamily());
        std::size_t n = 0;
        for (const auto& [key, value] : in_default) {
            if (key[0] == layout::tag::ledger && ++n <= 5000) {
                REQUIRE(moved.Put(family, key, value).ok());
                REQUIRE(moved.Delete(key).ok());
            }
        }
        REQUIRE(db->Write(rocksdb::WriteOptions{}, &moved).ok());
    }
    auto& s = fx.reopen();
    CHECK(s.read_ledger(all).value() == ledger);
    CHECK(s.read_ledger(of_schedule).value() == ledger_of_schedule);
    CHECK(s.read_ledger(of_run).value() == ledger_of_run);
    CHECK(s.last_seq().value() == events);
    CHECK(s.counts(t0).value().last_seq == events);
    REQUIRE(s.pause_schedule("sch_a", t0 + 1h).has_value());  // numbering goes on
    CHECK(s.read_ledger(ledger_query{events, 10, std::nullopt, std::nullopt}).value().at(0).seq == events + 1);
    fx.close();
    check_current_layout(fx.dir.path());
    CHECK(keys_by_tag(fx.dir.path())[layout::tag::ledger] == events + 1);  // each in one family only
}

TEST_CASE("rocksdb: stores of layouts 4 and 5 read their ledgers' rows, and a pass's rows are kept compact",
          "[store][rocksdb][layout][ledger]") {
    // Layout 4 kept whole rows, layout 5 compact rows that named both instants.
    const auto [older, form] = GENERATE(table<std::string_view, std::string_view>(
        {{layout::layout_version_4, "whole"}, {layout::layout_version_5, "both instants"}}));
    CAPTURE(older, form);
    rocksdb_fixture fx;
    auto sc = fx->create_schedule(interval_schedule("sch_a", "alpha", t0)).value();
    REQUIRE(fx->apply_plan(std::vector{plan_one(sc, "run_1", 1min, t0 + 1s)}, t0 + 1s).value().materialized == 1);
    const auto events = fx->read_ledger({}).value();
    REQUIRE(events.size() == 2);
    REQUIRE(is_fresh_materialization(events[1]));
    const auto compact = encode_event(events[1]);
    fx.close();
    std::string seq_key;
    layout::key_writer{seq_key, layout::tag::ledger}.seq(events[1].seq);
    {
        raw_database db{fx.dir.path()};
        std::string stored;
        REQUIRE(db->Get(rocksdb::ReadOptions{}, db.ledger(), seq_key, &stored).ok());
        CHECK(stored == compact);
        CHECK_THAT(stored, Catch::Contains(R"("data":{"pending_run":{},"next_run_at":)"));
        // The event as the older build wrote it: its whole row, in the form /v1/ledger shows
        // (layout 4), or both instants of its compact row (layout 5).
        const auto data_at = compact.find(R"(,"data":)");
        REQUIRE(data_at != std::string::npos);
        const auto data = form == "whole" ? encode_event_data(events[1])
                                          : R"({"pending_run":{"nominal_time":"2026-03-12T10:00:00Z",)"
                                            R"("due_time":"2026-03-12T10:00:00Z"},"next_run_at":"2026-03-12T10:01:00Z"})";
        REQUIRE(db->Put(rocksdb::WriteOptions{}, db.ledger(), seq_key, compact.substr(0, data_at) + R"(,"data":)" + data + "}")
                    .ok());
        REQUIRE(db->Put(rocksdb::WriteOptions{}, std::string(layout::layout_key), std::string(older)).ok());
    }
    auto& s = fx.reopen();
    CHECK(s.read_ledger({}).value() == events);
    fx.close();
    check_current_layout(fx.dir.path());
}

TEST_CASE("rocksdb: the ledger family comes with a new store and is required from then on", "[store][rocksdb][layout]") {
    temp_dir dir{"wakeplane-rocksdb-family"};
    const auto path = dir.path() / "store";
    SECTION("a crash after creating the family, before the layout key, leaves a new store") {
        {
            raw_database db{path};
            db.create_ledger();
        }
        auto s = stores::open_rocksdb_store({.path = path});
        REQUIRE(s.has_value());
        REQUIRE(s->create_schedule(interval_schedule("sch_a", "alpha", t0)).has_value());
        CHECK(s->last_seq().value() == 1);
    }
    SECTION("a database with no key but in another family is someone else's, and left so") {
        for (const char* name : {"other", "ledger"}) {
            CAPTURE(name);
            const auto foreign = dir.path() / name;
            {
                raw_database db{foreign};
                REQUIRE(db->Put(rocksdb::WriteOptions{}, db.create_family(name), "user:1", "{}").ok());
            }
            auto s = stores::open_rocksdb_store({.path = foreign});
            REQUIRE_FALSE(s.has_value());
            CHECK_THAT(s.error().message, Catch::Contains("not a Wakeplane store"));
            raw_database db{foreign, true};
            CHECK(db.handles.size() == 2);  // no family added
            CHECK(db.entries(db->DefaultColumnFamily()).empty());
        }
    }
    SECTION("a store of layout 3 with an empty ledger moves up too") {
        REQUIRE(stores::open_rocksdb_store({.path = path}).has_value());
        to_layout_3(path);
        auto s = stores::open_rocksdb_store({.path = path});
        REQUIRE(s.has_value());
        CHECK(s->last_seq().value() == 0);
        REQUIRE(s->create_schedule(interval_schedule("sch_a", "alpha", t0)).has_value());
        CHECK(s->read_ledger(ledger_query{0, 10, std::nullopt, std::nullopt}).value().size() == 1);
    }
    SECTION("a store whose families cannot be listed is refused with RocksDB's reason") {
        REQUIRE(stores::open_rocksdb_store({.path = path}).has_value());
        std::ofstream{path / "CURRENT", std::ios::trunc} << "MANIFEST-999999\n";
        auto s = stores::open_rocksdb_store({.path = path});
        REQUIRE_FALSE(s.has_value());
        CHECK(s.error().code == errc::storage);
        CHECK_THAT(s.error().message, Catch::Contains(path.string()) && Catch::Contains("MANIFEST-999999"));
    }
    SECTION("a store of this layout, layout 4 or 5 without it is refused, naming it, and left as it was") {
        for (const auto version : {layout::layout_version, layout::layout_version_4, layout::layout_version_5}) {
            CAPTURE(version);
            const auto store = dir.path() / version;
            REQUIRE(stores::open_rocksdb_store({.path = store}).has_value());
            {
                raw_database db{store};
                REQUIRE(db->DropColumnFamily(db.ledger()).ok());
                REQUIRE(db->Put(rocksdb::WriteOptions{}, std::string(layout::layout_key), std::string(version)).ok());
            }
            auto s = stores::open_rocksdb_store({.path = store});
            REQUIRE_FALSE(s.has_value());
            CHECK(s.error().code == errc::storage);
            CHECK_THAT(s.error().message, Catch::Contains("column family \"ledger\""));
            raw_database db{store, true};
            std::string left;
            REQUIRE(db->Get(rocksdb::ReadOptions{}, std::string(layout::layout_key), &left).ok());
            CHECK(left == version);
        }
    }
}

TEST_CASE("rocksdb: a schedule without its times key is reported as corrupt", "[store][rocksdb][layout]") {
    rocksdb_fixture fx;
    REQUIRE(fx->create_schedule(interval_schedule("sch_a", "alpha", t0)).has_value());
    fx.close();
    {
        raw_database db{fx.dir.path()};
        REQUIRE(db->Delete(rocksdb::WriteOptions{}, std::string(1, layout::tag::schedule_times) + "sch_a").ok());
    }
    auto& s = fx.reopen();
    auto got = s.get_schedule("sch_a");
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == errc::storage);
    CHECK_THAT(got.error().message, Catch::Contains("sch_a") && Catch::Contains("times"));
}

TEST_CASE("rocksdb: a schedule read concurrently with its edits is one version, record and times alike",
          "[store][rocksdb][concurrency]") {
    // The record and the times key are two keys: a read that took them from two commits would
    // pair one version's name with the other's next_run_at.
    rocksdb_fixture fx;
    auto a = fx->create_schedule(interval_schedule("sch_a", "version-a", t0)).value();
    auto b = a;
    b.name = "version-b";
    b.next_run_at = t0 + 1h;
    constexpr int edits = 300;
    std::atomic<bool> done{false};
    std::atomic<int> mixed{0}, reads{0};
    auto reader = [&] {
        for (int i = 0; i < 5 || !done.load(); ++i) {
            auto s = fx->get_schedule("sch_a");
            if (!s || !*s) {
                ++mixed;
                continue;
            }
            const bool whole = ((*s)->name == a.name && (*s)->next_run_at == a.next_run_at) ||
                               ((*s)->name == b.name && (*s)->next_run_at == b.next_run_at);
            mixed += whole ? 0 : 1;
            ++reads;
        }
    };
    std::thread r1{reader}, r2{reader};
    for (int i = 0; i < edits; ++i) {
        REQUIRE(fx->update_schedule(i % 2 == 0 ? b : a).has_value());
    }
    done = true;
    r1.join();
    r2.join();
    CHECK(reads.load() >= 10);
    CHECK(mixed.load() == 0);
}

TEST_CASE("rocksdb: concurrent readers see whole commits only", "[store][rocksdb][concurrency]") {
    rocksdb_fixture fx;
    auto sc = interval_schedule("sch_a", "alpha", t0);
    REQUIRE(fx->create_schedule(sc).has_value());
    constexpr int triggers = 150;
    std::atomic<bool> done{false};
    std::atomic<int> failures{0}, reads{0};
    auto reader = [&] {
        std::int64_t seen = 0;
        // At least a few reads each, then until the writer is done.
        for (int i = 0; i < 5 || !done.load(); ++i) {
            auto c = fx->counts(t0 + 1h);
            if (!c) {
                ++failures;
                continue;
            }
            std::int64_t by_status = 0;
            for (auto n : c->by_status) {
                by_status += n;
            }
            // Each trigger commits a run and its event together: one snapshot sees both or neither.
            const bool whole = c->runs == c->last_seq - 1 && by_status == c->runs && c->runs_due == c->runs;
            const bool monotonic = c->last_seq >= seen;
            seen = c->last_seq;
            auto latest = fx->read_ledger(ledger_query{std::max<std::int64_t>(seen - 1, 0), 10, std::nullopt, std::nullopt});
            bool rows_present = latest.has_value();
            for (const auto& e : latest ? *latest : std::vector<ledger_event>{}) {
                if (e.run) {
                    auto row = fx->get_run(*e.run);
                    rows_present = rows_present && row && row->has_value();
                }
            }
            if (!whole || !monotonic || !rows_present) {
                ++failures;
            }
            ++reads;
        }
    };
    std::thread r1{reader}, r2{reader};
    for (int i = 0; i < triggers; ++i) {
        REQUIRE(fx->trigger(pending_run(sc, "run_" + std::to_string(i), t0 + std::chrono::seconds{i}, t0)).has_value());
    }
    done = true;
    r1.join();
    r2.join();
    CHECK(failures == 0);
    CHECK(reads >= 10);
    CHECK(fx->counts(t0 + 1h).value().runs == triggers);
}

TEST_CASE("rocksdb: queue scans skip consumed keys yet find every key written below them",
          "[store][rocksdb][queue]") {
    rocksdb_fixture fx;
    auto sc = interval_schedule("sch_a", "alpha", t0);
    REQUIRE(fx->create_schedule(sc).has_value());
    const auto due_at = [&](const std::string& id, time_point due) {
        auto r = pending_run(sc, id, due, t0);
        REQUIRE(fx->trigger(r).has_value());
    };
    const auto eligible_ids = [&](time_point now) {
        std::vector<std::string> ids;
        const auto runs = fx->eligible_runs(now, 100).value();
        for (const auto& r : runs) {
            ids.push_back(r.id);
        }
        return ids;
    };
    // Consume a stretch of the queue (claims delete its keys), then scan: the floor moves up.
    for (int i = 0; i < 50; ++i) {
        due_at("run_" + std::to_string(100 + i), t0 + std::chrono::seconds{100 + i});
    }
    for (int i = 0; i < 49; ++i) {
        REQUIRE(fx->claim_run("run_" + std::to_string(100 + i), "w", t0 + 1h, 30s, always(overlap_action::claim))
                    ->claimed.has_value());
    }
    CHECK(eligible_ids(t0 + 1h) == std::vector<std::string>{"run_149"});
    CHECK(fx->next_eligible_at().value() == t0 + 149s);
    // A key below the raised floor, committed afterwards, is found by both scans.
    due_at("run_050", t0 + 50s);
    CHECK(fx->next_eligible_at().value() == t0 + 50s);
    CHECK(eligible_ids(t0 + 1h) == std::vector<std::string>{"run_050", "run_149"});
    // An index scanned empty, then written: found again.
    REQUIRE(fx->claim_run("run_050", "w", t0 + 1h, 30s, always(overlap_action::claim))->claimed.has_value());
    REQUIRE(fx->claim_run("run_149", "w", t0 + 1h, 30s, always(overlap_action::claim))->claimed.has_value());
    CHECK_FALSE(fx->next_eligible_at().value().has_value());
    CHECK(eligible_ids(t0 + 1h).empty());
    due_at("run_000", t0);
    CHECK(fx->next_eligible_at().value() == t0);
    CHECK(eligible_ids(t0 + 1h) == std::vector<std::string>{"run_000"});
    // The leases' index has its own floor: the earliest of the claims above.
    CHECK(fx->next_lease_expiry().value() == t0 + 1h + 30s);
    CHECK(fx->expired_leases(t0 + 2h, 100).value().size() == 51);
}

TEST_CASE("rocksdb: a queue scan racing commits below its floor never loses a key",
          "[store][rocksdb][queue][concurrency]") {
    rocksdb_fixture fx;
    auto sc = interval_schedule("sch_a", "alpha", t0);
    REQUIRE(fx->create_schedule(sc).has_value());
    std::atomic<bool> done{false};
    std::atomic<int> scans{0};
    auto scanner = [&] {
        for (int i = 0; i < 5 || !done.load(); ++i) {
            (void)fx->next_eligible_at();
            (void)fx->eligible_runs(t0 + 24h, 4);
            ++scans;
        }
    };
    std::thread s1{scanner}, s2{scanner};
    // Each round writes a key below every earlier one, then consumes the one before it.
    constexpr int rounds = 120;
    for (int i = 0; i < rounds; ++i) {
        auto r = pending_run(sc, "run_" + std::to_string(1000 + i), t0 + std::chrono::seconds{rounds - i}, t0);
        REQUIRE(fx->trigger(r).has_value());
        if (i > 0) {
            auto prev = "run_" + std::to_string(1000 + i - 1);
            REQUIRE(fx->claim_run(prev, "w", t0 + 24h, 30s, always(overlap_action::claim))->claimed.has_value());
        }
    }
    done = true;
    s1.join();
    s2.join();
    CHECK(scans >= 10);
    // Only the last key is live; whatever the scans raised the floor to, it is found.
    CHECK(fx->next_eligible_at().value() == t0 + 1s);
    auto left = fx->eligible_runs(t0 + 24h, 10).value();
    REQUIRE(left.size() == 1);
    CHECK(left[0].id == "run_" + std::to_string(1000 + rounds - 1));
}
