// memory_store: the header-only reference store, used by unit tests and the simulator.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <wakeplane/store.hpp>

namespace wakeplane::stores {

/// Everything a memory store holds: the stand-in for a file on disk. A backend opened again on
/// the same state (a "reopen") sees exactly what was committed, nothing of what was not, which
/// is how tests model a crash and a restart without real files.
/// Hashes std::string and std::string_view alike, so that lookups by string_view need no copy.
struct transparent_string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct memory_state {
    using key = std::pair<time_point, std::string>;

    /// Unordered: every walk in id order goes through an index; a lookup by id then costs the
    /// same with a million schedules as with a thousand (a tree's grew with its depth).
    std::unordered_map<std::string, schedule, transparent_string_hash, std::equal_to<>> schedules;
    std::map<std::string, std::string, std::less<>> live_names;      // name → id, live schedules
    std::set<key> due;                                               // (next_run_at, id): enabled, live
    std::set<key> schedules_by_created;                              // (created_at, id): all
    std::unordered_map<std::string, run> runs;
    std::map<std::pair<std::string, std::int64_t>, std::string> by_occurrence;  // (key, attempt) → id
    std::set<key> eligible;                                          // (due or available, id): waiting
    std::set<key> leases;                                            // (claim_expires_at, id): claimed, running
    std::map<std::string, std::set<std::string>, std::less<>> open_runs;  // schedule → non-terminal runs
    std::set<key> runs_by_created;
    std::map<std::string, std::vector<receipt>, std::less<>> receipts;
    std::map<std::string, dead_letter> dead_letters;
    std::set<key> dead_letters_by_created;
    /// ledger[i] is the stored record (encode_event) of seq i + 1. A decoded event holds a whole
    /// schedule or run row inline (about 1.4 KB before its strings are counted) where its record
    /// takes a few hundred bytes: the ledger is most of what this store holds, and its size is
    /// what bounded long simulations (docs/performance.md, Scale check).
    std::vector<std::string> ledger;
    std::shared_mutex mutex;
};

/// The memory backend. Reads take a shared lock; a transaction holds the exclusive lock from
/// begin() to commit or rollback, applying writes in place with an undo log.
class memory_backend {
public:
    explicit memory_backend(std::shared_ptr<memory_state> state = std::make_shared<memory_state>())
        : state_(std::move(state)) {}

    /// The state, to open another backend on it (a reopen after a simulated crash).
    [[nodiscard]] const std::shared_ptr<memory_state>& state() const noexcept { return state_; }

    class transaction {
    public:
        explicit transaction(memory_state& s) : s_(&s), lock_(s.mutex) {}
        transaction(transaction&&) noexcept = default;
        transaction& operator=(transaction&&) = delete;
        ~transaction() { rollback(); }

        result<std::optional<schedule>> load_schedule(std::string_view id) { return find_schedule(*s_, id); }

        result<std::optional<schedule_id>> live_schedule_named(std::string_view name) {
            auto it = s_->live_names.find(name);
            return it == s_->live_names.end() ? std::optional<schedule_id>{} : std::optional<schedule_id>{it->second};
        }

        result<std::optional<run>> load_run(std::string_view id) { return find_run(*s_, id); }

        result<std::vector<run>> runs_of(std::string_view schedule, std::span<const run_status> statuses) {
            return open_runs_of(*s_, schedule, statuses);
        }

        result<std::vector<open_run>> open_runs(std::string_view schedule) {
            std::vector<open_run> out;
            if (auto it = s_->open_runs.find(schedule); it != s_->open_runs.end()) {
                for (const auto& id : it->second) {
                    out.push_back(open_run_of(s_->runs.find(id)->second));
                }
            }
            return out;
        }

        result<void> put_schedule(const schedule& now, const std::optional<schedule>& before) {
            auto old = find_schedule(*s_, now.id);
            set_schedule(*s_, now.id, now);
            undo_.push_back([this, id = now.id, old] { set_schedule(*s_, id, old); });
            (void)before;  // the memory store finds the previous row itself
            return {};
        }

        result<bool> move_next_run_at(std::string_view id, std::optional<time_point> expected,
                                      std::optional<time_point> next) {
            auto it = s_->schedules.find(id);
            if (it == s_->schedules.end() || it->second.deleted || !it->second.enabled ||
                it->second.next_run_at != expected) {
                return false;
            }
            // Only the due index depends on next_run_at.
            auto move = [this, sid = it->first](std::optional<time_point> to) {
                auto& row = s_->schedules.find(sid)->second;
                const auto before = due_key(row, sid);
                row.next_run_at = to;
                move_key(s_->due, before, due_key(row, sid));
            };
            move(next);
            undo_.push_back([move, expected] { move(expected); });
            return true;
        }

