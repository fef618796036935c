// The planner: turns due occurrences into durable run rows, applying the misfire policy.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include <wakeplane/cadence.hpp>
#include <wakeplane/clock.hpp>
#include <wakeplane/ids.hpp>
#include <wakeplane/model.hpp>
#include <wakeplane/policy/set.hpp>
#include <wakeplane/store.hpp>

namespace wakeplane {

/// Tuning of a planner. The defaults suit the daemon.
struct planner_options {
    /// Schedules planned per store transaction. One pass walks every due schedule in chunks,
    /// so a pass after an outage writes in bounded transactions.
    std::size_t chunk = 512;
    /// Chunks per pass at most; what is left is due again at the next pass (next_wakeup() = now).
    std::size_t max_chunks = 64;
    /// How long before its nominal time an occurrence is materialized. A pending run is not
    /// claimable before its due time, so this changes nothing about when work starts; it moves
    /// the pass's writes off the moment many schedules fall due at once (every "0 * * * *" cron
    /// of a fleet), which is then left to the claims alone. The price: a pause or an edit that
    /// lands inside the window no longer stops an occurrence already materialized (runs already
    /// queued still execute, DECISIONS 11; cancel one with POST /v1/runs/{id}/cancel); a delete
    /// still cancels it with the schedule's other waiting runs. Zero (the default) materializes
    /// an occurrence only once it is due.
    duration lookahead{0};
};

/// What one pass did, for logs, status and tests.
struct plan_report {
    time_point at{};
    std::size_t schedules = 0;     ///< schedules planned
    std::size_t materialized = 0;  ///< pending runs written
    std::size_t skipped = 0;       ///< skipped runs written
    std::size_t summarized = 0;    ///< skipped occurrences folded into summary events
    std::size_t duplicates = 0;    ///< occurrences that were already materialized
    std::size_t stale = 0;         ///< schedules edited meanwhile; planned again next pass
    bool more = false;             ///< the pass stopped at max_chunks with schedules still due
};

namespace detail {

/// FNV-1a: a stable 64-bit hash, the same on every platform and in every run, so the jitter of
/// an occurrence is the same when a pass is repeated or the ledger is replayed.
[[nodiscard]] constexpr std::uint64_t stable_hash(std::string_view s) noexcept {
    std::uint64_t h = 14695981039346656037ULL;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

}  // namespace detail

/// The deterministic delay added to an occurrence's due time (DECISIONS 12): a hash of its
/// occurrence key mapped into [0, jitter_seconds) with microsecond resolution.
/// Example: with jitter_seconds = 30 every occurrence is due 0 to 29.999999 s after its nominal time.
[[nodiscard]] inline duration jitter_for(std::string_view occurrence_key, std::int64_t jitter_seconds) noexcept {
    if (jitter_seconds <= 0) {
        return duration{0};
    }
    const auto span = static_cast<std::uint64_t>(jitter_seconds) * 1'000'000ULL;
    return duration{static_cast<std::int64_t>(detail::stable_hash(occurrence_key) % span)};
}

/// The reason a missed occurrence was not run, per misfire policy (the original's texts for its
/// two policies; catch_up only skips what exceeds its limit).
[[nodiscard]] inline std::string_view skip_reason(std::string_view misfire) {
    if (misfire == "run_once_if_late") {
        return "skipped due to run_once_if_late policy";
    }
    if (misfire == "catch_up") {
        return "skipped due to catch_up_limit";
    }
    return "skipped due to misfire policy";
}

/// Occurrences of one schedule that fell due by `now` (or fall due by the planning horizon),
/// split for the misfire decision.
struct due_occurrences {
    std::vector<time_point> missed;        ///< later than the grace window, oldest first (listed)
    std::vector<time_point> punctual;      ///< within the grace window or still ahead: always run (DECISIONS 8)
    std::optional<time_point> next;        ///< the first occurrence after the horizon
    std::int64_t unlisted = 0;             ///< missed occurrences older than `missed` (not listed)
    std::optional<time_point> unlisted_first, unlisted_last;
};

/// Collects the occurrences of `c` in [from, horizon] (from = the schedule's next_run_at, an
/// occurrence itself; horizon = now + the planner's lookahead), judging lateness at `now`,
/// keeping at most `keep` of the newest missed ones in the list and only counting the older
/// ones, so memory stays bounded after any outage. For an interval the count is arithmetic;
/// other cadences are walked.
[[nodiscard]] inline due_occurrences collect_due(const cadence& c, time_point from, time_point now, time_point horizon,
                                                 duration grace, std::size_t keep) {
    due_occurrences out;
    const time_point missed_before = now - grace;  // nominal < missed_before: missed
    auto push_missed = [&](time_point t) {
        out.missed.push_back(t);
        if (out.missed.size() > keep) {  // fold the oldest listed one into the count
            const auto oldest = out.missed.front();
            out.missed.erase(out.missed.begin());
            if (out.unlisted == 0) {
                out.unlisted_first = oldest;
            }
            out.unlisted_last = oldest;
            ++out.unlisted;
        }
    };
    std::optional<time_point> t = from;
    if (const auto* iv = std::get_if<interval_cadence>(&c.kind); iv && iv->every > duration{0} && from < missed_before) {
        // Jump over the bulk of a long gap: only the newest `keep` missed occurrences are listed.
        // `from` may lie off the grid: an edit keeps a due next_run_at of the previous cadence
        // (DECISIONS 11). It is then one occurrence of its own, and the grid starts after it.
        const bool on_grid = (from - iv->anchor) % iv->every == duration{0};
        const std::int64_t lone = on_grid ? 0 : 1;
        const auto grid = on_grid ? std::optional<time_point>{from} : next_after(c, from);
        const auto on_grid_missed =
            grid && *grid < missed_before ? (missed_before - duration{1} - *grid) / iv->every + 1 : 0;
        const auto skip_count =
            std::max<std::int64_t>(0, lone + on_grid_missed - static_cast<std::int64_t>(keep));
        if (skip_count > 0) {
            out.unlisted = skip_count;
            out.unlisted_first = from;
            out.unlisted_last = skip_count == lone ? from : *grid + (skip_count - lone - 1) * iv->every;
            t = *grid + (skip_count - lone) * iv->every;
            if (c.limits.end_at && *t > *c.limits.end_at) {
                // Bounds cut the grid short: recount exactly from the start instead.
                out = due_occurrences{};
                t = from;
            }
        }
    }
    while (t && *t <= horizon) {
        if (*t < missed_before) {
            push_missed(*t);
        } else {
            out.punctual.push_back(*t);
        }
        t = next_after(c, *t);
    }
    out.next = t;
    return out;
}

/// The planner (ARCHITECTURE "The flow", step 2). One pass (plan()) reads the clock once,
/// finds the schedules due by then through the store's next_run_at index (O(due)), computes
/// their occurrences, applies the misfire policy and writes the result chunk by chunk, one
/// transaction each. It never sleeps and never dispatches: next_wakeup() tells its host when
/// to call it again.
///
/// Misfire semantics (DECISIONS 8-10): an occurrence first seen more than
/// `policy.misfire_grace_seconds` after its nominal time is missed; punctual ones always run.
/// The schedule's misfire policy picks which missed ones run; the others are written as skipped
/// rows with a reason, at most `catch_up_limit` per schedule per pass, and one summary event
/// counts the rest. Re-planning the same occurrences (after a crash) writes nothing twice.
template <store Store, clock Clock, class MisfireSet = misfire::all>
class planner {
public:
    planner(Store& store, const Clock& clock, id_generator& ids, planner_options options = {})
        : store_(&store), clock_(&clock), ids_(&ids), options_(options) {}

