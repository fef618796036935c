// The schema of the SQLite store, version by version. A version, once released, never changes:
// a change is a new version appended to `migrations`.
#include "migrations.hpp"

#include <array>
#include <string>
#include <string_view>

#include <wakeplane/stores/sqlite.hpp>

namespace wakeplane::stores::sqlite_detail {

namespace {

/// The ledger's guards, which version 1 creates with the table and version 8 creates again with
/// the table it builds, the refusal of an overwrite resolving as `resolution` (ABORT, then FAIL).
/// Version 1's text is exactly what it was when these were written out in its script.
#define WAKEPLANE_LEDGER_GUARDS(resolution)                                                  \
    "CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger\n"                              \
    "BEGIN\n"                                                                                \
    "    SELECT RAISE(ABORT, 'ledger is append-only');\n"                                    \
    "END;\n"                                                                                 \
    "CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger\n"                              \
    "BEGIN\n"                                                                                \
    "    SELECT RAISE(ABORT, 'ledger is append-only');\n"                                    \
    "END;\n"                                                                                 \
    "-- INSERT OR REPLACE removes the row it replaces without firing delete triggers.\n"     \
    "CREATE TRIGGER ledger_no_overwrite BEFORE INSERT ON ledger\n"                           \
    "WHEN EXISTS (SELECT 1 FROM ledger WHERE seq = NEW.seq)\n"                               \
    "BEGIN\n"                                                                                \
    "    SELECT RAISE(" resolution ", 'ledger is append-only');\n"                           \
    "END;\n"

/// Version 1: the tables, the indexes the planner and dispatcher query on every pass, and the
/// triggers that make the ledger append-only in fact (DECISIONS 21).
constexpr std::string_view schema_v1 = R"sql(
CREATE TABLE schedules (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    enabled     INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    deleted     INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    next_run_us INTEGER,
    created_us  INTEGER NOT NULL,
    record      TEXT NOT NULL
);
CREATE UNIQUE INDEX schedules_live_name ON schedules (name) WHERE deleted = 0;
CREATE INDEX schedules_due ON schedules (next_run_us, id)
    WHERE enabled = 1 AND deleted = 0 AND next_run_us IS NOT NULL;

CREATE TABLE runs (
    id             TEXT PRIMARY KEY NOT NULL,
    schedule_id    TEXT NOT NULL REFERENCES schedules (id),
    occurrence_key TEXT NOT NULL,
    attempt        INTEGER NOT NULL,
    nominal_us     INTEGER NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'claimed', 'running', 'succeeded', 'failed',
                                                   'retry_scheduled', 'dead_lettered', 'cancelled', 'skipped')),
    eligible_us    INTEGER CHECK ((eligible_us IS NOT NULL) = (status IN ('pending', 'retry_scheduled'))),
    lease_us       INTEGER CHECK (lease_us IS NULL OR status IN ('claimed', 'running')),
    created_us     INTEGER NOT NULL,
    record         TEXT NOT NULL,
    UNIQUE (nominal_us, occurrence_key, attempt)
);
CREATE INDEX runs_eligible ON runs (eligible_us, id) WHERE eligible_us IS NOT NULL;
CREATE INDEX runs_lease ON runs (lease_us, id) WHERE lease_us IS NOT NULL;
CREATE INDEX runs_open ON runs (schedule_id, status)
    WHERE status IN ('pending', 'claimed', 'running', 'retry_scheduled');

CREATE TABLE receipts (
    id         TEXT PRIMARY KEY NOT NULL,
    run_id     TEXT NOT NULL REFERENCES runs (id),
    created_us INTEGER NOT NULL,
    record     TEXT NOT NULL
);
CREATE INDEX receipts_by_run ON receipts (run_id, created_us, id);

CREATE TABLE dead_letters (
    id          TEXT PRIMARY KEY NOT NULL,
    run_id      TEXT NOT NULL REFERENCES runs (id),
    schedule_id TEXT NOT NULL REFERENCES schedules (id),
    created_us  INTEGER NOT NULL,
    record      TEXT NOT NULL
);

CREATE TABLE ledger (
    seq            INTEGER PRIMARY KEY NOT NULL,
    at_us          INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    schedule_id    TEXT NOT NULL,
    run_id         TEXT,
    occurrence_key TEXT,
    attempt        INTEGER,
    data           TEXT NOT NULL
);
)sql" WAKEPLANE_LEDGER_GUARDS("ABORT");

