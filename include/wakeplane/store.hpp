// Stores: the backend contract every storage engine implements, and basic_store, the one
// implementation of the domain operations (preconditions, ledger events) over any backend.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <wakeplane/codec.hpp>
#include <wakeplane/ledger.hpp>
#include <wakeplane/model.hpp>
#include <wakeplane/policy/overlap.hpp>
#include <wakeplane/result.hpp>
#include <wakeplane/time.hpp>

namespace wakeplane {

// ---------------------------------------------------------------------------------------------
// Query vocabulary shared by every store.
// ---------------------------------------------------------------------------------------------

/// A page of a list ordered newest first by (created_at, id), as the original API pages.
struct page_request {
    std::optional<page_cursor> after;  ///< rows strictly older than this position
    std::size_t limit = 50;
};

/// One page. `next` is set only when more rows exist (never an empty trailing page; DECISIONS 24).
template <class T>
struct page {
    std::vector<T> items;
    std::optional<page_cursor> next;
};

struct schedule_filter {
    std::optional<bool> enabled;
    bool include_deleted = false;
};

struct run_filter {
    std::optional<schedule_id> schedule;
    std::optional<run_status> status;
};

struct dead_letter_filter {
    std::optional<schedule_id> schedule;
};

/// Ledger entries with seq > after, oldest first, at most `limit`, optionally for one schedule/run.
struct ledger_query {
    std::int64_t after = 0;
    std::size_t limit = 100;
    std::optional<schedule_id> schedule;
    std::optional<run_id> run;
};

/// The counts that /v1/status and /v1/metrics report.
struct store_counts {
    std::int64_t schedules = 0;          ///< live (not deleted)
    std::int64_t schedules_enabled = 0;
    std::int64_t runs = 0;
    std::int64_t runs_due = 0;           ///< pending and due, or retry_scheduled and available
    std::array<std::int64_t, 9> by_status{};  ///< indexed by run_status
    std::int64_t dead_letters = 0;
    std::int64_t leases_active = 0;      ///< claimed or running
    std::int64_t claimed_but_expired = 0;
    std::int64_t last_seq = 0;
    friend bool operator==(const store_counts&, const store_counts&) = default;
};

/// An open (non-terminal) run as a claim sees it: read from the backend's open-runs index,
/// without decoding the row, because a claim looks at every open run of the schedule.
struct open_run {
    run_id id;
    run_status status = run_status::pending;
    time_point nominal_time{};
    std::optional<time_point> eligible_at;  ///< waiting runs: due_time, or retry_available_at of a retry
    friend bool operator==(const open_run&, const open_run&) = default;
};

/// When is_eligible() admits a waiting run: its due time, or a retry's retry_available_at;
/// nullopt for a run that no time makes eligible.
[[nodiscard]] inline std::optional<time_point> eligible_from(const run& r) noexcept {
    if (r.status == run_status::pending) {
        return r.due_time;
    }
    if (r.status == run_status::retry_scheduled) {
        return r.retry_available_at;
    }
    return std::nullopt;
}

/// The open_run of a row (what every backend's index must give back).
[[nodiscard]] inline open_run open_run_of(const run& r) {
    return open_run{r.id, r.status, r.nominal_time, eligible_from(r)};
}

// ---------------------------------------------------------------------------------------------
// The backend contract.
// ---------------------------------------------------------------------------------------------

/// A write transaction of a backend. At most one is open per store at a time (basic_store
/// serializes them). Reads inside it see its own writes. Nothing is visible to other readers
/// and nothing survives a crash until commit() returns; commit() is durable (synced). Destroying
/// an uncommitted transaction rolls it back.
template <class T>
concept backend_transaction = requires(T& t, const schedule& s, const std::optional<schedule>& before, const run& r,
                                       const receipt& rc, const dead_letter& d, const ledger_event& e,
                                       std::string_view id, std::span<const run_status> statuses) {
    { t.load_schedule(id) } -> std::same_as<result<std::optional<schedule>>>;
    { t.live_schedule_named(id) } -> std::same_as<result<std::optional<schedule_id>>>;
    { t.load_run(id) } -> std::same_as<result<std::optional<run>>>;
    { t.runs_of(id, statuses) } -> std::same_as<result<std::vector<run>>>;
    /// Every open run of a schedule, in run id order.
    { t.open_runs(id) } -> std::same_as<result<std::vector<open_run>>>;
    { t.put_schedule(s, before) } -> std::same_as<result<void>>;
    /// A planner pass's only change to a schedule: moves next_run_at to `next` when the schedule
    /// is live, enabled and still at `expected`; false (nothing written) otherwise. Apart from it
    /// the row stays as it is, so a backend need not decode and re-encode the whole schedule.
    { t.move_next_run_at(id, std::optional<time_point>{}, std::optional<time_point>{}) } -> std::same_as<result<bool>>;
    /// A success's only change to its schedule: sets last_run_at to `at` when the schedule exists
    /// and its last_run_at is unset or earlier (finishes may commit out of order); false (nothing
    /// written) otherwise. Like move_next_run_at, the rest of the row stays as it is.
    { t.advance_last_run_at(id, time_point{}) } -> std::same_as<result<bool>>;
    /// Writes a new run; false (and nothing written) when its (occurrence_key, attempt) exists.
    { t.insert_run(r) } -> std::same_as<result<bool>>;
    /// Rewrites an existing run; `before` is the row as loaded, for index maintenance.
    { t.put_run(r, r) } -> std::same_as<result<void>>;
    { t.put_receipt(rc) } -> std::same_as<result<void>>;
    { t.put_dead_letter(d) } -> std::same_as<result<void>>;
    /// Appends `e` under e.seq, which must be the next sequence number; never overwrites.
    { t.append(e) } -> std::same_as<result<void>>;
    { t.commit() } -> std::same_as<result<void>>;
};

/// A storage engine under basic_store: transactions plus the read queries. Read queries may be
/// called from any thread, concurrently with one open write transaction, and see committed data.
template <class B>
concept store_backend = requires(B& b, time_point t, std::string_view id, const schedule_filter& sf,
                                 const run_filter& rf, const dead_letter_filter& df, const page_request& pr,
                                 const ledger_query& lq, std::size_t n) {
    typename B::transaction;
    requires backend_transaction<typename B::transaction>;
    { b.begin() } -> std::same_as<result<typename B::transaction>>;
    { b.get_schedule(id) } -> std::same_as<result<std::optional<schedule>>>;
    { b.get_run(id) } -> std::same_as<result<std::optional<run>>>;
    { b.due_schedules(t, n) } -> std::same_as<result<std::vector<schedule>>>;
    { b.next_due_at() } -> std::same_as<result<std::optional<time_point>>>;
    { b.eligible_runs(t, n) } -> std::same_as<result<std::vector<run>>>;
    { b.next_eligible_at() } -> std::same_as<result<std::optional<time_point>>>;
    { b.next_eligible_after(t) } -> std::same_as<result<std::optional<time_point>>>;
    { b.expired_leases(t, n) } -> std::same_as<result<std::vector<run>>>;
    { b.next_lease_expiry() } -> std::same_as<result<std::optional<time_point>>>;
    { b.list_schedules(sf, pr) } -> std::same_as<result<page<schedule>>>;
    { b.list_runs(rf, pr) } -> std::same_as<result<page<run>>>;
    { b.list_receipts(id) } -> std::same_as<result<std::vector<receipt>>>;
    { b.list_dead_letters(df, pr) } -> std::same_as<result<page<dead_letter>>>;
    { b.read_ledger(lq) } -> std::same_as<result<std::vector<ledger_event>>>;
    { b.last_seq() } -> std::same_as<result<std::int64_t>>;
    { b.counts(t) } -> std::same_as<result<store_counts>>;
};

// ---------------------------------------------------------------------------------------------
// Domain operations.
// ---------------------------------------------------------------------------------------------

/// What the planner decided for one schedule in one pass (planner.hpp builds these).
struct schedule_plan {
    schedule_id schedule;
    std::optional<time_point> expected_next_run_at;  ///< the value the plan was computed from
    std::optional<time_point> next_run_at;           ///< the value after the pass
    std::vector<run> runs;                           ///< pending or skipped rows, attempt 1
    std::optional<skipped_summary> summary;          ///< what exceeded the listing bound
};

/// What one apply_plan() wrote.
struct plan_outcome {
    std::size_t materialized = 0;  ///< pending rows written
    std::size_t skipped = 0;       ///< skipped rows written
    std::size_t duplicates = 0;    ///< rows that already existed (an earlier pass got there)
    std::size_t stale = 0;         ///< schedules changed since the plan was computed; left for the next pass
};

/// The result of a claim attempt.
struct claim_outcome {
    overlap_action action = overlap_action::wait;
    std::optional<run> claimed;          ///< action == claim: the run, now claimed, with its fencing token
    std::vector<run_id> cancel;          ///< action == cancel_active: the runs to cancel
    /// The run's schedule as the claim transaction read it (null when it has none), so a
    /// dispatcher executes what the overlap decision saw without reading it again.
    std::shared_ptr<const schedule> sched;
};

/// A claim as its holder knows it: the run and the fencing token the claim gave it.
struct claim_ticket {
    run_id run;
    std::int64_t fencing_token = 0;
};

/// How a run attempt ended, as its executor (or the dispatcher) reports it.
struct finish_request {
    run_id run;
    std::int64_t fencing_token = 0;
    time_point at{};
    run_status outcome = run_status::succeeded;  ///< succeeded, failed or cancelled
    std::optional<std::int64_t> http_status_code;
    std::optional<std::int64_t> exit_code;
    std::optional<std::string> result_json;
    std::optional<std::string> error_text;
    std::vector<receipt> receipts;
    /// failed only: delay before the next attempt (retry policy), nullopt = dead letter.
    std::optional<duration> retry_delay;
    /// cancelled only: write a fresh pending attempt due at once (drain, DECISIONS 15).
    bool requeue = false;
    std::string new_run_id;              ///< id of the retry or requeued row, when one is written
    std::string dead_letter_id;          ///< id of the dead letter, when one is written
};

/// A run the dispatcher may claim at `now`: pending and due, or a retry that is available.
[[nodiscard]] inline bool is_eligible(const run& r, time_point now) noexcept {
    const auto from = eligible_from(r);
    return from && *from <= now;
}

/// The reason texts the stores write.
namespace reasons {
inline constexpr std::string_view lease_expired = "worker lease expired during execution";
inline constexpr std::string_view superseded = "superseded by newer queued occurrence";
inline constexpr std::string_view schedule_deleted = "schedule deleted";
}  // namespace reasons

/// The domain operations over a backend. Every operation is one write transaction that checks
/// its preconditions against the committed state, writes the projection rows it owns, and
/// appends one ledger event per state change, with gapless sequence numbers, all atomically.
/// Thread-safe: write operations are serialized; reads go to the backend concurrently.
template <store_backend Backend>
class basic_store {
public:
    using backend_type = Backend;