    /// One pass at the clock's current time.
    result<plan_report> plan() {
        plan_report report;
        report.at = clock_->now();
        const time_point horizon = report.at + options_.lookahead;
        for (std::size_t chunk = 0; chunk < options_.max_chunks; ++chunk) {
            auto due = store_->due_schedules(horizon, options_.chunk);
            if (!due) {
                return tl::unexpected(due.error());
            }
            if (due->empty()) {
                return report;
            }
            // Kept allocated from chunk to chunk, as the store keeps its list of events (write()).
            auto& plans = plans_;
            plans.clear();
            plans.reserve(due->size());
            for (const auto& s : *due) {
                plans.push_back(plan_schedule(s, report.at, horizon, report));
            }
            auto outcome = store_->apply_plan(plans, report.at);
            const std::size_t planned = plans.size();
            plans.clear();
            if (!outcome) {
                return tl::unexpected(outcome.error());
            }
            report.schedules += planned - outcome->stale;
            report.materialized += outcome->materialized;
            report.skipped += outcome->skipped;
            report.duplicates += outcome->duplicates;
            report.stale += outcome->stale;
            if (due->size() < options_.chunk) {
                return report;
            }
        }
        report.more = true;
        return report;
    }

    /// When the next occurrence is to be planned (the earliest next_run_at of an enabled
    /// schedule, less the lookahead), or nullopt when nothing is scheduled. A host sleeps until
    /// then, or until a schedule changes.
    result<std::optional<time_point>> next_wakeup() {
        auto due = store_->next_due_at();
        if (due && *due) {
            **due -= options_.lookahead;
        }
        return due;
    }

private:
    /// The plan of one due schedule at `now`, up to `horizon`.
    schedule_plan plan_schedule(const schedule& s, time_point now, time_point horizon, plan_report& report) {
        schedule_plan p;
        p.schedule = s.id;
        p.expected_next_run_at = s.next_run_at;
        auto c = cadence_for(s);
        if (!c) {
            // A cadence that cannot be computed any more (a zone gone from the tz database):
            // park the schedule instead of retrying it on every pass, and say why in the ledger.
            p.next_run_at.reset();
            p.summary = skipped_summary{0, *s.next_run_at, *s.next_run_at,
                                        "cannot compute occurrences: " + c.error().message};
            return p;
        }
        const auto grace = std::chrono::seconds{s.policy.misfire_grace_seconds > 0 ? s.policy.misfire_grace_seconds : 60};
        const auto limit = static_cast<std::size_t>(s.policy.catch_up_limit > 0 ? s.policy.catch_up_limit : 100);
        auto due = collect_due(**c, *s.next_run_at, now, horizon, grace, limit);
        p.next_run_at = due.next;

        auto policy = MisfireSet::resolve(s.policy.misfire, s.policy);
        const missed all_missed{due.missed};
        const missed to_run = policy ? std::visit([&](const auto& m) { return m.select(all_missed); }, *policy)
                                     : missed{};  // a policy outside the set runs nothing missed
        const std::string_view reason = skip_reason(s.policy.misfire);
        for (auto t : due.missed) {
            const bool runs = std::find(to_run.begin(), to_run.end(), t) != to_run.end();
            p.runs.push_back(make_run(s, t, now, runs ? run_status::pending : run_status::skipped, reason));
        }
        for (auto t : due.punctual) {
            p.runs.push_back(make_run(s, t, now, run_status::pending, reason));
        }
        if (due.unlisted > 0) {
            p.summary = skipped_summary{due.unlisted, *due.unlisted_first, *due.unlisted_last, std::string(reason)};
            report.summarized += static_cast<std::size_t>(due.unlisted);
        }
        return p;
    }

