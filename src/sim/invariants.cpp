// The invariant checker.
#include "invariants.hpp"

#include <algorithm>
#include <variant>

#include <wakeplane/cadence.hpp>
#include <wakeplane/planner.hpp>  // detail::stable_hash

#include "prng.hpp"

namespace wakeplane::sim {
namespace {

/// Far more occurrences than any pass of the workload plans: a walk that goes on longer is a bug.
constexpr std::size_t max_pass_occurrences = 500'000;

[[nodiscard]] bool is_active(run_status s) noexcept {
    return s == run_status::claimed || s == run_status::running;
}

[[nodiscard]] bool is_waiting(run_status s) noexcept {
    return s == run_status::pending || s == run_status::retry_scheduled;
}

[[nodiscard]] std::string describe(const run& r) {
    return "run " + r.id + " (" + r.occurrence_key + " attempt " + std::to_string(r.attempt) + ", " +
           std::string(to_string(r.status)) + ", token " + std::to_string(r.fencing_token) + ")";
}

/// The first of `ids` whose row in `shadow` (the ledger's) and in the store (`stored_of`)
/// encode differently, described; nullopt when all agree.
template <class Map, class Lookup, class Encode>
[[nodiscard]] std::optional<std::string> first_difference(std::string_view what, const std::set<std::string>& ids,
                                                          const Map& shadow, const Lookup& stored_of, Encode encode) {
    for (const auto& id : ids) {
        const auto stored = stored_of(id);
        const auto replayed = encode(shadow.at(id));
        if (!stored || encode(*stored) != replayed) {
            return std::string(what) + " " + id + ": the ledger gives " + replayed + ", the store holds " +
                   (stored ? encode(*stored) : std::string("nothing"));
        }
    }
    return std::nullopt;
}

[[nodiscard]] std::string text(const std::optional<time_point>& t) {
    return t ? format_rfc3339(*t) : std::string("none");
}

}  // namespace

std::uint64_t invariant_checker::digest_of(std::span<const ledger_event> events, std::uint64_t from) {
    for (const auto& e : events) {
        from = mix64(from ^ detail::stable_hash(encode_event(e)));
    }
    return from;
}

void invariant_checker::fail(std::string invariant, std::string message) {
    if (!failure_) {
        failure_ = violation{std::move(invariant), std::move(message)};
    }
}

const run* invariant_checker::shadow_run(const std::string& id) const {
    auto it = runs_.find(id);
    return it == runs_.end() ? nullptr : &it->second;
}

std::size_t invariant_checker::active_runs(const std::string& schedule) const {
    auto it = active_.find(schedule);
    return it == active_.end() ? 0 : it->second.size();
}

void invariant_checker::observe(std::span<const ledger_event> events) {
    for (const auto& e : events) {
        if (e.seq != last_seq_ + 1) {
            fail("ledger is gapless", "after seq " + std::to_string(last_seq_) + " came seq " + std::to_string(e.seq));
        }
        last_seq_ = e.seq;
        digest_ = digest_of(std::span{&e, 1}, digest_);
        recent_.push_back(e);
        if (recent_.size() > 12) {
            recent_.pop_front();
        }
        observe_one(e);
    }
}

void invariant_checker::observe_one(const ledger_event& e) {
    std::visit(
        [&](const auto& p) {
            using P = std::decay_t<decltype(p)>;
            if constexpr (std::is_same_v<P, schedule>) {
                on_schedule(e, p);
            } else if constexpr (std::is_same_v<P, next_run_change>) {
                on_planned(e, p);
            } else if constexpr (std::is_same_v<P, run_change>) {
                on_run_change(e, p);
                if (p.schedule_after) {
                    schedules_[p.schedule_after->id] = *p.schedule_after;
                    touched_schedules_.insert(p.schedule_after->id);
                }
                if (p.last_run_at) {
                    if (auto known = schedules_.find(e.schedule); known != schedules_.end()) {
                        known->second.last_run_at = p.last_run_at;
                        touched_schedules_.insert(e.schedule);
                    }
                }
                if (p.next_run) {
                    on_planned(e, *p.next_run);  // the pass's last run, already in its batch
                }
            } else if constexpr (std::is_same_v<P, skipped_summary>) {
                auto& b = batches_[e.schedule];
                b.at = e.at;
                b.summary = p;
            }
        },
        e.payload);
}

void invariant_checker::on_planned(const ledger_event& e, const next_run_change& change) {
    auto known = schedules_.find(e.schedule);
    if (known == schedules_.end()) {
        fail("the ledger only grows", "event " + std::to_string(e.seq) + " plans unknown schedule " + e.schedule);
        return;
    }
    schedule planned = known->second;
    planned.next_run_at = change.next_run_at;
    check_plan(known->second, planned, batches_[e.schedule], e.at);
    batches_.erase(e.schedule);
    known->second = std::move(planned);
    touched_schedules_.insert(e.schedule);
}

void invariant_checker::on_schedule(const ledger_event& e, const schedule& s) {
    auto prev = schedules_.find(s.id);
    if (prev != schedules_.end()) {
        const schedule& before = prev->second;
        if (e.kind == event_kind::schedule_planned) {
            check_plan(before, s, batches_[s.id], e.at);
        } else if (e.kind == event_kind::schedule_updated && before.next_run_at && *before.next_run_at <= e.at &&
                   s.next_run_at != before.next_run_at) {
            fail("edits drop nothing due", "schedule " + s.id + " was edited at " + format_rfc3339(e.at) +
                                               " and its due next_run_at " + text(before.next_run_at) +
                                               " moved to " + text(s.next_run_at));
        }
    }
    batches_.erase(s.id);
    schedules_[s.id] = s;
    touched_schedules_.insert(s.id);
}

void invariant_checker::on_run_change(const ledger_event& e, const run_change& change) {
    const run& row = change.row;
    auto it = runs_.find(row.id);
    const run* prev = it == runs_.end() ? nullptr : &it->second;
    const std::string kind{to_string(e.kind)};
    if (prev != nullptr && is_terminal(prev->status)) {
        fail("a terminal status is final", kind + " changed " + describe(*prev) + " to " + describe(row));
        return;
    }
    switch (e.kind) {
    case event_kind::occurrence_materialized:
    case event_kind::occurrence_skipped:
        if (prev != nullptr || row.attempt != 1) {
            fail("every occurrence accounted once", kind + " rewrote " + describe(row));
        } else if (!occurrence_rows_.insert(row.occurrence_key).second) {
            fail("every occurrence accounted once", "occurrence " + row.occurrence_key + " was written twice");
        } else {
            auto& b = batches_[row.schedule];
            b.at = e.at;
            b.rows.push_back(row);
        }
        break;
    case event_kind::run_triggered:
    case event_kind::retry_scheduled:
    case event_kind::run_requeued:
        if (prev != nullptr) {
            fail("fencing and state machine", kind + " rewrote " + describe(*prev));
        }
        break;
    case event_kind::run_claimed:
        if (prev == nullptr) {
            fail("fencing and state machine", "claim of unknown " + describe(row));
        } else {
            check_claim(e, *prev, row);
        }
        break;
    case event_kind::occurrence_coalesced: {
        const auto& policy = schedules_[row.schedule].policy.overlap;
        if (prev == nullptr || !is_waiting(prev->status) || row.attempt != 1 ||
            (policy != "queue_latest" && policy != "replace")) {
            fail("overlap policy", "superseded " + describe(row) + " under overlap " + policy);
        }
        break;
    }
    default:  // started, renewed, finished, recovered: the lease holder's writes
        if (prev == nullptr) {
            fail("fencing and state machine", kind + " of unknown " + describe(row));
        } else if (is_active(prev->status) && row.fencing_token != prev->fencing_token) {
            fail("a stale fencing token never changes a run",
                 kind + " wrote " + describe(row) + " over " + describe(*prev));
        } else if (!is_active(prev->status) && e.kind != event_kind::run_finished) {
            fail("fencing and state machine", kind + " on " + describe(*prev) + " which holds no lease");
        }
        break;
    }
    if (prev != nullptr && e.kind != event_kind::run_claimed && row.fencing_token != prev->fencing_token) {
        fail("a stale fencing token never changes a run", kind + " moved the token of " + describe(*prev));
    }
    set_run(row);
}

void invariant_checker::check_claim(const ledger_event& e, const run& prev, const run& row) {
    if (!is_waiting(prev.status) || row.fencing_token != prev.fencing_token + 1) {
        fail("fencing and state machine", "claim of " + describe(prev) + " gave " + describe(row));
        return;
    }
    claims_.emplace(row.id, row.fencing_token);
    if (const auto from = eligible_from(prev); from && e.at < *from) {
        ++claims_ahead_;
    }
    const schedule& s = schedules_[row.schedule];
    const auto active = active_runs(row.schedule);
    const auto max_concurrency = static_cast<std::size_t>(s.policy.max_concurrency > 0 ? s.policy.max_concurrency : 1);
    const bool forbid = s.policy.overlap == "forbid";
    if ((forbid && active != 0) || active >= max_concurrency) {
        fail("overlap policy", "claimed " + describe(row) + " with " + std::to_string(active) +
                                   " runs active under " + s.policy.overlap + ", max_concurrency " +
                                   std::to_string(max_concurrency));
    }
    const auto timeout = std::chrono::seconds{s.policy.timeout_seconds > 0 ? s.policy.timeout_seconds : 300};
    leases_[row.id] = lease_clock{e.at, timeout, excused_};
}

void invariant_checker::set_run(const run& row) {
    runs_[row.id] = row;
    touched_runs_.insert(row.id);
    if (is_active(row.status)) {
        active_[row.schedule].insert(row.id);
    } else {
        active_[row.schedule].erase(row.id);
        leases_.erase(row.id);
    }
}

void invariant_checker::check_plan(const schedule& before, const schedule& after, const plan_batch& batch,
                                   time_point at) {
    if (!before.next_run_at) {
        return;
    }
    auto c = cadence_of(before);
    if (!c) {
        return;  // parked by the planner with a summary that says why
    }
    // The planner walks from next_run_at (itself an occurrence, possibly of an edited-away
    // cadence) through every occurrence up to the pass plus its lookahead.
    std::vector<time_point> expected;
    std::optional<time_point> t = before.next_run_at;
    while (t && *t <= at + limits_.lookahead && expected.size() < max_pass_occurrences) {
        expected.push_back(*t);
        t = next_after(*c, *t);
    }
    const std::string who = "schedule " + before.id + " planned at " + format_rfc3339(at) + ": ";
    if (after.next_run_at != t) {
        fail("every occurrence accounted once",
             who + "next_run_at moved to " + text(after.next_run_at) + ", the next occurrence is " + text(t));
        return;
    }
    std::set<time_point> listed;
    for (const auto& r : batch.rows) {
        listed.insert(r.nominal_time);
        if (!std::binary_search(expected.begin(), expected.end(), r.nominal_time)) {
            fail("every occurrence accounted once", who + "wrote " + describe(r) + ", not a due occurrence");
            return;
        }
    }
    std::size_t summarized = 0;
    bool preexisting = false;
    for (auto nominal : expected) {
        const bool in_summary = batch.summary && batch.summary->first <= nominal && nominal <= batch.summary->last;
        summarized += in_summary ? 1 : 0;
        if (listed.contains(nominal) || in_summary) {
            continue;
        }
        if (!occurrence_rows_.contains(occurrence_key(before.id, nominal))) {
            fail("every occurrence accounted once", who + "occurrence " + format_rfc3339(nominal) +
                                                        " was neither run, skipped nor summarized");
            return;
        }
        preexisting = true;
    }
    if (batch.summary && static_cast<std::int64_t>(summarized) != batch.summary->count) {
        fail("every occurrence accounted once", who + "summary counts " + std::to_string(batch.summary->count) +
                                                    " occurrences, its range holds " + std::to_string(summarized));
        return;
    }
    if (preexisting) {
        return;  // a repeated pass: the misfire decision covered rows written before
    }
    // Misfire (DECISIONS 8, 9): punctual occurrences run; of the listed missed ones, skip runs
    // none, run_once_if_late the newest, catch_up all (the listing is bounded by its limit).
    const auto grace = std::chrono::seconds{before.policy.misfire_grace_seconds > 0 ? before.policy.misfire_grace_seconds : 60};
    std::vector<const run*> missed;
    for (const auto& r : batch.rows) {
        if (r.nominal_time < at - grace) {
            missed.push_back(&r);
        } else if (r.status != run_status::pending) {
            fail("misfire policy", who + "punctual " + describe(r) + " did not run");
            return;
        }
    }
    std::sort(missed.begin(), missed.end(), [](const run* a, const run* b) { return a->nominal_time < b->nominal_time; });
    const auto& policy = before.policy.misfire;
    const std::size_t runs = policy == "catch_up" ? missed.size() : policy == "run_once_if_late" ? std::min<std::size_t>(1, missed.size()) : 0;
    for (std::size_t i = 0; i < missed.size(); ++i) {
        const bool should_run = i >= missed.size() - runs;
        if ((missed[i]->status == run_status::pending) != should_run) {
            fail("misfire policy", who + "under " + policy + ", missed " + describe(*missed[i]) +
                                       (should_run ? " should run" : " should be skipped"));
            return;
        }
    }
}

void invariant_checker::observe_execution(const execution_record& e) {
    auto [it, fresh] = executed_.emplace(std::pair{e.occurrence_key, e.attempt}, e.run);
    if (!fresh) {
        fail("never two executions of one (occurrence key, attempt)",
             "occurrence " + e.occurrence_key + " attempt " + std::to_string(e.attempt) + " executed twice (run " +
                 it->second + ", then run " + e.run + " by " + e.worker + ")");
    }
    const auto& s = e.stored;
    if (!s || s->status != run_status::running || s->fencing_token != e.fencing_token ||
        s->claimed_by_worker_id != e.worker) {
        fail("no execution without a durable claim",
             "run " + e.run + " token " + std::to_string(e.fencing_token) + " started by " + e.worker +
                 " while the store held " + (s ? describe(*s) : std::string("no such run")));
    } else if (!claims_.contains({e.run, e.fencing_token})) {
        fail("no execution without a durable claim",
             "run " + e.run + " token " + std::to_string(e.fencing_token) + " executed without a claim in the ledger");
    }
}

void invariant_checker::check_rows(const std::function<std::optional<run>(std::string_view)>& run_of,
                                   const std::function<std::optional<schedule>(std::string_view)>& schedule_of,
                                   bool all) {
    if (all) {
        for (const auto& [id, r] : runs_) {
            touched_runs_.insert(id);
        }
        for (const auto& [id, s] : schedules_) {
            touched_schedules_.insert(id);
        }
    }
    if (auto m = first_difference("run", touched_runs_, runs_, run_of, encode_run_record)) {
        fail("replaying the ledger reproduces the projection", *m);
    }
    if (auto m = first_difference("schedule", touched_schedules_, schedules_, schedule_of, encode_schedule_record)) {
        fail("replaying the ledger reproduces the projection", *m);
    }
    touched_runs_.clear();
    touched_schedules_.clear();
}

void invariant_checker::check_horizons(time_point now) {
    for (const auto& [id, lc] : leases_) {
        // A run claimed ahead (by at most the planner's lookahead, capped at a quarter of the
        // lease) starts that much after its claim.
        const auto ahead = std::min(limits_.lookahead, limits_.lease_ttl / 4);
        const auto horizon = ahead + lc.timeout + limits_.stop_grace + limits_.lease_ttl + limits_.lease_ttl / 2 +
                             (excused_ - lc.excused_at_claim);
        if (now > lc.claimed_at + horizon) {
            fail("no run outlives its lease horizon",
                 describe(runs_.at(id)) + " claimed at " + format_rfc3339(lc.claimed_at) + " is still active at " +
                     format_rfc3339(now) + " (horizon " +
                     std::to_string(std::chrono::duration_cast<std::chrono::seconds>(horizon).count()) + "s)");
            return;
        }
    }
}

}  // namespace wakeplane::sim