    explicit basic_store(Backend backend) : backend_(std::move(backend)) {}

    basic_store(basic_store&& other) noexcept : backend_(std::move(other.backend_)) {}
    basic_store& operator=(basic_store&&) = delete;

    [[nodiscard]] Backend& backend() noexcept { return backend_; }

    // ---- schedules ------------------------------------------------------------------------

    /// Persists a new schedule (`s` complete: id, timestamps, next_run_at). A live schedule with
    /// the same name is errc::conflict naming the field `name`.
    result<schedule> create_schedule(const schedule& s) {
        return write([&](auto& tx, auto& events) -> result<schedule> {
            if (auto dup = check_name_free(tx, s.name, s.id); !dup) {
                return tl::unexpected(dup.error());
            }
            if (auto put = tx.put_schedule(s, std::nullopt); !put) {
                return tl::unexpected(put.error());
            }
            events.push_back(schedule_event(event_kind::schedule_created, s, s.created_at));
            return s;
        });
    }

    /// Replaces the fields an edit (PUT/PATCH) owns: name, enabled, paused_at, timezone, spec,
    /// target, policy, retry, bounds, next_run_at and updated_at. created_at and last_run_at stay
    /// as stored, so an edit never writes back a stale snapshot (DECISIONS 16).
    result<schedule> update_schedule(const schedule& desired) {
        return write([&](auto& tx, auto& events) -> result<schedule> {
            auto current = load_live_schedule(tx, desired.id);
            if (!current) {
                return tl::unexpected(current.error());
            }
            if (auto dup = check_name_free(tx, desired.name, desired.id); !dup) {
                return tl::unexpected(dup.error());
            }
            schedule next = *current;
            next.name = desired.name;
            next.enabled = desired.enabled;
            next.paused_at = desired.paused_at;
            next.timezone = desired.timezone;
            next.spec = desired.spec;
            next.target = desired.target;
            next.policy = desired.policy;
            next.retry = desired.retry;
            next.start_at = desired.start_at;
            next.end_at = desired.end_at;
            next.next_run_at = desired.next_run_at;
            next.updated_at = desired.updated_at;
            if (auto put = tx.put_schedule(next, *current); !put) {
                return tl::unexpected(put.error());
            }
            events.push_back(schedule_event(event_kind::schedule_updated, next, next.updated_at));
            return next;
        });
    }

