// wakeplane::http::api<Scheduler>: the HTTP API of a hosted scheduler — the routes of router
// over a service<Scheduler>. The same API serves wakeplaned and any program that embeds a scheduler.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <wakeplane/http/control.hpp>
#include <wakeplane/http/message.hpp>
#include <wakeplane/http/router.hpp>
#include <wakeplane/service.hpp>

namespace wakeplane::http {

/// control over a service<Scheduler>: writes go to the scheduler (thread-safe) and wake the loop,
/// cancel() runs serialized with the loop, reads go to the store.
template <class Scheduler>
class scheduler_control final : public control {
public:
    explicit scheduler_control(service<Scheduler>& svc) : svc_(&svc), sched_(&svc.scheduler()) {}

    [[nodiscard]] time_point now() const override { return sched_->clock().now(); }

    result<schedule> create_schedule(schedule_input in) override { return woken(sched_->create_schedule(std::move(in))); }
    result<schedule> replace_schedule(std::string_view id, schedule_input in) override {
        return woken(sched_->replace_schedule(id, std::move(in)));
    }
    result<schedule> pause(std::string_view id) override { return sched_->pause(id); }
    result<schedule> resume(std::string_view id) override { return woken(sched_->resume(id)); }
    result<schedule> remove(std::string_view id) override { return sched_->remove(id); }
    result<run> trigger(std::string_view schedule, std::string_view reason) override {
        return woken(sched_->trigger(schedule, reason));
    }

    result<run> cancel(std::string_view id, std::string_view reason) override {
        auto r = svc_->exclusive([&](Scheduler& s) { return s.cancel(id, reason); });
        if (!r) {
            return r;
        }
        const auto& me = sched_->dispatcher().options().worker_id;
        if ((r->status == run_status::claimed || r->status == run_status::running) && r->claimed_by_worker_id != me) {
            // Only the process that executes a run can stop it; its lease holder is elsewhere.
            return fail(errc::conflict, "run \"" + r->id + "\" is executing on worker \"" +
                                            r->claimed_by_worker_id.value_or("") + "\"; only that worker can cancel it");
        }
        svc_->wake();  // the stop is supervised and the cancelled run recorded at the next pass
        auto now = sched_->store().get_run(id);
        return now && *now ? **now : *r;
    }

    result<std::optional<schedule>> get_schedule(std::string_view id) override { return sched_->store().get_schedule(id); }
    result<std::optional<run>> get_run(std::string_view id) override { return sched_->store().get_run(id); }
    result<page<schedule>> list_schedules(const schedule_filter& f, const page_request& p) override {
        return sched_->store().list_schedules(f, p);
    }
    result<page<run>> list_runs(const run_filter& f, const page_request& p) override {
        return sched_->store().list_runs(f, p);
    }
    result<std::vector<receipt>> list_receipts(std::string_view run) override { return sched_->store().list_receipts(run); }
    result<page<dead_letter>> list_dead_letters(const dead_letter_filter& f, const page_request& p) override {
        return sched_->store().list_dead_letters(f, p);
    }
    result<std::vector<ledger_event>> read_ledger(const ledger_query& q) override { return sched_->store().read_ledger(q); }
    result<store_counts> counts(time_point now) override { return sched_->store().counts(now); }

    result<std::optional<run>> next_waiting_run() override {
        // Eligible by the end of time: every waiting run, the soonest first.
        auto runs = sched_->store().eligible_runs(end_of_time(), 1);
        if (!runs) {
            return tl::unexpected(runs.error());
        }
        return runs->empty() ? std::optional<run>{} : std::optional<run>{runs->front()};
    }

    result<void> ping() override {
        auto due = sched_->store().next_due_at();
        if (!due) {
            return tl::unexpected(due.error());
        }
        return {};
    }

    service_status status() override { return svc_->status(); }

private:
    /// 9999-12-31T23:59:59Z: later than any stored instant, and far from overflowing any encoding.
    static time_point end_of_time() { return time_point{std::chrono::seconds{253402300799}}; }

    /// Passes `r` on, waking the loop when the write succeeded (it may have created work).
    template <class T>
    result<T> woken(result<T> r) {
        if (r) {
            svc_->wake();
        }
        return r;
    }

    service<Scheduler>* svc_;
    Scheduler* sched_;
};

/// The HTTP API of a hosted scheduler: every route of router over a service.
///
/// Example (a host program; see examples/embedded/):
///     wakeplane::service<my_scheduler> svc{sched, {}, log};
///     wakeplane::http::api<my_scheduler> api{svc, {.version = "0.1.0", .database_driver = "sqlite",
///                                                  .database_path = "app.db"}};
///     wakeplane::http::server srv{api.handler(), {}, log};
///     auto addr = srv.bind("127.0.0.1:8080");
///     svc.start();
///     srv.run();                                  // until srv.stop()
template <class Scheduler>
class api {
public:
    api(service<Scheduler>& svc, api_options options) : control_(svc), router_(control_, std::move(options)) {}

    api(const api&) = delete;
    api& operator=(const api&) = delete;

    /// Answers one request (thread-safe).
    [[nodiscard]] response handle(const request& req) const { return router_.handle(req); }

    /// handle() as a function for http::server; valid while this api lives.
    [[nodiscard]] std::function<response(const request&)> handler() const {
        return [this](const request& req) { return handle(req); };
    }

private:
    scheduler_control<Scheduler> control_;
    router router_;
};

}  // namespace wakeplane::http
