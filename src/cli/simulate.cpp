// `wakeplane simulate`: drives the real scheduler on a manual clock through an outage and edits,
// then reads back from the ledger what became of every occurrence.
#include "simulate.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <stop_token>

#include <nlohmann/json.hpp>

#include <wakeplane/clock.hpp>
#include <wakeplane/executor.hpp>
#include <wakeplane/ledger.hpp>
#include <wakeplane/manifest.hpp>
#include <wakeplane/scheduler.hpp>
#include <wakeplane/stores/memory.hpp>
#include <wakeplane/testing/run_until.hpp>

#include "preview.hpp"

namespace wakeplane::cli {
namespace {

using sim_scheduler = default_scheduler<stores::memory_store, manual_clock>;

/// How many occurrences the default report shows on each side of the disturbances.
constexpr std::size_t context_occurrences = 3;

// ---- the simulated process ----------------------------------------------------------------

/// Work that succeeds after `takes` of simulated time, whatever the target: the simulation
/// is about when things run, not what they do. It sleeps on the manual clock, so timeouts,
/// overlap and lease renewals see it take that long; a stop request (timeout, `replace`, the
/// process going down) ends it at once, unfinished.
struct simulated_work {
    manual_clock clock;
    duration takes{0};

    [[nodiscard]] execution_result execute(const target_spec& /*target*/, const run_context& ctx) const {
        execution_result r;
        r.ok = clock.sleep_until(clock.now() + takes, ctx.stop);
        if (!r.ok) {
            r.error_text = "stopped";
        }
        return r;
    }
};

// One executor type per target kind: the registry files executors under their static `kind`.
struct simulated_http : simulated_work {
    static constexpr std::string_view kind = "http";
};
struct simulated_shell : simulated_work {
    static constexpr std::string_view kind = "shell";
};
struct simulated_workflow : simulated_work {
    static constexpr std::string_view kind = "workflow";
};

/// A scheduler process over the shared store state: the first at `from`, another one after the
/// outage, as a restarted daemon opens its database again. Each gets its own id seed so that
/// the ids of the two processes never collide.
std::unique_ptr<sim_scheduler> start_process(const std::shared_ptr<stores::memory_state>& state,
                                             const manual_clock& clock, duration work, std::uint64_t seed) {
    auto executors = std::make_shared<executor_registry>();
    executors->add(simulated_http{{clock, work}});
    executors->add(simulated_shell{{clock, work}});
    executors->add(simulated_workflow{{clock, work}});
    scheduler_options options;
    options.id_seed = seed;
    options.dispatching.worker_id = "wakeplane-simulate:" + std::to_string(seed);
    return std::make_unique<sim_scheduler>(stores::memory_store{stores::memory_backend{state}}, clock,
                                           std::move(executors), options);
}

/// A scheduler process stopping abruptly (a crash or a kill): executions in flight are asked to
/// stop and write nothing; their leases expire and the next process recovers them. Returns once
/// no simulated work sleeps on the clock any more, so that the next process's driver counts only
/// its own sleepers.
void stop_process(std::unique_ptr<sim_scheduler>& process, const manual_clock& clock) {
    process.reset();
    clock.wait_until([](std::size_t sleeping) { return sleeping == 0; });
}

/// Runs `process` up to just before `t`, so that whatever happens at `t` (an edit, the outage)
/// comes before the scheduler's own step at that instant, then moves the clock to `t`.
result<void> run_up_to(sim_scheduler& process, time_point t) {
    // run_until always takes one step first: at `t` itself that step would come before the change.
    if (process.clock().now() >= t) {
        return {};
    }
    if (auto r = testing::run_until(process, t - duration{1}); !r) {
        return tl::unexpected(r.error());
    }
    process.clock().set(t);
    return {};
}

/// `e` as one message that names the manifest: validation details are listed without it, while
/// load_manifest()'s other messages start with the path already.
error in_manifest(const std::filesystem::path& path, error e) {
    if (e.details.empty()) {
        return e;
    }
    return error{e.code, path.string() + ": " + one_line(e), {}};
}

/// The manifest at `path`, decoded; every error names the file.
result<schedule_input> read_manifest(const std::filesystem::path& path) {
    auto input = load_manifest(path);
    if (!input) {
        return tl::unexpected(in_manifest(path, std::move(input).error()));
    }
    return input;
}

/// Something that happens at an instant of the simulation.
struct disturbance {
    enum class kind { outage_start, outage_end, edit } what;
    time_point at{};
    std::size_t edit = 0;  ///< index into the loaded edits
};

/// The outage and the edits in the order they happen; at one instant the process restarts
/// before an edit is applied.
std::vector<disturbance> timeline(const simulate_request& req) {
    std::vector<disturbance> out;
    if (req.outage) {
        out.push_back({disturbance::kind::outage_start, req.outage->from});
        out.push_back({disturbance::kind::outage_end, req.outage->to});
    }
    for (std::size_t i = 0; i < req.edits.size(); ++i) {
        out.push_back({disturbance::kind::edit, req.edits[i].at, i});
    }
    std::stable_sort(out.begin(), out.end(), [](const disturbance& a, const disturbance& b) { return a.at < b.at; });
    return out;
}

// ---- reading the account back ---------------------------------------------------------------

/// Every ledger event of schedule `id`, oldest first.
result<std::vector<ledger_event>> ledger_of(stores::memory_store& store, const schedule_id& id) {
    std::vector<ledger_event> all;
    ledger_query q;
    q.schedule = id;
    q.limit = 1000;
    for (;;) {
        auto page = store.read_ledger(q);
        if (!page) {
            return tl::unexpected(page.error());
        }
        if (page->empty()) {
            return all;
        }
        q.after = page->back().seq;
        all.insert(all.end(), std::make_move_iterator(page->begin()), std::make_move_iterator(page->end()));
    }
}

/// The schedule as it was at `t`: the newest version written at or before it.
const schedule& version_at(const std::vector<std::pair<time_point, schedule>>& versions, time_point t) {
    auto it = std::upper_bound(versions.begin(), versions.end(), t,
                               [](time_point x, const auto& v) { return x < v.first; });
    return it == versions.begin() ? versions.front().second : std::prev(it)->second;
}

/// What the rows of one occurrence's attempts say: the first attempt tells when it was planned,
/// the last one how it ended.
occurrence_account account_of(const std::vector<const run*>& attempts,
                              const std::vector<std::pair<time_point, schedule>>& versions) {
    const run& first = *attempts.front();
    const run& last = *attempts.back();
    occurrence_account a;
    a.nominal = first.nominal_time;
    a.planned_at = first.created_at;
    a.due = first.due_time;
    a.started_at = last.started_at;
    a.finished_at = last.finished_at;
    a.attempts = last.attempt;
    a.status = last.status;
    a.reason = last.error_text.value_or("");
    if (attempts.size() > 1) {
        a.earlier_error = attempts[attempts.size() - 2]->error_text.value_or("");
    }
    a.policy = version_at(versions, first.created_at).policy;
    switch (last.status) {
    case run_status::succeeded:
        a.what = occurrence_account::fate::ran;
        break;
    case run_status::failed:
    case run_status::dead_lettered:
        a.what = occurrence_account::fate::failed;
        break;
    case run_status::cancelled:
        a.what = occurrence_account::fate::cancelled;
        break;
    case run_status::skipped:
        a.what = a.reason == reasons::superseded ? occurrence_account::fate::coalesced : occurrence_account::fate::skipped;
        break;
    default:
        a.what = occurrence_account::fate::open;
        break;
    }
    return a;
}

/// A coalesced occurrence gave way to a newer waiting one; the chain of such hand-overs ends at
/// the first later occurrence that was not itself superseded.
void link_coalesced(std::vector<occurrence_account>& occurrences) {
    using fate = occurrence_account::fate;
    std::optional<time_point> successor;
    for (auto it = occurrences.rbegin(); it != occurrences.rend(); ++it) {
        if (it->what == fate::coalesced) {
            it->into = successor;
        } else if (it->what != fate::summarized) {
            successor = it->nominal;
        }
    }
}

/// Rebuilds, from the ledger alone, what became of each occurrence: run rows (the latest copy of
/// each, from the payload of its newest event), skipped summaries and schedule versions.
result<simulation_account> read_account(stores::memory_store& store, const schedule& created) {
    auto events = ledger_of(store, created.id);
    if (!events) {
        return tl::unexpected(events.error());
    }
    simulation_account account;
    account.initial = created;
    std::vector<std::pair<time_point, schedule>> versions;
    std::map<run_id, run> rows;
    for (const auto& e : *events) {
        if (const auto* s = std::get_if<schedule>(&e.payload)) {
            versions.emplace_back(e.at, *s);
            if (e.kind == event_kind::schedule_updated) {
                account.edited.push_back(*s);
            }
        } else if (const auto* change = std::get_if<run_change>(&e.payload)) {
            rows.insert_or_assign(change->row.id, change->row);
        } else if (const auto* summary = std::get_if<skipped_summary>(&e.payload)) {
            occurrence_account a;
            a.nominal = summary->first;
            a.what = occurrence_account::fate::summarized;
            a.count = summary->count;
            a.last = summary->last;
            a.reason = summary->reason;
            a.planned_at = e.at;
            account.occurrences.push_back(std::move(a));
        }
    }
    std::map<std::string, std::vector<const run*>> by_occurrence;
    for (const auto& [id, r] : rows) {
        if (!r.trigger_reason) {  // manual triggers are not occurrences of the cadence
            by_occurrence[r.occurrence_key].push_back(&r);
        }
    }
    for (auto& [key, attempts] : by_occurrence) {
        std::sort(attempts.begin(), attempts.end(), [](const run* a, const run* b) { return a->attempt < b->attempt; });
        account.occurrences.push_back(account_of(attempts, versions));
    }
    std::stable_sort(account.occurrences.begin(), account.occurrences.end(),
                     [](const auto& a, const auto& b) { return a.nominal < b.nominal; });
    link_coalesced(account.occurrences);
    return account;
}

// ---- formatting -----------------------------------------------------------------------------

/// `1d 2h 5m 30s`, `45s`, `0.25s`: a span for people, microseconds rounded to milliseconds.
std::string format_span(duration d) {
    using namespace std::chrono;
    if (d < duration{0}) {
        return "-" + format_span(-d);
    }
    const auto whole = duration_cast<seconds>(d);
    const auto millis = duration_cast<milliseconds>(d - whole).count();
    std::string out;
    auto part = [&](std::int64_t n, const char* unit) {
        if (n > 0) {
            out += (out.empty() ? "" : " ") + std::to_string(n) + unit;
        }
    };
    const std::int64_t s = whole.count();
    part(s / 86'400, "d");
    part(s / 3600 % 24, "h");
    part(s / 60 % 60, "m");
    if (millis > 0) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%lld.%03llds", static_cast<long long>(s % 60), static_cast<long long>(millis));
        out += (out.empty() ? "" : " ") + std::string(buf);
    } else if (s % 60 > 0 || out.empty()) {
        out += (out.empty() ? "" : " ") + std::to_string(s % 60) + "s";
    }
    return out;
}

/// `interval every 300s`, `cron "0 3 * * *"`, `once at 2026-03-12T10:00:00Z`, with the timezone.
std::string describe_cadence(const schedule& s) {
    std::string out;
    if (s.spec.kind == "interval") {
        out = "interval every " + format_span(std::chrono::seconds{s.spec.every_seconds});
    } else if (s.spec.kind == "cron") {
        out = "cron \"" + s.spec.expr + "\"";
    } else {
        out = "once at " + (s.spec.at ? format_rfc3339(*s.spec.at) : std::string("?"));
    }
    return out + " in " + s.timezone;
}

/// The policies that decide what the report shows, with their effective values.
std::string describe_policies(const schedule& s) {
    const auto& p = s.policy;
    std::string out = "misfire " + p.misfire + " (grace " + std::to_string(p.misfire_grace_seconds) + "s";
    if (p.misfire == "catch_up") {
        out += ", catch_up_limit " + std::to_string(p.catch_up_limit);
    }
    out += "), overlap " + p.overlap + ", max_concurrency " + std::to_string(p.max_concurrency) + ", timeout " +
           std::to_string(p.timeout_seconds) + "s";
    if (p.jitter_seconds > 0) {
        out += ", jitter " + std::to_string(p.jitter_seconds) + "s";
    }
    out += s.retry.max_attempts > 1
               ? ", retry " + s.retry.strategy + " up to " + std::to_string(s.retry.max_attempts) + " attempts"
               : ", no retry";
    return out;
}

bool during_outage(const simulate_request& req, time_point t) {
    return req.outage && req.outage->from <= t && t < req.outage->to;
}

/// Why a run that succeeded started after its due time, from when it was planned: beyond the
/// grace window the misfire policy chose it; within it (planned at a restart) it was punctual;
/// planned in time, it waited for a slot or a retry.
std::string why_late(const occurrence_account& a) {
    const auto planned_late = *a.planned_at - a.nominal;
    if (planned_late > std::chrono::seconds{a.policy.misfire_grace_seconds}) {
        return "missed, run by misfire " + a.policy.misfire;
    }
    if (*a.planned_at > *a.due) {
        return "planned at the restart, within the " + std::to_string(a.policy.misfire_grace_seconds) +
               "s misfire grace";
    }
    if (a.attempts > 1) {
        return "retried after: " + a.earlier_error;
    }
    return "waited for a free slot: overlap " + a.policy.overlap + ", max_concurrency " +
           std::to_string(a.policy.max_concurrency);
}

bool ran_late(const occurrence_account& a) {
    return a.what == occurrence_account::fate::ran && a.started_at && a.due && *a.started_at > *a.due;
}

/// The verdict of one occurrence line, after its nominal time.
std::string verdict(const simulate_request& req, const occurrence_account& a) {
    using fate = occurrence_account::fate;
    const std::string attempt = a.attempts > 1 ? " on attempt " + std::to_string(a.attempts) : "";
    switch (a.what) {
    case fate::ran:
        if (ran_late(a)) {
            return "late: ran at " + format_rfc3339(*a.started_at) + attempt + ", " +
                   format_span(*a.started_at - a.nominal) + " after its time (" + why_late(a) + ")";
        }
        return "ran at " + format_rfc3339(*a.started_at) + attempt +
               (*a.due > a.nominal ? " (on time, jitter " + format_span(*a.due - a.nominal) + ")" : " (on time)");
    case fate::failed:
        return std::string(a.status == run_status::dead_lettered ? "dead-lettered" : "failed") + " at " +
               format_rfc3339(*a.finished_at) + attempt + ": " + a.reason;
    case fate::cancelled:
        return "cancelled at " + format_rfc3339(*a.finished_at) + ": " + a.reason;
    case fate::skipped:
        return std::string(during_outage(req, a.nominal) ? "skipped: missed during the outage"
                                                         : "skipped: missed") +
               " (" + a.reason + ")";
    case fate::coalesced:
        return a.into ? "coalesced into " + format_rfc3339(*a.into) + " (" + a.reason + ")" : "coalesced (" + a.reason + ")";
    case fate::summarized:
        return "skipped: " + std::to_string(a.count) + " occurrences from here to " + format_rfc3339(*a.last) + " (" +
               a.reason + "; one summary event in the ledger)";
    case fate::open:
        if (a.status == run_status::running || a.status == run_status::claimed) {
            return "still running when the simulation ends (started " + format_rfc3339(*a.started_at) + ")";
        }
        return "still " + std::string(to_string(a.status)) + " when the simulation ends";
    }
    return {};
}

/// The fate's name in JSON; a late run is `late`.
std::string fate_name(const occurrence_account& a) {
    using fate = occurrence_account::fate;
    switch (a.what) {
    case fate::ran:
        return ran_late(a) ? "late" : "ran";
    case fate::failed:
        return "failed";
    case fate::cancelled:
        return "cancelled";
    case fate::skipped:
    case fate::summarized:
        return "skipped";
    case fate::coalesced:
        return "coalesced";
    case fate::open:
        return "open";
    }
    return {};
}

/// `N occurrences: 3 ran on time, 1 ran late, 22 skipped` (zero counts left out).
std::string summary_line(const std::vector<occurrence_account>& shown) {
    std::map<std::string, std::int64_t> counts;
    std::int64_t total = 0;
    for (const auto& a : shown) {
        counts[fate_name(a)] += a.count;
        total += a.count;
    }
    std::string out = "summary: " + std::to_string(total) + " occurrences";
    const char sep[] = ", ";
    bool first = true;
    for (const auto& [name, label] : std::vector<std::pair<std::string, std::string>>{
             {"ran", "ran on time"}, {"late", "ran late"}, {"skipped", "skipped"}, {"coalesced", "coalesced"},
             {"failed", "failed"}, {"cancelled", "cancelled"}, {"open", "still open"}}) {
        if (auto it = counts.find(name); it != counts.end()) {
            out += (first ? ": " : sep) + std::to_string(it->second) + " " + label;
            first = false;
        }
    }
    return out + "\n";
}

/// From the first disturbance (outage start or edit) to the last one (outage end or edit);
/// nullopt when there is none.
std::optional<time_window> disturbed_span(const simulate_request& req) {
    std::optional<time_window> span;
    auto widen = [&](time_point t) {
        span = span ? time_window{std::min(span->from, t), std::max(span->to, t)} : time_window{t, t};
    };
    if (req.outage) {
        widen(req.outage->from);
        widen(req.outage->to);
    }
    for (const auto& e : req.edits) {
        widen(e.at);
    }
    return span;
}

}  // namespace

time_window default_bounds(const simulate_request& req) {
    const auto span = disturbed_span(req).value_or(time_window{});
    const auto day = std::chrono::hours{24};
    return time_window{req.from.value_or(span.from - day), req.to.value_or(span.to + day)};
}

result<void> check_request(const simulate_request& req) {
    std::vector<field_error> errors;
    if (!req.outage && req.edits.empty() && !(req.from && req.to)) {
        errors.push_back({"--outage", "give an --outage, an --edit, or both --from and --to"});
    }
    if (req.outage && req.outage->to <= req.outage->from) {
        errors.push_back({"--outage", "its end must be after its start"});
    }
    if (req.work < duration{0}) {
        errors.push_back({"--duration", "must not be negative"});
    }
    for (const auto& e : req.edits) {
        if (during_outage(req, e.at)) {
            errors.push_back({"--edit", format_rfc3339(e.at) + " falls inside the outage, when the API is down too"});
        }
    }
    if (!errors.empty()) {
        return invalid(std::move(errors));
    }
    const auto w = default_bounds(req);
    if (w.to <= w.from) {
        errors.push_back({"--to", "must be after --from"});
    }
    auto inside = [&](time_point t, const char* what) {
        if (t < w.from || t > w.to) {
            errors.push_back({t < w.from ? "--from" : "--to",
                              std::string("must leave ") + what + " " + format_rfc3339(t) + " inside the simulation"});
        }
    };
    if (req.outage) {
        inside(req.outage->from, "the outage start");
        inside(req.outage->to, "the outage end");
    }
    for (const auto& e : req.edits) {
        inside(e.at, "the edit at");
    }
    if (!errors.empty()) {
        return invalid(std::move(errors));
    }
    return {};
}

result<simulation_account> simulate(const simulate_request& req) {
    if (auto ok = check_request(req); !ok) {
        return tl::unexpected(ok.error());
    }
    auto input = read_manifest(req.manifest);
    if (!input) {
        return tl::unexpected(input.error());
    }
    std::vector<schedule_input> edits;
    for (const auto& e : req.edits) {
        auto edit = read_manifest(e.manifest);
        if (!edit) {
            return tl::unexpected(edit.error());
        }
        edits.push_back(*std::move(edit));
    }

    const auto window = default_bounds(req);
    auto state = std::make_shared<stores::memory_state>();
    manual_clock clock{window.from};
    std::uint64_t seed = 1;
    auto process = start_process(state, clock, req.work, seed);
    auto created = process->create_schedule(*std::move(input));
    if (!created) {
        return tl::unexpected(in_manifest(req.manifest, created.error()));
    }

    for (const auto& d : timeline(req)) {
        if (process) {
            if (auto r = run_up_to(*process, d.at); !r) {
                return tl::unexpected(r.error());
            }
        } else {
            clock.set(d.at);  // down: nothing plans or dispatches while time passes
        }
        switch (d.what) {
        case disturbance::kind::outage_start:
            stop_process(process, clock);
            break;
        case disturbance::kind::outage_end:
            process = start_process(state, clock, req.work, ++seed);
            break;
        case disturbance::kind::edit:
            if (auto r = process->replace_schedule(created->id, edits[d.edit]); !r) {
                return tl::unexpected(in_manifest(req.edits[d.edit].manifest, r.error()));
            }
            break;
        }
    }
    if (auto r = testing::run_until(*process, window.to); !r) {
        return tl::unexpected(r.error());
    }
    auto account = read_account(process->store(), *created);
    stop_process(process, clock);
    if (!account) {
        return tl::unexpected(account.error());
    }
    account->window = window;
    return account;
}

std::vector<occurrence_account> shown_occurrences(const simulate_request& req, const simulation_account& account) {
    const auto& all = account.occurrences;
    if (req.from || req.to) {
        std::vector<occurrence_account> out;
        std::copy_if(all.begin(), all.end(), std::back_inserter(out), [&](const auto& a) {
            return a.nominal >= account.window.from && a.nominal <= account.window.to;
        });
        return out;
    }
    // The defaults simulate a day on each side; show only the few occurrences nearest the disturbances.
    const auto span = disturbed_span(req).value_or(account.window);
    const auto first = span.from;
    const auto last = span.to;
    const auto begin = std::lower_bound(all.begin(), all.end(), first,
                                        [](const auto& a, time_point t) { return a.nominal < t; });
    const auto end = std::lower_bound(begin, all.end(), last, [](const auto& a, time_point t) { return a.nominal < t; });
    const auto before = std::min<std::ptrdiff_t>(begin - all.begin(), context_occurrences);
    const auto after = std::min<std::ptrdiff_t>(all.end() - end, context_occurrences);
    return {begin - before, end + after};
}

std::string format_report(const simulate_request& req, const simulation_account& account) {
    const auto& s = account.initial;
    std::string out = "schedule " + s.name + ": " + describe_cadence(s) + "\n";
    out += "policies: " + describe_policies(s) + "\n";
    if (req.outage) {
        out += "outage: " + format_rfc3339(req.outage->from) + " to " + format_rfc3339(req.outage->to) +
               " (the scheduler is down, then restarts)\n";
    }
    for (std::size_t i = 0; i < req.edits.size() && i < account.edited.size(); ++i) {
        const auto& e = account.edited[i];
        out += "edit at " + format_rfc3339(req.edits[i].at) + ": " + req.edits[i].manifest.string() + " -> " +
               describe_cadence(e) + "; " + describe_policies(e) + "\n";
    }
    out += "simulated: " + format_rfc3339(account.window.from) + " to " + format_rfc3339(account.window.to) +
           ", each execution takes " + format_span(req.work);
    out += req.from || req.to ? "\n" : "; showing " + std::to_string(context_occurrences) +
                                           " occurrences either side (--from/--to show all)\n";
    out += "\n";
    const auto shown = shown_occurrences(req, account);
    for (const auto& a : shown) {
        out += format_rfc3339(a.nominal) + "  " + verdict(req, a) + "\n";
    }
    out += "\n" + summary_line(shown);
    return out;
}

std::string format_json_lines(const simulate_request& req, const simulation_account& account) {
    std::string out;
    auto instant = [](const std::optional<time_point>& t) {
        return t ? nlohmann::ordered_json(format_rfc3339(*t)) : nlohmann::ordered_json(nullptr);
    };
    for (const auto& a : shown_occurrences(req, account)) {
        nlohmann::ordered_json j;
        j["nominal"] = format_rfc3339(a.nominal);
        j["outcome"] = fate_name(a);
        j["status"] = a.what == occurrence_account::fate::summarized ? "skipped" : std::string(to_string(a.status));
        j["planned_at"] = instant(a.planned_at);
        j["started_at"] = instant(a.started_at);
        j["finished_at"] = instant(a.finished_at);
        j["attempts"] = a.attempts;
        j["reason"] = a.reason.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(a.reason);
        j["coalesced_into"] = instant(a.into);
        j["count"] = a.count;
        j["last"] = instant(a.what == occurrence_account::fate::summarized ? a.last : std::optional<time_point>{});
        j["detail"] = verdict(req, a);
        out += j.dump() + "\n";
    }
    return out;
}

}  // namespace wakeplane::cli