    /// Disables planning. paused_at keeps the moment the schedule first became disabled
    /// (DECISIONS 11), so pausing twice does not move it. Queued runs still execute.
    result<schedule> pause_schedule(std::string_view id, time_point at) {
        return write([&](auto& tx, auto& events) -> result<schedule> {
            auto current = load_live_schedule(tx, id);
            if (!current) {
                return tl::unexpected(current.error());
            }
            schedule next = *current;
            next.enabled = false;
            if (!next.paused_at) {
                next.paused_at = at;
            }
            next.updated_at = at;
            if (auto put = tx.put_schedule(next, *current); !put) {
                return tl::unexpected(put.error());
            }
            events.push_back(schedule_event(event_kind::schedule_paused, next, at));
            return next;
        });
    }

    /// Enables planning again. next_run_at is kept, so occurrences that fell due during the pause
    /// go through the misfire policy at the next pass (DECISIONS 11); when it is unset (a schedule
    /// created disabled), `next_if_unset` is used.
    result<schedule> resume_schedule(std::string_view id, time_point at, std::optional<time_point> next_if_unset) {
        return write([&](auto& tx, auto& events) -> result<schedule> {
            auto current = load_live_schedule(tx, id);
            if (!current) {
                return tl::unexpected(current.error());
            }
            schedule next = *current;
            next.enabled = true;
            next.paused_at.reset();
            if (!next.next_run_at) {
                next.next_run_at = next_if_unset;
            }
            next.updated_at = at;
            if (auto put = tx.put_schedule(next, *current); !put) {
                return tl::unexpected(put.error());
            }
            events.push_back(schedule_event(event_kind::schedule_resumed, next, at));
            return next;
        });
    }

    /// Soft delete (DECISIONS 22): the schedule stops and leaves listings, its name becomes free,
    /// its history stays readable. Its runs that have not started (pending, retry_scheduled, and
    /// claimed ahead of their due time) end cancelled.
    result<schedule> delete_schedule(std::string_view id, time_point at) {
        return write([&](auto& tx, auto& events) -> result<schedule> {
            auto current = load_live_schedule(tx, id);
            if (!current) {
                return tl::unexpected(current.error());
            }
            schedule next = *current;
            next.deleted = true;
            next.next_run_at.reset();
            next.updated_at = at;
            if (auto put = tx.put_schedule(next, *current); !put) {
                return tl::unexpected(put.error());
            }
            events.push_back(schedule_event(event_kind::schedule_deleted, next, at));
            auto waiting = tx.runs_of(id, unstarted_statuses());
            if (!waiting) {
                return tl::unexpected(waiting.error());
            }
            for (const auto& r : *waiting) {
                run done = r;
                done.status = run_status::cancelled;
                done.claim_expires_at.reset();
                done.error_text = std::string(reasons::schedule_deleted);
                done.finished_at = at;
                done.updated_at = at;
                if (auto put = tx.put_run(done, r); !put) {
                    return tl::unexpected(put.error());
                }
                events.push_back(run_event(event_kind::run_finished, run_change{.row = done}, at));
            }
            return next;
        });
    }

    // ---- planner --------------------------------------------------------------------------

    /// Writes one planner pass (or a chunk of it) in one transaction. Each plan applies only if the
    /// schedule is live, enabled and still has the next_run_at the plan was computed from; other
    /// plans are counted as stale. Rows that exist already (same occurrence key, attempt 1) are not
    /// written again, so a pass repeated after a crash duplicates nothing.
    result<plan_outcome> apply_plan(std::span<const schedule_plan> plans, time_point at) {
        return write([&](auto& tx, auto& events) -> result<plan_outcome> {
            plan_outcome out;
            // An event is about 1.4 KB; growing the list one event at a time moved a chunk's
            // events ten times over (and, past glibc's mmap threshold, faulted fresh pages in).
            std::size_t most = 0;
            for (const auto& p : plans) {
                most += p.runs.size() + 2;  // a run event each, a summary, a move
            }
            events.reserve(events.size() + most);
            // Three phases over the chunk, each a loop of one kind of write: the moves, then the
            // run inserts, then the events (appended after the body). Interleaved per schedule,
            // each write evicted the code and pages of the others from the caches: callgrind's
            // cache simulation, a first pass of 20,000 on SQLite, 35.4 M -> 31.2 M instruction and
            // 32.8 M -> 26.2 M data L1 misses for the same instructions. Inside one transaction
            // the order of the writes is not visible; the events keep the plans' order.
            std::vector<char> fresh(plans.size());  // per plan: still where it was planned from
            for (std::size_t i = 0; i < plans.size(); ++i) {
                const auto& p = plans[i];
                // The move doubles as the staleness check: an edit, pause or delete (or another
                // planner) since the due query leaves the schedule elsewhere, and nothing is written.
                auto moved = p.next_run_at != p.expected_next_run_at
                                 ? tx.move_next_run_at(p.schedule, p.expected_next_run_at, p.next_run_at)
                                 : still_planned(tx, p);
                if (!moved) {
                    return tl::unexpected(moved.error());
                }
                fresh[i] = *moved ? 1 : 0;
            }
            std::vector<char> inserted(most);  // per run of a fresh plan, in order: written, not a duplicate
            std::size_t next = 0;
            for (std::size_t i = 0; i < plans.size(); ++i) {
                if (fresh[i] == 0) {
                    continue;
                }
                for (const auto& r : plans[i].runs) {
                    auto written = tx.insert_run(r);
                    if (!written) {
                        return tl::unexpected(written.error());
                    }
                    inserted[next++] = *written ? 1 : 0;
                }
            }
            next = 0;
            for (std::size_t i = 0; i < plans.size(); ++i) {
                const auto& p = plans[i];
                if (fresh[i] == 0) {
                    ++out.stale;
                    continue;
                }
                const std::size_t first_event = events.size();
                for (const auto& r : p.runs) {
                    if (inserted[next++] == 0) {
                        ++out.duplicates;
                        continue;
                    }
                    const bool skipped = r.status == run_status::skipped;
                    ++(skipped ? out.skipped : out.materialized);
                    add_run_event(events, skipped ? event_kind::occurrence_skipped : event_kind::occurrence_materialized,
                                  r, at);
                }
                if (p.summary) {
                    ledger_event e;
                    e.at = at;
                    e.kind = event_kind::occurrences_skipped_summary;
                    e.schedule = p.schedule;
                    e.payload = *p.summary;
                    events.push_back(std::move(e));
                }
                if (p.next_run_at != p.expected_next_run_at) {
                    // The pass's last run event carries the move when it ends the plan's events;
                    // otherwise (nothing written, or a summary last) an event of its own does.
                    auto* last = events.size() > first_event ? std::get_if<run_change>(&events.back().payload) : nullptr;
                    if (last != nullptr) {
                        last->next_run = next_run_change{p.next_run_at};
                    } else {
                        ledger_event e;
                        e.at = at;
                        e.kind = event_kind::schedule_planned;
                        e.schedule = p.schedule;
                        e.payload = next_run_change{p.next_run_at};
                        events.push_back(std::move(e));
                    }
                }
            }
            return out;
        });
    }