/// Version 2: the indexes of the listings (newest first by (created, id), optionally filtered)
/// and of the ledger filters, so a page costs its size, not the table's.
constexpr std::string_view schema_v2 = R"sql(
CREATE INDEX schedules_by_created ON schedules (created_us, id);
CREATE INDEX runs_by_created ON runs (created_us, id);
CREATE INDEX runs_by_schedule ON runs (schedule_id, created_us, id);
CREATE INDEX runs_by_status ON runs (status, created_us, id);
CREATE INDEX dead_letters_by_created ON dead_letters (created_us, id);
CREATE INDEX dead_letters_by_schedule ON dead_letters (schedule_id, created_us, id);
CREATE INDEX ledger_by_schedule ON ledger (schedule_id, seq);
CREATE INDEX ledger_by_run ON ledger (run_id, seq) WHERE run_id IS NOT NULL;
)sql";

/// Version 3 moves a schedule's record into a table of its own. A planner pass moves
/// next_run_us and nothing else of a schedule; with the record (about 800 bytes) in the same row,
/// every such update rewrote a page of its own (a pass of 10,000 schedules wrote 11 MB of WAL for
/// them, 1.2 MB without the record). From this version on, next_run_us alone holds the current
/// next_run_at: the record's member keeps the value of the schedule's last full write.
constexpr std::string_view schema_v3 = R"sql(
CREATE TABLE schedule_records (
    id     TEXT PRIMARY KEY NOT NULL REFERENCES schedules (id),
    record TEXT NOT NULL
);
INSERT INTO schedule_records (id, record) SELECT id, record FROM schedules;
ALTER TABLE schedules DROP COLUMN record;
)sql";

/// Version 4 writes the open-run index's condition without a list of more than two constants.
/// SQLite evaluates `x IN (a, b, c, ...)` with three or more constants by building an ephemeral
/// table, at every statement that evaluates it: every insert of a run and every change of its
/// status evaluated the four-value list (an update for the old row and the new one). Two
/// two-value lists are plain comparisons. Queries that want the index repeat the condition as
/// written here (queries.hpp). The index is built again from the table, once.
constexpr std::string_view schema_v4 = R"sql(
DROP INDEX runs_open;
CREATE INDEX runs_open ON runs (schedule_id, status)
    WHERE status IN ('pending', 'claimed') OR status IN ('running', 'retry_scheduled');
)sql";

/// Version 5 lets readers keep decoded schedule records (the schedule cache, storage-sqlite.md).
/// - `record_version` names the record's content: 1 for the rows migrated, and every write of a
///   record (a new schedule's first included) moves it on, by the triggers below rather than by
///   the store's statements, so that a write from elsewhere (the sqlite3 shell, another
///   process) moves it too. A reader holding the record of (id, version) needs no other read to
///   know it is current.
/// - `last_run_us` holds last_run_at from now on, as next_run_us holds next_run_at: every success
///   moved last_run_at inside the record, which would have made every record of a schedule that
///   runs a new version. NULL means the record's member is current (a row not written since
///   this migration; or no last run, which the record then says too).
constexpr std::string_view schema_v5 = R"sql(
ALTER TABLE schedules ADD COLUMN record_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE schedules ADD COLUMN last_run_us INTEGER;
CREATE TRIGGER schedule_record_written AFTER INSERT ON schedule_records
BEGIN
    UPDATE schedules SET record_version = record_version + 1 WHERE id = NEW.id;
END;
CREATE TRIGGER schedule_record_rewritten AFTER UPDATE OF record ON schedule_records
BEGIN
    UPDATE schedules SET record_version = record_version + 1 WHERE id = NEW.id;
END;
)sql";

/// Version 6 changes no table. From this version on the ledger keeps the row of a fresh
/// materialization (a planner pass's pending run, ledger.hpp is_fresh_materialization) as the
/// two instants its header does not name, which a build of version 5 cannot read: the version
/// makes such a build refuse the file as newer than itself rather than call its ledger corrupt.
/// Events written before keep their whole rows, and both forms are read.
constexpr std::string_view schema_v6 = "-- the ledger's data form; no table changes\n";

