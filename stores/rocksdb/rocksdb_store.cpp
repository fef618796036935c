// rocksdb_backend: rows, indexes and the ledger as keys of one RocksDB database
// (docs/storage-rocksdb.md). RocksDB types stay in this file; the header only sees `impl`.
#include <wakeplane/stores/rocksdb.hpp>

#include <algorithm>
#include <array>
#include <mutex>
#include <optional>
#include <exception>
#include <string>
#include <system_error>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <wakeplane/detail/schedule_cache.hpp>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/snapshot.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/table_properties_collectors.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include "keys.hpp"

namespace wakeplane::stores {

namespace {

namespace layout = rocksdb_layout;
namespace tag = rocksdb_layout::tag;
using layout::fixed_width;
using layout::key_writer;
using layout::layout_key;
using layout::layout_version;

rocksdb::Slice to_slice(std::string_view s) noexcept { return {s.data(), s.size()}; }
std::string_view to_view(const rocksdb::Slice& s) noexcept { return {s.data(), s.size()}; }

/// errc::storage carrying RocksDB's own message, e.g.
/// `rocksdb store: commit: IO error: No space left on device`.
tl::unexpected<error> storage_error(std::string_view doing, const rocksdb::Status& st) {
    return fail(errc::storage, "rocksdb store: " + std::string(doing) + ": " + st.ToString());
}

/// Runs `body`, turning an exception (an allocation failure, or text that is not UTF-8 when a
/// record is encoded as JSON) into errc::storage: nothing throws out of the backend.
template <class F>
auto shielded(std::string_view doing, F&& body) noexcept -> decltype(body()) {
    try {
        return body();
    } catch (const std::exception& ex) {
        return fail(errc::storage, "rocksdb store: " + std::string(doing) + ": " + ex.what());
    }
}

/// The part of `key` after its first `skip` bytes; a shorter key is corruption.
result<std::string_view> key_tail(std::string_view key, std::size_t skip) {
    if (key.size() < skip) {
        return fail(errc::storage, "rocksdb store: malformed index key of " + std::to_string(key.size()) + " bytes");
    }
    return key.substr(skip);
}

/// The 8-byte field (an instant or a sequence number) at `offset` of `key`; a shorter key is
/// corruption.
result<std::string_view> fixed_field(std::string_view key, std::size_t offset) {
    if (key.size() < offset + fixed_width) {
        return fail(errc::storage, "rocksdb store: malformed key of " + std::to_string(key.size()) + " bytes");
    }
    return key.substr(offset, fixed_width);
}

/// When a waiting run becomes claimable: its due time, or for a retry its available time.
time_point eligible_at(const run& r) {
    return r.status == run_status::retry_scheduled && r.retry_available_at ? *r.retry_available_at : r.due_time;
}

/// The value of a run's open-run entry: status code · nominal time · eligible time (waiting
/// runs that is_eligible() can admit only), so that a claim learns what it needs without the row.
std::string open_run_value(const run& r) {
    std::string v;
    key_writer w{v, layout::status_code(r.status)};
    w.instant(r.nominal_time);
    if (const auto eligible = eligible_from(r)) {
        w.instant(*eligible);
    }
    return v;
}

/// Reads an open-run entry of run `id`; nullopt for an entry of a status code alone (written by
/// an earlier version), whose times only the row has.
result<std::optional<open_run>> parse_open_run_value(std::string_view id, std::string_view value) {
    const auto status = value.empty() ? std::nullopt : layout::status_of_code(value.front());
    value.remove_prefix(status ? 1 : 0);
    if (!status || (value.size() != 0 && value.size() != fixed_width && value.size() != 2 * fixed_width)) {
        return fail(errc::storage, "rocksdb store: a malformed open-run index value for run \"" + std::string(id) + "\"");
    }
    if (value.empty()) {
        return std::nullopt;
    }
    open_run o{std::string(id), *status, layout::read_instant(value), std::nullopt};
    if (value.size() == 2 * fixed_width) {
        o.eligible_at = layout::read_instant(value.substr(fixed_width));
    }
    return o;
}

/// One index entry of a row: the key and its (often empty) value.
struct index_entry {
    std::string key;
    std::string value;
};

/// The index entries of one row, as the layout derives them from the row alone. Entries keep
/// their buffers across assign() calls, so that steady-state writes reuse memory.
class index_entries {
public:
    /// No entries (a row that does not exist yet).
    void clear() noexcept { size_ = 0; }

    /// The entries of schedule `s` at record version `version`: its live name, its due key and
    /// its listing key.
    void assign(const schedule& s, std::uint64_t version) {
        clear();
        if (!s.deleted) {
            add(tag::live_name, s.id).raw(s.name);
        }
        if (s.next_run_at && s.enabled && !s.deleted) {
            add(tag::due, layout::encode_times(layout::schedule_times::of(s, version)))
                .instant(*s.next_run_at)
                .raw(s.id);
        }
        const char flags = static_cast<char>((s.deleted ? layout::flag_deleted : 0) |
                                             (s.enabled ? layout::flag_enabled : 0));
        add(tag::schedules_created, {&flags, 1}).instant(s.created_at).raw(s.id);
    }

    /// The entries of run `r`: occurrence, eligibility, lease, open-run and listing keys.
    void assign(const run& r) {
        clear();
        const char status = layout::status_code(r.status);
        add(tag::occurrence, r.id).escaped(r.occurrence_key).signed64(r.attempt);
        if (r.status == run_status::pending || r.status == run_status::retry_scheduled) {
            // '1': counted as due once its time passes (store_counts::runs_due follows is_eligible,
            // which never counts a retry without retry_available_at).
            const bool counts_due = r.status == run_status::pending || r.retry_available_at.has_value();
            add(tag::eligible, counts_due ? "1" : "0").instant(eligible_at(r)).raw(r.id);
        }
        if (r.claim_expires_at && (r.status == run_status::claimed || r.status == run_status::running)) {
            add(tag::lease, {}).instant(*r.claim_expires_at).raw(r.id);
        }
        if (!is_terminal(r.status)) {
            add(tag::open_run, open_run_value(r)).escaped(r.schedule).raw(r.id);
        }
        add(tag::runs_created, {}).instant(r.created_at).raw(r.id);
        add(tag::runs_by_schedule, {&status, 1}).escaped(r.schedule).instant(r.created_at).raw(r.id);
        add(tag::runs_by_status, {}).byte(status).instant(r.created_at).raw(r.id);
    }

    /// The entries, in the order assign() derived them.
    [[nodiscard]] std::span<const index_entry> view() const noexcept { return {entries_.data(), size_}; }

    /// The entry with this key, or nullptr.
    [[nodiscard]] const index_entry* find(std::string_view key) const noexcept {
        for (const auto& e : view()) {
            if (e.key == key) {
                return &e;
            }
        }
        return nullptr;
    }

private:
    /// A new entry with `value`; its key starts with `index_tag` and the caller writes the rest.
    key_writer add(char index_tag, std::string_view value) {
        if (size_ == entries_.size()) {
            entries_.emplace_back();
        }
        auto& e = entries_[size_++];
        e.value.assign(value);
        return key_writer{e.key, index_tag};
    }

    std::vector<index_entry> entries_;
    std::size_t size_ = 0;
};

/// An iterator confined to the keys in [lower, upper) ("" = no upper bound): over committed
/// data, or with `batch` over the batch's writes merged onto committed data. RocksDB reads the
/// bounds by pointer, so the iterator owns them and is neither copied nor moved.
/// Where the live keys of a queue index (due, eligible, lease: keyed instant · id, consumed from
/// the front) begin, as far as this process knows. RocksDB keeps a tombstone for every deleted
/// key until a compaction drops it, and a scan from the first key of such an index steps over
/// every key the queue ever consumed: in a simulated month that was two thirds of all the time.
/// Scans start at the floor instead, and raise it to the first live key they find.
///
/// Every live key is >= the floor. A commit lowers the floor to the smallest queue key it wrote
/// (after its write, whatever the outcome: a lower floor is only slower, never wrong), and bumps
/// the generation; a scan raises the floor only when no commit bumped the generation since the
/// scan began, so a key committed meanwhile is never left below the floor.
class scan_floor {
public:
    struct mark {
        std::string key;  ///< start scanning here ("" = the index's first key)
        std::uint64_t generation = 0;
    };

    [[nodiscard]] mark start() const {
        std::lock_guard lock{m_};
        return {floor_, generation_};
    }
    /// Every key before `key` is deleted as of the scan that began at `since`.
    void raise(std::string_view key, const mark& since) {
        std::lock_guard lock{m_};
        if (generation_ == since.generation && key > floor_) {
            floor_.assign(key);
        }
    }
    /// A commit wrote `key` (or tried to).
    void lower(std::string_view key) {
        std::lock_guard lock{m_};
        ++generation_;
        if (key < floor_) {
            floor_.assign(key);
        }
    }

private:
    mutable std::mutex m_;
    std::string floor_;
    std::uint64_t generation_ = 0;
};

/// The queue indexes, each with its floor.
inline constexpr std::array<char, 3> queue_tags{tag::due, tag::eligible, tag::lease};

/// The floors of a store's queue indexes, in queue_tags order.
using queue_floors = std::array<scan_floor, queue_tags.size()>;

/// The position of a queue index in queue_tags; queue_tags.size() for any other tag.
constexpr std::size_t queue_slot(char index_tag) noexcept {
    return static_cast<std::size_t>(std::find(queue_tags.begin(), queue_tags.end(), index_tag) - queue_tags.begin());
}

/// Keys in [lower, upper) of one column family (the default one unless given), committed data
/// merged with `batch` when one is given (the default family only: no other is written through it).
class range_iterator {
public:
    range_iterator(rocksdb::DB& db, const rocksdb::ReadOptions& base, std::string lower, std::string upper,
                   rocksdb::WriteBatchWithIndex* batch = nullptr)
        : range_iterator(db, db.DefaultColumnFamily(), base, std::move(lower), std::move(upper)) {
        if (batch != nullptr) {
            it_.reset(batch->NewIteratorWithBase(db.DefaultColumnFamily(), it_.release(), &options_));
        }
    }
    range_iterator(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family, const rocksdb::ReadOptions& base,
                   std::string lower, std::string upper)
        : lower_(std::move(lower)), upper_(std::move(upper)), lower_slice_(lower_), upper_slice_(upper_),
          options_(base) {
        options_.iterate_lower_bound = &lower_slice_;
        options_.iterate_upper_bound = upper_.empty() ? nullptr : &upper_slice_;
        it_.reset(db.NewIterator(options_, family));
    }
    range_iterator(const range_iterator&) = delete;
    range_iterator& operator=(const range_iterator&) = delete;