    /// A manual trigger: a pending run due at once, on any live schedule (paused ones included).
    result<run> trigger(const run& r) {
        return write([&](auto& tx, auto& events) -> result<run> {
            auto current = load_live_schedule(tx, r.schedule);
            if (!current) {
                return tl::unexpected(current.error());
            }
            auto inserted = tx.insert_run(r);
            if (!inserted) {
                return tl::unexpected(inserted.error());
            }
            if (!*inserted) {
                return fail(errc::conflict, "run \"" + r.occurrence_key + "\" exists already");
            }
            events.push_back(run_event(event_kind::run_triggered, run_change{.row = r}, r.created_at));
            return r;
        });
    }

    // ---- dispatcher -----------------------------------------------------------------------

    /// Tries to claim a waiting run. Inside the transaction it loads the run and its schedule,
    /// counts the schedule's active runs and asks `decide` (the schedule's overlap policy) what to
    /// do; max_concurrency and overlap are therefore checked against committed state, and of
    /// several concurrent claimers of one run exactly one wins. On `claim` the run becomes
    /// claimed by `worker` until `now + ttl` with fencing token + 1; on `supersede` it ends
    /// skipped; on `cancel_active` the active run ids are returned for the caller to cancel.
    /// A run that is no longer waiting (or not yet eligible at `now`) is errc::conflict.
    template <class Decide>
    result<claim_outcome> claim_run(std::string_view id, std::string_view worker, time_point now, duration ttl,
                                    Decide&& decide) {
        return write([&](auto& tx, auto& events) -> result<claim_outcome> {
            std::map<std::string, slot_view, std::less<>> views;
            return claim_locked(tx, events, views, id, worker, now, now, ttl,
                                [&](const run&, const schedule*, overlap_state st) { return decide(st); }, false);
        });
    }

    /// Claims several runs in ONE durable transaction (a group commit), in the given order, each
    /// seeing the claims before it. `decide(run, schedule, state)` is the overlap decision of the
    /// run's schedule (as read in this transaction; null when the run has none). With `start`, each claimed run is also marked running in the same transaction
    /// (claimed and started events both recorded): its executor may start once this returns.
    /// A run that is no longer waiting yields an outcome with action wait and no claim.
    template <class Decide>
    result<std::vector<claim_outcome>> claim_runs(std::span<const run_id> ids, std::string_view worker, time_point now,
                                                  duration ttl, Decide&& decide, bool start) {
        return write([&](auto& tx, auto& events) {
            return claim_each(tx, events, ids, worker, now, now, ttl, decide, start);
        });
    }

    /// Claims runs that become eligible by `until` (after `now`) without starting them, in one
    /// durable transaction: a dispatcher claims what falls due within its claim-ahead window so
    /// that at the due time only start_claimed() stands between the run and its executor. The
    /// lease runs from `now`. Decisions are taken as in claim_runs() against the state at `now`,
    /// with the runs eligible by `until` counted as waiting; only a `claim` decision is acted on,
    /// any other leaves the run waiting for its due time, when claim_runs() decides again.
    template <class Decide>
    result<std::vector<claim_outcome>> claim_ahead(std::span<const run_id> ids, std::string_view worker, time_point now,
                                                   time_point until, duration ttl, Decide&& decide) {
        auto claim_only = [&](const run& r, const schedule* s, overlap_state st) {
            const auto action = decide(r, s, st);
            return action == overlap_action::claim ? action : overlap_action::wait;
        };
        return write([&](auto& tx, auto& events) {
            return claim_each(tx, events, ids, worker, now, until, ttl, claim_only, false);
        });
    }

    /// Marks claimed runs running at `now`, in one durable transaction: the start of runs
    /// claimed ahead. The lease stays the claim's while at least half of `ttl` is left of it
    /// (its holder renews it halfway through, as any lease), so a start on time does not move
    /// the lease index; a later start takes a fresh lease until `now + ttl`. Each result is the
    /// running run, or nullopt when the claim is no longer held (cancelled, deleted with its
    /// schedule, recovered, or its lease expired: a run is never started on an expired lease,
    /// which another worker may be recovering); its executor must then not start.
    result<std::vector<std::optional<run>>> start_claimed(std::span<const claim_ticket> tickets, time_point now,
                                                          duration ttl) {
        return write([&](auto& tx, auto& events) -> result<std::vector<std::optional<run>>> {
            std::vector<std::optional<run>> out;
            out.reserve(tickets.size());
            for (const auto& t : tickets) {
                auto r = load_fenced_run(tx, t.run, t.fencing_token, {run_status::claimed});
                if (!r) {
                    if (r.error().code != errc::stale_fence && r.error().code != errc::not_found) {
                        return tl::unexpected(r.error());
                    }
                    out.emplace_back();
                    continue;
                }
                if (!r->claim_expires_at || *r->claim_expires_at <= now) {
                    out.emplace_back();  // expired: left for recovery, which puts it back to pending
                    continue;
                }
                run next = *r;
                next.status = run_status::running;
                next.started_at = now;
                next.updated_at = now;
                if (*r->claim_expires_at - now < ttl / 2) {
                    next.claim_expires_at = now + ttl;
                }
                if (auto put = tx.put_run(next, *r); !put) {
                    return tl::unexpected(put.error());
                }
                events.push_back(run_event(event_kind::run_started, run_change{.row = next}, now));
                out.emplace_back(std::move(next));
            }
            return out;
        });
    }

