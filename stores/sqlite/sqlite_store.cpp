// The SQLite backend: rows keep the indexed columns plus the lossless JSON record (ledger.hpp).
#include <wakeplane/stores/sqlite.hpp>

#include <algorithm>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <wakeplane/detail/schedule_cache.hpp>
#include <wakeplane/time.hpp>

#include "checkpointer.hpp"
#include "connection.hpp"
#include "due_rows.hpp"
#include "migrations.hpp"
#include "queries.hpp"

namespace wakeplane::stores {

using sqlite_detail::checkpointer;
using sqlite_detail::connection;
using sqlite_detail::connection_role;
using sqlite_detail::due_rows;
using sqlite_detail::from_us;
using sqlite_detail::statement;
using sqlite_detail::to_us;
namespace sql = sqlite_detail::sql;

namespace {

/// A row count for LIMIT; SQLite's integers are signed.
std::int64_t sql_limit(std::size_t n) noexcept {
    return static_cast<std::int64_t>(std::min<std::size_t>(n, std::numeric_limits<std::int64_t>::max()));
}

/// Encodes the record of `kind` `id`. The JSON layer throws on text it cannot represent (invalid
/// UTF-8), and the backend never throws: that becomes an error of the write.
template <class Encode>
result<std::string> encoded(std::string_view kind, std::string_view id, Encode&& encode) {
    try {
        return encode();
    } catch (const std::exception& ex) {
        return fail(errc::storage, "cannot store " + std::string(kind) + " \"" + std::string(id) + "\": " + ex.what());
    }
}

/// When a waiting run becomes claimable: its due time, or for a retry its available time
/// (the same rule as the memory store). Other statuses are not indexed.
std::optional<std::int64_t> eligible_us(const run& r) {
    if (r.status != run_status::pending && r.status != run_status::retry_scheduled) {
        return std::nullopt;
    }
    return to_us(r.status == run_status::retry_scheduled && r.retry_available_at ? *r.retry_available_at
                                                                                 : r.due_time);
}

/// The lease end of a run that holds one (claimed or running).
std::optional<std::int64_t> lease_us(const run& r) {
    if (r.status != run_status::claimed && r.status != run_status::running) {
        return std::nullopt;
    }
    return to_us(r.claim_expires_at);
}

/// Calls `visit(st) -> result<void>` on every remaining row of `st`, up to the first error.
template <class Visit>
result<void> each_row(statement& st, Visit&& visit) {
    for (;;) {
        auto row = st.step();
        if (!row) {
            return tl::unexpected(row.error());
        }
        if (!*row) {
            return {};
        }
        if (auto done = visit(st); !done) {
            return done;
        }
    }
}

/// Reads every remaining row of `st` with `read(st) -> result<T>`; `expected` rows are room
/// made beforehand (a schedule is about 800 bytes to move when the list grows).
template <class T, class Read>
result<std::vector<T>> all_rows(statement& st, Read&& read, std::size_t expected = 0) {
    std::vector<T> out;
    out.reserve(expected);
    auto done = each_row(st, [&](statement& row) -> result<void> {
        auto value = read(row);
        if (!value) {
            return tl::unexpected(value.error());
        }
        out.push_back(std::move(*value));
        return {};
    });
    if (!done) {
        return tl::unexpected(done.error());
    }
    return out;
}

/// Decodes the current row of `st`: with `decode(st)` when the decoder reads the row itself (a
/// schedule, whose next_run_at is a column), else with `decode(column 0)` (a record).
template <class Decode>
auto decode_row(statement& st, Decode&& decode) {
    if constexpr (std::is_invocable_v<Decode&, statement&>) {
        return decode(st);
    } else {
        return decode(st.text(0));
    }
}

/// Sets the members of `s` that move without its record from their columns, `first` being
/// next_run_us and `first + 1` last_run_us. A planner pass moves next_run_at and a success
/// last_run_at in their columns alone (the record lives in another table and is not
/// rewritten), so the columns are current: next_run_us always, last_run_us when not NULL.
void apply_times(schedule& s, const statement& st, int first) {
    const auto next = st.optional_integer(first);
    s.next_run_at = next ? std::optional<time_point>{from_us(*next)} : std::nullopt;
    if (const auto last = st.optional_integer(first + 1)) {
        s.last_run_at = from_us(*last);
    }
}

/// A schedule from a row of (record, next_run_us, last_run_us).
result<schedule> schedule_of_row(statement& st) {
    auto s = decode_schedule_record(st.text(0));
    if (s) {
        apply_times(*s, st, 1);
    }
    return s;
}

/// Decodes every remaining row of `st` (see decode_row).
template <class T, class Decode>
result<std::vector<T>> all_records(statement& st, Decode&& decode) {
    return all_rows<T>(st, [&](statement& row) { return decode_row(row, decode); });
}

/// Decodes column 0 (a record) of the first row of `st`, if any.
template <class T, class Decode>
result<std::optional<T>> first_record(statement& st, Decode&& decode) {
    auto row = st.step();
    if (!row) {
        return tl::unexpected(row.error());
    }
    if (!*row) {
        return std::optional<T>{};
    }
    auto value = decode_row(st, decode);
    if (!value) {
        return tl::unexpected(value.error());
    }
    return std::optional<T>{std::move(*value)};
}

/// Runs a query whose one column is an optional instant (the earliest of an index), with
/// `after` bound to ?1 when the query has a lower bound.
result<std::optional<time_point>> first_instant(connection& c, std::string_view query,
                                                std::optional<time_point> after = std::nullopt) {
    auto st = c.prepare(query);
    if (!st) {
        return tl::unexpected(st.error());
    }
    if (after) {
        st->bind(1, to_us(*after));
    }
    auto row = st->step();
    if (!row) {
        return tl::unexpected(row.error());
    }
    if (!*row || st->is_null(0)) {
        return std::optional<time_point>{};
    }
    return std::optional<time_point>{from_us(st->integer(0))};
}

/// Runs a query of records bound to (now, limit), as the planner and dispatcher queries are.
template <class T, class Decode>
result<std::vector<T>> records_until(connection& c, std::string_view query, time_point now, std::size_t limit,
                                     Decode&& decode) {
    auto st = c.prepare(query);
    if (!st) {
        return tl::unexpected(st.error());
    }
    st->bind(1, to_us(now)).bind(2, sql_limit(limit));
    return all_records<T>(*st, decode);
}

result<std::optional<schedule>> find_schedule(connection& c, std::string_view id) {
    auto st = c.prepare(sql::schedule_by_id);
    if (!st) {
        return tl::unexpected(st.error());
    }
    st->bind(1, id);
    return first_record<schedule>(*st, schedule_of_row);
}

result<std::optional<run>> find_run(connection& c, std::string_view id) {
    auto st = c.prepare(sql::run_by_id);
    if (!st) {
        return tl::unexpected(st.error());
    }
    st->bind(1, id);
    return first_record<run>(*st, decode_run_record);
}

/// Makes `into`, a default-constructed schedule, the record of schedule `id` at `version`: from
/// `cache`, or read and decoded, then kept. The caller holds a read transaction in which the
/// schedule's row has that version (the due query's statement is still open), so the record read
/// is that version's, and committed. A hit is unpacked where the caller keeps it: a schedule
/// costs about as much to move as to unpack (about 740 instructions a move).
result<void> cached_schedule_into(connection& c, detail::schedule_cache& cache, std::string_view id,
                                  std::uint64_t version, schedule& into) {
    if (cache.find_into(id, version, into)) {
        return {};
    }
    auto st = c.prepare(sql::schedule_record);
    if (!st) {
        return tl::unexpected(st.error());
    }
    st->bind(1, id);
    auto row = st->step();
    if (!row) {
        return tl::unexpected(row.error());
    }
    if (!*row) {
        return fail(errc::storage, "sqlite " + c.path().string() + ": schedule \"" + std::string(id) + "\" has no record");
    }
    auto decoded = decode_schedule_record(st->text(0));
    if (!decoded) {
        return tl::unexpected(decoded.error());
    }
    cache.insert(*decoded, version);
    into = std::move(*decoded);
    return {};
}

/// Moves next_run_at of schedule `id` from `expected` to `next` (move_next_run_at), finding its
/// row by `rowid` when given; whether a row matched.
result<bool> move_schedule(connection& c, std::optional<std::int64_t> rowid, std::string_view id,
                           std::optional<time_point> expected, std::optional<time_point> next) {
    auto st = c.prepare(rowid ? sql::move_next_run_at_row : sql::move_next_run_at);
    if (!st) {
        return tl::unexpected(st.error());
    }
    st->bind(1, id).bind(2, to_us(expected)).bind(3, to_us(next));
    if (rowid) {
        st->bind(4, *rowid);
    }
    if (auto done = st->run(); !done) {
        return tl::unexpected(done.error());
    }
    return c.changes() == 1;
}

/// Runs an INSERT whose only expected failure is a duplicate id, which the error then names.
result<void> insert_once(connection& c, statement& st, std::string_view what, std::string_view id) {
    auto done = st.run();
    if (!done && c.last_error() == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return fail(errc::storage,
                    "sqlite " + c.path().string() + ": " + std::string(what) + " \"" + std::string(id) + "\" exists already");
    }
    return done;
}

/// A listing query: newest first by (created_us, id), strictly older than the cursor when there
/// is one, one row more than the page to know whether another page follows. The filter terms
/// use named parameters that the caller binds.
std::string page_query(std::string_view select, std::span<const std::string_view> terms, bool after) {
    std::string query{select};
    std::string_view glue = " WHERE ";
    for (auto term : terms) {
        query += glue;
        query += term;
        glue = " AND ";
    }
    if (after) {
        query += glue;
        query += "(created_us, id) < (:after_us, :after_id)";
    }
    query += " ORDER BY created_us DESC, id DESC LIMIT :limit";
    return query;
}

/// Reads one page of what `select` (one of the sql::list_* queries) selects (see page_query).
/// `bind_filters(statement&)` binds the terms' parameters.
template <class T, class BindFilters, class Decode>
result<page<T>> read_page(connection& c, std::string_view select, std::span<const std::string_view> terms,
                          const page_request& p, BindFilters&& bind_filters, Decode&& decode) {
    auto st = c.prepare(page_query(select, terms, p.after.has_value()));
    if (!st) {
        return tl::unexpected(st.error());
    }
    const std::int64_t limit = std::min(sql_limit(std::max<std::size_t>(p.limit, 1)),
                                        std::numeric_limits<std::int64_t>::max() - 1);
    st->bind(st->parameter(":limit"), limit + 1);
    if (p.after) {
        st->bind(st->parameter(":after_us"), to_us(p.after->created_at));
        st->bind(st->parameter(":after_id"), p.after->id);
    }
    bind_filters(*st);
    page<T> out;
    for (;;) {
        auto row = st->step();
        if (!row) {
            return tl::unexpected(row.error());
        }
        if (!*row) {
            return out;
        }
        if (static_cast<std::int64_t>(out.items.size()) == limit) {  // the look-ahead row: not decoded
            out.next = page_cursor{out.items.back().created_at, out.items.back().id};
            return out;
        }
        auto value = decode_row(*st, decode);
        if (!value) {
            return tl::unexpected(value.error());
        }
        out.items.push_back(std::move(*value));
    }
}

/// Every count of counts() in one statement, hence one snapshot: the schedules, the runs, the
/// runs due (a retry is due only once it has an available time, as is_eligible() says), the
/// expired leases, the dead letters, the last sequence number, then one count per run status.
const std::string& counts_query() {
    static const std::string query = [] {
        std::string q =
            "SELECT (SELECT count(*) FROM schedules WHERE deleted = 0),"
            " (SELECT count(*) FROM schedules WHERE deleted = 0 AND enabled = 1),"
            " (SELECT count(*) FROM runs),"
            " (SELECT count(*) FROM runs WHERE eligible_us <= ?1"
            "  AND (status = 'pending' OR json_extract(record, '$.retry_available_at') IS NOT NULL)),"
            " (SELECT count(*) FROM runs WHERE lease_us <= ?1),"
            " (SELECT count(*) FROM dead_letters),"
            " (SELECT coalesce(max(seq), 0) FROM ledger)";
        for (std::size_t i = 0; i < store_counts{}.by_status.size(); ++i) {
            q += ", (SELECT count(*) FROM runs WHERE status = '";
            q += to_string(static_cast<run_status>(i));
            q += "')";
        }
        return q;
    }();
    return query;
}

/// Column of the first per-status count in counts_query().
constexpr int first_status_column = 7;

}  // namespace

// ---- state ---------------------------------------------------------------------------------

/// The connections. The writer belongs to whoever holds writer_mutex (one transaction at a
/// time); read connections wait in `idle_readers` between reads, one per concurrent reader.
struct sqlite_backend::impl {
    impl(sqlite_options opts, connection w)
        : options(std::move(opts)), writer(std::move(w)), schedules(options.schedule_cache_entries) {}
    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;
    /// The writer stops reporting to the checkpointer before the checkpointer stops.
    ~impl() {
        if (checkpoints) {
            writer.hand_checkpoints_to(nullptr);
            checkpoints.reset();
        }
    }

