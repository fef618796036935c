// The SQLite store's schedule cache (schema version 5): the due query serves decoded records by
// (id, record_version), and must give exactly what reading the file gives, whoever wrote it and
// whatever was committed or rolled back in between.
#include <wakeplane/stores/sqlite.hpp>

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "../../stores/sqlite/connection.hpp"
#include "../support.hpp"
#include "sqlite_fixture.hpp"

using namespace wakeplane;
using namespace wakeplane::testing;
using namespace std::chrono_literals;
using stores::sqlite_detail::connection;
using stores::sqlite_detail::connection_role;

namespace {

const time_point t0 = at("2026-03-12T10:00:00Z");

std::unique_ptr<stores::sqlite_store> open_with_cache(const std::filesystem::path& file, std::size_t cached) {
    stores::sqlite_options options{file};
    options.schedule_cache_entries = cached;
    auto s = stores::open_sqlite_store(options);
    if (!s) {
        FAIL(s.error().message);
    }
    return std::move(*s);
}

/// A connection of its own, as another process (or the sqlite3 shell) would have.
connection connect(const std::filesystem::path& file) {
    auto c = connection::open(file, connection_role::writer, 5000ms);
    REQUIRE(c.has_value());
    return std::move(*c);
}

std::int64_t record_version(connection& c, const std::string& id) {
    auto st = c.prepare("SELECT record_version FROM schedules WHERE id = ?1");
    REQUIRE(st.has_value());
    st->bind(1, id);
    REQUIRE(st->step().value());
    return st->integer(0);
}

/// Rewrites the record of `s` from a connection of its own, the way a write from another
/// process or the shell would.
void rewrite_record(connection& c, const schedule& s) {
    auto st = c.prepare("UPDATE schedule_records SET record = ?2 WHERE id = ?1");
    REQUIRE(st.has_value());
    const auto record = encode_schedule_record(s);
    st->bind(1, s.id).bind(2, record);
    REQUIRE(st->run().has_value());
}

/// Rewrites the record of `s` from a connection of its own and puts the version back, which no
/// writer does: a store that holds the record at that version then serves what it holds, a
/// store that does not reads the new text. Tells a cached record from one read from the file.
void rewrite_unversioned(connection& c, const schedule& s) {
    rewrite_record(c, s);
    auto st = c.prepare("UPDATE schedules SET record_version = record_version - 1 WHERE id = ?1");
    REQUIRE(st.has_value());
    st->bind(1, s.id);
    REQUIRE(st->run().has_value());
}

/// A store with a cache and one schedule created through it, sch_a, due at t0.
struct one_schedule {
    temp_dir dir;
    std::filesystem::path file = dir.path() / "w.db";
    std::unique_ptr<stores::sqlite_store> store = open_with_cache(file, 64);
    schedule sc = interval_schedule("sch_a", "alpha", t0);
    one_schedule() { REQUIRE(store->create_schedule(sc).has_value()); }
};

/// The one schedule the due query returns at t0.
schedule due_one(stores::sqlite_store& s) {
    auto due = s.due_schedules(t0, 10).value();
    REQUIRE(due.size() == 1);
    return due.front();
}

}  // namespace

