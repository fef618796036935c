// What only the SQLite store has: pragmas, migrations, append-only triggers, indexes, files.
#include <wakeplane/stores/sqlite.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>

#include <catch2/catch.hpp>

#include <wakeplane/replay.hpp>

#include "../../stores/sqlite/connection.hpp"
#include "../../stores/sqlite/due_rows.hpp"
#include "../../stores/sqlite/queries.hpp"
#include "../support.hpp"
#include "plans.hpp"
#include "sqlite_fixture.hpp"

using namespace wakeplane;
using namespace wakeplane::testing;
using namespace std::chrono_literals;
using stores::sqlite_detail::connection;
using stores::sqlite_detail::connection_role;

namespace {

const time_point t0 = at("2026-03-12T10:00:00Z");

/// Opens a connection the way the store opens its own.
connection connect(const std::filesystem::path& file, connection_role role = connection_role::writer) {
    auto c = connection::open(file, role, 5000ms);
    REQUIRE(c.has_value());
    return std::move(*c);
}

std::unique_ptr<stores::sqlite_store> must_open(const stores::sqlite_options& options) {
    auto s = stores::open_sqlite_store(options);
    if (!s) {
        FAIL(s.error().message);
    }
    return std::move(*s);
}

/// A new file `w.db` in `dir` with the schema of `version` and no rows: what a wakeplane of that
/// version made of it, for a test to fill with plain SQL as that version wrote its rows.
std::filesystem::path file_at_version(const temp_dir& dir, int version) {
    const auto file = dir.path() / "w.db";
    stores::sqlite_options options{file};
    options.migrate_to = version;
    must_open(options).reset();
    return file;
}

/// A store with one schedule and one triggered run: ledger sequences 1 and 2.
std::unique_ptr<stores::sqlite_store> seeded(const stores::sqlite_options& options) {
    auto s = must_open(options);
    auto sc = interval_schedule("sch_a", "alpha", t0);
    REQUIRE(s->create_schedule(sc).has_value());
    REQUIRE(s->trigger(pending_run(sc, "run_1", t0, t0)).has_value());
    return s;
}

std::string read_text(const std::filesystem::path& file) {
    std::ifstream in{file};
    return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

struct shell_outcome {
    int exit_status = -1;
    std::string stderr_text;
};

/// Runs the real `sqlite3` shell on `file` as a child process, the way an operator would.
shell_outcome sqlite3_shell(const temp_dir& dir, const std::filesystem::path& file, const std::string& sql) {
    const auto err = dir.path() / "shell.err";
    const std::string command =
        "sqlite3 '" + file.string() + "' \"" + sql + "\" >/dev/null 2>'" + err.string() + "'";
    const int raw = std::system(command.c_str());
    shell_outcome out;
    out.exit_status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    out.stderr_text = read_text(err);
    return out;
}

/// Column `column` of every row that `explain` (EXPLAIN or EXPLAIN QUERY PLAN) prints for `statement`.
std::vector<std::string> explained(connection& c, std::string_view explain, std::string_view statement, int column) {
    auto st = c.prepare(std::string(explain) + " " + std::string(statement));
    REQUIRE(st.has_value());
    std::vector<std::string> out;
    for (;;) {
        auto row = st->step();
        REQUIRE(row.has_value());
        if (!*row) {
            return out;
        }
        out.emplace_back(st->text(column));
    }
}

/// The `detail` column of EXPLAIN QUERY PLAN, one line per step.
std::string query_plan(connection& c, std::string_view query) {
    std::string plan;
    for (const auto& step : explained(c, "EXPLAIN QUERY PLAN", query, 3)) {
        plan += step + "\n";
    }
    return plan;
}

/// How many ephemeral tables one execution of `statement` builds (OpenEphemeral in its program).
std::int64_t ephemeral_tables(connection& c, std::string_view statement) {
    const auto opcodes = explained(c, "EXPLAIN", statement, 1);
    return std::count(opcodes.begin(), opcodes.end(), "OpenEphemeral");
}

/// How many Halt and HaltIfNull steps of `statement`'s program, its triggers' included, resolve
/// a conflict with ABORT (their P2 is OE_Abort): any one makes SQLite keep a statement journal
/// for every execution of a statement that triggers fire on.
std::int64_t aborting_halts(connection& c, std::string_view statement) {
    const auto opcodes = explained(c, "EXPLAIN", statement, 1);
    const auto p2 = explained(c, "EXPLAIN", statement, 3);
    REQUIRE(opcodes.size() == p2.size());
    std::int64_t n = 0;
    for (std::size_t i = 0; i < opcodes.size(); ++i) {
        n += (opcodes[i] == "Halt" || opcodes[i] == "HaltIfNull") && p2[i] == "2";
    }
    return n;
}

/// The CREATE statement of schema object `name`.
std::string schema_sql(connection& c, std::string_view name) {
    auto st = c.prepare("SELECT sql FROM sqlite_schema WHERE name = ?1");
    REQUIRE(st.has_value());
    st->bind(1, name);
    auto row = st->step();
    REQUIRE(row.has_value());
    REQUIRE(*row);
    return std::string(st->text(0));
}

/// Writes the rows of `sc` as a wakeplane of version 3 or 4 wrote them: next_run_at in its
/// column, the record (last_run_at included) in schedule_records.
void put_schedule_rows_v3(connection& c, const schedule& sc) {
    auto put_schedule = c.prepare(
        "INSERT INTO schedules (id, name, enabled, deleted, next_run_us, created_us) VALUES (?1, ?2, 1, 0, ?3, ?4)");
    REQUIRE(put_schedule.has_value());
    put_schedule->bind(1, sc.id).bind(2, sc.name).bind(3, stores::sqlite_detail::to_us(sc.next_run_at));
    put_schedule->bind(4, stores::sqlite_detail::to_us(sc.created_at));
    REQUIRE(put_schedule->run().has_value());
    auto put_record = c.prepare("INSERT INTO schedule_records (id, record) VALUES (?1, ?2)");
    REQUIRE(put_record.has_value());
    const auto record = encode_schedule_record(sc);
    put_record->bind(1, sc.id).bind(2, record);
    REQUIRE(put_record->run().has_value());
}

std::int64_t ledger_rows(connection& c) {
    auto n = c.query_integer("SELECT count(*) FROM ledger");
    REQUIRE(n.has_value());
    return *n;
}

}  // namespace

TEST_CASE("sqlite: every connection runs in WAL mode with synchronous FULL, foreign keys and a busy timeout; "
          "the writer without secure_delete",
          "[store][sqlite]") {
    temp_dir dir;
    const auto file = dir.path() / "w.db";
    auto store = must_open({file, 1234ms});
    for (auto role : {connection_role::writer, connection_role::reader}) {
        auto c = connection::open(file, role, 1234ms, role == connection_role::writer ? 3000 : 0);
        REQUIRE(c.has_value());
        CHECK(c->query_text("PRAGMA journal_mode").value() == "wal");
        CHECK(c->query_integer("PRAGMA synchronous").value() == 2);  // FULL
        CHECK(c->query_integer("PRAGMA foreign_keys").value() == 1);
        CHECK(c->query_integer("PRAGMA busy_timeout").value() == 1234);
        CHECK(c->query_integer("PRAGMA query_only").value() == (role == connection_role::reader ? 1 : 0));
        if (role == connection_role::writer) {
            CHECK(c->query_integer("PRAGMA secure_delete").value() == 0);  // whatever the build's default
            CHECK(c->query_integer("PRAGMA cache_size").value() == -3000);  // KiB, as sqlite_options::writer_cache_kib
        } else {
            CHECK(c->query_integer("PRAGMA cache_size").value() != -3000);  // SQLite's default
        }
    }
    CHECK(store->backend().schema_version().value() == stores::sqlite_schema_version);
}

TEST_CASE("sqlite: the ledger refuses updates, deletes and overwrites through a store connection",
          "[store][sqlite][ledger]") {
    temp_dir dir;
    const auto file = dir.path() / "w.db";
    auto store = seeded({file});
    const auto before = store->read_ledger({}).value();
    auto c = connect(file);
    for (const char* attempt : {"UPDATE ledger SET kind = 'run_started' WHERE seq = 1", "DELETE FROM ledger WHERE seq = 1",
                                "DELETE FROM ledger",
                                "INSERT OR REPLACE INTO ledger (seq, at_us, kind, schedule_id, data)"
                                " VALUES (1, 0, 'schedule_created', 'sch_x', '{}')"}) {
        INFO(attempt);
        auto refused = c.execute_script(attempt);
        REQUIRE_FALSE(refused.has_value());
        CHECK(refused.error().code == errc::storage);
        CHECK_THAT(refused.error().message, Catch::Contains("ledger is append-only"));
    }
    CHECK(store->read_ledger({}).value() == before);
    REQUIRE(store->pause_schedule("sch_a", t0 + 1s).has_value());  // appending still works
    CHECK(store->last_seq().value() == 3);
}

TEST_CASE("sqlite: the ledger refuses updates and deletes from the sqlite3 shell", "[store][sqlite][ledger]") {
    REQUIRE(std::system("command -v sqlite3 >/dev/null 2>&1") == 0);  // scripts/bootstrap installs it
    temp_dir dir;
    const auto file = dir.path() / "w.db";
    auto store = seeded({file});
    const auto before = store->read_ledger({}).value();
    for (const char* attempt : {"UPDATE ledger SET kind = 'run_started' WHERE seq = 1;", "DELETE FROM ledger WHERE seq = 2;",
                                "DELETE FROM ledger;",
                                "REPLACE INTO ledger (seq, at_us, kind, schedule_id, data)"
                                " VALUES (2, 0, 'schedule_created', 'sch_x', '{}');"}) {
        INFO(attempt);
        auto out = sqlite3_shell(dir, file, attempt);
        CHECK(out.exit_status != 0);
        CHECK_THAT(out.stderr_text, Catch::Contains("ledger is append-only"));
    }
    auto readable = sqlite3_shell(dir, file, "SELECT count(*) FROM ledger;");
    CHECK(readable.exit_status == 0);  // the shell did open the file: the triggers refused
    CHECK(store->read_ledger({}).value() == before);
}

TEST_CASE("sqlite: a file at an older schema version is migrated and keeps its rows", "[store][sqlite][migration]") {
    for (const int from : {1, 2}) {
        CAPTURE(from);
        temp_dir dir;
        const auto file = dir.path() / "w.db";
        stores::sqlite_options old_version{file};
        old_version.migrate_to = from;
        must_open(old_version).reset();  // the schema of that version, no rows yet
        auto sc = interval_schedule("sch_a", "alpha", t0);
        sc.last_run_at = t0 - 1h;
        auto r = pending_run(sc, "run_1", t0, t0);
        {
            // The rows as a wakeplane of that version wrote them: the record inside the schedule's row.
            auto c = connect(file);
            CHECK(c.query_integer("PRAGMA user_version").value() == from);
            auto put_schedule = c.prepare(
                "INSERT INTO schedules (id, name, enabled, deleted, next_run_us, created_us, record)"
                " VALUES (?1, ?2, 1, 0, ?3, ?4, ?5)");
            REQUIRE(put_schedule.has_value());
            const auto record = encode_schedule_record(sc);
            put_schedule->bind(1, sc.id).bind(2, sc.name).bind(3, stores::sqlite_detail::to_us(t0));
            put_schedule->bind(4, stores::sqlite_detail::to_us(sc.created_at)).bind(5, record);
            REQUIRE(put_schedule->run().has_value());
            auto put_run = c.prepare(
                "INSERT INTO runs (id, schedule_id, occurrence_key, attempt, nominal_us, status, eligible_us, created_us,"
                " record) VALUES (?1, ?2, ?3, 1, ?4, 'pending', ?4, ?4, ?5)");
            REQUIRE(put_run.has_value());
            const auto run_record = encode_run_record(r);
            put_run->bind(1, r.id).bind(2, sc.id).bind(3, r.occurrence_key).bind(4, stores::sqlite_detail::to_us(t0));
            put_run->bind(5, run_record);
            REQUIRE(put_run->run().has_value());
            REQUIRE(c.execute_script("INSERT INTO ledger (seq, at_us, kind, schedule_id, data) "
                                     "VALUES (1, 0, 'schedule_created', 'sch_a', '{}')")
                        .has_value());
        }
        auto store = must_open({file});
        CHECK(store->backend().schema_version().value() == stores::sqlite_schema_version);
        CHECK(store->get_schedule("sch_a").value() == sc);
        CHECK(store->due_schedules(t0, 10).value() == std::vector{sc});
        CHECK(store->list_schedules({}, {}).value().items == std::vector{sc});
        CHECK(store->get_run("run_1").value() == r);
        auto c = connect(file);
        CHECK(c.query_integer("SELECT count(*) FROM sqlite_schema WHERE name = 'runs_by_created'").value() == 1);
        CHECK(c.query_integer("SELECT count(*) FROM schedule_records").value() == 1);
        CHECK(c.query_integer("SELECT count(*) FROM pragma_table_info('schedules') WHERE name = 'record'").value() == 0);
        // The migrated store works: a pass moves next_run_at, a pause rewrites the record.
        {
            auto tx = store->backend().begin();
            REQUIRE(tx.has_value());
            REQUIRE(tx->move_next_run_at("sch_a", t0, t0 + 60s).value());
            REQUIRE(tx->commit().has_value());
        }
        REQUIRE(store->pause_schedule("sch_a", t0 + 1s).has_value());
        CHECK(store->last_seq().value() == 2);
        auto paused = store->get_schedule("sch_a").value().value();
        CHECK(paused.next_run_at == t0 + 60s);
        CHECK_FALSE(paused.enabled);
        CHECK(paused.last_run_at == t0 - 1h);
        // Opening asks for no version below the file's: nothing is downgraded.
        store.reset();
        CHECK(must_open(old_version)->backend().schema_version().value() == stores::sqlite_schema_version);
    }
}

TEST_CASE("sqlite: version 4 rebuilds the open-run index and keeps the open runs", "[store][sqlite][migration]") {
    temp_dir dir;
    const auto file = file_at_version(dir, 3);
    {
        // A schedule and its pending run, as a wakeplane of version 3 wrote them.
        auto c = connect(file);
        auto sc = interval_schedule("sch_a", "alpha", t0);
        put_schedule_rows_v3(c, sc);
        auto put_run = c.prepare(
            "INSERT INTO runs (id, schedule_id, occurrence_key, attempt, nominal_us, status, eligible_us, created_us,"
            " record) VALUES (?1, ?2, ?3, 1, ?4, 'pending', ?4, ?4, ?5)");
        REQUIRE(put_run.has_value());
        auto r = pending_run(sc, "run_1", t0, t0);
        const auto run_record = encode_run_record(r);
        put_run->bind(1, r.id).bind(2, sc.id).bind(3, r.occurrence_key).bind(4, stores::sqlite_detail::to_us(t0));
        put_run->bind(5, run_record);
        REQUIRE(put_run->run().has_value());
        CHECK(c.query_integer("PRAGMA user_version").value() == 3);
        CHECK_THAT(schema_sql(c, "runs_open"), Catch::Contains("'running', 'retry_scheduled')"));
        CHECK(ephemeral_tables(c, stores::sqlite_detail::sql::insert_run) == 2);  // the CHECK's and the index's
    }
    auto store = must_open({file});
    CHECK(store->backend().schema_version().value() == stores::sqlite_schema_version);
    auto c = connect(file);
    CHECK_THAT(schema_sql(c, "runs_open"),
               Catch::Contains("WHERE status IN ('pending', 'claimed') OR status IN ('running', 'retry_scheduled')"));
    CHECK_THAT(query_plan(c, stores::sqlite_detail::sql::open_runs_brief), Catch::Contains("USING INDEX runs_open"));
    auto tx = store->backend().begin();
    REQUIRE(tx.has_value());
    auto open = tx->open_runs("sch_a");
    REQUIRE(open.has_value());
    REQUIRE(open->size() == 1);
    CHECK(open->front().id == "run_1");
}

TEST_CASE("sqlite: version 5 reads last_run_at from a migrated record until a success moves it",
          "[store][sqlite][migration]") {
    temp_dir dir;
    const auto file = file_at_version(dir, 4);
    auto sc = interval_schedule("sch_a", "alpha", t0);
    sc.last_run_at = t0 - 1h;
    {
        auto c = connect(file);
        put_schedule_rows_v3(c, sc);  // last_run_at in the record only
    }
    auto store = must_open({file});
    CHECK(store->backend().schema_version().value() == stores::sqlite_schema_version);
    auto c = connect(file);
    const auto record = c.query_text("SELECT record FROM schedule_records").value();
    CHECK(c.query_integer("SELECT record_version FROM schedules").value() == 1);
    CHECK(c.query_integer("SELECT count(*) FROM schedules WHERE last_run_us IS NULL").value() == 1);
    CHECK(store->get_schedule("sch_a").value() == sc);
    CHECK(store->due_schedules(t0, 10).value() == std::vector{sc});
    {
        auto tx = store->backend().begin();
        REQUIRE(tx.has_value());
        CHECK_FALSE(tx->advance_last_run_at("sch_a", t0 - 2h).value());  // older than the record's
        REQUIRE(tx->advance_last_run_at("sch_a", t0 - 30min).value());
        REQUIRE(tx->commit().has_value());
    }
    CHECK(c.query_text("SELECT record FROM schedule_records").value() == record);  // the record stays
    CHECK(c.query_integer("SELECT record_version FROM schedules").value() == 1);
    CHECK(store->due_schedules(t0, 10).value().at(0).last_run_at == t0 - 30min);
    CHECK(store->get_schedule("sch_a").value()->last_run_at == t0 - 30min);
    auto tx = store->backend().begin();
    REQUIRE(tx.has_value());
    CHECK_FALSE(tx->advance_last_run_at("sch_a", t0 - 45min).value());  // older than the column's
}

TEST_CASE("sqlite: ledgers of versions 5 and 8 read back, and a pass's rows leave out what the header implies",
          "[store][sqlite][migration][ledger]") {
    // Version 5 kept a planner's event whole; versions 6 to 8 kept its row as both instants.
    const auto [version, form] = GENERATE(table<int, std::string_view>({{5, "whole"}, {8, "both instants"}}));
    CAPTURE(version, form);
    temp_dir dir;
    const auto file = file_at_version(dir, version);
    auto sc = interval_schedule("sch_a", "alpha", t0);
    ledger_event old;  // a planner's event, as a wakeplane of that version stored it
    old.seq = 1;
    old.at = t0;
    old.kind = event_kind::occurrence_materialized;
    old.schedule = sc.id;
    old.run = "run_0";
    old.occurrence_key = occurrence_key(sc.id, t0 - 1min);
    old.attempt = 1;
    old.payload = run_change{.row = pending_run(sc, "run_0", t0 - 1min, t0), .next_run = next_run_change{t0}};
    REQUIRE(is_fresh_materialization(old));
    {
        auto c = connect(file);
        auto put = c.prepare("INSERT INTO ledger (seq, at_us, kind, schedule_id, run_id, occurrence_key, attempt, data)"
                             " VALUES (1, ?1, 'occurrence_materialized', ?2, ?3, ?4, 1, ?5)");
        REQUIRE(put.has_value());
        put->bind(1, stores::sqlite_detail::to_us(t0)).bind(2, sc.id).bind(3, *old.run).bind(4, *old.occurrence_key);
        const auto data = form == "whole" ? encode_event_data(old)
                                          : R"({"pending_run":{"nominal_time":"2026-03-12T09:59:00Z",)"
                                            R"("due_time":"2026-03-12T09:59:00Z"},"next_run_at":"2026-03-12T10:00:00Z"})";
        put->bind(5, data);
        REQUIRE(put->run().has_value());
    }
    auto store = must_open({file});
    CHECK(store->backend().schema_version().value() == stores::sqlite_schema_version);
    CHECK(store->read_ledger({}).value() == std::vector{old});
    sc = store->create_schedule(sc).value();
    REQUIRE(store->apply_plan(std::vector{plan_one(sc, "run_1", 1min, t0 + 1s)}, t0 + 1s).value().materialized == 1);
    auto c = connect(file);
    CHECK(c.query_text("SELECT data FROM ledger WHERE seq = 3").value() ==
          R"({"pending_run":{},"next_run_at":"2026-03-12T10:01:00Z"})");
    const auto events = store->read_ledger({}).value();
    REQUIRE(events.size() == 3);
    CHECK(events[0] == old);
    CHECK(std::get<run_change>(events[2].payload).row == store->get_run("run_1").value());
}

TEST_CASE("sqlite: version 7 builds the run table again and keeps its rows, receipts and dead letters",
          "[store][sqlite][migration]") {
    namespace sql = stores::sqlite_detail::sql;
    temp_dir dir;
    const auto file = file_at_version(dir, 6);
    auto sc = interval_schedule("sch_a", "alpha", t0);
    const auto r = pending_run(sc, "run_1", t0, t0);
    {
        stores::sqlite_options v6{file};
        v6.migrate_to = 6;
        auto old = must_open(v6);
        sc = old->create_schedule(sc).value();
        REQUIRE(old->trigger(r).has_value());
        auto c = connect(file);
        // Rows that refer to the run: dropping the old table with foreign keys on would refuse.
        REQUIRE(c.execute_script("INSERT INTO receipts (id, run_id, created_us, record) VALUES ('rcp_1', 'run_1', 0, '{}');"
                                 "INSERT INTO dead_letters (id, run_id, schedule_id, created_us, record)"
                                 " VALUES ('dl_1', 'run_1', 'sch_a', 0, '{}')")
                    .has_value());
        CHECK(ephemeral_tables(c, sql::insert_run) == 1);  // the nine-value CHECK on status
    }
    auto store = must_open({file});
    CHECK(store->backend().schema_version().value() == stores::sqlite_schema_version);
    CHECK(store->get_run("run_1").value() == r);
    CHECK(store->list_runs({}, {}).value().items == std::vector{r});
    auto c = connect(file);
    CHECK(c.query_integer("SELECT count(*) FROM receipts WHERE run_id = 'run_1'").value() == 1);
    CHECK(c.query_integer("SELECT count(*) FROM dead_letters WHERE run_id = 'run_1'").value() == 1);
    CHECK(c.query_integer("SELECT count(*) FROM pragma_foreign_key_check").value() == 0);
    CHECK(c.query_integer("PRAGMA foreign_keys").value() == 1);
    CHECK(ephemeral_tables(c, sql::insert_run) == 0);
    CHECK(ephemeral_tables(c, sql::update_run) == 0);
    CHECK(ephemeral_tables(c, sql::update_run_status) == 0);
    for (const auto* index : {"runs_eligible", "runs_lease", "runs_open", "runs_by_created", "runs_by_schedule",
                              "runs_by_status"}) {
        CAPTURE(index);
        CHECK_THAT(schema_sql(c, index), Catch::Contains("ON runs "));
    }
    CHECK_THAT(query_plan(c, sql::eligible_runs), Catch::Contains("USING INDEX runs_eligible"));
    CHECK(store->eligible_runs(t0, 10).value() == std::vector{r});
    // The constraints refuse what they refused: an unknown status, a pending run that is not
    // eligible, a receipt of a run that does not exist; and take every status there is.
    const auto insert = [&c](const std::string& id, std::string_view status, std::string_view eligible) {
        return c.execute_script("INSERT INTO runs (id, schedule_id, occurrence_key, attempt, nominal_us, status,"
                                " eligible_us, created_us, record) VALUES ('" + id + "', 'sch_a', '" + id + "', 1, 0, '" +
                                std::string(status) + "', " + std::string(eligible) + ", 0, '{}')");
    };
    CHECK_FALSE(insert("run_bad", "bogus", "NULL").has_value());
    CHECK_FALSE(insert("run_bad", "pending", "NULL").has_value());
    CHECK_FALSE(c.execute_script("INSERT INTO receipts (id, run_id, created_us, record) VALUES ('rcp_2', 'run_none', 0, '{}')")
                    .has_value());
    for (int i = 0; i <= static_cast<int>(run_status::skipped); ++i) {
        const auto status = to_string(static_cast<run_status>(i));
        CAPTURE(status);
        const bool waits = status == "pending" || status == "retry_scheduled";
        CHECK(insert("run_s" + std::to_string(i), status, waits ? "0" : "NULL").has_value());
    }
}

TEST_CASE("sqlite: version 8 builds the ledger again, keeps its events and guards, and appends without a "
          "statement journal",
          "[store][sqlite][migration][ledger]") {
    namespace sql = stores::sqlite_detail::sql;
    temp_dir dir;
    const auto file = file_at_version(dir, 7);
    std::vector<ledger_event> before;
    {
        stores::sqlite_options v7{file};
        v7.migrate_to = 7;
        auto old = seeded(v7);
        REQUIRE(old->pause_schedule("sch_a", t0 + 1s).has_value());
        before = old->read_ledger({}).value();
        REQUIRE(before.size() == 3);
        auto c = connect(file);
        CHECK(aborting_halts(c, sql::append_event) > 0);  // what version 8 removes
    }
    auto store = must_open({file});
    CHECK(store->backend().schema_version().value() == stores::sqlite_schema_version);
    CHECK(store->read_ledger({}).value() == before);
    CHECK(store->read_ledger({.schedule = "sch_a", .run = std::nullopt}).value() == before);
    REQUIRE(store->resume_schedule("sch_a", t0 + 2s, std::nullopt).has_value());  // appending goes on from 4
    CHECK(store->last_seq().value() == 4);
    auto c = connect(file);
    CHECK(aborting_halts(c, sql::append_event) == 0);
    for (const auto* object : {"ledger_by_schedule", "ledger_by_run", "ledger_no_update", "ledger_no_delete",
                               "ledger_no_overwrite"}) {
        CAPTURE(object);
        const auto created = schema_sql(c, object);
        CHECK_THAT(created, Catch::Contains("ON ledger"));
        CHECK_THAT(created, !Catch::Contains("ledger_v8"));
    }
    // The guards refuse as before; a refused statement leaves every event as it was.
    for (const char* attempt : {"UPDATE ledger SET kind = 'run_started' WHERE seq = 1", "DELETE FROM ledger",
                                "INSERT OR REPLACE INTO ledger (seq, at_us, kind, schedule_id, data)"
                                " VALUES (2, 0, 'schedule_created', 'sch_x', '{}')",
                                "INSERT INTO ledger (seq, at_us, kind, schedule_id, data)"
                                " VALUES (5, 0, 'schedule_created', NULL, '{}')"}) {
        INFO(attempt);
        CHECK_FALSE(c.execute_script(attempt).has_value());
    }
    const auto after = store->read_ledger({}).value();
    REQUIRE(after.size() == 4);
    CHECK(std::vector(after.begin(), after.begin() + 3) == before);
}

TEST_CASE("sqlite: a file from a newer wakeplane is refused and left alone", "[store][sqlite][migration]") {
    temp_dir dir;
    const auto file = dir.path() / "w.db";
    seeded({file}).reset();
    {
        auto c = connect(file);
        REQUIRE(c.execute_script("PRAGMA user_version = 10").has_value());
    }
    auto refused = stores::open_sqlite_store({file});
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == errc::storage);
    CHECK_THAT(refused.error().message,
               Catch::Contains("database schema version 10 is newer than this wakeplane (9); upgrade wakeplane"));
    auto c = connect(file);
    CHECK(c.query_integer("PRAGMA user_version").value() == 10);
    CHECK(ledger_rows(c) == 2);
}

