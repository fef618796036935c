// The RocksDB store's read shortcuts: decoded schedule records kept by record version, and the
// due scan's times that a planner move takes instead of reading them again. Each must give
// exactly what reading the database gives, whatever was committed or rolled back in between.
#include <wakeplane/stores/rocksdb.hpp>

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <rocksdb/db.h>

#include <wakeplane/detail/schedule_cache.hpp>

#include "../../stores/rocksdb/keys.hpp"
#include "../support.hpp"
#include "rocksdb_fixture.hpp"

using namespace wakeplane;
using namespace wakeplane::testing;
using namespace std::chrono_literals;
namespace layout = wakeplane::stores::rocksdb_layout;

namespace {

const time_point t0 = at("2026-03-12T10:00:00Z");

/// A store on `dir` keeping at most `cached` decoded schedules.
std::unique_ptr<stores::rocksdb_store> open_with_cache(const std::filesystem::path& dir, std::size_t cached) {
    auto backend = stores::rocksdb_backend::open({.path = dir, .schedule_cache_entries = cached});
    REQUIRE(backend.has_value());
    return std::make_unique<stores::rocksdb_store>(std::move(*backend));
}

/// Every way the store reads a schedule, each of which may be served by the cache.
std::vector<schedule> every_read(stores::rocksdb_store& s, const std::string& id) {
    std::vector<schedule> out;
    out.push_back(s.get_schedule(id).value().value());
    const auto due = s.due_schedules(t0 + 1000h, 100).value();
    for (const auto& d : due) {
        if (d.id == id) {
            out.push_back(d);
        }
    }
    const auto listed_page =
        s.list_schedules({.enabled = std::nullopt, .include_deleted = true}, {.after = std::nullopt, .limit = 100})
            .value();
    for (const auto& listed : listed_page.items) {
        if (listed.id == id) {
            out.push_back(listed);
        }
    }
    auto tx = s.backend().begin();
    REQUIRE(tx.has_value());
    out.push_back(tx->load_schedule(id).value().value());
    return out;
}

/// A plan that materializes schedule `s`'s next occurrence and moves it one minute on.
schedule_plan plan_next(const schedule& s, const std::string& run_id) {
    schedule_plan p;
    p.schedule = s.id;
    p.expected_next_run_at = s.next_run_at;
    p.next_run_at = *s.next_run_at + 60s;
    p.runs.push_back(pending_run(s, run_id, *s.next_run_at, *s.next_run_at));
    return p;
}

}  // namespace

TEST_CASE("rocksdb: the schedule cache answers only for the version it holds", "[store][rocksdb][cache]") {
    detail::schedule_cache cache{2};
    auto a = interval_schedule("sch_a", "alpha", t0);
    CHECK_FALSE(cache.find("sch_a", 7).has_value());
    cache.insert(a, 7);
    CHECK(cache.find("sch_a", 7) == a);
    CHECK_FALSE(cache.find("sch_a", 8).has_value());  // rewritten since: another version
    CHECK_FALSE(cache.find("sch_b", 7).has_value());

    SECTION("a newer version replaces an older one, never the reverse") {
        auto renamed = a;
        renamed.name = "alpha-2";
        cache.insert(renamed, 9);
        CHECK(cache.find("sch_a", 9) == renamed);
        CHECK_FALSE(cache.find("sch_a", 7).has_value());
        cache.insert(a, 7);  // a reader of an older snapshot, late
        CHECK(cache.find("sch_a", 9) == renamed);
        CHECK_FALSE(cache.find("sch_a", 7).has_value());
    }
    SECTION("version 0 (a layout 2 value) is never cached") {
        auto b = interval_schedule("sch_b", "beta", t0);
        cache.insert(b, 0);
        CHECK_FALSE(cache.find("sch_b", 0).has_value());
        CHECK(cache.size() == 1);
    }
    SECTION("once full, one new schedule in admit_interval gets in, in place of another") {
        constexpr auto interval = detail::schedule_cache::admit_interval;
        cache.insert(interval_schedule("sch_b", "beta", t0), 3);
        auto held = [&] {
            return static_cast<int>(cache.find("sch_a", 7).has_value()) +
                   static_cast<int>(cache.find("sch_b", 3).has_value());
        };
        cache.insert(interval_schedule("sch_c", "gamma", t0), 4);  // admitted: sch_a or sch_b leaves
        CHECK(cache.size() == 2);
        CHECK(cache.find("sch_c", 4).has_value());
        CHECK(held() == 1);
        // The next interval - 1 new ones are turned away, and nothing leaves for them.
        for (std::size_t i = 1; i < interval; ++i) {
            cache.insert(interval_schedule("sch_x" + std::to_string(i), "x", t0), 10 + i);
            CHECK_FALSE(cache.find("sch_x" + std::to_string(i), 10 + i).has_value());
        }
        CHECK(cache.find("sch_c", 4).has_value());
        CHECK(held() == 1);
        // A newer version of a cached schedule is not new: it takes its entry's place.
        cache.insert(interval_schedule("sch_c", "gamma-2", t0), 5);
        CHECK(cache.find("sch_c", 5).has_value());
        CHECK(cache.size() == 2);
        // The interval-th new one gets in.
        cache.insert(interval_schedule("sch_d", "delta", t0), 6);
        CHECK(cache.size() == 2);
        CHECK(cache.find("sch_d", 6).has_value());
        CHECK(held() + static_cast<int>(cache.find("sch_c", 5).has_value()) == 1);
    }
    SECTION("capacity 0 keeps nothing") {
        detail::schedule_cache none{0};
        none.insert(a, 7);
        CHECK(none.size() == 0);
        CHECK_FALSE(none.find("sch_a", 7).has_value());
    }
}