    run make_run(const schedule& s, time_point nominal, time_point now, run_status status, std::string_view reason) {
        run r;
        r.id = ids_->next(id_prefix::run, now);
        r.schedule = s.id;
        r.occurrence_key = occurrence_key(s.id, nominal);
        r.nominal_time = nominal;
        r.due_time = nominal + jitter_for(r.occurrence_key, s.policy.jitter_seconds);
        r.status = status;
        r.attempt = 1;
        if (status == run_status::skipped) {
            r.error_text = std::string(reason);
            r.finished_at = now;
        }
        r.created_at = now;
        r.updated_at = now;
        return r;
    }

    /// The cadence of `s`. A cron cadence is cached per schedule until the schedule changes
    /// (updated_at moves), because parsing the expression and locating its zone on every pass is
    /// wasted work. An interval or once cadence is a few instants, cheaper to build than to find
    /// in a map of a fleet's size, and a process's first pass filled that map with every one
    /// (callgrind, a first pass of 2,000 interval schedules on SQLite: 234.0 M -> 232.1 M
    /// instructions): it is built into scratch_, valid until the next call.
    result<const cadence*> cadence_for(const schedule& s) {
        if (s.spec.kind != "cron") {
            auto c = cadence_of(s);
            if (!c) {
                return tl::unexpected(c.error());
            }
            scratch_ = *std::move(c);
            return &scratch_;
        }
        auto it = cache_.find(s.id);
        if (it != cache_.end() && it->second.updated_at == s.updated_at) {
            return &it->second.value;
        }
        auto c = cadence_of(s);
        if (!c) {
            return tl::unexpected(c.error());
        }
        if (cache_.size() > 100'000) {  // bounded: a cache, not a copy of the store
            cache_.clear();
        }
        auto& slot = cache_[s.id];
        slot = cached{s.updated_at, *std::move(c)};
        return &slot.value;
    }

    struct cached {
        time_point updated_at{};
        cadence value;
    };

    Store* store_;
    const Clock* clock_;
    id_generator* ids_;
    planner_options options_;
    std::unordered_map<std::string, cached> cache_;  ///< cron cadences by schedule id
    cadence scratch_;                                ///< the last cadence built uncached
    std::vector<schedule_plan> plans_;               ///< a chunk's plans, empty between chunks
};

}  // namespace wakeplane