TEST_CASE("sqlite: a database that is not wakeplane's is refused", "[store][sqlite][migration]") {
    temp_dir dir;
    const auto file = dir.path() / "other.db";
    {
        auto c = connect(file);
        REQUIRE(c.execute_script("CREATE TABLE notes (body TEXT)").has_value());
    }
    auto refused = stores::open_sqlite_store({file});
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == errc::storage);
    CHECK_THAT(refused.error().message, Catch::Contains("not a wakeplane database"));
    stores::sqlite_options bad_version{dir.path() / "new.db"};
    bad_version.migrate_to = stores::sqlite_schema_version + 1;
    CHECK(stores::open_sqlite_store(bad_version).error().code == errc::bad_request);
}

TEST_CASE("sqlite: the hot queries use their partial indexes, which a run's write evaluates without "
          "an ephemeral table", "[store][sqlite][index]") {
    temp_dir dir;
    const auto file = dir.path() / "w.db";
    auto store = seeded({file});
    auto c = connect(file);
    namespace sql = stores::sqlite_detail::sql;
    const auto due = query_plan(c, sql::due_schedules);
    CHECK_THAT(due, Catch::Contains("USING INDEX schedules_due"));
    CHECK_THAT(due, !Catch::Contains("SCAN"));
    CHECK_THAT(query_plan(c, sql::next_due), Catch::Contains("schedules_due"));
    CHECK_THAT(query_plan(c, sql::move_next_run_at_row), Catch::Contains("USING INTEGER PRIMARY KEY (rowid=?)"));
    CHECK_THAT(query_plan(c, sql::eligible_runs), Catch::Contains("USING INDEX runs_eligible"));
    CHECK_THAT(query_plan(c, sql::expired_leases), Catch::Contains("USING INDEX runs_lease"));
    CHECK_THAT(query_plan(c, sql::open_runs_of), Catch::Contains("USING INDEX runs_open"));
    CHECK_THAT(query_plan(c, sql::open_runs_brief), Catch::Contains("USING INDEX runs_open"));
    // SQLite evaluates an IN list of three or more constants through an ephemeral table that it
    // builds at every execution of the statement. Neither the open-run index's condition
    // (version 4) nor the CHECK on status (version 7) has one any more, neither for an insert nor
    // for the old and new rows of an update.
    CHECK(ephemeral_tables(c, sql::insert_run) == 0);
    CHECK(ephemeral_tables(c, sql::update_run) == 0);
    CHECK(ephemeral_tables(c, sql::update_run_status) == 0);
    const auto last = query_plan(c, sql::last_seq);  // a transaction's first append reads one row
    CHECK_THAT(last, Catch::Contains("SEARCH ledger"));
    CHECK_THAT(last, !Catch::Contains("SCAN ledger"));
}