        result<bool> advance_last_run_at(std::string_view id, time_point at) {
            auto it = s_->schedules.find(id);
            if (it == s_->schedules.end() || (it->second.last_run_at && *it->second.last_run_at >= at)) {
                return false;
            }
            // No index depends on last_run_at: the field moves in place.
            const auto before = it->second.last_run_at;
            it->second.last_run_at = at;
            undo_.push_back([this, sid = it->first, before] { s_->schedules.find(sid)->second.last_run_at = before; });
            return true;
        }

        result<bool> insert_run(const run& r) {
            if (s_->by_occurrence.contains({r.occurrence_key, r.attempt}) || s_->runs.contains(r.id)) {
                return false;
            }
            set_run(*s_, r.id, r);
            undo_.push_back([this, id = r.id] { set_run(*s_, id, std::nullopt); });
            return true;
        }

        result<void> put_run(const run& now, const run& /*before*/) {
            auto old = find_run(*s_, now.id);
            set_run(*s_, now.id, now);
            undo_.push_back([this, id = now.id, old] { set_run(*s_, id, old); });
            return {};
        }

        result<void> put_receipt(const receipt& r) {
            s_->receipts[r.run].push_back(r);
            undo_.push_back([this, id = r.run] {
                auto& v = s_->receipts[id];
                v.pop_back();
                if (v.empty()) {
                    s_->receipts.erase(id);
                }
            });
            return {};
        }

        result<void> put_dead_letter(const dead_letter& d) {
            if (s_->dead_letters.contains(d.id)) {
                return fail(errc::storage, "dead letter \"" + d.id + "\" exists already");
            }
            s_->dead_letters.emplace(d.id, d);
            s_->dead_letters_by_created.emplace(d.created_at, d.id);
            undo_.push_back([this, d] {
                s_->dead_letters.erase(d.id);
                s_->dead_letters_by_created.erase({d.created_at, d.id});
            });
            return {};
        }

        result<void> append(const ledger_event& e) {
            if (e.seq != static_cast<std::int64_t>(s_->ledger.size()) + 1) {
                return fail(errc::storage, "ledger sequence " + std::to_string(e.seq) + " is not the next one");
            }
            auto record = encode_event(e);
            record.shrink_to_fit();  // the encoder grows its buffer by doubling: keep only the bytes
            s_->ledger.push_back(std::move(record));
            undo_.push_back([this] { s_->ledger.pop_back(); });
            return {};
        }

        result<void> commit() {
            undo_.clear();
            done_ = true;
            lock_.unlock();
            return {};
        }

    private:
        void rollback() noexcept {
            if (done_ || !lock_.owns_lock()) {
                return;
            }
            for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
                (*it)();
            }
            undo_.clear();
            done_ = true;
        }

        memory_state* s_;
        std::unique_lock<std::shared_mutex> lock_;
        std::vector<std::function<void()>> undo_;
        bool done_ = false;
    };

    result<transaction> begin() { return transaction{*state_}; }

    result<std::optional<schedule>> get_schedule(std::string_view id) {
        std::shared_lock lock{state_->mutex};
        return find_schedule(*state_, id);
    }

    result<std::optional<run>> get_run(std::string_view id) {
        std::shared_lock lock{state_->mutex};
        return find_run(*state_, id);
    }

    result<std::vector<schedule>> due_schedules(time_point now, std::size_t limit) {
        std::shared_lock lock{state_->mutex};
        std::vector<schedule> out;
        for (auto it = state_->due.begin(); it != state_->due.end() && it->first <= now && out.size() < limit; ++it) {
            out.push_back(state_->schedules.find(it->second)->second);
        }
        return out;
    }

    result<std::optional<time_point>> next_due_at() {
        std::shared_lock lock{state_->mutex};
        return state_->due.empty() ? std::optional<time_point>{} : std::optional<time_point>{state_->due.begin()->first};
    }

    result<std::vector<run>> eligible_runs(time_point now, std::size_t limit) {
        std::shared_lock lock{state_->mutex};
        std::vector<run> out;
        for (auto it = state_->eligible.begin();
             it != state_->eligible.end() && it->first <= now && out.size() < limit; ++it) {
            out.push_back(state_->runs.find(it->second)->second);
        }
        return out;
    }

