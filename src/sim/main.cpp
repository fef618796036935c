// `wakeplane-sim`: one deterministic simulation run (src/sim/simulation.hpp). Exit status 0 when
// every invariant held, 1 when one broke, 2 on bad arguments. The last line printed is the
// digest of the ledger, the same for the same arguments.
#include <sys/resource.h>

#include <chrono>
#include <exception>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "simulation.hpp"

int main(int argc, char** argv) {
    using namespace wakeplane::sim;
    CLI::App app{"wakeplane-sim: seeded fault-injection runs of the scheduler over simulated days"};
    sim_options options;
    std::string store = "memory";
    app.add_option("--seed", options.seed, "Seed of the workload and the faults")->required();
    app.add_option("--days", options.days, "Simulated days (default 30)")->check(CLI::Range(1, 3660));
    app.add_option("--store", store, "memory | sqlite | rocksdb (default memory)")
        ->check(CLI::IsMember({"memory", "sqlite", "rocksdb"}));
    app.add_option("--schedules", options.schedules, "Schedules created at the start (default 16)")
        ->check(CLI::Range(1, 10'000'000));
    std::string workload = "standard";
    app.add_option("--workload", workload,
                   "standard (every cadence, policy and failure mode) | scale (a production fleet: mostly "
                   "monthly and quarterly crons; docs/performance.md)")
        ->check(CLI::IsMember({"standard", "scale"}));
    bool bench = false;
    app.add_flag("--bench", bench,
                 "Scale check: no faults, one dispatcher, invariants checked at the end only; prints "
                 "simulated occurrences per wall-clock second and the peak memory on stderr");
    CLI11_PARSE(app, argc, argv);
    options.store = *parse_store_kind(store);
    options.workload = *parse_workload_kind(workload);
    options.faults = !bench;
    options.check_every_step = !bench;
    try {
        // The wall clock is read here, in the program, never in the simulation.
        const auto began = std::chrono::steady_clock::now();
        const auto report = run_simulation(options, std::cout);
        if (bench) {
            const std::chrono::duration<double> took = std::chrono::steady_clock::now() - began;
            rusage usage{};
            ::getrusage(RUSAGE_SELF, &usage);
            std::cerr << "bench: " << report.occurrences << " occurrences, " << report.executions << " executions, "
                      << report.events << " ledger events in " << took.count() << " s wall: "
                      << static_cast<double>(report.occurrences) / took.count() << " occurrences/s; peak RSS "
                      << usage.ru_maxrss / 1024 << " MiB\n";
        }
        return report.ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "wakeplane-sim: " << e.what() << "\n";
        return 1;
    }
}