namespace {

/// Hits in the last of `passes` passes that read `schedules` records in the same order through a
/// cache of `capacity`, inserting what missed: what a planner does with more due schedules than
/// the cache holds.
std::size_t hits_of_cyclic_reads(std::size_t capacity, int schedules, int passes) {
    detail::schedule_cache cache{capacity};
    std::vector<schedule> records;
    for (int i = 0; i < schedules; ++i) {
        records.push_back(interval_schedule("sch_" + std::to_string(i), "n" + std::to_string(i), t0));
    }
    std::size_t hits = 0;
    for (int pass = 0; pass < passes; ++pass) {
        hits = 0;
        for (const auto& r : records) {
            if (cache.find(r.id, 1).has_value()) {
                ++hits;
            } else {
                cache.insert(r, 1);
            }
        }
        CHECK(cache.size() <= capacity);
    }
    return hits;
}

}  // namespace

TEST_CASE("rocksdb: the schedule cache keeps serving a cyclic load larger than it holds", "[store][rocksdb][cache]") {
    // Replacing the oldest entry on every miss would evict exactly the schedules read next, and
    // no read would ever hit. The best any cache of 64 can do is 64 hits a pass.
    SECTION("a little larger: most of what it holds") {
        CHECK(hits_of_cyclic_reads(64, 100, 20) >= 32);
    }
    SECTION("ten times larger: still some, where evicting the oldest gets none") {
        CHECK(hits_of_cyclic_reads(64, 640, 40) >= 8);
    }
}

TEST_CASE("rocksdb: a cached schedule is never read after it is rewritten", "[store][rocksdb][cache]") {
    temp_dir dir{"wakeplane-rocksdb-cache"};
    const std::size_t cached = GENERATE(0, 1, 64);
    auto store = open_with_cache(dir.path(), cached);
    auto& s = *store;
    auto a = s.create_schedule(interval_schedule("sch_a", "alpha", t0)).value();
    REQUIRE(s.create_schedule(interval_schedule("sch_b", "beta", t0 + 10s)).has_value());
    for (const auto& read : every_read(s, "sch_a")) {  // fills the cache
        CHECK(read == a);
    }

    SECTION("an update through the store") {
        auto edited = a;
        edited.name = "alpha-renamed";
        edited.target.workflow_id = "other";
        edited.updated_at = t0 + 5s;
        auto updated = s.update_schedule(edited).value();
        CHECK(updated.name == "alpha-renamed");
        for (const auto& read : every_read(s, "sch_a")) {
            CHECK(read == updated);
        }
        // And after a reopen (the version outlives the process; the cache does not).
        store.reset();
        store = open_with_cache(dir.path(), cached);
        for (const auto& read : every_read(*store, "sch_a")) {
            CHECK(read == updated);
        }
    }
    SECTION("a rolled-back write, then another write of the same version number") {
        // A transaction's version is the next sequence number; a rollback leaves it to the next
        // transaction, so what a rolled-back transaction read of its own write must not be kept.
        auto first = a;
        first.name = "never-committed";
        {
            auto tx = s.backend().begin();
            REQUIRE(tx.has_value());
            REQUIRE(tx->put_schedule(first, a).has_value());
            CHECK(tx->load_schedule("sch_a").value()->name == "never-committed");
        }  // rolled back
        for (const auto& read : every_read(s, "sch_a")) {
            CHECK(read == a);
        }
        auto second = a;
        second.name = "committed";
        {
            auto tx = s.backend().begin();
            REQUIRE(tx.has_value());
            REQUIRE(tx->put_schedule(second, a).has_value());
            REQUIRE(tx->commit().has_value());
        }
        for (const auto& read : every_read(s, "sch_a")) {
            CHECK(read == second);
        }
    }
    SECTION("planner moves and successes change only the times; the record stays cached") {
        auto plan = plan_next(a, "run_1");
        REQUIRE(s.apply_plan(std::vector{plan}, t0 + 1s).value().materialized == 1);
        {
            auto tx = s.backend().begin();
            REQUIRE(tx.has_value());
            REQUIRE(tx->advance_last_run_at("sch_a", t0 + 2s).value());
            REQUIRE(tx->commit().has_value());
        }
        auto moved = a;
        moved.next_run_at = t0 + 60s;
        moved.last_run_at = t0 + 2s;
        for (const auto& read : every_read(s, "sch_a")) {
            CHECK(read == moved);
        }
    }
    SECTION("a record written with invalid UTF-8 reads as a read from disk gives it") {
        // The encoding replaces each invalid byte by U+FFFD; the cache must not keep the
        // caller's bytes, or a read would depend on whether the record was cached.
        auto odd = a;
        odd.name = "alpha-\xFF";
        odd.updated_at = t0 + 6s;
        REQUIRE(s.update_schedule(odd).has_value());
        const auto cached_reads = every_read(s, "sch_a");
        CHECK(cached_reads.front().name == "alpha-\xEF\xBF\xBD");
        store.reset();
        store = open_with_cache(dir.path(), cached);
        CHECK(every_read(*store, "sch_a") == cached_reads);
    }
    SECTION("pause, resume and delete") {
        REQUIRE(s.pause_schedule("sch_a", t0 + 3s).has_value());
        CHECK_FALSE(s.get_schedule("sch_a").value()->enabled);
        CHECK(s.due_schedules(t0 + 1000h, 10).value().size() == 1);  // sch_b alone
        REQUIRE(s.resume_schedule("sch_a", t0 + 4s, std::nullopt).has_value());
        CHECK(s.get_schedule("sch_a").value()->enabled);
        REQUIRE(s.delete_schedule("sch_a", t0 + 5s).has_value());
        CHECK(s.get_schedule("sch_a").value()->deleted);
        auto tx = s.backend().begin();
        REQUIRE(tx.has_value());
        CHECK(tx->load_schedule("sch_a").value()->deleted);
    }
}