    /// Gives claims back unstarted (a draining dispatcher's runs claimed ahead): each run still
    /// claimed under its ticket is pending again, with the same attempt and fencing token, and a
    /// `claim_released` event. Returns how many were released; the others were no longer held.
    result<std::size_t> release_claims(std::span<const claim_ticket> tickets, time_point now) {
        return write([&](auto& tx, auto& events) -> result<std::size_t> {
            std::size_t released = 0;
            for (const auto& t : tickets) {
                auto r = load_fenced_run(tx, t.run, t.fencing_token, {run_status::claimed});
                if (!r) {
                    if (r.error().code != errc::stale_fence && r.error().code != errc::not_found) {
                        return tl::unexpected(r.error());
                    }
                    continue;
                }
                run back = *r;
                back.status = run_status::pending;  // as a recovered claim: eligible again at once
                back.claimed_by_worker_id.reset();
                back.claim_expires_at.reset();
                back.updated_at = now;
                if (auto put = tx.put_run(back, *r); !put) {
                    return tl::unexpected(put.error());
                }
                events.push_back(run_event(event_kind::claim_released, run_change{.row = back}, now));
                ++released;
            }
            return released;
        });
    }

    /// Marks a claimed run running. A token other than the run's current one is errc::stale_fence.
    result<run> start_run(std::string_view id, std::int64_t token, time_point at) {
        return write([&](auto& tx, auto& events) -> result<run> {
            auto r = load_fenced_run(tx, id, token, {run_status::claimed});
            if (!r) {
                return tl::unexpected(r.error());
            }
            run next = *r;
            next.status = run_status::running;
            next.started_at = at;
            next.updated_at = at;
            if (auto put = tx.put_run(next, *r); !put) {
                return tl::unexpected(put.error());
            }
            events.push_back(run_event(event_kind::run_started, run_change{.row = next}, at));
            return next;
        });
    }

    /// Extends the lease of a claimed or running run to `until`; refused with a stale token.
    result<run> renew_lease(std::string_view id, std::int64_t token, time_point at, time_point until) {
        return write([&](auto& tx, auto& events) -> result<run> {
            auto r = load_fenced_run(tx, id, token, {run_status::claimed, run_status::running});
            if (!r) {
                return tl::unexpected(r.error());
            }
            run next = *r;
            next.claim_expires_at = until;
            next.updated_at = at;
            if (auto put = tx.put_run(next, *r); !put) {
                return tl::unexpected(put.error());
            }
            events.push_back(run_event(event_kind::lease_renewed, run_change{.row = next}, at));
            return next;
        });
    }

    /// Finishes an attempt in one transaction (DECISIONS 16): the run's result and receipts, then
    /// the retry row, the dead letter or the requeued attempt, and the schedule's last_run_at on
    /// success. Refused with a stale token, so a worker whose lease was taken over cannot write.
    result<run> finish_run(const finish_request& f) {
        return write([&](auto& tx, auto& events) -> result<run> {
            auto r = load_fenced_run(tx, f.run, f.fencing_token, {run_status::claimed, run_status::running});
            if (!r) {
                return tl::unexpected(r.error());
            }
            return finish_locked(tx, events, *r, f);
        });
    }

    /// Finishes several attempts in ONE durable transaction (a group commit). Each request is
    /// checked and applied as finish_run() would; a stale or unknown one gets its error in the
    /// result list and the others still apply. A store failure fails the whole batch.
    result<std::vector<result<run>>> finish_runs(std::span<const finish_request> requests) {
        return write([&](auto& tx, auto& events) -> result<std::vector<result<run>>> {
            std::vector<result<run>> out;
            out.reserve(requests.size());
            for (const auto& f : requests) {
                auto r = load_fenced_run(tx, f.run, f.fencing_token, {run_status::claimed, run_status::running});
                if (!r) {
                    if (r.error().code == errc::storage) {
                        return tl::unexpected(r.error());
                    }
                    out.push_back(tl::unexpected(r.error()));
                    continue;
                }
                auto done = finish_locked(tx, events, *r, f);
                if (!done) {
                    return tl::unexpected(done.error());
                }
                out.push_back(*std::move(done));
            }
            return out;
        });
    }

    /// Cancels a run that has not started at once (pending, retry_scheduled or claimed →
    /// cancelled; a claimed run's holder then finds its claim gone and never starts it). A
    /// running run is returned unchanged for the caller to stop (its executor then finishes it
    /// cancelled); a terminal run is errc::conflict.
    result<run> cancel_waiting_run(std::string_view id, time_point at, std::string_view reason) {
        return write([&](auto& tx, auto& events) -> result<run> {
            auto r = load_existing_run(tx, id);
            if (!r) {
                return tl::unexpected(r.error());
            }
            if (is_terminal(r->status)) {
                return fail(errc::conflict, "run \"" + r->id + "\" has finished already");
            }
            if (r->status == run_status::running) {
                return *r;
            }
            run done = *r;
            done.status = run_status::cancelled;
            done.claim_expires_at.reset();
            done.error_text = std::string(reason);
            done.finished_at = at;
            done.updated_at = at;
            if (auto put = tx.put_run(done, *r); !put) {
                return tl::unexpected(put.error());
            }
            events.push_back(run_event(event_kind::run_finished, run_change{.row = done}, at));
            return done;
        });
    }

    /// Recovers runs whose lease expired before `now` (at most `limit`): a claimed run goes back to
    /// pending; a running one fails with `worker lease expired during execution` and is retried or
    /// dead-lettered according to `retry_for(schedule, failed attempt)` → optional delay.
    /// `make_id(prefix)` supplies ids for retry rows and dead letters.
    template <class RetryFor, class MakeId>
    result<std::size_t> recover_expired(time_point now, std::size_t limit, RetryFor&& retry_for, MakeId&& make_id) {
        auto expired = backend_.expired_leases(now, limit);
        if (!expired) {
            return tl::unexpected(expired.error());
        }
        if (expired->empty()) {
            return std::size_t{0};
        }
        return write([&](auto& tx, auto& events) -> result<std::size_t> {
            std::size_t recovered = 0;
            for (const auto& seen : *expired) {
                auto r = tx.load_run(seen.id);
                if (!r) {
                    return tl::unexpected(r.error());
                }
                // Renewed or finished since the query: not expired any more.
                if (!*r || !(*r)->claim_expires_at || *(*r)->claim_expires_at > now ||
                    ((*r)->status != run_status::claimed && (*r)->status != run_status::running)) {
                    continue;
                }
                const run& cur = **r;
                if (cur.status == run_status::claimed) {
                    run back = cur;
                    back.status = run_status::pending;
                    back.claimed_by_worker_id.reset();
                    back.claim_expires_at.reset();
                    back.updated_at = now;
                    if (auto put = tx.put_run(back, cur); !put) {
                        return tl::unexpected(put.error());
                    }
                    events.push_back(run_event(event_kind::lease_recovered, run_change{.row = back}, now));
                } else {
                    auto sched = tx.load_schedule(cur.schedule);
                    if (!sched) {
                        return tl::unexpected(sched.error());
                    }
                    finish_request f;
                    f.run = cur.id;
                    f.fencing_token = cur.fencing_token;
                    f.at = now;
                    f.outcome = run_status::failed;
                    f.error_text = std::string(reasons::lease_expired);
                    f.retry_delay = *sched ? retry_for(**sched, cur.attempt) : std::nullopt;
                    f.new_run_id = make_id(id_kind::run);
                    f.dead_letter_id = make_id(id_kind::dead_letter);
                    auto done = finish_locked(tx, events, cur, f, event_kind::lease_recovered);
                    if (!done) {
                        return tl::unexpected(done.error());
                    }
                }
                ++recovered;
            }
            return recovered;
        });
    }

