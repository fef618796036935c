// sqlite_store: the embedded default store, one SQLite file in WAL mode (docs/storage-sqlite.md).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <wakeplane/ledger.hpp>
#include <wakeplane/model.hpp>
#include <wakeplane/result.hpp>
#include <wakeplane/store.hpp>
#include <wakeplane/time.hpp>

namespace wakeplane::stores {

/// The newest schema version this build knows: the `PRAGMA user_version` of a migrated file.
inline constexpr int sqlite_schema_version = 9;

/// How to open a SQLite store.
struct sqlite_options {
    /// The database file, created (empty, then migrated) when missing. Its directory must exist.
    /// SQLite keeps `<path>-wal` and `<path>-shm` beside it.
    std::filesystem::path path;
    /// How long a connection waits for a lock another process holds before failing with errc::storage.
    std::chrono::milliseconds busy_timeout{5000};
    /// The schema version to migrate to, 1 to sqlite_schema_version. Only tests lower it, to
    /// write a file as an older wakeplane would have: they fill it with plain SQL, since the
    /// store's own statements need the newest schema (docs/storage-sqlite.md, Migrations).
    int migrate_to = sqlite_schema_version;
    /// WAL size, in pages, past which a background thread checkpoints the WAL into the database
    /// file, so that commits never do (docs/storage-sqlite.md). 0: SQLite's own automatic
    /// checkpoint, on the committing thread, at 1,000 pages.
    int checkpoint_pages = 1000;
    /// WAL size, in pages, at which a commit also checkpoints, on the committing thread, what the
    /// background thread has not copied yet. Writes without pause keep that thread a commit
    /// behind, and the WAL would grow without bound (docs/storage-sqlite.md). 0: no limit.
    /// Otherwise at least checkpoint_pages; unused when that is 0.
    int wal_limit_pages = 10000;
    /// Schedule records kept for the planner's due query, packed: about 450 bytes each for a
    /// workflow schedule, 700 for an HTTP one with headers and a body (55 to 90 MiB at the
    /// default); 0 keeps none. See "The schedule cache" in docs/storage-sqlite.md.
    std::size_t schedule_cache_entries = 131072;
    /// KiB of database pages the writer connection keeps in memory (PRAGMA cache_size), at least
    /// 1; readers keep SQLite's default (2 MiB). The default holds everything a planner pass or
    /// a batch of claims touches; more made the pass slower, not faster (docs/storage-sqlite.md,
    /// Pragmas). A store far larger than its hot pages may want more.
    std::int64_t writer_cache_kib = 8192;
};

namespace sqlite_detail {
class connection;
}

/// The SQLite backend of basic_store. One writer connection serves the write transactions
/// (BEGIN IMMEDIATE … COMMIT, synced); read queries run on a pool of read connections, which see
/// committed data only and may be used from any thread while a write transaction is open.
/// Thread-safe. Errors are returned as errc::storage carrying SQLite's message; nothing throws.
class sqlite_backend {
    struct impl;

public:
    /// A write transaction on the writer connection. It holds the writer from begin() until
    /// commit() or destruction, which rolls back whatever was not committed. Reads through it see
    /// its own writes.
    class transaction {
    public:
        transaction(transaction&& other) noexcept;
        transaction& operator=(transaction&&) = delete;
        ~transaction();

        result<std::optional<schedule>> load_schedule(std::string_view id);
        result<std::optional<schedule_id>> live_schedule_named(std::string_view name);
        result<std::optional<run>> load_run(std::string_view id);
        /// The schedule's non-terminal runs whose status is one of `statuses`, ordered by id.
        result<std::vector<run>> runs_of(std::string_view schedule, std::span<const run_status> statuses);
        /// Every non-terminal run of `schedule` from its columns alone, by run id.
        result<std::vector<open_run>> open_runs(std::string_view schedule);
        /// Inserts a new schedule (`before` empty) or rewrites the row `before` was loaded from.
        result<void> put_schedule(const schedule& now, const std::optional<schedule>& before);
        /// Moves next_run_at of a live, enabled schedule still at `expected`; false otherwise.
        result<bool> move_next_run_at(std::string_view id, std::optional<time_point> expected,
                                      std::optional<time_point> next);
        /// Sets last_run_at of an existing schedule to `at` unless it is there or later already.
        result<bool> advance_last_run_at(std::string_view id, time_point at);
        /// Writes a new run; false (nothing written) when its (occurrence_key, attempt) exists.
        /// Another run with the same id is an error: ids never repeat.
        result<bool> insert_run(const run& r);
        /// Rewrites an existing run. Its identity (schedule, occurrence, attempt, creation) is fixed:
        /// a row that does not match it is an error.
        result<void> put_run(const run& now, const run& before);
        result<void> put_receipt(const receipt& r);
        result<void> put_dead_letter(const dead_letter& d);
        /// Appends `e` under e.seq, which must be the next sequence number; never overwrites.
        result<void> append(const ledger_event& e);
        /// Commits durably (the WAL is synced before this returns).
        result<void> commit();

    private:
        friend class sqlite_backend;
        transaction(impl& owner, std::unique_lock<std::mutex> lock) noexcept;
        [[nodiscard]] sqlite_detail::connection& writer() noexcept;

