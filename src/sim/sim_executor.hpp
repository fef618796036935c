// The simulated executor and the execution log it keeps outside the store.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include <wakeplane/clock.hpp>
#include <wakeplane/executor.hpp>
#include <wakeplane/model.hpp>

#include "workload.hpp"

namespace wakeplane::sim {

/// One execution as the executor saw it: the evidence for "never two executions of one
/// (occurrence key, attempt)" and "no execution without a durable claim".
struct execution_record {
    std::string occurrence_key;
    std::int64_t attempt = 0;
    run_id run;
    std::int64_t fencing_token = 0;
    std::string worker;
    time_point started{};
    /// What the store's read path returned for the run when the execution began: it must be
    /// running under this execution's fencing token and worker, or the claim was not durable.
    std::optional<wakeplane::run> stored;
};

/// Every execution started, recorded by executor threads and taken by the driver. Thread-safe.
class execution_log {
public:
    void add(execution_record r);
    /// The executions recorded since the last call, ordered by (occurrence key, attempt, run,
    /// fencing token): thread timing decides arrival order, so it is sorted away.
    [[nodiscard]] std::vector<execution_record> take();

private:
    std::mutex mutex_;
    std::vector<execution_record> fresh_;
};

/// What a simulated process gives its executors.
struct executor_world {
    manual_clock clock;
    std::uint64_t seed = 0;
    workload_kind workload = workload_kind::standard;
    std::shared_ptr<execution_log> log;
    std::string worker;
    /// Requested when the process crashes: every execution ends at once, whatever it ignores.
    std::stop_token killed;
    /// Reads a run through the store's own read path (committed data only).
    std::function<std::optional<run>(std::string_view)> read_run;
};

/// A workflow-like executor in simulated time: it takes the time its behaviour_of() says on the
/// manual clock (manual_clock::sleep_until), fails, hangs past its timeout, or ignores stop
/// requests, and records each execution, with the run as the store showed it at the start.
struct sim_executor {
    static constexpr std::string_view kind = "workflow";
    std::shared_ptr<const executor_world> world;

    [[nodiscard]] execution_result execute(const target_spec& target, const run_context& ctx) const;
};

static_assert(executor<sim_executor>);

}  // namespace wakeplane::sim