    /// Runs `query(connection&)` on a read connection borrowed from the pool, opened when none is idle.
    template <class Query>
    auto read(Query&& query) -> decltype(query(std::declval<connection&>())) {
        std::optional<connection> reader;
        {
            std::lock_guard lock{pool_mutex};
            if (!idle_readers.empty()) {
                reader.emplace(std::move(idle_readers.back()));
                idle_readers.pop_back();
            }
        }
        if (!reader) {
            auto opened = connection::open(options.path, connection_role::reader, options.busy_timeout);
            if (!opened) {
                return tl::unexpected(opened.error());
            }
            reader.emplace(std::move(*opened));
        }
        auto out = query(*reader);
        std::lock_guard lock{pool_mutex};
        idle_readers.push_back(std::move(*reader));
        return out;
    }

    sqlite_options options;
    std::mutex writer_mutex;
    connection writer;
    std::mutex pool_mutex;
    std::vector<connection> idle_readers;
    std::unique_ptr<checkpointer> checkpoints;  ///< null with sqlite_options::checkpoint_pages 0
    /// Decoded records of committed schedules, by record_version (the due query's reads only).
    detail::schedule_cache schedules;
    /// The last due query's rows, for the planner's moves.
    due_rows due;
};

// ---- transaction ---------------------------------------------------------------------------

sqlite_backend::transaction::transaction(impl& owner, std::unique_lock<std::mutex> lock) noexcept
    : owner_(&owner), lock_(std::move(lock)) {}

sqlite_backend::transaction::transaction(transaction&& other) noexcept
    : owner_(other.owner_), lock_(std::move(other.lock_)), finished_(other.finished_),
      last_appended_(other.last_appended_), written_(std::move(other.written_)),
      next_written_(other.next_written_), schedules_written_(std::move(other.schedules_written_)) {}

sqlite_backend::transaction::~transaction() {
    if (!lock_.owns_lock() || finished_) {
        return;
    }
    try {
        if (writer().in_transaction()) {
            (void)writer().execute(sql::rollback);
        }
    } catch (...) {
        // Building an error message can only fail for want of memory. The connection then
        // still holds the transaction, and the next BEGIN reports it.
    }
}

sqlite_detail::connection& sqlite_backend::transaction::writer() noexcept { return owner_->writer; }

result<std::optional<schedule>> sqlite_backend::transaction::load_schedule(std::string_view id) {
    return find_schedule(writer(), id);
}

result<std::optional<schedule_id>> sqlite_backend::transaction::live_schedule_named(std::string_view name) {
    auto st = writer().prepare(sql::live_schedule_named);
    if (!st) {
        return tl::unexpected(st.error());
    }
    st->bind(1, name);
    auto row = st->step();
    if (!row) {
        return tl::unexpected(row.error());
    }
    return *row ? std::optional<schedule_id>{std::string(st->text(0))} : std::nullopt;
}

result<std::optional<run>> sqlite_backend::transaction::load_run(std::string_view id) { return find_run(writer(), id); }

result<std::vector<run>> sqlite_backend::transaction::runs_of(std::string_view schedule,
                                                              std::span<const run_status> statuses) {
    // Only non-terminal runs are open, so at most four distinct statuses can match.
    std::vector<std::string_view> wanted;
    for (auto s : statuses) {
        const auto name = to_string(s);
        if (!is_terminal(s) && std::find(wanted.begin(), wanted.end(), name) == wanted.end()) {
            wanted.push_back(name);
        }
    }
    if (wanted.empty()) {
        return std::vector<run>{};
    }
    auto st = writer().prepare(sql::open_runs_of);
    if (!st) {
        return tl::unexpected(st.error());
    }
    st->bind(1, schedule);
    for (int slot = 0; slot < 4; ++slot) {
        if (static_cast<std::size_t>(slot) < wanted.size()) {
            st->bind(slot + 2, wanted[static_cast<std::size_t>(slot)]);
        } else {
            st->bind(slot + 2, std::nullopt);
        }
    }
    return all_records<run>(*st, decode_run_record);
}

result<std::vector<open_run>> sqlite_backend::transaction::open_runs(std::string_view schedule) {
    auto st = writer().prepare(sql::open_runs_brief);
    if (!st) {
        return tl::unexpected(st.error());
    }
    st->bind(1, schedule);
    return all_rows<open_run>(*st, [](statement& row) -> result<open_run> {
        auto status = parse_run_status(row.text(1));
        if (!status) {
            return fail(errc::storage, "sqlite store: run \"" + std::string(row.text(0)) + "\" has an unknown status");
        }
        open_run o{std::string(row.text(0)), *status, from_us(row.integer(2)), std::nullopt};
        if (!row.is_null(3) && row.integer(4) == 0) {
            o.eligible_at = from_us(row.integer(3));
        }
        return o;
    });
}

result<void> sqlite_backend::transaction::put_schedule(const schedule& now, const std::optional<schedule>& before) {
    auto record = encoded("schedule", now.id, [&] { return encode_schedule_record(now); });
    if (!record) {
        return tl::unexpected(record.error());
    }
    auto& c = writer();
    if (!before) {
        auto st = c.prepare(sql::insert_schedule);
        if (!st) {
            return tl::unexpected(st.error());
        }
        st->bind(1, now.id).bind(2, now.name).bind(3, std::int64_t{now.enabled}).bind(4, std::int64_t{now.deleted});
        st->bind(5, to_us(now.next_run_at)).bind(6, to_us(now.created_at)).bind(7, to_us(now.last_run_at));
        if (auto inserted = insert_once(c, *st, "schedule", now.id); !inserted) {
            return inserted;
        }
    } else {
        // When name, flags and creation stay, leave the name and listing indexes alone.
        const bool same_keys = before->name == now.name && before->enabled == now.enabled &&
                               before->deleted == now.deleted && before->created_at == now.created_at;
        auto st = c.prepare(same_keys ? sql::update_schedule_same_keys : sql::update_schedule);
        if (!st) {
            return tl::unexpected(st.error());
        }
        st->bind(1, now.id).bind(5, to_us(now.next_run_at)).bind(7, to_us(now.last_run_at));
        if (!same_keys) {
            st->bind(2, now.name).bind(3, std::int64_t{now.enabled}).bind(4, std::int64_t{now.deleted});
            st->bind(6, to_us(now.created_at));
        }
        if (auto done = st->run(); !done) {
            return done;
        }
        if (c.changes() == 0) {
            return fail(errc::storage, "sqlite " + c.path().string() + ": schedule \"" + now.id + "\" does not exist");
        }
    }
    auto rec = c.prepare(before ? sql::update_schedule_record : sql::insert_schedule_record);
    if (!rec) {
        return tl::unexpected(rec.error());
    }
    rec->bind(1, now.id).bind(2, *record);
    if (auto done = rec->run(); !done) {
        return done;
    }
    if (owner_->schedules.capacity() > 0) {
        schedules_written_.push_back({now.id, std::move(*record)});
    }
    return {};
}

result<bool> sqlite_backend::transaction::move_next_run_at(std::string_view id, std::optional<time_point> expected,
                                                           std::optional<time_point> next) {
    auto& c = writer();
    const auto rowid = owner_->due.take(id);
    auto moved = move_schedule(c, rowid, id, expected, next);
    if (rowid && moved && !*moved) {
        // The row at that rowid is not this schedule any more, or the schedule moved: the id decides.
        return move_schedule(c, std::nullopt, id, expected, next);
    }
    return moved;
}

result<bool> sqlite_backend::transaction::advance_last_run_at(std::string_view id, time_point at) {
    auto& c = writer();
    {
        auto st = c.prepare(sql::last_run_at_of);
        if (!st) {
            return tl::unexpected(st.error());
        }
        st->bind(1, id);
        auto row = st->step();
        if (!row) {
            return tl::unexpected(row.error());
        }
        if (!*row) {
            return false;  // no such schedule
        }
        std::optional<time_point> stored;
        if (!st->is_null(0)) {
            stored = from_us(st->integer(0));
        } else if (!st->is_null(1)) {  // not moved since version 5: the record's member
            auto member = parse_rfc3339(st->text(1));
            if (!member) {
                return fail(errc::storage, "sqlite " + c.path().string() + ": schedule \"" + std::string(id) +
                                               "\" has a corrupt last_run_at: " + member.error().message);
            }
            stored = *member;
        }
        if (stored && *stored >= at) {
            return false;
        }
    }
    auto st = c.prepare(sql::set_last_run_at);
    if (!st) {
        return tl::unexpected(st.error());
    }
    st->bind(1, id).bind(2, to_us(at));
    if (auto done = st->run(); !done) {
        return tl::unexpected(done.error());
    }
    return c.changes() == 1;
}

result<bool> sqlite_backend::transaction::insert_run(const run& r) {
    auto record = encoded("run", r.id, [&] { return encode_run_record(r); });
    if (!record) {
        return tl::unexpected(record.error());
    }
    auto& c = writer();
    auto st = c.prepare(sql::insert_run);
    if (!st) {
        return tl::unexpected(st.error());
    }
    st->bind(1, r.id).bind(2, r.schedule).bind(3, r.occurrence_key).bind(4, r.attempt).bind(5, to_us(r.nominal_time));
    st->bind(6, to_string(r.status)).bind(7, eligible_us(r)).bind(8, lease_us(r)).bind(9, to_us(r.created_at));
    st->bind(10, *record);
    if (auto done = insert_once(c, *st, "run", r.id); !done) {
        return tl::unexpected(done.error());
    }
    if (c.changes() != 1) {
        return false;  // the (occurrence, attempt) exists, DO NOTHING applied
    }
    // The event of a pending row is a fresh materialization (a planner pass's), whose stored
    // data names two instants, not the record: a copy of the row kept for record_as_written
    // would only be freed again, three strings of it a run. An event of a pending row that is
    // not fresh (a manual trigger's) encodes the row itself.
    if (r.status != run_status::pending) {
        written_.push_back({r, std::move(*record)});
    }
    return true;
}

result<void> sqlite_backend::transaction::put_run(const run& now, const run& before) {
    // Every indexed column follows from `now`; the WHERE clause checks the identity instead.
    auto record = encoded("run", now.id, [&] { return encode_run_record(now); });
    if (!record) {
        return tl::unexpected(record.error());
    }
    auto& c = writer();
    // SQLite rewrites the entries of every index on a column the SET clause names, changed or
    // not: a change that keeps the eligibility and the lease (the start of a run claimed ahead)
    // leaves those two indexes alone.
    const bool times_kept = eligible_us(now) == eligible_us(before) && lease_us(now) == lease_us(before);
    auto st = c.prepare(times_kept ? sql::update_run_status : sql::update_run);
    if (!st) {
        return tl::unexpected(st.error());
    }
    st->bind(1, now.id).bind(2, to_string(now.status));
    if (!times_kept) {
        st->bind(3, eligible_us(now)).bind(4, lease_us(now));
    }
    st->bind(5, *record).bind(6, now.schedule).bind(7, now.occurrence_key).bind(8, now.attempt);
    st->bind(9, to_us(now.nominal_time)).bind(10, to_us(now.created_at));
    if (auto done = st->run(); !done) {
        return done;
    }
    if (c.changes() == 0) {
        return fail(errc::storage, "sqlite " + c.path().string() + ": run \"" + now.id +
                                       "\" does not exist with this schedule, occurrence, attempt and creation time");
    }
    written_.push_back({now, std::move(*record)});
    return {};
}

result<void> sqlite_backend::transaction::put_receipt(const receipt& r) {
    auto record = encoded("receipt", r.id, [&] { return encode_receipt_record(r); });
    if (!record) {
        return tl::unexpected(record.error());
    }
    auto& c = writer();
    auto st = c.prepare(sql::insert_receipt);
    if (!st) {
        return tl::unexpected(st.error());
    }
    st->bind(1, r.id).bind(2, r.run).bind(3, to_us(r.created_at)).bind(4, *record);
    return insert_once(c, *st, "receipt", r.id);
}

result<void> sqlite_backend::transaction::put_dead_letter(const dead_letter& d) {
    auto record = encoded("dead letter", d.id, [&] { return encode_dead_letter_record(d); });
    if (!record) {
        return tl::unexpected(record.error());
    }
    auto& c = writer();
    auto st = c.prepare(sql::insert_dead_letter);
    if (!st) {
        return tl::unexpected(st.error());
    }
    st->bind(1, d.id).bind(2, d.run).bind(3, d.schedule).bind(4, to_us(d.created_at)).bind(5, *record);
    return insert_once(c, *st, "dead letter", d.id);
}

const std::string* sqlite_backend::transaction::record_as_written(const run& row) noexcept {
    // Forward from the last match only: the store appends a transaction's events in the order
    // of the writes they record, so a pass or a batch of claims matches each row at the next
    // place or soon after, and a miss (an event whose row this transaction did not write) costs
    // one look at each later write, where the ids differ at once.
    for (std::size_t i = next_written_; i < written_.size(); ++i) {
        if (written_[i].row == row) {
            next_written_ = i + 1;
            return &written_[i].record;
        }
    }
    return nullptr;
}

result<void> sqlite_backend::transaction::append(const ledger_event& e) {
    auto data = encoded("ledger event", std::to_string(e.seq), [&] {
        const auto* change = std::get_if<run_change>(&e.payload);
        const auto* record = change == nullptr ? nullptr : record_as_written(change->row);
        return encode_stored_event_data(e, record);
    });
    if (!data) {
        return tl::unexpected(data.error());
    }
    auto& c = writer();
    if (!c.in_transaction()) {
        // SQLite rolls a whole transaction back on some errors (a full disk, an I/O error) and
        // the connection returns to autocommit: the count below would no longer hold, and the
        // row would be committed on its own.
        return fail(errc::storage, "ledger sequence " + std::to_string(e.seq) +
                                       ": the transaction was rolled back by an earlier error");
    }
    // Gapless: e.seq must follow the last entry. The table is asked at the first append only;
    // a check inside the INSERT (INSERT ... SELECT ... WHERE ?1 = max(seq) + 1) cost 2.5 µs a
    // row, because SQLite copies a SELECT from the table it inserts into to a temporary table.
    auto last = last_appended_;
    if (last == 0) {
        auto stored = c.query_integer(sql::last_seq);
        if (!stored) {
            return tl::unexpected(stored.error());
        }
        last = *stored;
    }
    if (e.seq != last + 1) {
        return fail(errc::storage, "ledger sequence " + std::to_string(e.seq) + " is not the next one (the last is " +
                                       std::to_string(last) + ")");
    }
    auto st = c.prepare(sql::append_event);
    if (!st) {
        return tl::unexpected(st.error());
    }
    st->bind(1, e.seq).bind(2, to_us(e.at)).bind(3, to_string(e.kind)).bind(4, e.schedule);
    st->bind(5, e.run).bind(6, e.occurrence_key).bind(7, e.attempt).bind(8, *data);
    if (auto done = st->run(); !done) {
        return done;
    }
    last_appended_ = e.seq;
    return {};
}

void sqlite_backend::transaction::read_written_versions() noexcept {
    try {
        // Newest first, so that of a schedule written twice only its last record gets a version.
        std::unordered_set<std::string_view> seen;
        for (auto w = schedules_written_.rbegin(); w != schedules_written_.rend(); ++w) {
            if (!seen.insert(w->id).second) {
                continue;
            }
            auto st = writer().prepare(sql::record_version_of);
            if (!st) {
                return;
            }
            st->bind(1, w->id);
            auto row = st->step();
            if (!row || !*row) {
                return;
            }
            w->version = static_cast<std::uint64_t>(st->integer(0));
        }
    } catch (...) {  // only memory can run out here; the records are then read when next due
    }
}

result<void> sqlite_backend::transaction::commit() {
    // The versions the triggers gave this transaction's records, while it is still open: once
    // committed, another process may write the same schedules.
    read_written_versions();
    if (auto done = writer().execute(sql::commit); !done) {
        return done;  // the destructor rolls back what SQLite kept open
    }
    finished_ = true;
    lock_.unlock();
    // Committed: the schedules written in full go into the cache at their versions, so the next
    // due query does not read back a schedule just created or edited. Decoded from the record as
    // stored (the encoder replaces invalid UTF-8, and a hit must equal a read from the file).
    // Outside the writer's lock: the cache keeps the newest version when a later commit's
    // records get there first. Only a shortcut, so a failure here leaves a landed commit landed.
    try {
        for (const auto& written : schedules_written_) {
            if (written.version == 0) {
                continue;
            }
            if (auto decoded = decode_schedule_record(written.record)) {
                owner_->schedules.insert(*decoded, written.version);
            }
        }
    } catch (...) {
    }
    return {};
}

// ---- backend -------------------------------------------------------------------------------

sqlite_backend::sqlite_backend(std::unique_ptr<impl> state) noexcept : impl_(std::move(state)) {}
sqlite_backend::sqlite_backend(sqlite_backend&& other) noexcept = default;
sqlite_backend& sqlite_backend::operator=(sqlite_backend&& other) noexcept = default;
sqlite_backend::~sqlite_backend() = default;

result<sqlite_backend> sqlite_backend::open(const sqlite_options& options) {
    if (options.path.empty()) {
        // SQLite would open a private temporary database, invisible to the read connections.
        return fail(errc::bad_request, "sqlite_options::path is empty");
    }
    if (options.checkpoint_pages < 0) {
        return fail(errc::bad_request, "sqlite_options::checkpoint_pages is negative (" +
                                           std::to_string(options.checkpoint_pages) + ")");
    }
    if (options.wal_limit_pages < 0 ||
        (options.wal_limit_pages > 0 && options.wal_limit_pages < options.checkpoint_pages)) {
        return fail(errc::bad_request, "sqlite_options::wal_limit_pages (" +
                                           std::to_string(options.wal_limit_pages) +
                                           ") must be 0 or at least checkpoint_pages (" +
                                           std::to_string(options.checkpoint_pages) + ")");
    }
    if (options.writer_cache_kib < 1) {
        return fail(errc::bad_request, "sqlite_options::writer_cache_kib (" + std::to_string(options.writer_cache_kib) +
                                           ") must be at least 1");
    }
    if (sqlite3_threadsafe() == 0) {
        return fail(errc::storage, "the SQLite library was built without thread support");
    }
    auto writer = connection::open(options.path, connection_role::writer, options.busy_timeout, options.writer_cache_kib);
    if (!writer) {
        return tl::unexpected(writer.error());
    }
    if (auto migrated = sqlite_detail::migrate(*writer, options.migrate_to); !migrated) {
        return tl::unexpected(migrated.error());
    }
    auto state = std::make_unique<impl>(options, std::move(*writer));
    if (options.checkpoint_pages > 0) {
        auto own = connection::open(options.path, connection_role::checkpointer, options.busy_timeout);
        if (!own) {
            return tl::unexpected(own.error());
        }
        state->checkpoints = std::make_unique<checkpointer>(std::move(*own), options.checkpoint_pages,
                                                           options.wal_limit_pages);
        state->writer.hand_checkpoints_to(state->checkpoints.get());
    }
    return sqlite_backend{std::move(state)};
}

std::uint64_t sqlite_backend::background_checkpoints() const {
    return impl_->checkpoints ? impl_->checkpoints->checkpoints() : 0;
}

std::uint64_t sqlite_backend::writer_checkpoints() const {
    return impl_->checkpoints ? impl_->checkpoints->writer_checkpoints() : 0;
}

result<sqlite_backend::transaction> sqlite_backend::begin() {
    std::unique_lock lock{impl_->writer_mutex};
    if (auto started = impl_->writer.execute(sql::begin); !started) {
        return tl::unexpected(started.error());
    }
    return transaction{*impl_, std::move(lock)};
}

result<std::optional<schedule>> sqlite_backend::get_schedule(std::string_view id) {
    return impl_->read([&](connection& c) { return find_schedule(c, id); });
}

result<std::optional<run>> sqlite_backend::get_run(std::string_view id) {
    return impl_->read([&](connection& c) { return find_run(c, id); });
}

result<std::vector<schedule>> sqlite_backend::due_schedules(time_point now, std::size_t limit) {
    // Room for a planner's chunk (the most due_rows keeps); any limit may come.
    const std::size_t expected = std::min(limit, due_rows::most);
    std::vector<std::int64_t> rowids;
    rowids.reserve(expected);
    auto due = impl_->read([&](connection& c) -> result<std::vector<schedule>> {
        auto st = c.prepare(sql::due_schedules);
        if (!st) {
            return tl::unexpected(st.error());
        }
        st->bind(1, to_us(now)).bind(2, sql_limit(limit));
        std::vector<schedule> out;
        out.reserve(expected);
        auto done = each_row(*st, [&](statement& row) -> result<void> {
            // A cached schedule is unpacked in the list's own place, not moved there.
            auto& s = out.emplace_back();
            const auto version = static_cast<std::uint64_t>(row.integer(1));
            if (auto read = cached_schedule_into(c, impl_->schedules, row.text(0), version, s); !read) {
                return read;
            }
            apply_times(s, row, 2);
            rowids.push_back(row.integer(4));
            return {};
        });
        if (!done) {
            return tl::unexpected(done.error());
        }
        return out;
    });
    if (due) {
        impl_->due.remember(*due, rowids);
    }
    return due;
}

result<std::optional<time_point>> sqlite_backend::next_due_at() {
    return impl_->read([](connection& c) { return first_instant(c, sql::next_due); });
}

result<std::optional<time_point>> sqlite_backend::next_eligible_after(time_point t) {
    return impl_->read([&](connection& c) { return first_instant(c, sql::next_eligible_after, t); });
}

result<std::vector<run>> sqlite_backend::eligible_runs(time_point now, std::size_t limit) {
    return impl_->read(
        [&](connection& c) { return records_until<run>(c, sql::eligible_runs, now, limit, decode_run_record); });
}

result<std::optional<time_point>> sqlite_backend::next_eligible_at() {
    return impl_->read([](connection& c) { return first_instant(c, sql::next_eligible); });
}

result<std::vector<run>> sqlite_backend::expired_leases(time_point now, std::size_t limit) {
    return impl_->read(
        [&](connection& c) { return records_until<run>(c, sql::expired_leases, now, limit, decode_run_record); });
}

result<std::optional<time_point>> sqlite_backend::next_lease_expiry() {
    return impl_->read([](connection& c) { return first_instant(c, sql::next_lease); });
}

result<page<schedule>> sqlite_backend::list_schedules(const schedule_filter& f, const page_request& p) {
    std::vector<std::string_view> terms;
    if (!f.include_deleted) {
        terms.emplace_back("deleted = 0");
    }
    if (f.enabled) {
        terms.emplace_back("enabled = :enabled");
    }
    return impl_->read([&](connection& c) {
        return read_page<schedule>(
            c, sql::list_schedules, terms, p,
            [&](statement& st) {
                if (f.enabled) {
                    st.bind(st.parameter(":enabled"), std::int64_t{*f.enabled});
                }
            },
            schedule_of_row);
    });
}

result<page<run>> sqlite_backend::list_runs(const run_filter& f, const page_request& p) {
    std::vector<std::string_view> terms;
    if (f.schedule) {
        terms.emplace_back("schedule_id = :schedule");
    }
    if (f.status) {
        terms.emplace_back("status = :status");
    }
    return impl_->read([&](connection& c) {
        return read_page<run>(
            c, sql::list_runs, terms, p,
            [&](statement& st) {
                if (f.schedule) {
                    st.bind(st.parameter(":schedule"), *f.schedule);
                }
                if (f.status) {
                    st.bind(st.parameter(":status"), to_string(*f.status));
                }
            },
            decode_run_record);
    });
}

result<std::vector<receipt>> sqlite_backend::list_receipts(std::string_view run) {
    return impl_->read([&](connection& c) -> result<std::vector<receipt>> {
        auto st = c.prepare(sql::receipts_of_run);
        if (!st) {
            return tl::unexpected(st.error());
        }
        st->bind(1, run);
        return all_records<receipt>(*st, decode_receipt_record);
    });
}

result<page<dead_letter>> sqlite_backend::list_dead_letters(const dead_letter_filter& f, const page_request& p) {
    std::vector<std::string_view> terms;
    if (f.schedule) {
        terms.emplace_back("schedule_id = :schedule");
    }
    return impl_->read([&](connection& c) {
        return read_page<dead_letter>(
            c, sql::list_dead_letters, terms, p,
            [&](statement& st) {
                if (f.schedule) {
                    st.bind(st.parameter(":schedule"), *f.schedule);
                }
            },
            decode_dead_letter_record);
    });
}

result<std::vector<ledger_event>> sqlite_backend::read_ledger(const ledger_query& q) {
    std::string query =
        "SELECT seq, at_us, kind, schedule_id, run_id, occurrence_key, attempt, data FROM ledger WHERE seq > :after";
    if (q.schedule) {
        query += " AND schedule_id = :schedule";
    }
    if (q.run) {
        query += " AND run_id = :run";
    }
    query += " ORDER BY seq LIMIT :limit";
    return impl_->read([&](connection& c) -> result<std::vector<ledger_event>> {
        auto st = c.prepare(query);
        if (!st) {
            return tl::unexpected(st.error());
        }
        st->bind(st->parameter(":after"), q.after).bind(st->parameter(":limit"), sql_limit(q.limit));
        if (q.schedule) {
            st->bind(st->parameter(":schedule"), *q.schedule);
        }
        if (q.run) {
            st->bind(st->parameter(":run"), *q.run);
        }
        return all_rows<ledger_event>(*st, [](statement& row) -> result<ledger_event> {
            ledger_event header;
            header.seq = row.integer(0);
            header.at = from_us(row.integer(1));
            const auto kind = parse_event_kind(row.text(2));
            if (!kind) {
                return fail(errc::storage, "ledger event " + std::to_string(header.seq) + " has the unknown kind \"" +
                                               std::string(row.text(2)) + "\"");
            }
            header.kind = *kind;
            header.schedule = std::string(row.text(3));
            header.run = row.optional_text(4);
            header.occurrence_key = row.optional_text(5);
            header.attempt = row.optional_integer(6);
            return decode_event_data(std::move(header), row.text(7));
        });
    });
}

result<std::int64_t> sqlite_backend::last_seq() {
    return impl_->read([](connection& c) { return c.query_integer(sql::last_seq); });
}

result<store_counts> sqlite_backend::counts(time_point now) {
    return impl_->read([&](connection& c) -> result<store_counts> {
        auto st = c.prepare(counts_query());
        if (!st) {
            return tl::unexpected(st.error());
        }
        st->bind(1, to_us(now));
        auto row = st->step();
        if (!row) {
            return tl::unexpected(row.error());
        }
        store_counts out;
        out.schedules = st->integer(0);
        out.schedules_enabled = st->integer(1);
        out.runs = st->integer(2);
        out.runs_due = st->integer(3);
        out.claimed_but_expired = st->integer(4);
        out.dead_letters = st->integer(5);
        out.last_seq = st->integer(6);
        for (std::size_t i = 0; i < out.by_status.size(); ++i) {
            out.by_status[i] = st->integer(first_status_column + static_cast<int>(i));
        }
        out.leases_active = out.by_status[static_cast<std::size_t>(run_status::claimed)] +
                            out.by_status[static_cast<std::size_t>(run_status::running)];
        return out;
    });
}

result<int> sqlite_backend::schema_version() {
    return impl_->read([](connection& c) -> result<int> {
        auto version = c.query_integer(sql::schema_version);
        if (!version) {
            return tl::unexpected(version.error());
        }
        return static_cast<int>(*version);
    });
}

result<std::unique_ptr<sqlite_store>> open_sqlite_store(const sqlite_options& options) {
    auto backend = sqlite_backend::open(options);
    if (!backend) {
        return tl::unexpected(backend.error());
    }
    return std::make_unique<sqlite_store>(std::move(*backend));
}

}  // namespace wakeplane::stores
