// The simulated executor.
#include "sim_executor.hpp"

#include <algorithm>
#include <tuple>

namespace wakeplane::sim {

void execution_log::add(execution_record r) {
    std::lock_guard lock{mutex_};
    fresh_.push_back(std::move(r));
}

std::vector<execution_record> execution_log::take() {
    std::vector<execution_record> out;
    {
        std::lock_guard lock{mutex_};
        out.swap(fresh_);
    }
    std::sort(out.begin(), out.end(), [](const execution_record& a, const execution_record& b) {
        return std::tie(a.occurrence_key, a.attempt, a.run, a.fencing_token) <
               std::tie(b.occurrence_key, b.attempt, b.run, b.fencing_token);
    });
    return out;
}

execution_result sim_executor::execute(const target_spec& /*target*/, const run_context& ctx) const {
    const auto started = world->clock.now();
    world->log->add(execution_record{ctx.occurrence_key, ctx.attempt, ctx.run, ctx.fencing_token, world->worker,
                                     started, world->read_run(ctx.run)});
    const auto plan = behaviour_of(world->seed, ctx.occurrence_key, ctx.attempt, world->workload);

    // One stop for the sleep: the process dying always ends it; a stop request (timeout,
    // cancel, replace) ends it unless this execution ignores stop requests.
    std::stop_source wake;
    auto forward = [&wake] { wake.request_stop(); };
    std::stop_callback on_kill{world->killed, forward};
    std::optional<std::stop_callback<decltype(forward)>> on_stop;
    if (plan.what != behaviour::kind::ignore_stop) {
        on_stop.emplace(ctx.stop, forward);
    }
    const bool finished = world->clock.sleep_until(started + plan.takes, wake.get_token());

    execution_result r;
    if (finished && plan.what != behaviour::kind::fail) {
        r.ok = true;
        r.result_json = R"({"sim":true})";
        r.receipts.push_back({"workflow_result", "application/json", *r.result_json, false});
    } else {
        r.error_text = finished ? "simulated failure" : "stopped";
    }
    return r;
}

}  // namespace wakeplane::sim