    /// Positions at the first key of the range.
    void first() { it_->Seek(lower_slice_); }
    /// Positions at the last key of the range (committed data only).
    void last() { it_->SeekToLast(); }
    /// On a key of the range. The bound is checked here as well because RocksDB 7.8 applies it
    /// to committed data only: the batch side of a merged iterator runs past it.
    [[nodiscard]] bool valid() const { return it_->Valid() && (upper_.empty() || key() < upper_); }
    void next() { it_->Next(); }
    void prev() { it_->Prev(); }
    [[nodiscard]] std::string_view key() const { return to_view(it_->key()); }
    [[nodiscard]] std::string_view value() const { return to_view(it_->value()); }
    /// The error that ended the iteration, if any (an iterator ends on errors silently).
    [[nodiscard]] result<void> status(std::string_view doing) const {
        auto st = it_->status();
        if (!st.ok()) {
            return storage_error(doing, st);
        }
        return {};
    }

private:
    std::string lower_;
    std::string upper_;
    rocksdb::Slice lower_slice_;
    rocksdb::Slice upper_slice_;
    rocksdb::ReadOptions options_;
    std::unique_ptr<rocksdb::Iterator> it_;
};

/// After it.first() on a queue index: nothing live lies before the key found or, when none was
/// found (and no error ended the scan), before `end`.
void raise_to_first(scan_floor& floor, const range_iterator& it, std::string_view end, const scan_floor::mark& since) {
    if (it.valid()) {
        floor.raise(it.key(), since);
    } else if (it.status("scan")) {
        floor.raise(end, since);
    }
}

/// A snapshot of committed data and the options that read it: what one multi-key query reads,
/// so that it never mixes the states before and after a concurrent commit. Queries that read
/// schedules pass the store's schedule cache.
struct snapshot_view {
    explicit snapshot_view(rocksdb::DB& database, detail::schedule_cache* cache = nullptr)
        : db(&database), snapshot(&database), schedules(cache) {
        options.snapshot = snapshot.snapshot();
    }
    snapshot_view(const snapshot_view&) = delete;
    snapshot_view& operator=(const snapshot_view&) = delete;

    rocksdb::DB* db;
    rocksdb::ManagedSnapshot snapshot;
    rocksdb::ReadOptions options;
    detail::schedule_cache* schedules;
};

/// Reads the row `row_tag · id` of committed data; nullopt when absent. Not for schedules,
/// whose record and times read_schedule() puts together.
template <class T>
result<std::optional<T>> read_row(rocksdb::DB& db, const rocksdb::ReadOptions& options, char row_tag,
                                  std::string_view id, result<T> (*decode)(std::string_view)) {
    static_assert(!std::is_same_v<T, schedule>);
    std::string key;
    key_writer{key, row_tag}.raw(id);
    rocksdb::PinnableSlice value;
    auto st = db.Get(options, db.DefaultColumnFamily(), to_slice(key), &value);
    if (st.IsNotFound()) {
        return std::optional<T>{};
    }
    if (!st.ok()) {
        return storage_error("read", st);
    }
    auto row = decode(to_view(value));
    if (!row) {
        return tl::unexpected(row.error());
    }
    return std::optional<T>{std::move(*row)};
}

/// Schedule `id` from what was read of it: its times (nullopt: no times key) and its record
/// (nullopt: no record key). Either without the other is corruption. A decoded record goes
/// into `learn` when given (the caller read committed data), and the times are applied.
result<std::optional<schedule>> schedule_from(std::string_view id, std::optional<layout::schedule_times> times,
                                              std::optional<std::string_view> record,
                                              detail::schedule_cache* learn) {
    if (!record) {
        if (times) {
            return fail(errc::storage, "rocksdb store: schedule \"" + std::string(id) + "\" has times but no record");
        }
        return std::optional<schedule>{};
    }
    if (!times) {
        return fail(errc::storage, "rocksdb store: schedule \"" + std::string(id) + "\" has no times key");
    }
    auto row = decode_schedule_record(*record);
    if (!row) {
        return tl::unexpected(row.error());
    }
    if (learn != nullptr) {
        learn->insert(*row, times->record_version);
    }
    times->apply_to(*row);
    return std::optional<schedule>{std::move(*row)};
}

/// Schedule `id` of the snapshot: its record with the moving members of its times applied;
/// nullopt when absent. `known` is its times when the caller read them already (the due index
/// carries them), else they come from the times key. The record comes from the cache when it
/// holds the version the times name, else it is read, decoded and cached.
result<std::optional<schedule>> read_schedule(const snapshot_view& v, std::string_view id,
                                              const layout::schedule_times* known = nullptr) {
    std::string key;
    rocksdb::PinnableSlice value;
    std::optional<layout::schedule_times> times;
    if (known != nullptr) {
        times = *known;
    } else {
        key_writer{key, tag::schedule_times}.raw(id);
        auto st = v.db->Get(v.options, v.db->DefaultColumnFamily(), to_slice(key), &value);
        if (!st.ok() && !st.IsNotFound()) {
            return storage_error("read", st);
        }
        if (st.ok()) {
            times = layout::decode_times(to_view(value));
            if (!times) {
                return fail(errc::storage, "rocksdb store: schedule \"" + std::string(id) + "\" has a malformed times key");
            }
        }
    }
    if (times && v.schedules != nullptr) {
        if (auto cached = v.schedules->find(id, times->record_version)) {
            times->apply_to(*cached);
            return cached;
        }
    }
    key_writer{key, tag::schedule}.raw(id);
    value.Reset();  // read into once already (RocksDB before 7.4 does not reset it in Get)
    auto st = v.db->Get(v.options, v.db->DefaultColumnFamily(), to_slice(key), &value);
    if (!st.ok() && !st.IsNotFound()) {
        return storage_error("read", st);
    }
    // Committed data: its version is unique, so the record may be cached.
    return schedule_from(id, times, st.ok() ? std::optional{to_view(value)} : std::nullopt, v.schedules);
}

/// Reads the row an index entry names; a missing row is corruption (indexes and rows are
/// written in the same batch).
template <class T>
result<T> indexed_row(const snapshot_view& v, char row_tag, std::string_view id,
                      result<T> (*decode)(std::string_view)) {
    auto row = [&] {
        if constexpr (std::is_same_v<T, schedule>) {
            return read_schedule(v, id);
        } else {
            return read_row<T>(*v.db, v.options, row_tag, id, decode);
        }
    }();
    if (!row) {
        return tl::unexpected(row.error());
    }
    if (!*row) {
        return fail(errc::storage, "rocksdb store: an index names the missing row \"" + std::string(id) + "\"");
    }
    return std::move(**row);
}

/// The times the latest due scan read, with the sequence number of its snapshot. Until a
/// commit follows that snapshot they are the committed times, so the planner's move of a
/// schedule it has just read (which checks that the schedule is live, enabled and still at the
/// time the plan started from) takes them from here instead of reading the times key again.
/// The planner moves schedules in the order the scan returned them, so recall() looks forward
/// from the last one it found rather than hashing every id; an id it does not find that way is
/// simply read.
class due_memo {
public:
    using entry = std::pair<std::string, layout::schedule_times>;

    /// Replaces what is remembered by `scanned`, read at sequence `seq`, unless it was read
    /// before what is remembered (a slow reader's scan). One scan at a time, so that the memo
    /// stays as small as a scan; the planner applies each chunk before it scans the next.
    void remember(rocksdb::SequenceNumber seq, std::vector<entry>& scanned) {
        std::lock_guard lock{mutex_};
        if (seq < seq_) {
            return;
        }
        entries_ = std::move(scanned);
        seq_ = seq;
        next_ = 0;
    }

