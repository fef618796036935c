// wakeplane::scheduler<Store, Clock, PolicySets...>: a planner and a dispatcher over one store,
// assembled at compile time from policy sets.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <wakeplane/cadence.hpp>
#include <wakeplane/clock.hpp>
#include <wakeplane/dispatcher.hpp>
#include <wakeplane/executor.hpp>
#include <wakeplane/ids.hpp>
#include <wakeplane/planner.hpp>
#include <wakeplane/policy/set.hpp>
#include <wakeplane/store.hpp>
#include <wakeplane/validate.hpp>

namespace wakeplane {

namespace detail {

template <class T, template <class...> class Set>
struct is_set_of : std::false_type {};
template <template <class...> class Set, class... Ps>
struct is_set_of<Set<Ps...>, Set> : std::true_type {};

template <class T>
inline constexpr bool is_misfire_set = false;
template <class... Ps>
inline constexpr bool is_misfire_set<misfire::set<Ps...>> = true;
template <class T>
inline constexpr bool is_overlap_set = false;
template <class... Ps>
inline constexpr bool is_overlap_set<overlap::set<Ps...>> = true;
template <class T>
inline constexpr bool is_retry_set = false;
template <class... Ps>
inline constexpr bool is_retry_set<retry::set<Ps...>> = true;

/// The first of `Sets` for which `Pred<Set>` holds, or `Default`.
template <template <class> class Pred, class Default, class... Sets>
struct pick_set {
    using type = Default;
};
template <template <class> class Pred, class Default, class First, class... Rest>
struct pick_set<Pred, Default, First, Rest...> {
    using type = std::conditional_t<Pred<First>::value, First, typename pick_set<Pred, Default, Rest...>::type>;
};

template <class T>
struct misfire_pred : std::bool_constant<is_misfire_set<T>> {};
template <class T>
struct overlap_pred : std::bool_constant<is_overlap_set<T>> {};
template <class T>
struct retry_pred : std::bool_constant<is_retry_set<T>> {};

}  // namespace detail

/// Tuning of a scheduler.
struct scheduler_options {
    planner_options planning;
    dispatcher_options dispatching;
    /// Seed of the id generator; equal seeds and equal clocks give equal ids (simulation).
    /// Unset: the operating system's entropy.
    std::optional<std::uint64_t> id_seed;
    /// The host's extra validation of targets on create and replace (e.g. a shell allow list);
    /// unset: only the built-in rules.
    target_rule target_check;
};

/// What one step did.
struct step_report {
    plan_report planned;
    dispatch_report dispatched;
};

/// A scheduler assembled at compile time: a store, a clock and up to three policy sets (any
/// order; a missing set means every built-in policy of that kind). Each schedule picks one
/// policy of each set by name; a name outside the set is a validation error listing the names.
///
/// Example:
///     using my_scheduler = wakeplane::scheduler<stores::memory_store, manual_clock,
///                                               misfire::set<misfire::skip, misfire::catch_up>>;
///     my_scheduler sched{stores::memory_store{}, manual_clock{start}, registry};
///     auto s = sched.create_schedule(input);   // validated against the compiled policy names
///     testing::run_until(sched, start + std::chrono::hours{24});
template <store Store, clock Clock, class... PolicySets>
class scheduler {
public:
    using store_type = Store;
    using clock_type = Clock;
    using misfire_set = typename detail::pick_set<detail::misfire_pred, misfire::all, PolicySets...>::type;
    using overlap_set = typename detail::pick_set<detail::overlap_pred, overlap::all, PolicySets...>::type;
    using retry_set = typename detail::pick_set<detail::retry_pred, retry::all, PolicySets...>::type;
    static_assert(((detail::is_misfire_set<PolicySets> || detail::is_overlap_set<PolicySets> ||
                    detail::is_retry_set<PolicySets>) && ...),
                  "scheduler policy arguments must be misfire::set<…>, overlap::set<…> or retry::set<…>");

    scheduler(Store store, Clock clock, std::shared_ptr<const executor_registry> executors,
              scheduler_options options = {})
        : store_(std::make_unique<Store>(std::move(store))),
          clock_(std::make_unique<Clock>(std::move(clock))),
          ids_(std::make_unique<id_generator>(options.id_seed ? *options.id_seed : os_entropy_seed())),
          planner_(*store_, *clock_, *ids_, options.planning),
          dispatcher_(*store_, *clock_, std::move(executors), *ids_, options.dispatching),
          target_check_(std::move(options.target_check)) {}

    [[nodiscard]] Store& store() noexcept { return *store_; }
    [[nodiscard]] Clock& clock() noexcept { return *clock_; }
    [[nodiscard]] id_generator& ids() noexcept { return *ids_; }
    [[nodiscard]] auto& planner() noexcept { return planner_; }
    [[nodiscard]] auto& dispatcher() noexcept { return dispatcher_; }

    /// The policy names this scheduler was compiled with.
    [[nodiscard]] static policy_catalog catalog() { return catalog_of<misfire_set, overlap_set, retry_set>(); }

    /// Materializes what is due now. Never sleeps.
    result<plan_report> plan() { return planner_.plan(); }
    /// Claims and starts eligible runs, records ended ones. Never sleeps.
    result<dispatch_report> dispatch() { return dispatcher_.step(); }

    /// A planner pass, then a dispatcher step.
    result<step_report> step() {
        step_report r;
        auto p = plan();
        if (!p) {
            return tl::unexpected(p.error());
        }
        r.planned = *p;
        auto d = dispatch();
        if (!d) {
            return tl::unexpected(d.error());
        }
        r.dispatched = *d;
        return r;
    }