    result<std::optional<time_point>> next_eligible_at() {
        std::shared_lock lock{state_->mutex};
        return state_->eligible.empty() ? std::optional<time_point>{}
                                        : std::optional<time_point>{state_->eligible.begin()->first};
    }

    result<std::optional<time_point>> next_eligible_after(time_point t) {
        std::shared_lock lock{state_->mutex};
        auto it = state_->eligible.upper_bound({t, std::string(1, '\x7f')});
        while (it != state_->eligible.end() && it->first <= t) {
            ++it;
        }
        return it == state_->eligible.end() ? std::optional<time_point>{} : std::optional<time_point>{it->first};
    }

    result<std::vector<run>> expired_leases(time_point now, std::size_t limit) {
        std::shared_lock lock{state_->mutex};
        std::vector<run> out;
        for (auto it = state_->leases.begin(); it != state_->leases.end() && it->first <= now && out.size() < limit;
             ++it) {
            out.push_back(state_->runs.find(it->second)->second);
        }
        return out;
    }

    result<std::optional<time_point>> next_lease_expiry() {
        std::shared_lock lock{state_->mutex};
        return state_->leases.empty() ? std::optional<time_point>{}
                                      : std::optional<time_point>{state_->leases.begin()->first};
    }

    result<page<schedule>> list_schedules(const schedule_filter& f, const page_request& p) {
        std::shared_lock lock{state_->mutex};
        return newest_first<schedule>(state_->schedules_by_created, p, [&](const std::string& id) -> const schedule* {
            const auto& s = state_->schedules.find(id)->second;
            if ((s.deleted && !f.include_deleted) || (f.enabled && s.enabled != *f.enabled)) {
                return nullptr;
            }
            return &s;
        });
    }

    result<page<run>> list_runs(const run_filter& f, const page_request& p) {
        std::shared_lock lock{state_->mutex};
        return newest_first<run>(state_->runs_by_created, p, [&](const std::string& id) -> const run* {
            const auto& r = state_->runs.find(id)->second;
            if ((f.schedule && r.schedule != *f.schedule) || (f.status && r.status != *f.status)) {
                return nullptr;
            }
            return &r;
        });
    }

    result<std::vector<receipt>> list_receipts(std::string_view run) {
        std::shared_lock lock{state_->mutex};
        auto it = state_->receipts.find(run);
        std::vector<receipt> out = it == state_->receipts.end() ? std::vector<receipt>{} : it->second;
        std::stable_sort(out.begin(), out.end(), [](const receipt& a, const receipt& b) {
            return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
        });
        return out;
    }

    result<page<dead_letter>> list_dead_letters(const dead_letter_filter& f, const page_request& p) {
        std::shared_lock lock{state_->mutex};
        return newest_first<dead_letter>(state_->dead_letters_by_created, p,
                                         [&](const std::string& id) -> const dead_letter* {
                                             const auto& d = state_->dead_letters.find(id)->second;
                                             return (f.schedule && d.schedule != *f.schedule) ? nullptr : &d;
                                         });
    }

    result<std::vector<ledger_event>> read_ledger(const ledger_query& q) {
        std::shared_lock lock{state_->mutex};
        std::vector<ledger_event> out;
        for (auto i = static_cast<std::size_t>(std::max<std::int64_t>(q.after, 0));
             i < state_->ledger.size() && out.size() < q.limit; ++i) {
            const auto& record = state_->ledger[i];
            if (cannot_mention(record, q.schedule) || cannot_mention(record, q.run)) {
                continue;  // a filtered scan decodes only the records that may match
            }
            auto e = decode_event(record);
            if (!e) {
                return fail(errc::storage, "ledger seq " + std::to_string(i + 1) + ": " + e.error().message);
            }
            if ((q.schedule && e->schedule != *q.schedule) || (q.run && e->run != q.run)) {
                continue;
            }
            out.push_back(std::move(*e));
        }
        return out;
    }

    result<std::int64_t> last_seq() {
        std::shared_lock lock{state_->mutex};
        return static_cast<std::int64_t>(state_->ledger.size());
    }

