// wakeplane::http::control: what the HTTP API needs from a hosted scheduler, with the store,
// clock and policy types erased, so that the handlers compile once for every scheduler type.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include <wakeplane/ledger.hpp>
#include <wakeplane/model.hpp>
#include <wakeplane/result.hpp>
#include <wakeplane/observations.hpp>
#include <wakeplane/store.hpp>
#include <wakeplane/time.hpp>

namespace wakeplane::http {

/// The operations behind the routes. api<Scheduler> implements it over a service; a test may
/// wrap one to inject failures. Every member may be called from any thread.
class control {
public:
    virtual ~control() = default;

    /// The scheduler clock's current time.
    [[nodiscard]] virtual time_point now() const = 0;

    // ---- writes: the scheduler's validated operations ----------------------------------------
    virtual result<schedule> create_schedule(schedule_input in) = 0;
    virtual result<schedule> replace_schedule(std::string_view id, schedule_input in) = 0;
    virtual result<schedule> pause(std::string_view id) = 0;
    virtual result<schedule> resume(std::string_view id) = 0;
    virtual result<schedule> remove(std::string_view id) = 0;
    virtual result<run> trigger(std::string_view schedule, std::string_view reason) = 0;
    /// Cancels a run; a run executing on another worker is errc::conflict.
    virtual result<run> cancel(std::string_view run, std::string_view reason) = 0;

    // ---- reads: the store ---------------------------------------------------------------------
    virtual result<std::optional<schedule>> get_schedule(std::string_view id) = 0;
    virtual result<std::optional<run>> get_run(std::string_view id) = 0;
    virtual result<page<schedule>> list_schedules(const schedule_filter& f, const page_request& p) = 0;
    virtual result<page<run>> list_runs(const run_filter& f, const page_request& p) = 0;
    virtual result<std::vector<receipt>> list_receipts(std::string_view run) = 0;
    virtual result<page<dead_letter>> list_dead_letters(const dead_letter_filter& f, const page_request& p) = 0;
    virtual result<std::vector<ledger_event>> read_ledger(const ledger_query& q) = 0;
    virtual result<store_counts> counts(time_point now) = 0;
    /// The waiting run (pending or retry_scheduled, due or not) that becomes eligible first.
    virtual result<std::optional<run>> next_waiting_run() = 0;
    /// A cheap read that fails when the store is not usable (/readyz).
    virtual result<void> ping() = 0;

    // ---- the host -----------------------------------------------------------------------------
    virtual service_status status() = 0;
};

}  // namespace wakeplane::http