namespace {

/// A store at `file` with sch_a (every minute) and sch_b (every two) due at t0, which a due query
/// has just read: the moves that follow find their rows by the rowids it read.
std::unique_ptr<stores::sqlite_store> read_as_due(const std::filesystem::path& file) {
    auto store = must_open({file});
    REQUIRE(store->create_schedule(interval_schedule("sch_a", "alpha", t0, 60)).has_value());
    REQUIRE(store->create_schedule(interval_schedule("sch_b", "beta", t0, 120)).has_value());
    REQUIRE(store->backend().due_schedules(t0, 10).value().size() == 2);
    return store;
}

}  // namespace

TEST_CASE("sqlite: a move finds its row by the rowid the due query read, and by the id when that row is "
          "another's", "[store][sqlite][planner]") {
    temp_dir dir;
    const auto file = dir.path() / "w.db";
    auto store = read_as_due(file);
    auto& backend = store->backend();
    std::vector<std::string> order{"sch_a", "sch_b"};
    SECTION("in the order the query read them") {}
    SECTION("in another order") { order = {"sch_b", "sch_a"}; }
    SECTION("their rows renumbered since, each at the other's rowid") {
        // As VACUUM may renumber a table without an INTEGER PRIMARY KEY. A move that trusted the
        // rowid alone would move sch_b's row for sch_a.
        auto c = connect(file);
        const auto a = c.query_integer("SELECT rowid FROM schedules WHERE id = 'sch_a'").value();
        const auto b = c.query_integer("SELECT rowid FROM schedules WHERE id = 'sch_b'").value();
        REQUIRE(c.execute_script("UPDATE schedules SET rowid = -1 WHERE id = 'sch_a';"
                                 "UPDATE schedules SET rowid = " + std::to_string(a) + " WHERE id = 'sch_b';"
                                 "UPDATE schedules SET rowid = " + std::to_string(b) + " WHERE id = 'sch_a';")
                    .has_value());
    }
    {
        auto tx = backend.begin();
        REQUIRE(tx.has_value());
        for (const auto& id : order) {
            CHECK(tx->move_next_run_at(id, t0, t0 + (id == "sch_a" ? 1min : 2min)).value());
        }
        for (const auto& id : order) {
            CHECK(tx->move_next_run_at(id, t0, t0 + 5min).value() == false);  // moved already: stale
        }
        REQUIRE(tx->commit().has_value());
    }
    CHECK(store->get_schedule("sch_a").value().value().next_run_at == t0 + 1min);
    CHECK(store->get_schedule("sch_b").value().value().next_run_at == t0 + 2min);
}