    result<store_counts> counts(time_point now) {
        std::shared_lock lock{state_->mutex};
        store_counts c;
        for (const auto& [id, s] : state_->schedules) {
            if (!s.deleted) {
                ++c.schedules;
                c.schedules_enabled += s.enabled ? 1 : 0;
            }
        }
        for (const auto& [id, r] : state_->runs) {
            ++c.runs;
            ++c.by_status[static_cast<std::size_t>(r.status)];
            c.runs_due += is_eligible(r, now) ? 1 : 0;
            if (r.status == run_status::claimed || r.status == run_status::running) {
                ++c.leases_active;
                c.claimed_but_expired += (r.claim_expires_at && *r.claim_expires_at <= now) ? 1 : 0;
            }
        }
        c.dead_letters = static_cast<std::int64_t>(state_->dead_letters.size());
        c.last_seq = static_cast<std::int64_t>(state_->ledger.size());
        return c;
    }

private:
    /// True when `record` cannot be an event of `id`: the id is written verbatim in the JSON
    /// (it needs no escaping) and does not occur. False means "decode and compare".
    static bool cannot_mention(std::string_view record, const std::optional<std::string>& id) {
        if (!id) {
            return false;
        }
        const bool verbatim = std::none_of(id->begin(), id->end(), [](char c) {
            return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
        });
        return verbatim && record.find(*id) == std::string_view::npos;
    }

    static std::optional<schedule> find_schedule(const memory_state& s, std::string_view id) {
        auto it = s.schedules.find(id);
        return it == s.schedules.end() ? std::nullopt : std::optional<schedule>{it->second};
    }

    static std::optional<run> find_run(const memory_state& s, std::string_view id) {
        auto it = s.runs.find(std::string(id));
        return it == s.runs.end() ? std::nullopt : std::optional<run>{it->second};
    }

    static std::vector<run> open_runs_of(const memory_state& s, std::string_view schedule,
                                         std::span<const run_status> statuses) {
        std::vector<run> out;
        auto it = s.open_runs.find(schedule);
        if (it == s.open_runs.end()) {
            return out;
        }
        for (const auto& id : it->second) {
            const auto& r = s.runs.find(id)->second;
            if (std::find(statuses.begin(), statuses.end(), r.status) != statuses.end()) {
                out.push_back(r);
            }
        }
        return out;
    }

    /// The (next_run_at, id) key of a schedule in the due index, when it is there.
    static std::optional<memory_state::key> due_key(const schedule& row, const std::string& id) {
        if (row.next_run_at && row.enabled && !row.deleted) {
            return memory_state::key{*row.next_run_at, id};
        }
        return std::nullopt;
    }

    /// Replaces `old` by `row` in place, moving only the index entries whose key changed. Most
    /// writes (a planner pass, a success's last_run_at) change a time or two: erasing and
    /// inserting the row and all four index entries was most of the cost of a write.
    static void update_schedule(memory_state& s, const std::string& id, schedule& old, const schedule& row) {
        if (old.deleted != row.deleted || old.name != row.name) {
            if (!old.deleted) {
                s.live_names.erase(old.name);
            }
            if (!row.deleted) {
                s.live_names[row.name] = id;
            }
        }
        move_key(s.due, due_key(old, id), due_key(row, id));
        if (old.created_at != row.created_at) {
            s.schedules_by_created.erase({old.created_at, id});
            s.schedules_by_created.emplace(row.created_at, id);
        }
        old = row;
    }

    /// Moves an entry of `index` from `before` to `after` (either may be absent) when they differ.
    static void move_key(std::set<memory_state::key>& index, const std::optional<memory_state::key>& before,
                         const std::optional<memory_state::key>& after) {
        if (before == after) {
            return;
        }
        if (before) {
            index.erase(*before);
        }
        if (after) {
            index.insert(*after);
        }
    }

    /// Replaces (or with nullopt removes) a schedule row and keeps every index in step.
    static void set_schedule(memory_state& s, const std::string& id, const std::optional<schedule>& row) {
        auto it = s.schedules.find(id);
        if (it != s.schedules.end() && row) {
            update_schedule(s, id, it->second, *row);
            return;
        }
        if (it != s.schedules.end()) {
            const auto& old = it->second;
            if (!old.deleted) {
                s.live_names.erase(old.name);
            }
            if (old.next_run_at) {
                s.due.erase({*old.next_run_at, id});
            }
            s.schedules_by_created.erase({old.created_at, id});
            s.schedules.erase(it);
        }
        if (!row) {
            return;
        }
        s.schedules.emplace(id, *row);
        if (!row->deleted) {
            s.live_names[row->name] = id;
        }
        if (row->next_run_at && row->enabled && !row->deleted) {
            s.due.emplace(*row->next_run_at, id);
        }
        s.schedules_by_created.emplace(row->created_at, id);
    }