    /// The times of schedule `id` read at `latest`, the sequence of the last commit; nullopt
    /// when no scan read them there, or they lie before the last ones recalled.
    [[nodiscard]] std::optional<layout::schedule_times> recall(rocksdb::SequenceNumber latest, std::string_view id) {
        std::lock_guard lock{mutex_};
        if (latest != seq_) {
            return std::nullopt;
        }
        for (std::size_t i = next_; i < entries_.size(); ++i) {
            if (entries_[i].first == id) {
                next_ = i + 1;
                return entries_[i].second;
            }
        }
        return std::nullopt;
    }

private:
    std::mutex mutex_;
    rocksdb::SequenceNumber seq_ = 0;
    std::vector<entry> entries_;  ///< in scan order
    std::size_t next_ = 0;        ///< where the next recall starts looking
};

/// The rows named by an index keyed (instant · id) whose instant is <= now, in key order, at
/// most `limit`: due schedules, eligible runs, expired leases.
template <class T>
result<std::vector<T>> rows_at_or_before(rocksdb::DB& db, scan_floor& floor, char index_tag, char row_tag,
                                         time_point now, std::size_t limit, result<T> (*decode)(std::string_view),
                                         detail::schedule_cache* schedules = nullptr, due_memo* memo = nullptr) {
    std::vector<T> out;
    if (limit == 0) {
        return out;
    }
    const auto since = floor.start();
    snapshot_view v{db, schedules};
    std::string through;
    key_writer{through, index_tag}.instant(now);
    std::string upper = layout::prefix_end(through);
    range_iterator it{db, v.options, std::max(std::string(1, index_tag), since.key), upper};
    it.first();
    raise_to_first(floor, it, upper, since);
    std::vector<due_memo::entry> scanned;  // for the memo
    for (; it.valid() && out.size() < limit; it.next()) {
        auto id = key_tail(it.key(), 1 + fixed_width);
        if (!id) {
            return tl::unexpected(id.error());
        }
        if constexpr (std::is_same_v<T, schedule>) {
            // The due index's value is the schedule's times: no read of its times key, and with
            // the record cached, no read at all.
            const auto times = layout::decode_times(it.value());
            if (!times) {
                return fail(errc::storage, "rocksdb store: the due entry of schedule \"" + std::string(*id) +
                                               "\" has a malformed value");
            }
            if (memo != nullptr) {
                scanned.emplace_back(*id, *times);
            }
            // A cached record is unpacked in the list's own place: a schedule costs about as much
            // to move as to unpack.
            auto& s = out.emplace_back();
            if (schedules != nullptr && schedules->find_into(*id, times->record_version, s)) {
                times->apply_to(s);
                continue;
            }
            auto row = read_schedule(v, *id, &*times);
            if (!row) {
                return tl::unexpected(row.error());
            }
            if (!*row) {
                return fail(errc::storage, "rocksdb store: an index names the missing row \"" + std::string(*id) + "\"");
            }
            s = std::move(**row);
        } else {
            auto row = indexed_row<T>(v, row_tag, *id, decode);
            if (!row) {
                return tl::unexpected(row.error());
            }
            out.push_back(std::move(*row));
        }
    }
    if (auto st = it.status("scan"); !st) {
        return tl::unexpected(st.error());
    }
    if (memo != nullptr) {
        memo->remember(v.snapshot.snapshot()->GetSequenceNumber(), scanned);
    }
    return out;
}

/// The instant after the tag of the key `it` is on (an index keyed by time), or nullopt at the
/// end of its range.
result<std::optional<time_point>> instant_here(const range_iterator& it) {
    if (!it.valid()) {
        if (auto st = it.status("scan"); !st) {
            return tl::unexpected(st.error());
        }
        return std::optional<time_point>{};
    }
    auto field = fixed_field(it.key(), 1);
    if (!field) {
        return tl::unexpected(field.error());
    }
    return std::optional<time_point>{layout::read_instant(*field)};
}

/// The instant of the first key of an index keyed (instant · id); nullopt when it is empty.
result<std::optional<time_point>> first_instant(rocksdb::DB& db, scan_floor& floor, char index_tag) {
    const auto since = floor.start();
    std::string lower(1, index_tag);
    std::string upper = layout::prefix_end(lower);
    range_iterator it{db, rocksdb::ReadOptions{}, std::max(lower, since.key), upper};
    it.first();
    raise_to_first(floor, it, upper, since);
    return instant_here(it);
}

/// Walks the listing index under `prefix` (keys prefix · created_at · id) newest first, from
/// just before the cursor, keeping the rows whose index value `accept` takes: one page plus a
/// look-ahead, so that `next` is set only when another matching row exists.
template <class T, class Accept>
result<page<T>> newest_first(const snapshot_view& v, const std::string& prefix, const page_request& request,
                             Accept&& accept, char row_tag, result<T> (*decode)(std::string_view)) {
    std::string upper;
    if (request.after) {
        // Exclusive bound: exactly the rows strictly older than the cursor's position.
        key_writer{upper, std::string_view{prefix}}.instant(request.after->created_at).raw(request.after->id);
    } else {
        upper = layout::prefix_end(prefix);
    }
    page<T> out;
    const std::size_t limit = std::max<std::size_t>(request.limit, 1);
    range_iterator it{*v.db, v.options, prefix, std::move(upper)};
    for (it.last(); it.valid(); it.prev()) {
        if (!accept(it.value())) {
            continue;
        }
        if (out.items.size() == limit) {
            const auto& last = out.items.back();
            out.next = page_cursor{last.created_at, last.id};
            break;
        }
        auto id = key_tail(it.key(), prefix.size() + fixed_width);
        if (!id) {
            return tl::unexpected(id.error());
        }
        auto row = indexed_row<T>(v, row_tag, *id, decode);
        if (!row) {
            return tl::unexpected(row.error());
        }
        out.items.push_back(std::move(*row));
    }
    if (auto st = it.status("list"); !st) {
        return tl::unexpected(st.error());
    }
    return out;
}

/// Counts the keys under `prefix`, or with `upper` the keys in [prefix, upper), for which
/// `pick(key, value)` holds.
template <class Pick>
result<std::int64_t> count_keys(const snapshot_view& v, const std::string& prefix, std::string upper, Pick&& pick) {
    range_iterator it{*v.db, v.options, prefix, upper.empty() ? layout::prefix_end(prefix) : std::move(upper)};
    std::int64_t n = 0;
    for (it.first(); it.valid(); it.next()) {
        n += pick(it.key(), it.value()) ? 1 : 0;
    }
    if (auto st = it.status("count"); !st) {
        return tl::unexpected(st.error());
    }
    return n;
}

/// The highest ledger sequence number in `options`' view of the ledger family; 0 for an empty ledger.
result<std::int64_t> highest_seq(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* ledger,
                                 const rocksdb::ReadOptions& options) {
    std::string lower(1, tag::ledger);
    std::string upper = layout::prefix_end(lower);
    range_iterator it{db, ledger, options, std::move(lower), std::move(upper)};
    it.last();
    if (!it.valid()) {
        if (auto st = it.status("last_seq"); !st) {
            return tl::unexpected(st.error());
        }
        return std::int64_t{0};
    }
    auto field = fixed_field(it.key(), 1);
    if (!field) {
        return tl::unexpected(field.error());
    }
    return layout::read_seq(*field);
}

/// The event stored under the 8-byte sequence number `seq`, from the snapshot of the ledger family.
result<ledger_event> event_at(const snapshot_view& v, rocksdb::ColumnFamilyHandle* ledger, std::string_view seq) {
    std::string key;
    key_writer{key, tag::ledger}.raw(seq);
    rocksdb::PinnableSlice data;
    auto st = v.db->Get(v.options, ledger, to_slice(key), &data);
    if (!st.ok()) {
        // NotFound included: an index entry without its event is corruption.
        return storage_error("read_ledger", st);
    }
    return decode_event(to_view(data));
}

/// RocksDB's options for a store: defaults, plus a Bloom filter because existence checks
/// (insert_run, append, dead letters) mostly ask for keys that do not exist, which the filter
/// answers without reading data blocks.
rocksdb::Options database_options(const rocksdb_options& o) {
    rocksdb::Options options;
    options.create_if_missing = o.create_if_missing;
    options.keep_log_file_num = 10;  // RocksDB rotates its info LOG at every open; keep a few, not 1000
    rocksdb::BlockBasedTableOptions table;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    // Reads inside transactions are point lookups: rows and times keys that exist (a cache of
    // 64 MiB, not 8, keeps the blocks a planner pass reads again instead of decompressing them
    // per read) and existence checks of keys that do not (a Bloom filter over the memtable's
    // keys answers those without searching its skip list).
    table.block_cache = rocksdb::NewLRUCache(64 << 20);
    options.memtable_whole_key_filtering = true;
    options.memtable_prefix_bloom_size_ratio = 0.1;
    options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    // Every claim and finish deletes index keys (eligible, lease, open runs), and a scan steps over
    // each deleted key's tombstone until a flush and a compaction drop it. A smaller memtable (8 MiB,
    // not 64) is flushed sooner, and a file whose keys are dense with deletions (32 in any window
    // of 128) is compacted at once: a simulated month on RocksDB went from 33 s to 9.5 s.
    options.write_buffer_size = 8 << 20;
    // Level 1 and its files scaled with the memtable (RocksDB's defaults, 256 and 64 MiB, suit its
    // 64 MiB memtable: level 1 about as large as the four level-0 files that trigger a compaction
    // into it). With level 1 at 256 MiB, a store of a million schedules (200 MB) lay in level 1
    // alone, each compaction from level 0 rewrote all of it (8.5 s here), level-0 files piled up
    // behind it and writes stalled: a pass of 1,000 due among the million took 1.8-3.7 times one
    // among a thousand, and 1.45-1.85 times with these sizes.
    options.max_bytes_for_level_base = 32 << 20;
    options.target_file_size_base = 8 << 20;
    // A commit inserts its keys in key order (sorted_writes), but between two keys of one table
    // lie the keys earlier commits put there (a schedule's older runs, for one). With a hint per
    // table (the key's tag) a memtable insert starts from the table's previous insert rather than
    // from the list's last one. Measured in instructions (callgrind, 5,000 rows or schedules), the
    // raw run insert's DB::Write costs a tenth less with it (255 M against 282 M), a planner
    // pass's 2 % more (444 M against 436 M): kept for the inserts that write a run's keys alone.
    options.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(1));
    options.table_properties_collector_factories.emplace_back(
        rocksdb::NewCompactOnDeletionCollectorFactory(128, 32));
    return options;
}

/// The ledger family's options: the store's, without its Bloom filters and its compaction on
/// deletions. A ledger key is read only where it exists (an event a filter key names, the
/// predecessor of a transaction's first append) and otherwise scanned, so a filter would never
/// spare a read; and no ledger key is ever deleted.
rocksdb::ColumnFamilyOptions ledger_family_options(const rocksdb::Options& store) {
    rocksdb::ColumnFamilyOptions options(store);
    if (const auto* table = store.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>()) {
        rocksdb::BlockBasedTableOptions unfiltered = *table;  // and the same block cache
        unfiltered.filter_policy.reset();
        options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(unfiltered));
    }
    options.memtable_prefix_bloom_size_ratio = 0;
    options.memtable_whole_key_filtering = false;
    options.table_properties_collector_factories.clear();
    return options;
}

}  // namespace

/// How a transaction reads a key of some tag back, which decides where its writes go.
enum class read_back {
    never,  ///< the ledger, listings and queues: only written (blind_writes)
    point,  ///< rows and the name, occurrence and times keys: read one key at a time (point_writes)
    scan,   ///< the open-run index, scanned per schedule: the indexed batch, which merges scans
};

constexpr read_back read_back_of(char key_tag) noexcept {
    switch (key_tag) {
    case tag::schedule:
    case tag::schedule_times:
    case tag::run:
    case tag::dead_letter:
    case tag::live_name:
    case tag::occurrence:
        return read_back::point;
    case tag::open_run:
        return read_back::scan;
    default:
        return read_back::never;
    }
}

/// Writes kept in one buffer and put in key order at commit (the last write of a key wins): the
/// transaction's writes in the order made, of keys it never reads back and (logged here as
/// well) of keys it reads back one at a time; only the scanned keys are kept elsewhere.
class blind_writes {
public:
    void put(std::string_view k, std::string_view v) { add(k, v, false); }
    void erase(std::string_view k) { add(k, {}, true); }
    [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }
    void clear() noexcept {
        bytes_.clear();
        entries_.clear();
    }

    /// One write: the key, the value (puts) and whether it deletes.
    struct write {
        std::string_view key;
        std::string_view value;
        bool erase;
    };

    /// Calls `f(write)` for the last write of each key, in key order.
    ///
    /// Most tables receive their keys in order already: a pass writes its runs in the order
    /// their ids were made, its events in sequence order, its listing keys by creation time. One
    /// sort of every write (a planner chunk makes about 13,000) cost an eighth of a pass; the
    /// writes are grouped by table instead (a stable counting sort on the tag byte), and only
    /// a group out of order is sorted, which in a pass is the due index (each schedule leaves
    /// one due key and enters another) and whatever follows the due scan's order.
    template <class F>
    void for_each_sorted(F&& f) {
        group_by_tag();
        const auto less = [this](const entry& a, const entry& b) { return key_of(a) < key_of(b); };
        for (auto first = entries_.begin(); first != entries_.end();) {
            const char table = key_of(*first).front();
            const auto last = std::find_if(first, entries_.end(),
                                           [&](const entry& e) { return key_of(e).front() != table; });
            if (!std::is_sorted(first, last, less)) {
                std::stable_sort(first, last, less);  // stable: of two writes of a key, the last stays last
            }
            first = last;
        }
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            if (i + 1 < entries_.size() && key_of(entries_[i + 1]) == key_of(entries_[i])) {
                continue;  // a later write of the same key follows
            }
            const entry& e = entries_[i];
            f(write{key_of(e), std::string_view{bytes_}.substr(e.at + e.key_size, e.value_size), e.erase});
        }
    }