TEST_CASE("sqlite: a move by a right rowid whose schedule moved since the due query moves nothing",
          "[store][sqlite][planner]") {
    temp_dir dir;
    const auto file = dir.path() / "w.db";
    auto store = read_as_due(file);
    auto& backend = store->backend();
    auto c = connect(file);  // another writer moves sch_a: the plan made from the query is stale
    REQUIRE(c.execute_script("UPDATE schedules SET next_run_us = next_run_us + 1000000 WHERE id = 'sch_a';")
                .has_value());
    {
        auto tx = backend.begin();
        REQUIRE(tx.has_value());
        CHECK(tx->move_next_run_at("sch_a", t0, t0 + 1min).value() == false);
        CHECK(tx->move_next_run_at("sch_b", t0, t0 + 2min).value());
        REQUIRE(tx->commit().has_value());
    }
    CHECK(store->get_schedule("sch_a").value().value().next_run_at == t0 + 1s);  // as the other left it
    CHECK(store->get_schedule("sch_b").value().value().next_run_at == t0 + 2min);
}

TEST_CASE("sqlite: the due rows hint each schedule of the last query once, forward only", "[store][sqlite][planner]") {
    using stores::sqlite_detail::due_rows;
    const auto listed = [](std::initializer_list<const char*> ids) {
        std::vector<schedule> out;
        for (const char* id : ids) {
            out.push_back(interval_schedule(id, id, t0));
        }
        return out;
    };
    due_rows rows;
    CHECK_FALSE(rows.take("sch_a").has_value());  // nothing read yet
    rows.remember(listed({"sch_a", "sch_b", "sch_c", "sch_d"}), {11, 12, 13, 14});
    CHECK(rows.take("sch_a") == 11);
    CHECK(rows.take("sch_c") == 13);              // sch_b skipped, as a planner skips a schedule
    CHECK_FALSE(rows.take("sch_b").has_value());  // behind the last one taken: never goes back
    CHECK_FALSE(rows.take("sch_c").has_value());  // taken once
    CHECK_FALSE(rows.take("sch_x").has_value());  // not in the list, and the miss moves nothing
    CHECK(rows.take("sch_d") == 14);
    rows.remember(listed({"sch_b"}), {22});      // the next query replaces the list
    CHECK_FALSE(rows.take("sch_d").has_value());
    CHECK(rows.take("sch_b") == 22);
    rows.remember(listed({"sch_a", "sch_b"}), {31});  // lengths that disagree: nothing kept
    CHECK_FALSE(rows.take("sch_a").has_value());
    std::vector<schedule> many(due_rows::most + 1, interval_schedule("sch_m", "m", t0));
    rows.remember(many, std::vector<std::int64_t>(many.size(), 41));  // longer than a chunk: not kept
    CHECK_FALSE(rows.take("sch_m").has_value());
}