TEST_CASE("sqlite: the due query serves a cached record only at the version it was read at",
          "[store][sqlite][cache]") {
    one_schedule f;
    const auto& file = f.file;
    auto& store = f.store;
    const auto& sc = f.sc;
    CHECK(due_one(*store) == sc);  // cached when the creation committed
    auto c = connect(file);
    const auto created = record_version(c, "sch_a");

    SECTION("an edit through the store is a new version") {
        auto edited = sc;
        edited.target.workflow_id = "edited";
        REQUIRE(store->update_schedule(edited).has_value());
        CHECK(record_version(c, "sch_a") > created);
        CHECK(due_one(*store).target.workflow_id == "edited");
        CHECK(due_one(*store) == store->get_schedule("sch_a").value().value());
    }
    SECTION("a rewrite from another connection is a new version too (the triggers)") {
        auto elsewhere = sc;
        elsewhere.target.workflow_id = "from-the-shell";
        rewrite_record(c, elsewhere);
        CHECK(record_version(c, "sch_a") == created + 1);
        CHECK(due_one(*store).target.workflow_id == "from-the-shell");
    }
    SECTION("a hit is the cached record: the version alone decides") {
        // Rewrite the record and put the version back by hand, which no writer does: the store
        // then still serves what it cached, while a store without a cache reads the new text.
        // This is what makes a missed version bump a stale read, and why the triggers bump it.
        auto elsewhere = sc;
        elsewhere.target.workflow_id = "unversioned";
        rewrite_unversioned(c, elsewhere);
        CHECK(due_one(*store).target.workflow_id == sc.target.workflow_id);
        auto uncached = open_with_cache(file, 0);
        CHECK(due_one(*uncached).target.workflow_id == "unversioned");
    }
    SECTION("a success moves last_run_at without a new version, and a hit carries it") {
        auto tx = store->backend().begin();
        REQUIRE(tx.has_value());
        REQUIRE(tx->advance_last_run_at("sch_a", t0 - 5s).value());
        REQUIRE(tx->commit().has_value());
        CHECK(record_version(c, "sch_a") == created);
        CHECK(due_one(*store).last_run_at == t0 - 5s);
        CHECK(store->get_schedule("sch_a").value()->last_run_at == t0 - 5s);
        auto again = store->backend().begin();
        REQUIRE(again.has_value());
        CHECK_FALSE(again->advance_last_run_at("sch_a", t0 - 6s).value());  // older: kept
    }
    SECTION("a planner move is not a new version, and a hit carries the column") {
        auto tx = store->backend().begin();
        REQUIRE(tx.has_value());
        REQUIRE(tx->move_next_run_at("sch_a", t0, t0 - 1s).value());
        REQUIRE(tx->commit().has_value());
        CHECK(record_version(c, "sch_a") == created);
        CHECK(due_one(*store).next_run_at == t0 - 1s);
    }
    SECTION("a rolled-back rewrite, then a committed one of the same version number") {
        // Were the rolled-back record cached, the commit's own record of that version would not
        // replace it (a cache keeps the first record of a version), and the due query would
        // serve the record that never was.
        auto never = sc;
        never.target.workflow_id = "never-committed";
        {
            auto tx = store->backend().begin();
            REQUIRE(tx.has_value());
            REQUIRE(tx->put_schedule(never, sc).has_value());
            CHECK(due_one(*store) == sc);  // readers see committed data only, and may cache it
        }  // rolled back
        CHECK(record_version(c, "sch_a") == created);
        auto committed = sc;
        committed.target.workflow_id = "committed";
        REQUIRE(store->update_schedule(committed).has_value());
        CHECK(record_version(c, "sch_a") == created + 1);
        CHECK(due_one(*store).target.workflow_id == "committed");
    }
}

TEST_CASE("sqlite: a committed full write goes into the cache at its version",
          "[store][sqlite][cache]") {
    one_schedule f;
    auto c = connect(f.file);
    auto elsewhere = f.sc;
    elsewhere.target.workflow_id = "elsewhere";

    SECTION("a creation is served from the cache before any due query read it") {
        rewrite_unversioned(c, elsewhere);
        CHECK(due_one(*f.store) == f.sc);
    }
    SECTION("of two writes in one transaction, the last record is kept") {
        auto first = f.sc;
        first.target.workflow_id = "first";
        auto second = f.sc;
        second.target.workflow_id = "second";
        auto tx = f.store->backend().begin();
        REQUIRE(tx.has_value());
        REQUIRE(tx->put_schedule(first, f.sc).has_value());
        REQUIRE(tx->put_schedule(second, first).has_value());
        REQUIRE(tx->commit().has_value());
        rewrite_unversioned(c, elsewhere);
        CHECK(due_one(*f.store).target.workflow_id == "second");
    }
    SECTION("a store without a cache keeps nothing") {
        auto uncached = open_with_cache(f.file, 0);
        auto edited = f.sc;
        edited.target.workflow_id = "edited";
        REQUIRE(uncached->update_schedule(edited).has_value());
        rewrite_unversioned(c, elsewhere);
        CHECK(due_one(*uncached).target.workflow_id == "elsewhere");
    }
}