private:
    struct entry {
        std::size_t at;  ///< where the key starts in bytes_, its value right after it
        std::uint32_t key_size;  ///< at least 1: every key starts with its tag
        std::uint32_t value_size;
        bool erase;
    };

    void add(std::string_view k, std::string_view v, bool erase) {
        entries_.push_back(entry{bytes_.size(), static_cast<std::uint32_t>(k.size()),
                                 static_cast<std::uint32_t>(v.size()), erase});
        bytes_.append(k).append(v);
    }
    [[nodiscard]] std::string_view key_of(const entry& e) const noexcept {
        return std::string_view{bytes_}.substr(e.at, e.key_size);
    }

    /// Orders the entries by their first byte, keeping the order of writes within each.
    void group_by_tag() {
        std::array<std::size_t, 257> start{};
        for (const entry& e : entries_) {
            ++start[static_cast<unsigned char>(bytes_[e.at]) + 1];
        }
        for (std::size_t b = 1; b < start.size(); ++b) {
            start[b] += start[b - 1];
        }
        grouped_.resize(entries_.size());
        for (const entry& e : entries_) {
            grouped_[start[static_cast<unsigned char>(bytes_[e.at])]++] = e;
        }
        entries_.swap(grouped_);
    }

    std::string bytes_;
    std::vector<entry> entries_;
    std::vector<entry> grouped_;  ///< group_by_tag's scratch, kept for its capacity
};

// ---------------------------------------------------------------------------------------------
// The backend's state.
// ---------------------------------------------------------------------------------------------

/// Closes a column family's handle through its database, which RocksDB requires of every handle
/// DB::Open gave before the database itself closes.
struct family_closer {
    rocksdb::DB* db;
    void operator()(rocksdb::ColumnFamilyHandle* family) const { db->DestroyColumnFamilyHandle(family); }
};
using family_handle = std::unique_ptr<rocksdb::ColumnFamilyHandle, family_closer>;

struct rocksdb_backend::impl {
    /// Takes the database and the handles DB::Open gave for its column families. The handles
    /// become members right after the database, so that whatever throws later closes them first.
    impl(std::unique_ptr<rocksdb::DB> opened, std::vector<family_handle> opened_families, std::size_t cached_schedules)
        : db(std::move(opened)), other_families(std::move(opened_families)), schedules(cached_schedules) {
        durable.sync = true;
        const auto named_ledger = std::find_if(other_families.begin(), other_families.end(),
                                               [](const auto& f) { return f->GetName() == layout::ledger_family; });
        if (named_ledger != other_families.end()) {
            ledger = std::move(*named_ledger);
            other_families.erase(named_ledger);
        }
    }

    std::unique_ptr<rocksdb::DB> db;
    // Declared after db: closed before it.
    family_handle ledger{nullptr, family_closer{nullptr}};  ///< the ledger family; null until created (layout 4)
    std::vector<family_handle> other_families;  ///< the default family's handle from DB::Open, and any other
    detail::schedule_cache schedules;  ///< decoded records of committed schedules
    due_memo due_times;                ///< the times the latest due scan read
    rocksdb::WriteOptions durable;  ///< sync: a commit is on disk before it returns
    rocksdb::ReadOptions latest;    ///< the transaction's reads: the latest committed data
    std::mutex write_mutex;         ///< held by the open transaction
    queue_floors floors;            ///< where scans of the queue indexes start

    scan_floor& floor_of(char queue_tag) noexcept { return floors[queue_slot(queue_tag)]; }

    // The open transaction's working state, reused from one transaction to the next; only the
    // holder of write_mutex touches it. overwrite_key = true: the batch index keeps one entry
    // per key, which reads through the batch (and its iterators) require.
    rocksdb::WriteBatchWithIndex batch{rocksdb::BytewiseComparator(), 0, true};
    /// The open transaction's last write of each key read back one at a time (nullopt: deleted).
    /// A hash map answers those reads for a fraction of what the indexed batch's skip list costs
    /// (two searches per write, one per read); only scanned keys need its order.
    std::unordered_map<std::string, std::optional<std::string>> point_writes;
    blind_writes blind;                ///< the open transaction's writes but the scanned ones, in order
    rocksdb::WriteBatch commit_batch;  ///< what commit() writes: see sorted_writes()
    std::string key;
    rocksdb::PinnableSlice value;
    index_entries before;
    index_entries after;
    std::array<std::optional<std::string>, queue_tags.size()> lowest_queue_key;  ///< written by the open transaction
    /// The open transaction's last write of each run it wrote, for row_as_written().
    std::unordered_map<std::string, run> rows_written;
    /// The schedules the open transaction wrote in full: cached once committed.
    std::unordered_set<std::string> schedules_written;

    /// The column family of key `k`: the ledger family for ledger keys, the default one for the rest.
    [[nodiscard]] rocksdb::ColumnFamilyHandle* family_of(std::string_view k) const {
        return !k.empty() && k.front() == tag::ledger ? ledger.get() : db->DefaultColumnFamily();
    }

    /// Marks a new directory as a store of this layout; moves a store of an older layout up to
    /// it, one layout at a time; refuses a store of an unknown layout and a database that holds
    /// someone else's keys or families (adding none). `family`: the options of the ledger family.
    result<void> check_layout(const std::string& where, const rocksdb::ColumnFamilyOptions& family) {
        std::string version;
        auto st = db->Get(latest, to_slice(layout_key), &version);
        if (st.IsNotFound()) {
            // New only if it holds no key and no family but an empty ledger one (which a crash
            // between creating it and writing the layout key leaves).
            range_iterator any{*db, latest, std::string{}, std::string{}};
            any.first();
            bool empty = !any.valid() && other_families.size() <= 1;
            if (empty && ledger) {
                range_iterator events{*db, ledger.get(), latest, std::string{}, std::string{}};
                events.first();
                empty = !events.valid();
            }
            if (!empty) {
                return fail(errc::storage, "the RocksDB database at \"" + where + "\" is not a Wakeplane store");
            }
            // The layout key last: a crash before it leaves a database that is still new.
            if (auto created = create_ledger_family(family); !created) {
                return created;
            }
            st = db->Put(durable, to_slice(layout_key), to_slice(layout_version));
            return st.ok() ? result<void>{} : storage_error("open", st);
        }
        if (!st.ok()) {
            return storage_error("open", st);
        }
        const auto no_ledger = [&] {
            return fail(errc::storage, "the RocksDB store at \"" + where + "\" has no column family \"" +
                                           std::string(layout::ledger_family) + "\"; its ledger is missing");
        };
        while (version != layout_version) {
            result<void> moved;
            if (version == layout::layout_version_1) {
                moved = add_schedule_times(where);
            } else if (version == layout::layout_version_2) {
                moved = version_schedule_times(where);
            } else if (version == layout::layout_version_3) {
                moved = move_ledger(family);
            } else if (version == layout::layout_version_4 || version == layout::layout_version_5) {
                moved = ledger ? mark_current_layout() : no_ledger();  // a broken store stays as it was
            } else {
                return fail(errc::storage, "the RocksDB store at \"" + where + "\" has layout version \"" + version +
                                               "\"; this build reads version " + std::string(layout_version));
            }
            if (!moved) {
                return moved;
            }
            // Each step marks the store with the layout it reached, in its last synced write.
            if (st = db->Get(latest, to_slice(layout_key), &version); !st.ok()) {
                return storage_error("open", st);
            }
        }
        return ledger ? result<void>{} : no_ledger();
    }

    /// Creates the ledger family unless the database has it already (a crash after creating it
    /// and before marking the layout leaves it there).
    result<void> create_ledger_family(const rocksdb::ColumnFamilyOptions& family) {
        if (ledger) {
            return {};
        }
        rocksdb::ColumnFamilyHandle* created = nullptr;
        auto st = db->CreateColumnFamily(family, std::string(layout::ledger_family), &created);
        if (!st.ok()) {
            return storage_error("open", st);
        }
        ledger = family_handle{created, family_closer{db.get()}};
        return {};
    }

    /// How many events one synced batch of move_ledger moves.
    static constexpr std::size_t ledger_move_batch = 4096;

    /// Layout 3 → 4: moves the ledger out of the default family into the ledger family, in
    /// synced batches that each write events into the ledger family and delete them from the
    /// default one, so that an event is in exactly one of the two at any time. A crash leaves a
    /// layout 3 store, whose next open moves what is left; the last batch marks the store as
    /// layout 4. In batches, not in one: a ledger of millions of events would be held in memory.
    result<void> move_ledger(const rocksdb::ColumnFamilyOptions& family) {
        if (auto created = create_ledger_family(family); !created) {
            return created;
        }
        rocksdb::WriteBatch writes;
        auto write = [&]() -> result<void> {
            auto st = db->Write(durable, &writes);
            writes.Clear();
            return st.ok() ? result<void>{} : storage_error("open", st);
        };
        const std::string prefix(1, tag::ledger);
        rocksdb::ReadOptions once = latest;
        once.fill_cache = false;  // each event is read this once: keep the block cache for the rows
        range_iterator events{*db, once, prefix, layout::prefix_end(prefix)};
        std::size_t batched = 0;
        for (events.first(); events.valid(); events.next()) {
            auto st = writes.Put(ledger.get(), to_slice(events.key()), to_slice(events.value()));
            if (st.ok()) {
                st = writes.Delete(to_slice(events.key()));
            }
            if (!st.ok()) {
                return storage_error("open", st);
            }
            if (++batched % ledger_move_batch == 0) {
                if (auto done = write(); !done) {
                    return done;
                }
            }
        }
        // Checked before the layout key: an iteration that ended on an error moved only part.
        if (auto st = events.status("open"); !st) {
            return st;
        }
        if (auto st = writes.Put(to_slice(layout_key), to_slice(layout::layout_version_4)); !st.ok()) {
            return storage_error("open", st);
        }
        return write();
    }