/// Version 7 writes the CHECK on runs.status as two-value lists too (see version 4): its nine-value
/// list made SQLite build an ephemeral table at every insert of a run and at every change of its
/// status, over a third of an insert's instructions (callgrind, a planner's run insert: 103,700 ->
/// 66,000). A CHECK cannot be altered, so the table is built again (SQLite's twelve-step
/// procedure: foreign keys are off while the old table goes, and checked before the commit, see
/// migrate()), and its indexes with it.
constexpr std::string_view schema_v7 = R"sql(
CREATE TABLE runs_v7 (
    id             TEXT PRIMARY KEY NOT NULL,
    schedule_id    TEXT NOT NULL REFERENCES schedules (id),
    occurrence_key TEXT NOT NULL,
    attempt        INTEGER NOT NULL,
    nominal_us     INTEGER NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'claimed') OR status IN ('running', 'succeeded')
                                        OR status IN ('failed', 'retry_scheduled')
                                        OR status IN ('dead_lettered', 'cancelled') OR status = 'skipped'),
    eligible_us    INTEGER CHECK ((eligible_us IS NOT NULL) = (status IN ('pending', 'retry_scheduled'))),
    lease_us       INTEGER CHECK (lease_us IS NULL OR status IN ('claimed', 'running')),
    created_us     INTEGER NOT NULL,
    record         TEXT NOT NULL,
    UNIQUE (nominal_us, occurrence_key, attempt)
);
INSERT INTO runs_v7 (id, schedule_id, occurrence_key, attempt, nominal_us, status, eligible_us, lease_us, created_us, record)
    SELECT id, schedule_id, occurrence_key, attempt, nominal_us, status, eligible_us, lease_us, created_us, record FROM runs;
DROP TABLE runs;
ALTER TABLE runs_v7 RENAME TO runs;
CREATE INDEX runs_eligible ON runs (eligible_us, id) WHERE eligible_us IS NOT NULL;
CREATE INDEX runs_lease ON runs (lease_us, id) WHERE lease_us IS NOT NULL;
CREATE INDEX runs_open ON runs (schedule_id, status)
    WHERE status IN ('pending', 'claimed') OR status IN ('running', 'retry_scheduled');
CREATE INDEX runs_by_created ON runs (created_us, id);
CREATE INDEX runs_by_schedule ON runs (schedule_id, created_us, id);
CREATE INDEX runs_by_status ON runs (status, created_us, id);
)sql";

/// Version 8 builds the ledger table again so that an append needs no statement journal. A
/// statement that may abort half-way (a constraint with SQLite's default resolution, ABORT, or a
/// trigger's RAISE(ABORT)) and may write more than once (any statement a trigger fires on) opens
/// a savepoint and copies every page it touches into a statement journal first: for an append,
/// the ledger's last page and its two index pages. With FAIL as the resolution of every
/// constraint and of the overwrite trigger, nothing can abort half-way: a single-row INSERT checks
/// its constraints and runs its trigger before it writes anything, so there is nothing to undo.
/// An append costs 4,200 fewer instructions (callgrind, a planner pass of 2,000: 57.8M -> 49.4M in
/// its appends). The updates and deletes keep RAISE(ABORT): nothing writes them. The guard against
/// INSERT OR REPLACE still refuses before a row is replaced; with FAIL, the rows a multi-row
/// INSERT appended before the refused one stay, which appends nothing but new sequence numbers.
constexpr std::string_view schema_v8 = R"sql(
CREATE TABLE ledger_v8 (
    seq            INTEGER PRIMARY KEY ON CONFLICT FAIL NOT NULL ON CONFLICT FAIL,
    at_us          INTEGER NOT NULL ON CONFLICT FAIL,
    kind           TEXT NOT NULL ON CONFLICT FAIL,
    schedule_id    TEXT NOT NULL ON CONFLICT FAIL,
    run_id         TEXT,
    occurrence_key TEXT,
    attempt        INTEGER,
    data           TEXT NOT NULL ON CONFLICT FAIL
);
INSERT INTO ledger_v8 (seq, at_us, kind, schedule_id, run_id, occurrence_key, attempt, data)
    SELECT seq, at_us, kind, schedule_id, run_id, occurrence_key, attempt, data FROM ledger;
DROP TABLE ledger;
ALTER TABLE ledger_v8 RENAME TO ledger;
CREATE INDEX ledger_by_schedule ON ledger (schedule_id, seq);
CREATE INDEX ledger_by_run ON ledger (run_id, seq) WHERE run_id IS NOT NULL;
)sql" WAKEPLANE_LEDGER_GUARDS("FAIL");

#undef WAKEPLANE_LEDGER_GUARDS

/// Version 9 changes no table. From this version on the compact row of a fresh materialization
/// (version 6) leaves out its nominal time when the occurrence key names it, and its due time
/// when it is the nominal time: a planner event's data goes from 126 bytes to 55, and its ledger
/// row from 245 bytes to 173 (three passes of 2,000 fill 272 ledger pages instead of 375). A build of
/// version 6 to 8 would call such a row corrupt; the version makes it refuse the file as newer
/// instead. Rows written before keep both instants, and both are read.
constexpr std::string_view schema_v9 = "-- the compact row's data form; no table changes\n";

