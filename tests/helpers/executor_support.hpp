// Shared by the executor tests: a run identity and waiting for a condition with a deadline.
#pragma once

#include <chrono>
#include <stop_token>
#include <thread>
#include <utility>

#include <wakeplane/executor.hpp>
#include <wakeplane/time.hpp>

namespace wakeplane::testing {

/// The identity every executor test passes on; the values are checked on the receiving side.
inline run_context test_context(std::stop_token stop = {}) {
    run_context ctx;
    ctx.run = "run_01JPC3V9QF7D2M8K4X6T1R5N0B";
    ctx.schedule = "sch_01JPC3V9QF7D2M8K4X6T1R5N0B";
    ctx.occurrence_key = "sch_01JPC3V9QF7D2M8K4X6T1R5N0B:2026-03-12T10:00:00Z";
    ctx.attempt = 2;
    ctx.nominal_time = parse_rfc3339("2026-03-12T10:00:00Z").value();
    ctx.fencing_token = 7;
    ctx.stop = std::move(stop);
    return ctx;
}

/// Polls `condition` until it holds or `limit` passed; true when it held. The limit is generous:
/// it only bounds a failing test, a passing one returns as soon as the condition holds.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = std::chrono::seconds{10}) {
    const auto deadline = std::chrono::steady_clock::now() + limit;  // real-time ok: a failure bound
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds{2});  // real-time ok: polling, not waiting out time
    }
    return true;
}

}  // namespace wakeplane::testing
