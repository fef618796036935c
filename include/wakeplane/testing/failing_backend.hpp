// A backend wrapper that fails the Nth write: fault injection behind the backend concept,
// so the production code has no `if (testing)` in it. The store tests and the simulator use it.
#pragma once

#include <memory>

#include <wakeplane/store.hpp>

namespace wakeplane::testing {

/// Which transaction write fails. Each write (put, insert, append, commit) spends one unit;
/// the one that brings `remaining` to zero fails with errc::storage. A sticky budget (the
/// default) then fails every later write too (a dead disk); a transient one fails that single
/// write and lets every later one through until it is armed again (a hiccup). With
/// `after_commit`, a failing commit first lands and only then reports failure: the caller cannot
/// tell whether it was written, as after a lost acknowledgement. Not thread-safe on its own:
/// basic_store serializes the writes that spend it.
struct failure_budget {
    explicit failure_budget(int writes, bool sticky_failure = true) : remaining(writes), sticky(sticky_failure) {}
    int remaining;
    bool sticky = true;
    bool after_commit = false;
    bool armed = true;
    int failures = 0;  ///< writes failed so far

    /// Arms a transient budget again: the `writes`-th write from now fails.
    void arm(int writes, bool commit_lands) noexcept {
        remaining = writes;
        after_commit = commit_lands;
        armed = true;
    }

    [[nodiscard]] bool spend() noexcept {
        if (!armed || --remaining > 0) {
            return true;
        }
        armed = sticky;
        ++failures;
        return false;
    }
};

template <store_backend B>
class failing_backend {
public:
    failing_backend(B inner, std::shared_ptr<failure_budget> budget)
        : inner_(std::move(inner)), budget_(std::move(budget)) {}

    class transaction {
    public:
        transaction(typename B::transaction inner, failure_budget* budget)
            : inner_(std::move(inner)), budget_(budget) {}

        result<std::optional<schedule>> load_schedule(std::string_view id) { return inner_.load_schedule(id); }
        result<std::optional<schedule_id>> live_schedule_named(std::string_view n) {
            return inner_.live_schedule_named(n);
        }
        result<std::optional<run>> load_run(std::string_view id) { return inner_.load_run(id); }
        result<std::vector<run>> runs_of(std::string_view id, std::span<const run_status> s) {
            return inner_.runs_of(id, s);
        }
        result<std::vector<open_run>> open_runs(std::string_view id) {
            return inner_.open_runs(id);
        }
        result<void> put_schedule(const schedule& s, const std::optional<schedule>& b) {
            return gate([&] { return inner_.put_schedule(s, b); });
        }
        result<bool> move_next_run_at(std::string_view id, std::optional<time_point> expected,
                                      std::optional<time_point> next) {
            return gate([&] { return inner_.move_next_run_at(id, expected, next); });
        }
        result<bool> advance_last_run_at(std::string_view id, time_point at) {
            return gate([&] { return inner_.advance_last_run_at(id, at); });
        }
        result<bool> insert_run(const run& r) { return gate([&] { return inner_.insert_run(r); }); }
        result<void> put_run(const run& r, const run& b) { return gate([&] { return inner_.put_run(r, b); }); }
        result<void> put_receipt(const receipt& r) { return gate([&] { return inner_.put_receipt(r); }); }
        result<void> put_dead_letter(const dead_letter& d) { return gate([&] { return inner_.put_dead_letter(d); }); }
        result<void> append(const ledger_event& e) { return gate([&] { return inner_.append(e); }); }
        result<void> commit() {
            if (budget_->after_commit) {
                auto c = inner_.commit();
                if (c && !budget_->spend()) {
                    return fail(errc::storage, "injected failure after commit");
                }
                return c;
            }
            return gate([&] { return inner_.commit(); });
        }

    private:
        template <class F>
        auto gate(F&& f) -> decltype(f()) {
            if (!budget_->spend()) {
                return fail(errc::storage, "injected failure");
            }
            return f();
        }

        typename B::transaction inner_;
        failure_budget* budget_;
    };

    result<transaction> begin() {
        auto t = inner_.begin();
        if (!t) {
            return tl::unexpected(t.error());
        }
        return transaction{*std::move(t), budget_.get()};
    }

    auto get_schedule(std::string_view id) { return inner_.get_schedule(id); }
    auto get_run(std::string_view id) { return inner_.get_run(id); }
    auto due_schedules(time_point t, std::size_t n) { return inner_.due_schedules(t, n); }
    auto next_due_at() { return inner_.next_due_at(); }
    auto eligible_runs(time_point t, std::size_t n) { return inner_.eligible_runs(t, n); }
    auto next_eligible_at() { return inner_.next_eligible_at(); }
    auto next_eligible_after(time_point t) { return inner_.next_eligible_after(t); }
    auto expired_leases(time_point t, std::size_t n) { return inner_.expired_leases(t, n); }
    auto next_lease_expiry() { return inner_.next_lease_expiry(); }
    auto list_schedules(const schedule_filter& f, const page_request& p) { return inner_.list_schedules(f, p); }
    auto list_runs(const run_filter& f, const page_request& p) { return inner_.list_runs(f, p); }
    auto list_receipts(std::string_view id) { return inner_.list_receipts(id); }
    auto list_dead_letters(const dead_letter_filter& f, const page_request& p) {
        return inner_.list_dead_letters(f, p);
    }
    auto read_ledger(const ledger_query& q) { return inner_.read_ledger(q); }
    auto last_seq() { return inner_.last_seq(); }
    auto counts(time_point t) { return inner_.counts(t); }

private:
    B inner_;
    std::shared_ptr<failure_budget> budget_;
};

}  // namespace wakeplane::testing
