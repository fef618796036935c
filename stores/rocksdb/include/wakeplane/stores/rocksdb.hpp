// rocksdb_store: the RocksDB storage engine under basic_store. The key layout, its encodings and
// the durability guarantees are described in docs/storage-rocksdb.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include <wakeplane/store.hpp>

namespace wakeplane::stores {

/// Where and how to open a RocksDB store.
struct rocksdb_options {
    /// The database directory; created (with its parents) when missing and create_if_missing.
    std::filesystem::path path;
    /// false: a missing database is errc::storage, for a daemon that must not start on an empty
    /// store because its path was mistyped.
    bool create_if_missing = true;
    /// How many schedule records the store keeps for the planner's due scans and the claims'
    /// schedule reads, packed (about 450 bytes each for a workflow schedule, 700 for an HTTP one
    /// with headers and a body: 55 to 90 MiB at the default); 0 keeps none and decodes every read.
    std::size_t schedule_cache_entries = 131072;
};

/// The RocksDB backend. One directory holds one store; RocksDB's lock file refuses a second
/// process (or a second backend in this one) on the same directory.
///
/// Writes: a transaction is a write batch with an index over it, so its reads see its own
/// writes; commit() writes the batch atomically to the write-ahead log with fsync before it
/// returns. Transactions are serialized by a mutex (basic_store serializes them already).
/// Reads: every query may run on any thread, concurrently with a transaction, and sees
/// committed data only; a query that reads several keys reads them from one snapshot.
/// No member throws: RocksDB failures are errc::storage with RocksDB's message.
class rocksdb_backend {
    struct impl;

public:
    /// A write transaction. It holds the backend's write lock from begin() until it is
    /// committed or destroyed; destroying it uncommitted discards every write. It must not
    /// outlive its backend.
    class transaction {
    public:
        transaction(transaction&& other) noexcept = default;
        transaction& operator=(transaction&&) = delete;
        ~transaction();

        /// The schedule row, as this transaction sees it.
        result<std::optional<schedule>> load_schedule(std::string_view id);
        /// The id of the live (not deleted) schedule named `name`.
        result<std::optional<schedule_id>> live_schedule_named(std::string_view name);
        /// The run row, as this transaction sees it.
        result<std::optional<run>> load_run(std::string_view id);
        /// The non-terminal runs of `schedule` whose status is one of `statuses`, by run id.
        result<std::vector<run>> runs_of(std::string_view schedule, std::span<const run_status> statuses);
        /// Every non-terminal run of `schedule` from the open-run index alone, by run id.
        result<std::vector<open_run>> open_runs(std::string_view schedule);
        /// Writes the schedule row and moves its index keys from `before` (the row as loaded;
        /// nullopt makes the transaction read it) to `s`.
        result<void> put_schedule(const schedule& s, const std::optional<schedule>& before);
        /// Moves next_run_at of a live, enabled schedule still at `expected` (its row and due
        /// key); false, and nothing written, otherwise.
        result<bool> move_next_run_at(std::string_view id, std::optional<time_point> expected,
                                      std::optional<time_point> next);
        /// Sets last_run_at of an existing schedule to `at` unless it is there or later already.
        result<bool> advance_last_run_at(std::string_view id, time_point at);
        /// Writes a new run; false, and nothing written, when its id or its
        /// (occurrence_key, attempt) exists already.
        result<bool> insert_run(const run& r);
        /// Rewrites an existing run; `before` is the row as loaded, whose index keys are dropped.
        result<void> put_run(const run& r, const run& before);
        /// Writes a receipt under its run, ordered by (created_at, id).
        result<void> put_receipt(const receipt& rc);
        /// Writes a dead letter; errc::storage when its id exists already.
        result<void> put_dead_letter(const dead_letter& d);
        /// Appends `e` under e.seq, which must be the next sequence number. A ledger key is
        /// written once: a seq that exists already is refused (errc::storage), never overwritten.
        result<void> append(const ledger_event& e);
        /// Writes every change atomically and durably (synced) and releases the write lock.
        result<void> commit();