TEST_CASE("sqlite: an unreadable or corrupt file is a storage error that says so", "[store][sqlite][errors]") {
    temp_dir dir;
    SECTION("not a database") {
        const auto file = dir.path() / "garbage.db";
        std::ofstream{file} << std::string(4096, 'x');
        auto opened = stores::open_sqlite_store({file});
        REQUIRE_FALSE(opened.has_value());
        CHECK(opened.error().code == errc::storage);
        CHECK_THAT(opened.error().message, Catch::Contains(file.string()));
        CHECK_THAT(opened.error().message, Catch::Contains("file is not a database"));
    }
    SECTION("a directory that does not exist") {
        const auto file = dir.path() / "missing" / "w.db";
        auto opened = stores::open_sqlite_store({file});
        REQUIRE_FALSE(opened.has_value());
        CHECK(opened.error().code == errc::storage);
        CHECK_THAT(opened.error().message, Catch::Contains("unable to open database file"));
    }
    SECTION("a directory in place of the file") {
        auto opened = stores::open_sqlite_store({dir.path()});
        REQUIRE_FALSE(opened.has_value());
        CHECK(opened.error().code == errc::storage);
    }
    SECTION("no path") {
        CHECK(stores::open_sqlite_store({}).error().code == errc::bad_request);
    }
}