TEST_CASE("rocksdb: a planner move takes the due scan's times only while nothing was committed since",
          "[store][rocksdb][cache]") {
    rocksdb_fixture fx;
    auto& s = *fx;
    auto a = s.create_schedule(interval_schedule("sch_a", "alpha", t0)).value();
    REQUIRE(s.create_schedule(interval_schedule("sch_b", "beta", t0)).has_value());

    SECTION("nothing in between: the plan applies") {
        auto due = s.due_schedules(t0, 10).value();
        REQUIRE(due.size() == 2);
        auto out = s.apply_plan(std::vector{plan_next(due[0], "run_a"), plan_next(due[1], "run_b")}, t0).value();
        CHECK(out.materialized == 2);
        CHECK(out.stale == 0);
        CHECK(s.get_schedule("sch_a").value()->next_run_at == t0 + 60s);
    }
    SECTION("a pause committed between the scan and the plan makes it stale") {
        auto due = s.due_schedules(t0, 10).value();
        REQUIRE(due.size() == 2);
        REQUIRE(s.pause_schedule("sch_a", t0).has_value());
        auto out = s.apply_plan(std::vector{plan_next(due[0], "run_a"), plan_next(due[1], "run_b")}, t0).value();
        CHECK(out.stale == 1);
        CHECK(out.materialized == 1);
        CHECK_FALSE(s.get_run("run_a").value().has_value());
        CHECK(s.get_schedule("sch_a").value()->next_run_at == t0);
    }
    SECTION("a move committed between the scan and the plan (another planner) makes it stale") {
        auto due = s.due_schedules(t0, 10).value();
        REQUIRE(s.apply_plan(std::vector{plan_next(due[0], "run_first")}, t0).value().materialized == 1);
        auto out = s.apply_plan(std::vector{plan_next(due[0], "run_again")}, t0).value();
        CHECK(out.stale == 1);
        CHECK_FALSE(s.get_run("run_again").value().has_value());
    }
    SECTION("the transaction's own write of the times wins over the scan") {
        REQUIRE(s.due_schedules(t0, 10).value().size() == 2);  // the scan the moves may trust
        auto tx = s.backend().begin();
        REQUIRE(tx.has_value());
        auto later = a;
        later.next_run_at = t0 + 1h;
        REQUIRE(tx->put_schedule(later, a).has_value());
        CHECK_FALSE(tx->move_next_run_at("sch_a", t0, t0 + 60s).value());
        CHECK(tx->move_next_run_at("sch_b", t0, t0 + 60s).value());
        REQUIRE(tx->commit().has_value());
        CHECK(s.get_schedule("sch_a").value()->next_run_at == t0 + 1h);
        CHECK(s.get_schedule("sch_b").value()->next_run_at == t0 + 60s);
    }
}