        impl* owner_;
        std::unique_lock<std::mutex> lock_;  ///< the writer connection belongs to this transaction
        bool finished_ = false;
        /// The last sequence number this transaction appended (0: none yet). Only this
        /// transaction writes the ledger while it is open (BEGIN IMMEDIATE: not even another
        /// process), so past the first append the next number follows from it, without asking
        /// the table again.
        std::int64_t last_appended_ = 0;
        /// The runs this transaction wrote, each with its stored record, in the order written.
        /// An event that carries one of these rows (a planner pass appends one per run it
        /// inserted, a claim one per run it changed) takes the record from here: the row, the
        /// larger half of the event, is not encoded a second time.
        struct written_run {
            run row;
            std::string record;
        };
        std::vector<written_run> written_;
        std::size_t next_written_ = 0;  ///< where append() looks: events follow the writes' order
        /// The schedules this transaction wrote in full, each with its stored record, in the
        /// order written: once committed they go into the schedule cache (commit()).
        struct written_schedule {
            std::string id;
            std::string record;
            /// The version the triggers gave the record, read before the commit for the last
            /// write of each schedule; 0 (which the cache never keeps) for the others.
            std::uint64_t version = 0;
        };
        std::vector<written_schedule> schedules_written_;
        /// The record of `row` as this transaction wrote it, or null when it did not write that row.
        [[nodiscard]] const std::string* record_as_written(const run& row) noexcept;
        /// Sets the version of the last record written of each schedule in schedules_written_,
        /// read inside the transaction. Stops at the first failure: what has no version is not cached.
        void read_written_versions() noexcept;
    };

    /// Opens (creating and migrating when needed) the database at `options.path`. A file written
    /// by a newer wakeplane, a file that is not a wakeplane database, or one SQLite cannot read
    /// is errc::storage with a message naming the problem.
    [[nodiscard]] static result<sqlite_backend> open(const sqlite_options& options);

    sqlite_backend(sqlite_backend&& other) noexcept;
    sqlite_backend& operator=(sqlite_backend&& other) noexcept;
    sqlite_backend(const sqlite_backend&) = delete;
    sqlite_backend& operator=(const sqlite_backend&) = delete;
    /// Closes every connection. No transaction may be open.
    ~sqlite_backend();

    /// Starts a write transaction; waits for the one already open (this process) and up to the
    /// busy timeout for another process's.
    result<transaction> begin();

    result<std::optional<schedule>> get_schedule(std::string_view id);
    result<std::optional<run>> get_run(std::string_view id);
    /// Live, enabled schedules with next_run_at <= now, by (next_run_at, id); a partial index
    /// holds only those, so the cost follows the number due, not the number stored.
    result<std::vector<schedule>> due_schedules(time_point now, std::size_t limit);
    result<std::optional<time_point>> next_due_at();
    /// Pending runs due by `now` and retry_scheduled runs available by `now`, by (that time, id).
    result<std::vector<run>> eligible_runs(time_point now, std::size_t limit);
    result<std::optional<time_point>> next_eligible_at();
    /// The earliest eligibility strictly after `t` (runs eligible by `t` may be waiting on overlap).
    result<std::optional<time_point>> next_eligible_after(time_point t);
    /// Claimed or running runs whose lease ended by `now`, by (claim_expires_at, id).
    result<std::vector<run>> expired_leases(time_point now, std::size_t limit);
    result<std::optional<time_point>> next_lease_expiry();
    result<page<schedule>> list_schedules(const schedule_filter& f, const page_request& p);
    result<page<run>> list_runs(const run_filter& f, const page_request& p);
    /// A run's receipts by (created_at, id).
    result<std::vector<receipt>> list_receipts(std::string_view run);
    result<page<dead_letter>> list_dead_letters(const dead_letter_filter& f, const page_request& p);
    result<std::vector<ledger_event>> read_ledger(const ledger_query& q);
    result<std::int64_t> last_seq();
    /// Checkpoints the background checkpointer has run so far (sqlite_options::checkpoint_pages;
    /// always 0 without one).
    [[nodiscard]] std::uint64_t background_checkpoints() const;
    /// Commits that also checkpointed, the WAL at sqlite_options::wal_limit_pages: how often
    /// writes outran the background checkpointer.
    [[nodiscard]] std::uint64_t writer_checkpoints() const;
    /// Every count from one consistent snapshot.
    result<store_counts> counts(time_point now);

    /// The file's schema version (PRAGMA user_version).
    result<int> schema_version();

private:
    explicit sqlite_backend(std::unique_ptr<impl> state) noexcept;

    std::unique_ptr<impl> impl_;
};

/// The SQLite store: every domain operation of basic_store over SQLite.
using sqlite_store = basic_store<sqlite_backend>;

/// Opens a SQLite store (see sqlite_backend::open). The store is neither copyable nor
/// assignable, hence the pointer.
[[nodiscard]] result<std::unique_ptr<sqlite_store>> open_sqlite_store(const sqlite_options& options);

static_assert(store_backend<sqlite_backend>);
static_assert(store<sqlite_store>);

}  // namespace wakeplane::stores