    /// Which id a recovery needs from make_id().
    enum class id_kind { run, dead_letter };

    // ---- reads ----------------------------------------------------------------------------

    result<std::optional<schedule>> get_schedule(std::string_view id) { return backend_.get_schedule(id); }
    result<std::optional<run>> get_run(std::string_view id) { return backend_.get_run(id); }
    result<std::vector<schedule>> due_schedules(time_point now, std::size_t limit) {
        return backend_.due_schedules(now, limit);
    }
    result<std::optional<time_point>> next_due_at() { return backend_.next_due_at(); }
    result<std::vector<run>> eligible_runs(time_point now, std::size_t limit) {
        return backend_.eligible_runs(now, limit);
    }
    result<std::optional<time_point>> next_eligible_at() { return backend_.next_eligible_at(); }

    /// The earliest instant strictly after `t` at which a waiting run becomes eligible: the
    /// dispatcher's next timed wake-up (runs eligible by `t` were considered already, and may
    /// still be waiting on their overlap policy).
    result<std::optional<time_point>> next_eligible_after(time_point t) { return backend_.next_eligible_after(t); }
    result<std::vector<run>> expired_leases(time_point now, std::size_t limit) {
        return backend_.expired_leases(now, limit);
    }
    result<std::optional<time_point>> next_lease_expiry() { return backend_.next_lease_expiry(); }
    result<page<schedule>> list_schedules(const schedule_filter& f, const page_request& p) {
        return backend_.list_schedules(f, p);
    }
    result<page<run>> list_runs(const run_filter& f, const page_request& p) { return backend_.list_runs(f, p); }
    result<std::vector<receipt>> list_receipts(std::string_view run) { return backend_.list_receipts(run); }
    result<page<dead_letter>> list_dead_letters(const dead_letter_filter& f, const page_request& p) {
        return backend_.list_dead_letters(f, p);
    }
    result<std::vector<ledger_event>> read_ledger(const ledger_query& q) { return backend_.read_ledger(q); }
    result<std::int64_t> last_seq() { return backend_.last_seq(); }
    result<store_counts> counts(time_point now) { return backend_.counts(now); }

    /// The statuses of runs that hold a slot of their schedule.
    [[nodiscard]] static std::span<const run_status> active_statuses() noexcept {
        static constexpr std::array<run_status, 2> s{run_status::claimed, run_status::running};
        return s;
    }
    /// The statuses of runs waiting for a slot.
    [[nodiscard]] static std::span<const run_status> waiting_statuses() noexcept {
        static constexpr std::array<run_status, 2> s{run_status::pending, run_status::retry_scheduled};
        return s;
    }
    /// The statuses of runs whose execution has not started: waiting, or claimed (ahead of their
    /// due time, or between a claim and its start). A cancel or a delete ends them at once.
    [[nodiscard]] static std::span<const run_status> unstarted_statuses() noexcept {
        static constexpr std::array<run_status, 3> s{run_status::pending, run_status::retry_scheduled,
                                                     run_status::claimed};
        return s;
    }

private:
    using transaction = typename Backend::transaction;

    /// Runs `body(tx, events)` in one write transaction, then appends the events it produced
    /// with the next sequence numbers and commits. Any failure rolls everything back (the
    /// transaction object's destructor), and the next sequence number is re-read from the backend.
    template <class Body>
    auto write(Body&& body) -> decltype(body(std::declval<transaction&>(), std::declval<std::vector<ledger_event>&>())) {
        std::lock_guard lock{write_mutex_};
        if (!last_seq_) {  // read before the transaction: no other writer can move it meanwhile
            auto seq = backend_.last_seq();
            if (!seq) {
                return tl::unexpected(seq.error());
            }
            last_seq_ = *seq;
        }
        auto tx = backend_.begin();
        if (!tx) {
            return tl::unexpected(tx.error());
        }
        // The list is the store's, emptied after each write but kept allocated: a planner chunk's
        // events take about 1.4 MB, which were allocated afresh for every chunk (with the planner's
        // plans kept alike, callgrind, third pass of 2,000 on SQLite: 243.0 M -> 241.4 M
        // instructions).
        const struct emptied {
            std::vector<ledger_event>& list;
            ~emptied() { list.clear(); }
        } empty_after{events_};
        auto& events = events_;
        auto out = body(*tx, events);
        if (!out) {
            return out;
        }
        std::int64_t seq = *last_seq_;
        for (auto& e : events) {
            e.seq = ++seq;
            if (auto a = tx->append(e); !a) {
                last_seq_.reset();
                return tl::unexpected(a.error());
            }
        }
        if (auto c = tx->commit(); !c) {
            last_seq_.reset();  // the commit may or may not have landed: ask the backend next time
            return tl::unexpected(c.error());
        }
        last_seq_ = seq;
        return out;
    }

    /// Whether a plan that leaves next_run_at where it was still applies: the schedule is live,
    /// enabled and at the value the plan was computed from.
    static result<bool> still_planned(transaction& tx, const schedule_plan& p) {
        auto current = tx.load_schedule(p.schedule);
        if (!current) {
            return tl::unexpected(current.error());
        }
        return *current && !(*current)->deleted && (*current)->enabled &&
               (*current)->next_run_at == p.expected_next_run_at;
    }

    static ledger_event schedule_event(event_kind kind, const schedule& s, time_point at) {
        ledger_event e;
        e.at = at;
        e.kind = kind;
        e.schedule = s.id;
        e.payload = s;
        return e;
    }

    /// Appends run_event(kind, run_change{.row = row}, at), built in its place in `events`: a
    /// planner pass writes one per occurrence, and a finished event moved into the list costs
    /// about as much as building it.
    static void add_run_event(std::vector<ledger_event>& events, event_kind kind, const run& row, time_point at) {
        auto& e = events.emplace_back();
        name_run(e, kind, row, at);
        e.payload.emplace<run_change>().row = row;
    }

    static ledger_event run_event(event_kind kind, run_change change, time_point at) {
        ledger_event e;
        name_run(e, kind, change.row, at);
        e.payload = std::move(change);
        return e;
    }

