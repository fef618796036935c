// Deterministic simulation runs: a seeded workload and seeded faults over simulated days, with
// the invariants checked after every step (src/sim/README in docs/simulation.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string_view>

#include "workload.hpp"

namespace wakeplane::sim {

enum class store_kind { memory, sqlite, rocksdb };

/// `memory`, `sqlite` or `rocksdb`.
[[nodiscard]] std::optional<store_kind> parse_store_kind(std::string_view name) noexcept;

/// What to simulate.
struct sim_options {
    std::uint64_t seed = 1;
    std::int64_t days = 30;
    store_kind store = store_kind::memory;
    std::size_t schedules = 16;
    workload_kind workload = workload_kind::standard;
    /// false: no faults and one dispatcher (the scale check measures the plain path).
    bool faults = true;
    /// false: skip the per-step checks, keep the final ones (the scale check).
    bool check_every_step = true;
};

/// What a run found.
struct sim_report {
    bool ok = false;
    std::uint64_t digest = 0;      ///< of the whole ledger, as the last output line prints it
    std::size_t steps = 0;
    std::size_t occurrences = 0;   ///< nominal occurrences written (run or skipped rows)
    std::size_t executions = 0;
    std::size_t claims_ahead = 0;  ///< claims made before their run was due
    std::int64_t events = 0;
};

/// Runs one simulation and prints its account on `out`: a header, counters, on failure the
/// seed, step, broken invariant and the last ledger events, and as the last line
/// `digest <16 hex digits>`. The same options print the same bytes. SQLite and RocksDB files
/// live in a fresh temporary directory (under TMPDIR) that is removed afterwards.
sim_report run_simulation(const sim_options& options, std::ostream& out);

}  // namespace wakeplane::sim