    /// The earliest instant at which plan() or dispatch() has work; nullopt when idle.
    result<std::optional<time_point>> next_wakeup() {
        auto p = planner_.next_wakeup();
        if (!p) {
            return p;
        }
        auto d = dispatcher_.next_wakeup();
        if (!d) {
            return d;
        }
        if (!*p) {
            return *d;
        }
        if (!*d) {
            return *p;
        }
        return std::optional<time_point>{std::min(**p, **d)};
    }

    // ---- schedule operations (what the API calls) ----------------------------------------------

    /// Validates `in` (defaults field by field, then every rule, against this scheduler's policy
    /// names) and creates the schedule. Its first occurrence at or after now becomes next_run_at;
    /// a schedule created disabled is paused from its creation (DECISIONS 11).
    result<schedule> create_schedule(schedule_input in) {
        auto checked = check_schedule_input(std::move(in), catalog(), target_check_);
        if (!checked) {
            return tl::unexpected(checked.error());
        }
        const auto now = clock_->now();
        schedule s;
        s.id = ids_->next(id_prefix::schedule, now);
        s.created_at = now;
        s.updated_at = now;
        assign(s, *checked);
        if (!s.enabled) {
            s.paused_at = now;
        }
        auto first = first_occurrence(s, now);
        if (!first) {
            return tl::unexpected(first.error());
        }
        s.next_run_at = *first;
        return store_->create_schedule(s);
    }

    /// Replaces a schedule's definition (PUT; a PATCH merges first with apply_patch()). An
    /// occurrence already due keeps next_run_at, so nothing due is dropped (DECISIONS 11);
    /// otherwise next_run_at is recomputed from the new cadence.
    result<schedule> replace_schedule(std::string_view id, schedule_input in) {
        auto current = store_->get_schedule(id);
        if (!current) {
            return tl::unexpected(current.error());
        }
        if (!*current || (*current)->deleted) {
            return fail(errc::not_found, "schedule \"" + std::string(id) + "\" was not found");
        }
        auto checked = check_schedule_input(std::move(in), catalog(), target_check_);
        if (!checked) {
            return tl::unexpected(checked.error());
        }
        const auto now = clock_->now();
        schedule s = **current;
        assign(s, *checked);
        s.updated_at = now;
        if (s.enabled) {
            s.paused_at.reset();
        } else if (!s.paused_at) {
            s.paused_at = now;
        }
        // Due and not yet planned: keep it, the planner applies the misfire policy to it.
        const bool due = s.next_run_at && *s.next_run_at <= now;
        if (!due) {
            auto first = first_occurrence(s, now);
            if (!first) {
                return tl::unexpected(first.error());
            }
            s.next_run_at = *first;
        }
        return store_->update_schedule(s);
    }

    /// Pauses planning; queued runs still execute.
    result<schedule> pause(std::string_view id) { return store_->pause_schedule(id, clock_->now()); }

    /// Resumes planning; occurrences due meanwhile go through the misfire policy.
    result<schedule> resume(std::string_view id) {
        auto current = store_->get_schedule(id);
        if (!current) {
            return tl::unexpected(current.error());
        }
        std::optional<time_point> next;
        if (*current && !(*current)->deleted && !(*current)->next_run_at) {
            auto first = first_occurrence(**current, clock_->now());
            if (!first) {
                return tl::unexpected(first.error());
            }
            next = *first;
        }
        return store_->resume_schedule(id, clock_->now(), next);
    }

    /// Soft-deletes a schedule.
    result<schedule> remove(std::string_view id) { return store_->delete_schedule(id, clock_->now()); }

    /// A manual run, due now, keeping its reason (DECISIONS 20). Works on paused schedules.
    result<run> trigger(std::string_view schedule, std::string_view reason) {
        const auto now = clock_->now();
        run r;
        r.id = ids_->next(id_prefix::run, now);
        r.schedule = std::string(schedule);
        r.occurrence_key = manual_occurrence_key(r.id);
        r.nominal_time = now;
        r.due_time = now;
        r.status = run_status::pending;
        r.attempt = 1;
        r.trigger_reason = std::string(reason);
        r.created_at = now;
        r.updated_at = now;
        return store_->trigger(r);
    }

    /// Cancels a run (DECISIONS 28): a waiting run at once, a local running one by stopping it.
    result<run> cancel(std::string_view run, std::string_view reason) { return dispatcher_.cancel(run, reason); }

private:
    static void assign(schedule& s, const schedule_input& in) {
        s.name = in.name;
        s.enabled = in.enabled.value_or(true);
        s.timezone = in.timezone;
        s.spec = in.schedule;
        s.target = in.target;
        s.policy = in.policy;
        s.retry = in.retry;
        s.start_at = in.start_at;
        s.end_at = in.end_at;
    }

    /// The first occurrence at or after `now` (so one exactly at now counts). A `once` keeps
    /// its instant even when it is past: the planner treats it as missed (DECISIONS 6).
    static result<std::optional<time_point>> first_occurrence(const schedule& s, time_point now) {
        auto c = cadence_of(s);
        if (!c) {
            return tl::unexpected(c.error());
        }
        if (const auto* once = std::get_if<once_cadence>(&c->kind)) {
            return next_after(*c, std::min(now, once->at) - duration{1});
        }
        return next_after(*c, now - duration{1});
    }

    std::unique_ptr<Store> store_;
    std::unique_ptr<Clock> clock_;
    std::unique_ptr<id_generator> ids_;
    wakeplane::planner<Store, Clock, misfire_set> planner_;
    wakeplane::dispatcher<Store, Clock, overlap_set, retry_set> dispatcher_;
    target_rule target_check_;
};

/// Every policy the daemon exposes.
template <store Store, clock Clock>
using default_scheduler = scheduler<Store, Clock, misfire::all, overlap::all, retry::all>;

}  // namespace wakeplane