TEST_CASE("sqlite: readers see committed data only; a dropped transaction rolls back", "[store][sqlite][tx]") {
    temp_dir dir;
    auto store = seeded({dir.path() / "w.db"});
    auto& backend = store->backend();
    const auto sched = store->get_schedule("sch_a").value().value();
    {
        auto tx = backend.begin();
        REQUIRE(tx.has_value());
        REQUIRE(tx->insert_run(pending_run(sched, "run_2", t0 + 1min, t0)).value());
        CHECK(tx->load_run("run_2").value().has_value());       // its own writes
        CHECK_FALSE(backend.get_run("run_2").value().has_value());  // not committed yet
        CHECK(backend.eligible_runs(t0 + 1h, 10).value().size() == 1);
        REQUIRE(tx->commit().has_value());
    }
    CHECK(backend.get_run("run_2").value().has_value());
    {
        auto tx = backend.begin();
        REQUIRE(tx.has_value());
        REQUIRE(tx->insert_run(pending_run(sched, "run_3", t0 + 2min, t0)).value());
    }
    CHECK_FALSE(backend.get_run("run_3").value().has_value());
    auto tx = backend.begin();  // the writer is free again
    REQUIRE(tx.has_value());
    CHECK_FALSE(tx->load_run("run_3").value().has_value());
}

TEST_CASE("sqlite: a repeated occurrence is not written, a repeated id is an error", "[store][sqlite][tx]") {
    temp_dir dir;
    auto store = seeded({dir.path() / "w.db"});
    auto& backend = store->backend();
    const auto sched = store->get_schedule("sch_a").value().value();
    auto tx = backend.begin();
    REQUIRE(tx.has_value());
    const auto original = tx->load_run("run_1").value().value();
    CHECK(tx->insert_run(original).value() == false);  // the same row again
    CHECK(tx->insert_run(pending_run(sched, "run_other", t0, t0)).value() == false);  // same (key, attempt)
    auto dup_id = tx->insert_run(pending_run(sched, "run_1", t0 + 5min, t0));
    REQUIRE_FALSE(dup_id.has_value());
    CHECK(dup_id.error().code == errc::storage);
    CHECK_THAT(dup_id.error().message, Catch::Contains("run \"run_1\" exists already"));
    auto next = original;
    next.attempt = 2;  // the identity of a run never changes
    CHECK(tx->put_run(next, original).error().code == errc::storage);
    ledger_event e;
    e.seq = 9;
    e.kind = event_kind::schedule_updated;
    e.schedule = "sch_a";
    e.payload = sched;
    CHECK_THAT(tx->append(e).error().message, Catch::Contains("ledger sequence 9 is not the next one"));
    e.seq = 2;
    CHECK(tx->append(e).error().code == errc::storage);  // taken: never overwritten
}