    /// The header of an event about `row`: what happened, when, and to which run of which schedule.
    static void name_run(ledger_event& e, event_kind kind, const run& row, time_point at) {
        e.at = at;
        e.kind = kind;
        e.schedule = row.schedule;
        e.run = row.id;
        e.occurrence_key = row.occurrence_key;
        e.attempt = row.attempt;
    }

    static result<void> check_name_free(transaction& tx, std::string_view name, std::string_view self) {
        auto owner = tx.live_schedule_named(name);
        if (!owner) {
            return tl::unexpected(owner.error());
        }
        if (*owner && **owner != self) {
            tl::unexpected<error> e{error{errc::conflict, "schedule name \"" + std::string(name) + "\" is taken",
                                          {{"name", "must be unique"}}}};
            return e;
        }
        return {};
    }

    static result<schedule> load_live_schedule(transaction& tx, std::string_view id) {
        auto s = tx.load_schedule(id);
        if (!s) {
            return tl::unexpected(s.error());
        }
        if (!*s || (*s)->deleted) {
            return fail(errc::not_found, "schedule \"" + std::string(id) + "\" was not found");
        }
        return **s;
    }

    static result<run> load_existing_run(transaction& tx, std::string_view id) {
        auto r = tx.load_run(id);
        if (!r) {
            return tl::unexpected(r.error());
        }
        if (!*r) {
            return fail(errc::not_found, "run \"" + std::string(id) + "\" was not found");
        }
        return **r;
    }

    /// Loads a run for a write by its lease holder: the token must be the current one and the
    /// status one of `allowed`.
    static result<run> load_fenced_run(transaction& tx, std::string_view id, std::int64_t token,
                                       std::initializer_list<run_status> allowed) {
        auto r = load_existing_run(tx, id);
        if (!r) {
            return r;
        }
        if (r->fencing_token != token) {
            return fail(errc::stale_fence, "run \"" + r->id + "\": fencing token " + std::to_string(token) +
                                               " is stale (current " + std::to_string(r->fencing_token) + ")");
        }
        for (auto s : allowed) {
            if (r->status == s) {
                return r;
            }
        }
        return fail(errc::stale_fence,
                    "run \"" + r->id + "\" is " + std::string(to_string(r->status)) + ", no longer held by a lease");
    }

    /// What a claim needs to know of a schedule's runs: the active ones and the nominal times of
    /// the waiting ones that are eligible. Loaded once per schedule per transaction and updated
    /// as the transaction claims and supersedes, so a batch of claims costs O(batch + waiting),
    /// not O(batch × waiting).
    struct slot_view {
        std::vector<run_id> active;
        std::multiset<time_point> waiting;  ///< nominal times of eligible waiting runs
        std::int64_t max_concurrency = 1;
        std::shared_ptr<const schedule> sched;  ///< null: the run's schedule does not exist
    };

    static result<slot_view*> view_of(transaction& tx, std::map<std::string, slot_view, std::less<>>& views,
                                      const run& r, time_point now) {
        if (auto it = views.find(r.schedule); it != views.end()) {
            return &it->second;
        }
        auto sched = tx.load_schedule(r.schedule);
        if (!sched) {
            return tl::unexpected(sched.error());
        }
        auto open = tx.open_runs(r.schedule);
        if (!open) {
            return tl::unexpected(open.error());
        }
        slot_view v;
        v.max_concurrency = (*sched && (*sched)->policy.max_concurrency > 0) ? (*sched)->policy.max_concurrency : 1;
        if (*sched) {
            v.sched = std::make_shared<const schedule>(*std::move(*sched));
        }
        for (auto& o : *open) {
            if (o.status == run_status::claimed || o.status == run_status::running) {
                v.active.push_back(std::move(o.id));
            } else if (o.eligible_at && *o.eligible_at <= now) {  // is_eligible() of the row
                v.waiting.insert(o.nominal_time);
            }
        }
        return &views.emplace(r.schedule, std::move(v)).first->second;
    }

    /// Claims `ids` in order inside the caller's transaction (claim_runs, claim_ahead): a run no
    /// longer waiting, not eligible by `eligible_by` or gone yields an outcome with action wait.
    template <class Decide>
    static result<std::vector<claim_outcome>> claim_each(transaction& tx, std::vector<ledger_event>& events,
                                                         std::span<const run_id> ids, std::string_view worker,
                                                         time_point now, time_point eligible_by, duration ttl,
                                                         Decide& decide, bool start) {
        std::vector<claim_outcome> out;
        out.reserve(ids.size());
        std::map<std::string, slot_view, std::less<>> views;  // per schedule, kept up to date in the batch
        for (const auto& id : ids) {
            auto one = claim_locked(tx, events, views, id, worker, now, eligible_by, ttl, decide, start);
            if (!one) {
                if (one.error().code != errc::conflict && one.error().code != errc::not_found) {
                    return tl::unexpected(one.error());
                }
                out.push_back(claim_outcome{});
                continue;
            }
            out.push_back(*std::move(one));
        }
        return out;
    }

    /// The body of a claim (see claim_run), inside the caller's transaction.
    template <class Decide>
    static result<claim_outcome> claim_locked(transaction& tx, std::vector<ledger_event>& events,
                                              std::map<std::string, slot_view, std::less<>>& views, std::string_view id,
                                              std::string_view worker, time_point now, time_point eligible_by,
                                              duration ttl, Decide&& decide, bool start) {
        auto loaded = load_existing_run(tx, id);
        if (!loaded) {
            return tl::unexpected(loaded.error());
        }
        const run& r = *loaded;
        if (!is_eligible(r, eligible_by)) {
            return fail(errc::conflict, "run \"" + r.id + "\" is not waiting to be claimed");
        }
        auto view = view_of(tx, views, r, eligible_by);
        if (!view) {
            return tl::unexpected(view.error());
        }
        slot_view& v = **view;
        overlap_state st;
        st.active = static_cast<std::int64_t>(v.active.size());
        st.max_concurrency = v.max_concurrency;
        st.retry = r.attempt > 1;
        st.newest_waiting = v.waiting.empty() || *v.waiting.rbegin() <= r.nominal_time;
        auto leave_waiting = [&] {
            if (auto it = v.waiting.find(r.nominal_time); it != v.waiting.end()) {
                v.waiting.erase(it);
            }
        };
        claim_outcome out;
        out.action = decide(r, v.sched.get(), st);
        out.sched = v.sched;
        switch (out.action) {
        case overlap_action::wait:
            break;
        case overlap_action::cancel_active:
            out.cancel = v.active;
            break;
        case overlap_action::supersede: {
            leave_waiting();
            run done = r;
            done.status = run_status::skipped;
            done.error_text = std::string(reasons::superseded);
            done.finished_at = now;
            done.updated_at = now;
            if (auto put = tx.put_run(done, r); !put) {
                return tl::unexpected(put.error());
            }
            events.push_back(run_event(event_kind::occurrence_coalesced, run_change{.row = done}, now));
            break;
        }
        case overlap_action::claim: {
            leave_waiting();
            v.active.push_back(r.id);
            run claimed = r;
            claimed.status = run_status::claimed;
            claimed.claimed_by_worker_id = std::string(worker);
            claimed.claim_expires_at = now + ttl;
            claimed.fencing_token = r.fencing_token + 1;
            claimed.updated_at = now;
            events.push_back(run_event(event_kind::run_claimed, run_change{.row = claimed}, now));
            if (start) {
                claimed.status = run_status::running;
                claimed.started_at = now;
                events.push_back(run_event(event_kind::run_started, run_change{.row = claimed}, now));
            }
            if (auto put = tx.put_run(claimed, r); !put) {
                return tl::unexpected(put.error());
            }
            out.claimed = std::move(claimed);
            break;
        }
        }
        return out;
    }