    /// Layouts 4 and 5 → 6 change no key, only the form of new ledger values, which an older
    /// build cannot read: from layout 5 on, the ledger keeps the row of a fresh materialization
    /// compact (ledger.hpp, is_fresh_materialization); from layout 6 on, that compact row leaves
    /// out the instants its header implies. Marking the store makes an older build refuse it
    /// rather than call its ledger corrupt. The events written before keep their form; every form
    /// is read.
    result<void> mark_current_layout() {
        auto st = db->Put(durable, to_slice(layout_key), to_slice(layout_version));
        return st.ok() ? result<void>{} : storage_error("open", st);
    }

    /// Layout 1 → 3: gives every schedule its times key, and its due entry the times as value
    /// (empty in layout 1), taken from its record (which layout 1 keeps up to date) with a record
    /// version, and marks the store as layout 3, in one synced batch: a crash leaves a layout 1
    /// store, which the next open migrates again from the start.
    result<void> add_schedule_times(const std::string& where) {
        rocksdb::WriteBatch writes;
        std::string prefix(1, tag::schedule);
        range_iterator rows{*db, latest, prefix, layout::prefix_end(prefix)};
        std::string times_key;
        for (rows.first(); rows.valid(); rows.next()) {
            auto row = decode_schedule_record(rows.value());
            if (!row) {
                return fail(errc::storage, "the RocksDB store at \"" + where + "\" cannot move to layout " +
                                               std::string(layout::layout_version_3) + ": " + row.error().message);
            }
            key_writer{times_key, tag::schedule_times}.raw(row->id);
            const std::string times = layout::encode_times(layout::schedule_times::of(*row, record_version()));
            if (auto st = writes.Put(to_slice(times_key), to_slice(times)); !st.ok()) {
                return storage_error("open", st);
            }
            if (row->next_run_at && row->enabled && !row->deleted) {  // the due entry's value
                key_writer{times_key, tag::due}.instant(*row->next_run_at).raw(row->id);
                if (auto st = writes.Put(to_slice(times_key), to_slice(times)); !st.ok()) {
                    return storage_error("open", st);
                }
            }
        }
        if (auto st = rows.status("open"); !st) {
            return st;
        }
        if (auto st = writes.Put(to_slice(layout_key), to_slice(layout::layout_version_3)); !st.ok()) {
            return storage_error("open", st);
        }
        auto st = db->Write(durable, &writes);
        return st.ok() ? result<void>{} : storage_error("open", st);
    }

    /// Layout 2 → 3: gives every times key, and every due entry's value (the same times), a
    /// record version, and marks the store as layout 3, in one synced batch: a crash leaves a
    /// layout 2 store, which the next open migrates again from the start. Every schedule gets
    /// the same version, which no later full write can have.
    result<void> version_schedule_times(const std::string& where) {
        const std::uint64_t version = record_version();
        rocksdb::WriteBatch writes;
        auto version_all = [&](char index_tag) -> result<void> {
            std::string prefix(1, index_tag);
            range_iterator entries{*db, latest, prefix, layout::prefix_end(prefix)};
            for (entries.first(); entries.valid(); entries.next()) {
                auto times = layout::decode_times_v2(entries.value());
                if (!times) {
                    return fail(errc::storage, "the RocksDB store at \"" + where + "\" cannot move to layout " +
                                                   std::string(layout::layout_version_3) + ": a value under tag '" +
                                                   std::string(1, index_tag) + "' is not a layout 2 times value");
                }
                times->record_version = version;
                if (auto st = writes.Put(to_slice(entries.key()), to_slice(layout::encode_times(*times))); !st.ok()) {
                    return storage_error("open", st);
                }
            }
            return entries.status("open");
        };
        if (auto done = version_all(tag::schedule_times); !done) {
            return done;
        }
        if (auto done = version_all(tag::due); !done) {
            return done;
        }
        if (auto st = writes.Put(to_slice(layout_key), to_slice(layout::layout_version_3)); !st.ok()) {
            return storage_error("open", st);
        }
        auto st = db->Write(durable, &writes);
        return st.ok() ? result<void>{} : storage_error("open", st);
    }

    /// Reads point key `k` as the open transaction sees it into `out`: its own last write, else
    /// committed data. (The ledger and scanned keys are never read back one at a time, apart
    /// from the first append's look at its predecessor, which no write of the transaction holds.)
    rocksdb::Status tx_get(std::string_view k, rocksdb::PinnableSlice& out) {
        out.Reset();
        if (auto it = point_writes.find(std::string(k)); it != point_writes.end()) {
            if (!it->second) {
                return rocksdb::Status::NotFound();
            }
            out.PinSelf(to_slice(*it->second));
            return rocksdb::Status::OK();
        }
        return db->Get(latest, family_of(k), to_slice(k), &out);
    }

    /// Reads `k` as the open transaction sees it into `value`; false when absent.
    result<bool> tx_read(std::string_view k) {
        auto st = tx_get(k, value);
        if (st.IsNotFound()) {
            return false;
        }
        if (!st.ok()) {
            return storage_error("read", st);
        }
        return true;
    }

    /// The row `row_tag · id` as the open transaction sees it (not a schedule: tx_schedule).
    template <class T>
    result<std::optional<T>> tx_row(char row_tag, std::string_view id, result<T> (*decode)(std::string_view)) {
        static_assert(!std::is_same_v<T, schedule>);
        key_writer{key, row_tag}.raw(id);
        auto found = tx_read(key);
        if (!found) {
            return tl::unexpected(found.error());
        }
        if (!*found) {
            return std::optional<T>{};
        }
        auto row = decode(to_view(value));
        if (!row) {
            return tl::unexpected(row.error());
        }
        return std::optional<T>{std::move(*row)};
    }

    /// Schedule `id` as the open transaction sees it. The cache serves (and learns) only a
    /// record this transaction has not written: versions are unique among committed writes
    /// alone, since a rolled-back transaction's version is the next one's too.
    result<std::optional<schedule>> tx_schedule(std::string_view id) {
        // Both keys: a full write that failed between them (for a caller that goes on) has
        // written the record alone.
        key_writer{key, tag::schedule_times}.raw(id);
        bool written_here = point_writes.contains(key);
        key_writer{key, tag::schedule}.raw(id);
        written_here = written_here || point_writes.contains(key);
        auto times = tx_times(id);
        if (!times) {
            return tl::unexpected(times.error());
        }
        if (*times && !written_here) {
            if (auto cached = schedules.find(id, (*times)->record_version)) {
                (*times)->apply_to(*cached);
                return cached;
            }
        }
        key_writer{key, tag::schedule}.raw(id);
        auto found = tx_read(key);
        if (!found) {
            return tl::unexpected(found.error());
        }
        return schedule_from(id, *times, *found ? std::optional{to_view(value)} : std::nullopt,
                             written_here ? nullptr : &schedules);
    }

    /// The times key of schedule `id` as the open transaction sees it; nullopt when the schedule
    /// does not exist.
    result<std::optional<layout::schedule_times>> tx_times(std::string_view id) {
        key_writer{key, tag::schedule_times}.raw(id);
        auto found = tx_read(key);
        if (!found) {
            return tl::unexpected(found.error());
        }
        if (!*found) {
            return std::optional<layout::schedule_times>{};
        }
        auto times = layout::decode_times(to_view(value));
        if (!times) {
            return fail(errc::storage, "rocksdb store: schedule \"" + std::string(id) + "\" has a malformed times key");
        }
        return times;
    }

    /// After a commit has landed: the schedules it wrote in full go into the cache at the
    /// commit's record version, decoded from the record written (not the caller's object: the
    /// encoding replaces invalid UTF-8, and a read must return what a read from disk would), so
    /// that a schedule just edited (or created, while the cache has room: see schedule_cache) is
    /// not read back by the next due scan. The cache is only a shortcut: a failure here must not
    /// turn a landed commit into an error.
    void cache_written_schedules(std::uint64_t version) noexcept {
        try {
            for (const auto& id : schedules_written) {
                key_writer{key, tag::schedule}.raw(id);
                const auto written = point_writes.find(key);
                if (written == point_writes.end() || !written->second) {
                    continue;
                }
                if (auto record = decode_schedule_record(*written->second)) {
                    schedules.insert(*record, version);
                }
            }
        } catch (...) {  // a record not cached is read from the database when next asked for
        }
    }

    /// Writes the row of run `r`, and remembers it as the transaction's last write of the run.
    result<void> put_run_row(const run& r) {
        rows_written.erase(r.id);  // first: a write that fails half-way leaves no stale row here
        key_writer{key, tag::run}.raw(r.id);
        if (auto put = tx_put(key, encode_run_record(r)); !put) {
            return put;
        }
        rows_written.emplace(r.id, r);
        return {};
    }

    /// The record the open transaction wrote last for run `row.id`, if `row` is that run as
    /// written: an event about a run carries the row just written, and its JSON is the same.
    [[nodiscard]] const std::string* row_as_written(const run& row) {
        const auto it = rows_written.find(row.id);
        if (it == rows_written.end() || it->second != row) {
            return nullptr;
        }
        key_writer{key, tag::run}.raw(row.id);
        const auto written = point_writes.find(key);
        return written == point_writes.end() || !written->second ? nullptr : &*written->second;
    }

    /// The record version of a full write by the open transaction: the sequence number RocksDB
    /// gives this transaction's commit's first key. Only the holder of write_mutex commits, so
    /// it cannot change before that commit, and every commit takes at least one number: two
    /// committed writes of a schedule never share a version, within a run of the process or
    /// across a reopen (RocksDB's sequence survives it).
    [[nodiscard]] std::uint64_t record_version() const { return db->GetLatestSequenceNumber() + 1; }

    /// The times of schedule `id` as the open transaction sees them, from the due scan's memo
    /// when nothing has been committed since the scan and this transaction has not written them.
    result<std::optional<layout::schedule_times>> tx_times_as_scanned(std::string_view id) {
        key_writer{key, tag::schedule_times}.raw(id);
        if (!point_writes.contains(key)) {
            if (auto times = due_times.recall(db->GetLatestSequenceNumber(), id)) {
                return std::optional<layout::schedule_times>{*times};
            }
        }
        return tx_times(id);
    }

    /// Writes the times key of schedule `id`.
    result<void> put_times(std::string_view id, const layout::schedule_times& times) {
        key_writer{key, tag::schedule_times}.raw(id);
        return tx_put(key, layout::encode_times(times));
    }