TEST_CASE("sqlite: the ledger takes only the next sequence number, within a transaction too", "[store][sqlite][tx]") {
    // Past its first append a transaction knows the next number without asking the table:
    // a gap and a repeat of its own append are refused all the same.
    temp_dir dir;
    auto store = seeded({dir.path() / "w.db"});
    auto& backend = store->backend();
    const auto last = backend.last_seq().value();
    ledger_event e;
    e.kind = event_kind::schedule_updated;
    e.schedule = "sch_a";
    e.payload = store->get_schedule("sch_a").value().value();
    {
        auto tx = backend.begin();
        REQUIRE(tx.has_value());
        e.seq = last + 1;
        REQUIRE(tx->append(e).has_value());
        e.seq = last + 3;
        CHECK_THAT(tx->append(e).error().message,
                   Catch::Contains("is not the next one (the last is " + std::to_string(last + 1) + ")"));
        e.seq = last + 1;
        CHECK(tx->append(e).error().code == errc::storage);
        e.seq = last + 2;
        CHECK(tx->append(e).has_value());
    }  // rolled back: the next transaction starts from the table again
    auto again = backend.begin();
    REQUIRE(again.has_value());
    e.seq = last + 2;
    CHECK(again->append(e).error().code == errc::storage);
    e.seq = last + 1;
    CHECK(again->append(e).has_value());
    REQUIRE(again->commit().has_value());
    CHECK(backend.last_seq().value() == last + 1);
}

TEST_CASE("sqlite: a write lock held beyond the busy timeout is a storage error", "[store][sqlite][errors]") {
    temp_dir dir;
    const auto file = dir.path() / "w.db";
    auto first = must_open({file});
    auto second = must_open({file, 0ms});  // another process, which will not wait
    auto held = first->backend().begin();
    REQUIRE(held.has_value());
    auto refused = second->backend().begin();
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == errc::storage);
    CHECK_THAT(refused.error().message, Catch::Contains("database is locked"));
    CHECK(second->get_schedule("sch_a").value() == std::nullopt);  // reads are not blocked
    REQUIRE(held->commit().has_value());
    CHECK(second->backend().begin().has_value());
}

TEST_CASE("sqlite: concurrent readers see consistent snapshots while a writer commits", "[store][sqlite][concurrency]") {
    temp_dir dir;
    auto store = seeded({dir.path() / "w.db"});
    const auto sched = store->get_schedule("sch_a").value().value();
    constexpr int writes = 60;
    std::atomic<bool> done{false};
    std::atomic<int> failures{0}, inconsistent{0}, reads{0};
    std::vector<std::thread> readers;
    for (int i = 0; i < 4; ++i) {
        readers.emplace_back([&] {
            std::int64_t seen = 0;
            // At least one read after the writer finished, so the last check sees every write.
            for (bool last = false; !last;) {
                last = done.load();
                auto c = store->counts(t0);
                auto seq = store->last_seq();
                if (!c || !seq) {
                    ++failures;
                    continue;
                }
                ++reads;
                // One event for the schedule, then one per run (trigger); never a half-written write.
                if (c->last_seq != 1 + c->runs || c->last_seq < seen || *seq < c->last_seq) {
                    ++inconsistent;
                }
                seen = *seq;
                if (last && seen != 1 + 1 + writes) {
                    ++inconsistent;
                }
            }
        });
    }
    int written = 0;
    for (int i = 0; i < writes; ++i) {
        written += store->trigger(pending_run(sched, "run_w" + std::to_string(i), t0 + std::chrono::seconds{i + 1}, t0))
                       .has_value();
    }
    done = true;
    for (auto& t : readers) {
        t.join();
    }
    CHECK(written == writes);
    CHECK(failures == 0);
    CHECK(inconsistent == 0);
    CHECK(reads >= 4);
    CHECK(store->counts(t0).value().runs == 1 + writes);
}

/// Waits (generously) until the store's background checkpointer has run `n` checkpoints.
bool checkpointed(stores::sqlite_store& store, std::uint64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (store.backend().background_checkpoints() < n) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::yield();
    }
    return true;
}

TEST_CASE("sqlite: a background checkpointer copies the WAL into the database file", "[store][sqlite][checkpoint]") {
    temp_dir dir;
    stores::sqlite_options o{dir.path() / "c.db"};
    SECTION("past the threshold, off the committing thread") {
        o.checkpoint_pages = 1;  // every commit asks for one
        auto store = must_open(o);
        const auto sched = interval_schedule("sch_a", "alpha", t0);
        REQUIRE(store->create_schedule(sched).has_value());  // the one commit since the open
        REQUIRE(checkpointed(*store, 1));
        // That checkpoint has ended and no other runs: the database file alone, without its
        // WAL, holds the schedule the commit wrote.
        std::filesystem::copy_file(o.path, dir.path() / "copy.db");
        auto copy = must_open({dir.path() / "copy.db"});
        CHECK(copy->get_schedule("sch_a").value().has_value());
        // Writes and reads go on while checkpoints run; nothing is lost.
        for (int i = 0; i < 40; ++i) {
            REQUIRE(store->trigger(pending_run(sched, "run_c" + std::to_string(i), t0 + std::chrono::seconds{i + 1}, t0))
                        .has_value());
            REQUIRE(store->counts(t0).value().runs == i + 1);
        }
        store.reset();
        CHECK(must_open(o)->counts(t0).value().runs == 40);
    }
    SECTION("with checkpoint_pages 0, SQLite's own checkpoint on the committing thread") {
        o.checkpoint_pages = 0;
        auto store = seeded(o);
        const auto sched = store->get_schedule("sch_a").value().value();
        for (int i = 0; i < 40; ++i) {
            REQUIRE(store->trigger(pending_run(sched, "run_c" + std::to_string(i), t0 + std::chrono::seconds{i + 1}, t0))
                        .has_value());
        }
        CHECK(store->backend().background_checkpoints() == 0);
        store.reset();
        CHECK(must_open(o)->counts(t0).value().runs == 41);
    }
}