    /// The body of finish_run, shared with lease recovery.
    static result<run> finish_locked(transaction& tx, std::vector<ledger_event>& events, const run& cur,
                                     const finish_request& f, event_kind kind = event_kind::run_finished) {
        run done = cur;
        done.finished_at = f.at;
        done.updated_at = f.at;
        done.claim_expires_at.reset();
        if (f.http_status_code) {
            done.http_status_code = f.http_status_code;
        }
        if (f.exit_code) {
            done.exit_code = f.exit_code;
        }
        if (f.result_json) {
            done.result_json = f.result_json;
        }
        if (f.error_text) {
            done.error_text = f.error_text;
        }
        std::optional<run> follow_up;
        std::optional<dead_letter> letter;
        event_kind follow_kind = event_kind::retry_scheduled;
        switch (f.outcome) {
        case run_status::succeeded:
            done.status = run_status::succeeded;
            break;
        case run_status::cancelled:
            done.status = run_status::cancelled;
            if (f.requeue) {
                follow_up = next_attempt(cur, f, f.at, run_status::pending);
                follow_kind = event_kind::run_requeued;
            }
            break;
        default:
            if (f.retry_delay) {
                done.status = run_status::failed;
                follow_up = next_attempt(cur, f, f.at + *f.retry_delay, run_status::retry_scheduled);
            } else {
                done.status = run_status::dead_lettered;
                letter = dead_letter{f.dead_letter_id, cur.id,       cur.schedule, cur.occurrence_key,
                                     f.error_text.value_or("failed"), done.result_json, f.at};
            }
            break;
        }
        if (auto put = tx.put_run(done, cur); !put) {
            return tl::unexpected(put.error());
        }
        for (const auto& rc : f.receipts) {
            if (auto put = tx.put_receipt(rc); !put) {
                return tl::unexpected(put.error());
            }
        }
        run_change change{.row = done, .receipts = f.receipts};
        if (done.status == run_status::succeeded) {
            auto advanced = tx.advance_last_run_at(cur.schedule, f.at);
            if (!advanced) {
                return tl::unexpected(advanced.error());
            }
            if (*advanced) {
                change.last_run_at = f.at;
            }
        }
        events.push_back(run_event(kind, std::move(change), f.at));
        if (follow_up) {
            auto inserted = tx.insert_run(*follow_up);
            if (!inserted) {
                return tl::unexpected(inserted.error());
            }
            if (*inserted) {
                events.push_back(run_event(follow_kind, run_change{.row = *follow_up}, f.at));
            }
        }
        if (letter) {
            if (auto put = tx.put_dead_letter(*letter); !put) {
                return tl::unexpected(put.error());
            }
            ledger_event e = run_event(event_kind::dead_lettered, run_change{.row = done}, f.at);
            e.payload = *letter;
            events.push_back(std::move(e));
        }
        return done;
    }

    /// The row of the next attempt of `cur`'s occurrence, due at `due`.
    static run next_attempt(const run& cur, const finish_request& f, time_point due, run_status status) {
        run n;
        n.id = f.new_run_id;
        n.schedule = cur.schedule;
        n.occurrence_key = cur.occurrence_key;
        n.nominal_time = cur.nominal_time;
        n.due_time = due;
        n.status = status;
        n.attempt = cur.attempt + 1;
        n.trigger_reason = cur.trigger_reason;
        n.requeued_attempts = cur.requeued_attempts + (status == run_status::pending ? 1 : 0);
        if (status == run_status::retry_scheduled) {
            n.retry_available_at = due;
        }
        n.created_at = f.at;
        n.updated_at = f.at;
        return n;
    }

    Backend backend_;
    std::mutex write_mutex_;
    std::optional<std::int64_t> last_seq_;  ///< cached under write_mutex_; reset after a failure
    std::vector<ledger_event> events_;      ///< write()'s list of events, empty between writes
};

/// The store concept in domain terms: what the planner, dispatcher, daemon and tests use.
/// basic_store<B> models it for every backend B.
template <class S>
concept store = requires(S& s, const schedule& sc, const run& r, std::string_view id, time_point t,
                         std::span<const schedule_plan> plans, const finish_request& f) {
    { s.create_schedule(sc) } -> std::same_as<result<schedule>>;
    { s.update_schedule(sc) } -> std::same_as<result<schedule>>;
    { s.pause_schedule(id, t) } -> std::same_as<result<schedule>>;
    { s.resume_schedule(id, t, std::optional<time_point>{}) } -> std::same_as<result<schedule>>;
    { s.delete_schedule(id, t) } -> std::same_as<result<schedule>>;
    { s.apply_plan(plans, t) } -> std::same_as<result<plan_outcome>>;
    { s.trigger(r) } -> std::same_as<result<run>>;
    { s.start_run(id, std::int64_t{}, t) } -> std::same_as<result<run>>;
    { s.finish_run(f) } -> std::same_as<result<run>>;
    { s.get_schedule(id) } -> std::same_as<result<std::optional<schedule>>>;
    { s.get_run(id) } -> std::same_as<result<std::optional<run>>>;
    { s.due_schedules(t, std::size_t{}) } -> std::same_as<result<std::vector<schedule>>>;
    { s.next_due_at() } -> std::same_as<result<std::optional<time_point>>>;
    { s.read_ledger(ledger_query{}) } -> std::same_as<result<std::vector<ledger_event>>>;
};

}  // namespace wakeplane