    result<void> tx_put(std::string_view k, std::string_view v) {
        if (const auto slot = queue_slot(k.front()); slot < queue_tags.size()) {
            auto& lowest = lowest_queue_key[slot];
            if (!lowest || k < *lowest) {
                lowest.emplace(k);
            }
        }
        switch (read_back_of(k.front())) {
        case read_back::never:
            blind.put(k, v);
            return {};
        case read_back::point:
            point_writes.insert_or_assign(std::string(k), std::optional<std::string>{std::in_place, v});
            blind.put(k, v);  // for the commit, in the order made (the map answers reads)
            return {};
        case read_back::scan:
            break;
        }
        auto st = batch.Put(to_slice(k), to_slice(v));
        return st.ok() ? result<void>{} : storage_error("write", st);
    }

    result<void> tx_delete(std::string_view k) {
        switch (read_back_of(k.front())) {
        case read_back::never:
            blind.erase(k);
            return {};
        case read_back::point:
            point_writes.insert_or_assign(std::string(k), std::nullopt);
            blind.erase(k);
            return {};
        case read_back::scan:
            break;
        }
        auto st = batch.Delete(to_slice(k));
        return st.ok() ? result<void>{} : storage_error("write", st);
    }

    /// Moves a row's index keys from `before` to `after`: deletes the keys that left, writes the
    /// keys that arrived or whose value changed, and leaves the unchanged ones alone.
    result<void> move_indexes() {
        for (const auto& b : before.view()) {
            if (after.find(b.key) == nullptr) {
                if (auto erased = tx_delete(b.key); !erased) {
                    return erased;
                }
            }
        }
        for (const auto& a : after.view()) {
            const index_entry* b = before.find(a.key);
            if (b == nullptr || b->value != a.value) {
                if (auto put = tx_put(a.key, a.value); !put) {
                    return put;
                }
            }
        }
        return {};
    }

    /// Whether the open transaction wrote anything.
    [[nodiscard]] bool wrote() {
        return batch.GetWriteBatch()->Count() > 0 || !blind.empty() || !point_writes.empty();
    }

    /// The open transaction's writes as the batch to commit: the last write of each key only, in
    /// key order, the indexed (scanned) writes merged with the others (their tags never
    /// overlap). Order is not needed for correctness, but a batch in the order made interleaves
    /// keys of all the tables (and writes a run row once for its claim and again for its start),
    /// and its memtable inserts cost over a third more: in key order each insert's search follows
    /// the path of the one before, which is still in the caches (docs/storage-rocksdb.md).
    result<rocksdb::WriteBatch*> sorted_writes() {
        commit_batch.Clear();
        std::unique_ptr<rocksdb::WBWIIterator> it{batch.NewIterator()};
        it->SeekToFirst();
        rocksdb::Status st;
        auto add = [&](std::string_view k, std::string_view v, bool erase) {
            if (st.ok()) {
                auto* family = family_of(k);
                st = erase ? commit_batch.Delete(family, to_slice(k)) : commit_batch.Put(family, to_slice(k), to_slice(v));
            }
        };
        // The indexed write the merge is at, read once per position: most blind writes are
        // compared with the same one (a pass indexes one key per run, against a dozen others).
        std::optional<rocksdb::WriteEntry> next_indexed;
        const auto read_indexed = [&] {
            next_indexed.reset();
            if (it->Valid()) {
                next_indexed = it->Entry();
            }
        };
        read_indexed();
        // Puts the indexed writes whose keys sort before `bound` ("" = all that are left).
        auto indexed_before = [&](std::optional<std::string_view> bound) -> result<void> {
            for (; next_indexed && (!bound || to_view(next_indexed->key) < *bound); it->Next(), read_indexed()) {
                const rocksdb::WriteEntry& e = *next_indexed;
                if (e.type != rocksdb::kPutRecord && e.type != rocksdb::kDeleteRecord) {
                    return fail(errc::storage, "rocksdb store: commit: a write of unexpected type " +
                                                   std::to_string(e.type));  // the store writes puts and deletes only
                }
                add(to_view(e.key), to_view(e.value), e.type == rocksdb::kDeleteRecord);
            }
            return {};
        };
        result<void> merged;
        blind.for_each_sorted([&](const blind_writes::write& w) {
            if (merged) {
                merged = indexed_before(w.key);
                add(w.key, w.value, w.erase);
            }
        });
        if (merged) {
            merged = indexed_before(std::nullopt);
        }
        if (!merged) {
            return tl::unexpected(merged.error());
        }
        if (!st.ok()) {
            return storage_error("commit", st);
        }
        if (auto iterated = it->status(); !iterated.ok()) {
            return storage_error("commit", iterated);
        }
        return &commit_batch;
    }

    /// Ends the open transaction's use of the working state: discards unwritten changes and
    /// unpins the last value read.
    void reset_working_state() noexcept {
        batch.Clear();
        point_writes.clear();
        rows_written.clear();
        schedules_written.clear();
        blind.clear();
        commit_batch.Clear();
        value.Reset();
        lowest_queue_key = {};
    }

    /// After a commit's write (landed or not): the queue keys it wrote are live, or may be.
    void lower_floors() {
        for (std::size_t slot = 0; slot < queue_tags.size(); ++slot) {
            if (lowest_queue_key[slot]) {
                floors[slot].lower(*lowest_queue_key[slot]);
            }
        }
    }
};

// ---------------------------------------------------------------------------------------------
// Transactions.
// ---------------------------------------------------------------------------------------------

rocksdb_backend::transaction::transaction(impl& db, std::unique_lock<std::mutex> lock) noexcept
    : db_(&db), lock_(std::move(lock)) {}

rocksdb_backend::transaction::~transaction() {
    if (lock_.owns_lock()) {
        db_->reset_working_state();
    }
}

result<std::optional<schedule>> rocksdb_backend::transaction::load_schedule(std::string_view id) {
    return shielded("load_schedule", [&] { return db_->tx_schedule(id); });
}

result<std::optional<schedule_id>> rocksdb_backend::transaction::live_schedule_named(std::string_view name) {
    return shielded("live_schedule_named", [&]() -> result<std::optional<schedule_id>> {
        key_writer{db_->key, tag::live_name}.raw(name);
        auto found = db_->tx_read(db_->key);
        if (!found) {
            return tl::unexpected(found.error());
        }
        return *found ? std::optional<schedule_id>{std::string(to_view(db_->value))} : std::optional<schedule_id>{};
    });
}

result<std::optional<run>> rocksdb_backend::transaction::load_run(std::string_view id) {
    return shielded("load_run", [&] { return db_->tx_row<run>(tag::run, id, decode_run_record); });
}

result<std::vector<run>> rocksdb_backend::transaction::runs_of(std::string_view schedule,
                                                               std::span<const run_status> statuses) {
    // The open-run index says each run's status: runs of other statuses are skipped unread.
    auto open = open_runs(schedule);
    if (!open) {
        return tl::unexpected(open.error());
    }
    return shielded("runs_of", [&]() -> result<std::vector<run>> {
        std::vector<run> out;
        for (const auto& o : *open) {
            if (std::find(statuses.begin(), statuses.end(), o.status) == statuses.end()) {
                continue;
            }
            auto r = db_->tx_row<run>(tag::run, o.id, decode_run_record);
            if (!r) {
                return tl::unexpected(r.error());
            }
            if (!*r) {
                return fail(errc::storage, "rocksdb store: an index names the missing run \"" + o.id + "\"");
            }
            out.push_back(std::move(**r));
        }
        return out;
    });
}

result<std::vector<open_run>> rocksdb_backend::transaction::open_runs(std::string_view schedule) {
    return shielded("open_runs", [&]() -> result<std::vector<open_run>> {
        std::string prefix;
        key_writer{prefix, tag::open_run}.escaped(schedule);
        std::string upper = layout::prefix_end(prefix);
        range_iterator it{*db_->db, db_->latest, prefix, std::move(upper), &db_->batch};
        std::vector<open_run> out;
        for (it.first(); it.valid(); it.next()) {
            auto id = key_tail(it.key(), prefix.size());
            if (!id) {
                return tl::unexpected(id.error());
            }
            auto brief = parse_open_run_value(*id, it.value());
            if (!brief) {
                return tl::unexpected(brief.error());
            }
            if (*brief) {
                out.push_back(std::move(**brief));
                continue;
            }
            // A status alone: an entry written before the value carried times; the row has them.
            auto row = db_->tx_row<run>(tag::run, *id, decode_run_record);
            if (!row) {
                return tl::unexpected(row.error());
            }
            if (!*row) {
                return fail(errc::storage, "rocksdb store: an index names the missing run \"" + std::string(*id) + "\"");
            }
            out.push_back(open_run_of(**row));
        }
        if (auto st = it.status("open_runs"); !st) {
            return tl::unexpected(st.error());
        }
        return out;
    });
}

result<void> rocksdb_backend::transaction::put_schedule(const schedule& s, const std::optional<schedule>& before) {
    return shielded("put_schedule", [&]() -> result<void> {
        // The before entries' version is irrelevant: the due value differs anyway, and is rewritten.
        if (before) {
            db_->before.assign(*before, 0);
        } else {
            // No row given: read it, so that a rewrite never leaves a stale index key behind.
            auto stored = db_->tx_schedule(s.id);
            if (!stored) {
                return tl::unexpected(stored.error());
            }
            if (*stored) {
                db_->before.assign(**stored, 0);
            } else {
                db_->before.clear();
            }
        }
        const std::uint64_t version = db_->record_version();
        db_->after.assign(s, version);
        if (auto moved = db_->move_indexes(); !moved) {
            return moved;
        }
        key_writer{db_->key, tag::schedule}.raw(s.id);
        if (auto put = db_->tx_put(db_->key, encode_schedule_record(s)); !put) {
            return put;
        }
        if (auto put = db_->put_times(s.id, layout::schedule_times::of(s, version)); !put) {
            return put;
        }
        db_->schedules_written.insert(s.id);
        return {};
    });
}

result<bool> rocksdb_backend::transaction::move_next_run_at(std::string_view id, std::optional<time_point> expected,
                                                            std::optional<time_point> next) {
    return shielded("move_next_run_at", [&]() -> result<bool> {
        auto current = db_->tx_times_as_scanned(id);
        if (!current) {
            return tl::unexpected(current.error());
        }
        auto& times = *current;
        if (!times || times->deleted || !times->enabled || times->next_run_at != expected) {
            return false;
        }
        // The times key and the due index are all that depend on next_run_at; the record stays.
        if (expected) {
            key_writer{db_->key, tag::due}.instant(*expected).raw(id);
            if (auto erased = db_->tx_delete(db_->key); !erased) {
                return tl::unexpected(erased.error());
            }
        }
        times->next_run_at = next;
        if (auto put = db_->put_times(id, *times); !put) {
            return tl::unexpected(put.error());
        }
        if (next) {
            key_writer{db_->key, tag::due}.instant(*next).raw(id);
            if (auto put = db_->tx_put(db_->key, layout::encode_times(*times)); !put) {
                return tl::unexpected(put.error());
            }
        }
        return true;
    });
}

