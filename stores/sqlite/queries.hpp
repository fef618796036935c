// The fixed SQL of the SQLite store (private; the tests EXPLAIN the hot ones).
#pragma once

#include <string_view>

namespace wakeplane::stores::sqlite_detail::sql {

// ---- reads ---------------------------------------------------------------------------------

/// A schedule is read as (record, next_run_us, last_run_us): the record lives in
/// schedule_records, and the columns are where next_run_at and (when not NULL) last_run_at are
/// current.
#define WAKEPLANE_SCHEDULE_COLUMNS \
    "(SELECT record FROM schedule_records r WHERE r.id = schedules.id), next_run_us, last_run_us"
inline constexpr std::string_view schedule_by_id = "SELECT " WAKEPLANE_SCHEDULE_COLUMNS " FROM schedules WHERE id = ?1";
inline constexpr std::string_view live_schedule_named = "SELECT id FROM schedules WHERE name = ?1 AND deleted = 0";
inline constexpr std::string_view run_by_id = "SELECT record FROM runs WHERE id = ?1";
/// The condition of the partial index runs_open, word for word: SQLite uses a partial index only
/// for a query that repeats its condition (written as two two-value lists, see migrations.cpp).
#define WAKEPLANE_OPEN_RUN "(status IN ('pending', 'claimed') OR status IN ('running', 'retry_scheduled'))"
/// ?2..?5: the wanted statuses (NULL for an unused slot); only non-terminal runs are indexed.
inline constexpr std::string_view open_runs_of =
    "SELECT record FROM runs WHERE schedule_id = ?1 AND " WAKEPLANE_OPEN_RUN " AND status IN (?2, ?3, ?4, ?5)"
    " ORDER BY id";
/// The open runs of a schedule from columns alone (claims read them for every batch). A retry
/// without retry_available_at is never eligible (is_eligible), which only its record tells; the
/// CASE parses the record for retries only (an AND evaluated json_extract for every row).
inline constexpr std::string_view open_runs_brief =
    "SELECT id, status, nominal_us, eligible_us,"
    " CASE WHEN status = 'retry_scheduled' THEN json_extract(record, '$.retry_available_at') IS NULL ELSE 0 END"
    " FROM runs WHERE schedule_id = ?1 AND " WAKEPLANE_OPEN_RUN " ORDER BY id";
#undef WAKEPLANE_OPEN_RUN

/// The planner's query. The terms repeat the partial index's WHERE so SQLite can use it. It
/// reads no record: the reader takes each from the schedule cache by (id, record_version), and
/// reads it with schedule_record only when the cache does not hold that version. The rowid, which
/// the index entry holds, is where the planner's move finds the row (move_next_run_at_row).
inline constexpr std::string_view due_schedules =
    "SELECT id, record_version, next_run_us, last_run_us, rowid FROM schedules"
    " WHERE enabled = 1 AND deleted = 0 AND next_run_us IS NOT NULL AND next_run_us <= ?1"
    " ORDER BY next_run_us, id LIMIT ?2";
inline constexpr std::string_view schedule_record = "SELECT record FROM schedule_records WHERE id = ?1";
/// A committed full write caches its record at the version the triggers gave it (commit()).
inline constexpr std::string_view record_version_of = "SELECT record_version FROM schedules WHERE id = ?1";
/// What the listings select (page_query adds the filters, the cursor and the order).
inline constexpr std::string_view list_schedules = "SELECT " WAKEPLANE_SCHEDULE_COLUMNS " FROM schedules";
inline constexpr std::string_view list_runs = "SELECT record FROM runs";
inline constexpr std::string_view list_dead_letters = "SELECT record FROM dead_letters";
#undef WAKEPLANE_SCHEDULE_COLUMNS
inline constexpr std::string_view next_due =
    "SELECT next_run_us FROM schedules WHERE enabled = 1 AND deleted = 0 AND next_run_us IS NOT NULL"
    " ORDER BY next_run_us LIMIT 1";
inline constexpr std::string_view eligible_runs =
    "SELECT record FROM runs WHERE eligible_us IS NOT NULL AND eligible_us <= ?1 ORDER BY eligible_us, id LIMIT ?2";
inline constexpr std::string_view next_eligible =
    "SELECT eligible_us FROM runs WHERE eligible_us IS NOT NULL ORDER BY eligible_us LIMIT 1";
inline constexpr std::string_view next_eligible_after =
    "SELECT eligible_us FROM runs WHERE eligible_us IS NOT NULL AND eligible_us > ?1 ORDER BY eligible_us LIMIT 1";
inline constexpr std::string_view expired_leases =
    "SELECT record FROM runs WHERE lease_us IS NOT NULL AND lease_us <= ?1 ORDER BY lease_us, id LIMIT ?2";
inline constexpr std::string_view next_lease =
    "SELECT lease_us FROM runs WHERE lease_us IS NOT NULL ORDER BY lease_us LIMIT 1";
inline constexpr std::string_view receipts_of_run =
    "SELECT record FROM receipts WHERE run_id = ?1 ORDER BY created_us, id";
inline constexpr std::string_view last_seq = "SELECT coalesce(max(seq), 0) FROM ledger";
inline constexpr std::string_view schema_version = "PRAGMA user_version";

// ---- writes --------------------------------------------------------------------------------

inline constexpr std::string_view begin = "BEGIN IMMEDIATE";
inline constexpr std::string_view commit = "COMMIT";
inline constexpr std::string_view rollback = "ROLLBACK";

inline constexpr std::string_view insert_schedule =
    "INSERT INTO schedules (id, name, enabled, deleted, next_run_us, created_us, last_run_us)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
inline constexpr std::string_view insert_schedule_record = "INSERT INTO schedule_records (id, record) VALUES (?1, ?2)";
inline constexpr std::string_view update_schedule_record = "UPDATE schedule_records SET record = ?2 WHERE id = ?1";
/// A change that keeps name, flags and creation: fewer indexes to rewrite.
inline constexpr std::string_view update_schedule_same_keys =
    "UPDATE schedules SET next_run_us = ?5, last_run_us = ?7 WHERE id = ?1";
/// A planner pass moves the column alone: it is where reads take next_run_at from, the record's
/// member keeping the value of the schedule's last full write. The WHERE clause is the
/// staleness check.
inline constexpr std::string_view move_next_run_at =
    "UPDATE schedules SET next_run_us = ?3 WHERE id = ?1 AND next_run_us IS ?2 AND enabled = 1 AND deleted = 0";
/// The same move of a row whose rowid the due query read (due_rows in sqlite_store.cpp): no
/// descent through the id index. The id is checked too, as the rowid is only a hint.
inline constexpr std::string_view move_next_run_at_row =
    "UPDATE schedules SET next_run_us = ?3"
    " WHERE rowid = ?4 AND id = ?1 AND next_run_us IS ?2 AND enabled = 1 AND deleted = 0";
/// A success: the stored last_run_at for the comparison (the column; when it is NULL, the
/// record's member as the record encoder wrote it, or NULL), then the column alone: the record,
/// and with it its version, stays.
inline constexpr std::string_view last_run_at_of =
    "SELECT last_run_us, CASE WHEN last_run_us IS NULL THEN"
    " (SELECT json_extract(record, '$.last_run_at') FROM schedule_records r WHERE r.id = schedules.id) END"
    " FROM schedules WHERE id = ?1";
inline constexpr std::string_view set_last_run_at = "UPDATE schedules SET last_run_us = ?2 WHERE id = ?1";
inline constexpr std::string_view update_schedule =
    "UPDATE schedules SET name = ?2, enabled = ?3, deleted = ?4, next_run_us = ?5, created_us = ?6, last_run_us = ?7"
    " WHERE id = ?1";
/// Only the (occurrence, attempt) key is a tolerated conflict: a duplicate id still fails.
inline constexpr std::string_view insert_run =
    "INSERT INTO runs (id, schedule_id, occurrence_key, attempt, nominal_us, status, eligible_us, lease_us,"
    " created_us, record) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    " ON CONFLICT (nominal_us, occurrence_key, attempt) DO NOTHING";
/// The identity columns are matched, not written: a run never changes them.
inline constexpr std::string_view update_run =
    "UPDATE runs SET status = ?2, eligible_us = ?3, lease_us = ?4, record = ?5"
    " WHERE id = ?1 AND schedule_id = ?6 AND occurrence_key = ?7 AND attempt = ?8 AND nominal_us = ?9"
    " AND created_us = ?10";
/// update_run for a change that keeps eligible_us and lease_us (?3 and ?4 are not used).
inline constexpr std::string_view update_run_status =
    "UPDATE runs SET status = ?2, record = ?5"
    " WHERE id = ?1 AND schedule_id = ?6 AND occurrence_key = ?7 AND attempt = ?8 AND nominal_us = ?9"
    " AND created_us = ?10";
inline constexpr std::string_view insert_receipt =
    "INSERT INTO receipts (id, run_id, created_us, record) VALUES (?1, ?2, ?3, ?4)";
inline constexpr std::string_view insert_dead_letter =
    "INSERT INTO dead_letters (id, run_id, schedule_id, created_us, record) VALUES (?1, ?2, ?3, ?4, ?5)";
/// The caller checks that ?1 is the next sequence number (transaction::append).
inline constexpr std::string_view append_event =
    "INSERT INTO ledger (seq, at_us, kind, schedule_id, run_id, occurrence_key, attempt, data)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

}  // namespace wakeplane::stores::sqlite_detail::sql