/// migrations[v - 1] brings a file from version v - 1 to v.
constexpr std::array<std::string_view, 9> migrations{schema_v1, schema_v2, schema_v3, schema_v4, schema_v5,
                                                     schema_v6, schema_v7, schema_v8, schema_v9};
static_assert(migrations.size() == sqlite_schema_version, "one migration per schema version");

/// Refuses a file this build must not touch; returns its schema version otherwise.
result<int> checked_version(connection& c) {
    auto version = c.query_integer("PRAGMA user_version");
    auto app = c.query_integer("PRAGMA application_id");
    if (!version || !app) {
        return tl::unexpected(!version ? version.error() : app.error());
    }
    const std::string where = "sqlite " + c.path().string() + ": ";
    if (*app != 0 && *app != application_id) {
        return fail(errc::storage, where + "not a wakeplane database (application_id " + std::to_string(*app) + ")");
    }
    if (*version > sqlite_schema_version) {
        return fail(errc::storage, where + "database schema version " + std::to_string(*version) +
                                       " is newer than this wakeplane (" + std::to_string(sqlite_schema_version) +
                                       "); upgrade wakeplane");
    }
    if (*version == 0) {
        auto objects = c.query_integer("SELECT count(*) FROM sqlite_schema");
        if (!objects) {
            return tl::unexpected(objects.error());
        }
        if (*objects != 0) {
            return fail(errc::storage, where + "not a wakeplane database (it holds tables but no schema version)");
        }
    }
    return static_cast<int>(*version);
}

/// Applies the next migration towards `target` in one transaction; true when none was needed.
/// On failure the transaction is left open for the caller to roll back.
result<bool> apply_next(connection& c, int target) {
    if (auto begin = c.execute("BEGIN IMMEDIATE"); !begin) {
        return tl::unexpected(begin.error());
    }
    auto version = checked_version(c);  // again, under the write lock: another process may have migrated
    if (!version) {
        return tl::unexpected(version.error());
    }
    if (*version >= target) {
        if (auto end = c.execute("COMMIT"); !end) {
            return tl::unexpected(end.error());
        }
        return true;
    }
    const int next = *version + 1;
    std::string script(migrations[static_cast<std::size_t>(next - 1)]);
    if (next == 1) {
        script += "PRAGMA application_id = " + std::to_string(application_id) + ";\n";
    }
    script += "PRAGMA user_version = " + std::to_string(next) + ";\n";
    if (auto applied = c.execute_script(script); !applied) {
        auto e = applied.error();
        e.message = "migration to schema version " + std::to_string(next) + " failed: " + e.message;
        return tl::unexpected(std::move(e));
    }
    // Foreign keys are off while migrating (migrate()): what a script left pointing nowhere
    // would stay so unnoticed.
    auto dangling = c.query_integer("SELECT count(*) FROM pragma_foreign_key_check");
    if (!dangling) {
        return tl::unexpected(dangling.error());
    }
    if (*dangling != 0) {
        return fail(errc::storage, "migration to schema version " + std::to_string(next) + " failed: " +
                                       std::to_string(*dangling) + " rows would refer to rows that do not exist");
    }
    if (auto end = c.execute("COMMIT"); !end) {
        return tl::unexpected(end.error());
    }
    return false;
}

}  // namespace

result<void> migrate(connection& writer, int target) {
    if (target < 1 || target > sqlite_schema_version) {
        return fail(errc::bad_request, "sqlite_options::migrate_to must be between 1 and " +
                                           std::to_string(sqlite_schema_version) + ", not " + std::to_string(target));
    }
    auto version = checked_version(writer);  // the common case, an up-to-date file, takes no write lock
    if (!version) {
        return tl::unexpected(version.error());
    }
    if (*version >= target) {
        return {};
    }
    // Foreign keys off while migrating, as SQLite's procedure for building a table again asks
    // (version 7): with them on, dropping the old run table first deletes its rows, which the
    // receipts and dead letters that refer to them forbid. apply_next() checks them before
    // each commit instead. The pragma does nothing inside a transaction, hence here.
    if (auto off = writer.execute_script("PRAGMA foreign_keys = OFF"); !off) {
        return off;
    }
    result<void> out;
    for (bool done = false; !done;) {
        auto step = apply_next(writer, target);
        if (!step) {
            if (writer.in_transaction()) {
                (void)writer.execute("ROLLBACK");
            }
            out = tl::unexpected(step.error());
            break;
        }
        done = *step;
    }
    if (auto on = writer.execute_script("PRAGMA foreign_keys = ON"); !on && out) {
        out = on;
    }
    return out;
}

}  // namespace wakeplane::stores::sqlite_detail