result<bool> rocksdb_backend::transaction::advance_last_run_at(std::string_view id, time_point at) {
    return shielded("advance_last_run_at", [&]() -> result<bool> {
        auto current = db_->tx_times(id);
        if (!current) {
            return tl::unexpected(current.error());
        }
        auto& times = *current;
        if (!times || (times->last_run_at && *times->last_run_at >= at)) {
            return false;
        }
        times->last_run_at = at;
        if (auto put = db_->put_times(id, *times); !put) {
            return tl::unexpected(put.error());
        }
        if (times->enabled && !times->deleted && times->next_run_at) {
            // The due entry carries the times too.
            key_writer{db_->key, tag::due}.instant(*times->next_run_at).raw(id);
            if (auto put = db_->tx_put(db_->key, layout::encode_times(*times)); !put) {
                return tl::unexpected(put.error());
            }
        }
        return true;
    });
}

result<bool> rocksdb_backend::transaction::insert_run(const run& r) {
    return shielded("insert_run", [&]() -> result<bool> {
        key_writer{db_->key, tag::run}.raw(r.id);
        auto row = db_->tx_read(db_->key);
        if (!row) {
            return tl::unexpected(row.error());
        }
        key_writer{db_->key, tag::occurrence}.escaped(r.occurrence_key).signed64(r.attempt);
        auto occurrence = db_->tx_read(db_->key);
        if (!occurrence) {
            return tl::unexpected(occurrence.error());
        }
        if (*row || *occurrence) {
            return false;
        }
        db_->before.clear();
        db_->after.assign(r);
        if (auto moved = db_->move_indexes(); !moved) {
            return tl::unexpected(moved.error());
        }
        if (auto put = db_->put_run_row(r); !put) {
            return tl::unexpected(put.error());
        }
        return true;
    });
}

result<void> rocksdb_backend::transaction::put_run(const run& r, const run& before) {
    return shielded("put_run", [&]() -> result<void> {
        db_->before.assign(before);
        db_->after.assign(r);
        if (auto moved = db_->move_indexes(); !moved) {
            return moved;
        }
        return db_->put_run_row(r);
    });
}

result<void> rocksdb_backend::transaction::put_receipt(const receipt& rc) {
    return shielded("put_receipt", [&]() -> result<void> {
        key_writer{db_->key, tag::receipt}.escaped(rc.run).instant(rc.created_at).raw(rc.id);
        return db_->tx_put(db_->key, encode_receipt_record(rc));
    });
}

result<void> rocksdb_backend::transaction::put_dead_letter(const dead_letter& d) {
    return shielded("put_dead_letter", [&]() -> result<void> {
        key_writer{db_->key, tag::dead_letter}.raw(d.id);
        auto exists = db_->tx_read(db_->key);
        if (!exists) {
            return tl::unexpected(exists.error());
        }
        if (*exists) {
            return fail(errc::storage, "dead letter \"" + d.id + "\" exists already");
        }
        if (auto put = db_->tx_put(db_->key, encode_dead_letter_record(d)); !put) {
            return put;
        }
        key_writer{db_->key, tag::letters_created}.instant(d.created_at).raw(d.id);
        if (auto put = db_->tx_put(db_->key, {}); !put) {
            return put;
        }
        key_writer{db_->key, tag::letters_by_schedule}.escaped(d.schedule).instant(d.created_at).raw(d.id);
        return db_->tx_put(db_->key, {});
    });
}

result<void> rocksdb_backend::transaction::append(const ledger_event& e) {
    return shielded("append", [&]() -> result<void> {
        const auto seq = [&] { return std::to_string(e.seq); };  // for the errors alone
        if (e.seq <= 0) {
            return fail(errc::storage, "ledger sequence " + seq() + " is not positive");
        }
        const auto overwrite = [&] {
            return "ledger entry " + seq() + " exists already; ledger entries are never overwritten";
        };
        if (last_appended_ != 0) {
            // Past the first append, no committed entry lies at or above last_appended_ (checked
            // then), so the next number is fresh without a read: a batch of claims or a planner
            // chunk appends hundreds of events.
            if (e.seq <= last_appended_) {
                return fail(errc::storage, overwrite());
            }
            if (e.seq != last_appended_ + 1) {
                return fail(errc::storage, "ledger sequence " + seq() + " is not the next one");
            }
        } else {
            // The first append: no committed entry at or after e.seq may exist (one seek, which
            // covers every later append of this transaction too), and its predecessor must.
            key_writer{db_->key, tag::ledger}.seq(e.seq);
            range_iterator later{*db_->db, db_->ledger.get(), db_->latest, db_->key,
                                 layout::prefix_end(std::string(1, tag::ledger))};
            later.first();
            if (auto st = later.status("append"); !st) {
                return st;
            }
            if (later.valid()) {
                return fail(errc::storage, overwrite());
            }
            if (e.seq > 1) {
                key_writer{db_->key, tag::ledger}.seq(e.seq - 1);
                auto found = db_->tx_read(db_->key);
                if (!found) {
                    return tl::unexpected(found.error());
                }
                if (!*found) {
                    return fail(errc::storage, "ledger sequence " + seq() + " is not the next one");
                }
            }
        }
        std::string encoded = [&] {
            const auto* change = std::get_if<run_change>(&e.payload);
            const auto* row = change == nullptr ? nullptr : db_->row_as_written(change->row);
            return encode_event(e, row);
        }();
        key_writer{db_->key, tag::ledger}.seq(e.seq);
        if (auto put = db_->tx_put(db_->key, encoded); !put) {
            return put;
        }
        key_writer{db_->key, tag::ledger_by_schedule}.escaped(e.schedule).seq(e.seq);
        if (auto put = db_->tx_put(db_->key, {}); !put) {
            return put;
        }
        if (e.run) {
            key_writer{db_->key, tag::ledger_by_run}.escaped(*e.run).seq(e.seq);
            if (auto put = db_->tx_put(db_->key, {}); !put) {
                return put;
            }
        }
        last_appended_ = e.seq;
        return {};
    });
}

result<void> rocksdb_backend::transaction::commit() {
    return shielded("commit", [&]() -> result<void> {
        if (!lock_.owns_lock()) {
            return fail(errc::storage, "rocksdb store: commit of a transaction that is not open");
        }
        // A transaction that wrote nothing (a claim that decided to wait) has nothing to sync.
        if (db_->wrote()) {
            auto sorted = db_->sorted_writes();
            if (!sorted) {
                return tl::unexpected(sorted.error());
            }
            const std::uint64_t version = db_->record_version();  // what this transaction's writes carry
            const auto st = db_->db->Write(db_->durable, *sorted);
            db_->lower_floors();
            if (!st.ok()) {
                return storage_error("commit", st);
            }
            db_->cache_written_schedules(version);
        }
        db_->reset_working_state();
        lock_.unlock();
        return {};
    });
}

// ---------------------------------------------------------------------------------------------
// Opening, closing, beginning.
// ---------------------------------------------------------------------------------------------

rocksdb_backend::rocksdb_backend(std::unique_ptr<impl> state) noexcept : impl_(std::move(state)) {}
rocksdb_backend::rocksdb_backend(rocksdb_backend&& other) noexcept = default;
rocksdb_backend& rocksdb_backend::operator=(rocksdb_backend&& other) noexcept = default;
rocksdb_backend::~rocksdb_backend() = default;

result<rocksdb_backend> rocksdb_backend::open(const rocksdb_options& options) {
    return shielded("open", [&]() -> result<rocksdb_backend> {
        const std::string where = options.path.string();
        const std::string cannot = "cannot open the RocksDB store at \"" + where + "\": ";
        if (where.empty()) {
            return fail(errc::storage, "cannot open a RocksDB store: no path given");
        }
        std::error_code ec;
        const auto kind = std::filesystem::status(options.path, ec).type();
        if (kind != std::filesystem::file_type::not_found && kind != std::filesystem::file_type::directory) {
            return fail(errc::storage, cannot + (ec ? ec.message() : "it exists and is not a directory"));
        }
        if (kind == std::filesystem::file_type::not_found) {
            // Checked here: RocksDB would create the directory before noticing that it may not.
            if (!options.create_if_missing) {
                return fail(errc::storage, cannot + "it does not exist");
            }
            std::filesystem::create_directories(options.path, ec);
            if (ec) {
                return fail(errc::storage, cannot + ec.message());
            }
        }
        // RocksDB opens a database only with every column family it has: those it lists, or for
        // a new database (no CURRENT file) the default one, which Open creates. A family
        // Wakeplane lacks is created after the layout check, so that opening someone else's
        // database adds no key and no family to it.
        const rocksdb::Options db_options = database_options(options);
        std::vector<std::string> names{rocksdb::kDefaultColumnFamilyName};
        if (std::filesystem::exists(options.path / "CURRENT", ec)) {
            if (auto listed = rocksdb::DB::ListColumnFamilies(db_options, where, &names); !listed.ok()) {
                return fail(errc::storage, cannot + listed.ToString());
            }
        }
        const rocksdb::ColumnFamilyOptions ledger_options = ledger_family_options(db_options);
        std::vector<rocksdb::ColumnFamilyDescriptor> families;
        for (auto& name : names) {
            const bool is_ledger = name == layout::ledger_family;
            families.emplace_back(std::move(name), is_ledger ? ledger_options : db_options);
        }
        // Owned as soon as opened, the handles declared after the database (so closed before
        // it) and their room reserved beforehand (so taking them cannot throw).
        std::unique_ptr<rocksdb::DB> opened;
        std::vector<family_handle> opened_families;
        opened_families.reserve(families.size());
        rocksdb::DB* raw = nullptr;
        std::vector<rocksdb::ColumnFamilyHandle*> handles;
        auto st = rocksdb::DB::Open(db_options, where, families, &handles, &raw);
        if (!st.ok()) {
            return fail(errc::storage, cannot + st.ToString());
        }
        opened.reset(raw);
        for (auto* h : handles) {
            opened_families.emplace_back(h, family_closer{raw});
        }
        auto state =
            std::make_unique<impl>(std::move(opened), std::move(opened_families), options.schedule_cache_entries);
        if (auto checked = state->check_layout(where, ledger_options); !checked) {
            return tl::unexpected(checked.error());
        }
        return rocksdb_backend{std::move(state)};
    });
}

result<rocksdb_store> open_rocksdb_store(const rocksdb_options& options) {
    auto backend = rocksdb_backend::open(options);
    if (!backend) {
        return tl::unexpected(backend.error());
    }
    return rocksdb_store{std::move(*backend)};
}