/// The WAL file's length in frames (a 32-byte header, then frames of a 24-byte header and a page).
std::uintmax_t wal_frames(const std::filesystem::path& db) {
    const auto bytes = std::filesystem::file_size(db.string() + "-wal");
    return bytes <= 32 ? 0 : (bytes - 32) / (24 + 4096);
}

TEST_CASE("sqlite: at wal_limit_pages a commit checkpoints, and the WAL starts over", "[store][sqlite][checkpoint]") {
    temp_dir dir;
    stores::sqlite_options o{dir.path() / "w.db"};
    // Every commit writes a run with its seven index entries and a ledger event with two: some
    // ten pages. The WAL, never longer than the limit plus one commit, stays under twice it.
    const auto bounded = [&](stores::sqlite_store& store, const schedule& sched, int commits) {
        std::uintmax_t longest = 0;
        for (int i = 0; i < commits; ++i) {
            REQUIRE(store.trigger(pending_run(sched, "run_w" + std::to_string(i), t0 + std::chrono::seconds{i + 1}, t0))
                        .has_value());
            longest = std::max(longest, wal_frames(o.path));
        }
        INFO("longest WAL: " << longest << " frames");
        CHECK(longest < 2 * static_cast<std::uintmax_t>(o.wal_limit_pages));
    };
    SECTION("the limit alone: the thread is never woken, the commits copy the WAL themselves") {
        o.checkpoint_pages = 64;
        o.wal_limit_pages = 64;
        auto store = seeded(o);
        bounded(*store, store->get_schedule("sch_a").value().value(), 300);
        CHECK(store->backend().writer_checkpoints() >= 10);
        CHECK(store->backend().background_checkpoints() == 0);
        store.reset();
        CHECK(must_open(o)->counts(t0).value().runs == 301);
    }
    SECTION("beside the background thread, which copies what it can first") {
        o.checkpoint_pages = 16;
        o.wal_limit_pages = 128;
        auto store = seeded(o);
        bounded(*store, store->get_schedule("sch_a").value().value(), 300);
        store.reset();
        CHECK(must_open(o)->counts(t0).value().runs == 301);
    }
}

TEST_CASE("sqlite: checkpoint and cache settings out of range are refused, naming the setting", "[store][sqlite][checkpoint]") {
    temp_dir dir;
    stores::sqlite_options o{dir.path() / "r.db"};
    const auto refused = [&](std::string_view setting) {
        auto s = stores::open_sqlite_store(o);
        REQUIRE_FALSE(s.has_value());
        CHECK(s.error().code == errc::bad_request);
        CHECK_THAT(s.error().message, Catch::Contains(std::string{setting}));
        CHECK_FALSE(std::filesystem::exists(o.path));  // refused before anything is created
    };
    SECTION("a negative checkpoint_pages") {
        o.checkpoint_pages = -1;
        refused("checkpoint_pages");
    }
    SECTION("a negative wal_limit_pages") {
        o.wal_limit_pages = -5;
        refused("wal_limit_pages");
    }
    SECTION("a wal_limit_pages below checkpoint_pages") {
        o.checkpoint_pages = 500;
        o.wal_limit_pages = 499;
        refused("wal_limit_pages");
    }
    SECTION("a writer_cache_kib below 1") {
        o.writer_cache_kib = 0;
        refused("writer_cache_kib");
        o.writer_cache_kib = -4096;
        refused("writer_cache_kib");
    }
    SECTION("0 turns the limit off; with checkpoint_pages 0 the limit is not used") {
        o.wal_limit_pages = 0;
        CHECK(stores::open_sqlite_store(o).has_value());
        o.checkpoint_pages = 0;
        o.wal_limit_pages = 10;
        CHECK(stores::open_sqlite_store(o).has_value());
    }
}

TEST_CASE("sqlite: a ledger replayed into an empty SQLite file rebuilds the same rows", "[store][sqlite][replay]") {
    temp_dir dir;
    auto source = seeded({dir.path() / "source.db"});
    auto claimed = source->claim_run("run_1", "w", t0 + 1s, 30s, [](overlap_state) noexcept {
        return overlap_action::claim;
    });
    REQUIRE(claimed.has_value());
    finish_request f;
    f.run = "run_1";
    f.fencing_token = claimed->claimed.value().fencing_token;
    f.at = t0 + 2s;
    f.outcome = run_status::failed;
    f.error_text = "boom";
    f.receipts.push_back(receipt{"rcpt_1", "run_1", "stderr", "text/plain", "boom\n", false, t0 + 2s});
    f.dead_letter_id = "dlq_1";
    REQUIRE(source->finish_run(f).has_value());
    REQUIRE(source->update_schedule([&] {
        auto s = source->get_schedule("sch_a").value().value();
        s.name = "renamed";
        return s;
    }()).has_value());

    auto target = must_open({dir.path() / "target.db"});
    REQUIRE(replay_ledger(*source, target->backend(), 2).value() == source->last_seq().value());
    const schedule_filter every{std::nullopt, true};
    CHECK(target->list_schedules(every, {}).value().items == source->list_schedules(every, {}).value().items);
    CHECK(target->list_runs({}, {}).value().items == source->list_runs({}, {}).value().items);
    CHECK(target->list_receipts("run_1").value() == source->list_receipts("run_1").value());
    CHECK(target->list_dead_letters({}, {}).value().items == source->list_dead_letters({}, {}).value().items);
    CHECK(target->read_ledger({}).value() == source->read_ledger({}).value());
    CHECK(target->counts(t0).value() == source->counts(t0).value());
}

TEST_CASE("sqlite: output that is not UTF-8 is stored with U+FFFD and reads back", "[store][sqlite][errors]") {
    temp_dir dir;
    auto store = seeded({dir.path() / "w.db"});
    auto tx = store->backend().begin();
    REQUIRE(tx.has_value());
    const receipt bad{"rcpt_bad", "run_1", "stdout", "text/plain", "\xff\xfe not UTF-8 \xc3\xa9", false, t0};
    REQUIRE(tx->put_receipt(bad).has_value());
    REQUIRE(tx->commit().has_value());
    auto back = store->list_receipts("run_1").value();
    auto it = std::find_if(back.begin(), back.end(), [](const receipt& r) { return r.id == "rcpt_bad"; });
    REQUIRE(it != back.end());
    CHECK(it->body == "\xEF\xBF\xBD\xEF\xBF\xBD not UTF-8 \xc3\xa9");
}