    /// The run's key in the eligible index (waiting runs) and in the lease index (claimed or
    /// running runs with an expiry), when it is there.
    static std::optional<memory_state::key> eligible_key(const run& r, const std::string& id) {
        if (r.status == run_status::pending || r.status == run_status::retry_scheduled) {
            return memory_state::key{eligible_at(r), id};
        }
        return std::nullopt;
    }
    static std::optional<memory_state::key> lease_key(const run& r, const std::string& id) {
        if (r.claim_expires_at && (r.status == run_status::claimed || r.status == run_status::running)) {
            return memory_state::key{*r.claim_expires_at, id};
        }
        return std::nullopt;
    }

    /// Replaces `old` by `row` in place, moving only the index entries whose key changed (a
    /// claim, a start or a finish changes the status and a time or two, never the occurrence).
    static void update_run(memory_state& s, const std::string& id, run& old, const run& row) {
        if (old.occurrence_key != row.occurrence_key || old.attempt != row.attempt) {
            s.by_occurrence.erase({old.occurrence_key, old.attempt});
            s.by_occurrence.emplace(std::pair{row.occurrence_key, row.attempt}, id);
        }
        move_key(s.eligible, eligible_key(old, id), eligible_key(row, id));
        move_key(s.leases, lease_key(old, id), lease_key(row, id));
        const bool was_open = !is_terminal(old.status);
        const bool is_open = !is_terminal(row.status);
        if (was_open != is_open || old.schedule != row.schedule) {
            if (auto o = s.open_runs.find(old.schedule); was_open && o != s.open_runs.end()) {
                o->second.erase(id);
                if (o->second.empty()) {
                    s.open_runs.erase(o);
                }
            }
            if (is_open) {
                s.open_runs[row.schedule].insert(id);
            }
        }
        if (old.created_at != row.created_at) {
            s.runs_by_created.erase({old.created_at, id});
            s.runs_by_created.emplace(row.created_at, id);
        }
        old = row;
    }

    /// Replaces (or removes) a run row and keeps every index in step.
    static void set_run(memory_state& s, const std::string& id, const std::optional<run>& row) {
        auto it = s.runs.find(id);
        if (it != s.runs.end() && row) {
            update_run(s, id, it->second, *row);
            return;
        }
        if (it != s.runs.end()) {
            const auto& old = it->second;
            s.by_occurrence.erase({old.occurrence_key, old.attempt});
            s.eligible.erase({eligible_at(old), id});
            if (old.claim_expires_at) {
                s.leases.erase({*old.claim_expires_at, id});
            }
            if (auto o = s.open_runs.find(old.schedule); o != s.open_runs.end()) {
                o->second.erase(id);
                if (o->second.empty()) {
                    s.open_runs.erase(o);
                }
            }
            s.runs_by_created.erase({old.created_at, id});
            s.runs.erase(it);
        }
        if (!row) {
            return;
        }
        s.runs.emplace(id, *row);
        s.by_occurrence.emplace(std::pair{row->occurrence_key, row->attempt}, id);
        if (row->status == run_status::pending || row->status == run_status::retry_scheduled) {
            s.eligible.emplace(eligible_at(*row), id);
        }
        if (row->claim_expires_at && (row->status == run_status::claimed || row->status == run_status::running)) {
            s.leases.emplace(*row->claim_expires_at, id);
        }
        if (!is_terminal(row->status)) {
            s.open_runs[row->schedule].insert(id);
        }
        s.runs_by_created.emplace(row->created_at, id);
    }

    /// When a waiting run becomes claimable: its due time, or for a retry its available time.
    static time_point eligible_at(const run& r) {
        return r.status == run_status::retry_scheduled && r.retry_available_at ? *r.retry_available_at : r.due_time;
    }

    /// Walks an index newest first from the cursor, keeping rows `pick` accepts, one page plus
    /// a look-ahead to know whether another page exists.
    template <class T, class Pick>
    static page<T> newest_first(const std::set<memory_state::key>& index, const page_request& p, Pick&& pick) {
        page<T> out;
        auto it = index.rbegin();
        if (p.after) {
            it = std::make_reverse_iterator(index.lower_bound({p.after->created_at, p.after->id}));
        }
        const std::size_t limit = std::max<std::size_t>(p.limit, 1);
        for (; it != index.rend(); ++it) {
            const T* row = pick(it->second);
            if (row == nullptr) {
                continue;
            }
            if (out.items.size() == limit) {
                const auto& last = out.items.back();
                out.next = page_cursor{last.created_at, last.id};
                break;
            }
            out.items.push_back(*row);
        }
        return out;
    }

    std::shared_ptr<memory_state> state_;
};

/// The reference store: every domain operation of basic_store over memory.
using memory_store = basic_store<memory_backend>;

static_assert(store_backend<memory_backend>);
static_assert(store<memory_store>);

}  // namespace wakeplane::stores