    private:
        friend class rocksdb_backend;
        transaction(impl& db, std::unique_lock<std::mutex> lock) noexcept;

        impl* db_;
        std::unique_lock<std::mutex> lock_;  ///< owned while the transaction is open
        std::int64_t last_appended_ = 0;     ///< seq of this transaction's latest append; 0 before one
    };

    /// Opens (creating when allowed) the store in `options.path`. A path that cannot hold a
    /// database (a regular file, no permission, a store of an unknown layout) is errc::storage
    /// naming the path and the cause.
    static result<rocksdb_backend> open(const rocksdb_options& options);

    rocksdb_backend(rocksdb_backend&& other) noexcept;
    rocksdb_backend& operator=(rocksdb_backend&& other) noexcept;
    /// Closes the database; every committed transaction is already durable.
    ~rocksdb_backend();

    /// Starts a write transaction, waiting for the previous one to end.
    result<transaction> begin();

    /// The schedule row, deleted ones included.
    result<std::optional<schedule>> get_schedule(std::string_view id);
    /// The run row.
    result<std::optional<run>> get_run(std::string_view id);
    /// Enabled live schedules with next_run_at <= now, by (next_run_at, id), at most `limit`.
    result<std::vector<schedule>> due_schedules(time_point now, std::size_t limit);
    /// The earliest next_run_at of an enabled live schedule.
    result<std::optional<time_point>> next_due_at();
    /// Waiting runs (pending, retry_scheduled) whose eligible time (retry_available_at for a
    /// retry, else due_time) is <= now, by (eligible time, id), at most `limit`.
    result<std::vector<run>> eligible_runs(time_point now, std::size_t limit);
    /// The earliest eligible time of a waiting run.
    result<std::optional<time_point>> next_eligible_at();
    /// The earliest eligibility strictly after `t` (runs eligible by `t` may be waiting on overlap).
    result<std::optional<time_point>> next_eligible_after(time_point t);
    /// Claimed or running runs whose lease expired at or before `now`, by (expiry, id).
    result<std::vector<run>> expired_leases(time_point now, std::size_t limit);
    /// The earliest lease expiry of a claimed or running run.
    result<std::optional<time_point>> next_lease_expiry();
    /// Schedules newest first by (created_at, id), one page.
    result<page<schedule>> list_schedules(const schedule_filter& filter, const page_request& request);
    /// Runs newest first by (created_at, id), one page.
    result<page<run>> list_runs(const run_filter& filter, const page_request& request);
    /// The receipts of a run by (created_at, id).
    result<std::vector<receipt>> list_receipts(std::string_view run);
    /// Dead letters newest first by (created_at, id), one page.
    result<page<dead_letter>> list_dead_letters(const dead_letter_filter& filter, const page_request& request);
    /// Ledger entries with seq > after, oldest first.
    result<std::vector<ledger_event>> read_ledger(const ledger_query& query);
    /// The highest ledger sequence number (0 when empty), read from the last ledger key.
    result<std::int64_t> last_seq();
    /// The figures of /v1/status and /v1/metrics, from index keys only, in one snapshot.
    result<store_counts> counts(time_point now);

private:
    explicit rocksdb_backend(std::unique_ptr<impl> state) noexcept;

    std::unique_ptr<impl> impl_;
};

/// Every domain operation of basic_store over RocksDB.
using rocksdb_store = basic_store<rocksdb_backend>;

/// Opens a rocksdb_store in one step: `auto store = open_rocksdb_store({.path = "/var/lib/wakeplane"});`
result<rocksdb_store> open_rocksdb_store(const rocksdb_options& options);

static_assert(store_backend<rocksdb_backend>);
static_assert(store<rocksdb_store>);

}  // namespace wakeplane::stores