result<rocksdb_backend::transaction> rocksdb_backend::begin() {
    return shielded("begin", [&]() -> result<transaction> {
        return transaction{*impl_, std::unique_lock<std::mutex>{impl_->write_mutex}};
    });
}

// ---------------------------------------------------------------------------------------------
// Read queries: committed data, from any thread.
// ---------------------------------------------------------------------------------------------

result<std::optional<schedule>> rocksdb_backend::get_schedule(std::string_view id) {
    return shielded("get_schedule", [&] {
        // Two keys (the record and its times) from one snapshot: a commit between the two reads
        // would otherwise pair an old record with new times.
        snapshot_view v{*impl_->db, &impl_->schedules};
        return read_schedule(v, id);
    });
}

result<std::optional<run>> rocksdb_backend::get_run(std::string_view id) {
    return shielded("get_run", [&] {
        return read_row<run>(*impl_->db, rocksdb::ReadOptions{}, tag::run, id, decode_run_record);
    });
}

result<std::vector<schedule>> rocksdb_backend::due_schedules(time_point now, std::size_t limit) {
    return shielded("due_schedules", [&] {
        return rows_at_or_before<schedule>(*impl_->db, impl_->floor_of(tag::due), tag::due, tag::schedule, now, limit,
                                           decode_schedule_record, &impl_->schedules, &impl_->due_times);
    });
}

result<std::optional<time_point>> rocksdb_backend::next_due_at() {
    return shielded("next_due_at",
                    [&] { return first_instant(*impl_->db, impl_->floor_of(tag::due), tag::due); });
}

result<std::vector<run>> rocksdb_backend::eligible_runs(time_point now, std::size_t limit) {
    return shielded("eligible_runs", [&] {
        return rows_at_or_before<run>(*impl_->db, impl_->floor_of(tag::eligible), tag::eligible, tag::run, now, limit,
                                      decode_run_record);
    });
}

result<std::optional<time_point>> rocksdb_backend::next_eligible_at() {
    return shielded("next_eligible_at",
                    [&] { return first_instant(*impl_->db, impl_->floor_of(tag::eligible), tag::eligible); });
}

result<std::optional<time_point>> rocksdb_backend::next_eligible_after(time_point t) {
    return shielded("next_eligible_after", [&]() -> result<std::optional<time_point>> {
        // The first key past every instant <= t: the tag, then t + 1 µs (keys order as instants).
        std::string lower;
        key_writer{lower, tag::eligible}.instant(t + duration{1});
        range_iterator it{*impl_->db, rocksdb::ReadOptions{}, lower, layout::prefix_end(std::string(1, tag::eligible))};
        it.first();
        return instant_here(it);
    });
}

result<std::vector<run>> rocksdb_backend::expired_leases(time_point now, std::size_t limit) {
    return shielded("expired_leases", [&] {
        return rows_at_or_before<run>(*impl_->db, impl_->floor_of(tag::lease), tag::lease, tag::run, now, limit,
                                      decode_run_record);
    });
}

result<std::optional<time_point>> rocksdb_backend::next_lease_expiry() {
    return shielded("next_lease_expiry",
                    [&] { return first_instant(*impl_->db, impl_->floor_of(tag::lease), tag::lease); });
}

result<page<schedule>> rocksdb_backend::list_schedules(const schedule_filter& filter, const page_request& request) {
    return shielded("list_schedules", [&]() -> result<page<schedule>> {
        snapshot_view v{*impl_->db, &impl_->schedules};
        // The index value carries the flags, so filtered-out rows are never read.
        auto accept = [&](std::string_view value) {
            const char flags = value.empty() ? 0 : value.front();
            const bool deleted = (flags & layout::flag_deleted) != 0;
            const bool enabled = (flags & layout::flag_enabled) != 0;
            return !(deleted && !filter.include_deleted) && !(filter.enabled && enabled != *filter.enabled);
        };
        return newest_first<schedule>(v, std::string(1, tag::schedules_created), request, accept, tag::schedule,
                                      decode_schedule_record);
    });
}

result<page<run>> rocksdb_backend::list_runs(const run_filter& filter, const page_request& request) {
    return shielded("list_runs", [&]() -> result<page<run>> {
        snapshot_view v{*impl_->db};
        std::string prefix;
        if (filter.schedule) {
            key_writer{prefix, tag::runs_by_schedule}.escaped(*filter.schedule);
        } else if (filter.status) {
            key_writer{prefix, tag::runs_by_status}.byte(layout::status_code(*filter.status));
        } else {
            prefix.assign(1, tag::runs_created);
        }
        // With both filters, the per-schedule index's value (the status) filters without reads.
        const bool by_value = filter.schedule && filter.status;
        const char wanted = filter.status ? layout::status_code(*filter.status) : '\0';
        auto accept = [&](std::string_view value) { return !by_value || value == std::string_view{&wanted, 1}; };
        return newest_first<run>(v, prefix, request, accept, tag::run, decode_run_record);
    });
}

result<std::vector<receipt>> rocksdb_backend::list_receipts(std::string_view run) {
    return shielded("list_receipts", [&]() -> result<std::vector<receipt>> {
        std::string prefix;
        key_writer{prefix, tag::receipt}.escaped(run);
        std::string upper = layout::prefix_end(prefix);
        range_iterator it{*impl_->db, rocksdb::ReadOptions{}, std::move(prefix), std::move(upper)};
        std::vector<receipt> out;
        for (it.first(); it.valid(); it.next()) {
            auto rc = decode_receipt_record(it.value());
            if (!rc) {
                return tl::unexpected(rc.error());
            }
            out.push_back(std::move(*rc));
        }
        if (auto st = it.status("list_receipts"); !st) {
            return tl::unexpected(st.error());
        }
        return out;
    });
}

result<page<dead_letter>> rocksdb_backend::list_dead_letters(const dead_letter_filter& filter,
                                                             const page_request& request) {
    return shielded("list_dead_letters", [&]() -> result<page<dead_letter>> {
        snapshot_view v{*impl_->db};
        std::string prefix;
        if (filter.schedule) {
            key_writer{prefix, tag::letters_by_schedule}.escaped(*filter.schedule);
        } else {
            prefix.assign(1, tag::letters_created);
        }
        auto all = [](std::string_view) { return true; };
        return newest_first<dead_letter>(v, prefix, request, all, tag::dead_letter, decode_dead_letter_record);
    });
}

result<std::vector<ledger_event>> rocksdb_backend::read_ledger(const ledger_query& query) {
    return shielded("read_ledger", [&]() -> result<std::vector<ledger_event>> {
        std::vector<ledger_event> out;
        if (query.limit == 0) {
            return out;
        }
        snapshot_view v{*impl_->db};
        // Without a filter the ledger itself is walked; with one, its index gives the sequence
        // numbers (the run's index when both are given: fewer entries), and the schedule is
        // checked on the event.
        std::string prefix;
        if (query.run) {
            key_writer{prefix, tag::ledger_by_run}.escaped(*query.run);
        } else if (query.schedule) {
            key_writer{prefix, tag::ledger_by_schedule}.escaped(*query.schedule);
        } else {
            prefix.assign(1, tag::ledger);
        }
        const bool indexed = query.run || query.schedule;
        std::string from;
        key_writer{from, std::string_view{prefix}}.seq(std::max<std::int64_t>(query.after, 0));
        // The smallest key past every entry at or before `after`: entries strictly after it.
        range_iterator it{*impl_->db, impl_->family_of(prefix), v.options, layout::prefix_end(from),
                          layout::prefix_end(prefix)};
        for (it.first(); it.valid() && out.size() < query.limit; it.next()) {
            auto seq = fixed_field(it.key(), prefix.size());
            if (!seq) {
                return tl::unexpected(seq.error());
            }
            auto e = indexed ? event_at(v, impl_->ledger.get(), *seq) : decode_event(it.value());
            if (!e) {
                return tl::unexpected(e.error());
            }
            if (query.run && query.schedule && e->schedule != *query.schedule) {
                continue;
            }
            out.push_back(std::move(*e));
        }
        if (auto st = it.status("read_ledger"); !st) {
            return tl::unexpected(st.error());
        }
        return out;
    });
}

result<std::int64_t> rocksdb_backend::last_seq() {
    return shielded("last_seq",
                    [&] { return highest_seq(*impl_->db, impl_->ledger.get(), rocksdb::ReadOptions{}); });
}

result<store_counts> rocksdb_backend::counts(time_point now) {
    return shielded("counts", [&]() -> result<store_counts> {
        snapshot_view v{*impl_->db};
        store_counts c;
        bool malformed = false;
        auto schedules = count_keys(v, std::string(1, tag::schedules_created), {}, [&](auto, std::string_view value) {
            const bool live = value.size() == 1 && (value.front() & layout::flag_deleted) == 0;
            c.schedules_enabled += live && (value.front() & layout::flag_enabled) != 0 ? 1 : 0;
            return live;
        });
        // One pass over the per-status listing index gives every status's count.
        auto runs = count_keys(v, std::string(1, tag::runs_by_status), {}, [&](std::string_view key, auto) {
            auto status = key.size() > 1 ? layout::status_of_code(key[1]) : std::nullopt;
            if (!status) {
                malformed = true;
                return false;
            }
            ++c.by_status[static_cast<std::size_t>(*status)];
            return true;
        });
        std::string through;
        key_writer{through, tag::eligible}.instant(now);
        auto due = count_keys(v, std::string(1, tag::eligible), layout::prefix_end(through),
                              [](auto, std::string_view value) { return value == "1"; });
        key_writer{through, tag::lease}.instant(now);
        auto expired = count_keys(v, std::string(1, tag::lease), layout::prefix_end(through),
                                  [](auto, auto) { return true; });
        auto letters = count_keys(v, std::string(1, tag::letters_created), {}, [](auto, auto) { return true; });
        auto seq = highest_seq(*v.db, impl_->ledger.get(), v.options);
        for (const auto* r : {&schedules, &runs, &due, &expired, &letters, &seq}) {
            if (!*r) {
                return tl::unexpected(r->error());
            }
        }
        if (malformed) {
            return fail(errc::storage, "rocksdb store: malformed run status index key");
        }
        c.schedules = *schedules;
        c.runs = *runs;
        c.runs_due = *due;
        c.leases_active = c.by_status[static_cast<std::size_t>(run_status::claimed)] +
                          c.by_status[static_cast<std::size_t>(run_status::running)];
        c.claimed_but_expired = *expired;
        c.dead_letters = *letters;
        c.last_seq = *seq;
        return c;
    });
}

}  // namespace wakeplane::stores
