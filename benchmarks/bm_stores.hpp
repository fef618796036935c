// The three stores as benchmark subjects, each in a fresh place, and bulk loading helpers.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <wakeplane/model.hpp>
#include <wakeplane/stores/memory.hpp>
#include <wakeplane/stores/rocksdb.hpp>
#include <wakeplane/stores/sqlite.hpp>
#include <wakeplane/testing/temp_dir.hpp>

namespace wakeplane::bench {

inline const time_point t0 = parse_rfc3339("2026-03-12T10:00:00Z").value();

using scratch_dir = testing::temp_dir;

struct memory {
    using store_type = stores::memory_store;
    std::unique_ptr<store_type> open() { return std::make_unique<store_type>(stores::memory_backend{}); }
};

struct sqlite {
    using store_type = stores::sqlite_store;
    scratch_dir dir;
    std::unique_ptr<store_type> open() {
        auto s = stores::open_sqlite_store(stores::sqlite_options{dir.path() / "bench.db"});
        if (!s) {
            throw std::runtime_error(s.error().message);
        }
        return std::move(*s);
    }
};

struct rocksdb {
    using store_type = stores::rocksdb_store;
    scratch_dir dir;
    std::unique_ptr<store_type> open() {
        auto b = stores::rocksdb_backend::open({.path = dir.path() / "db"});
        if (!b) {
            throw std::runtime_error(b.error().message);
        }
        return std::make_unique<store_type>(std::move(*b));
    }
};

/// A minutely interval schedule with a workflow target, as the daemon would store it.
inline schedule bench_schedule(std::int64_t i, time_point next) {
    schedule s;
    s.id = "sch_bench_" + std::to_string(i);
    s.name = "bench-" + std::to_string(i);
    s.timezone = "UTC";
    s.spec.kind = "interval";
    s.spec.every_seconds = 60;
    s.spec.anchor_at = t0;
    s.target.kind = "workflow";
    s.target.workflow_id = "noop";
    s.policy = {"forbid", "catch_up", 300, 1, 60, 100, 0};
    s.retry = {0, "exponential", 30, 900};
    s.next_run_at = next;
    s.created_at = t0 - std::chrono::hours{1};
    s.updated_at = s.created_at;
    return s;
}

/// What a burst is made of: an interval schedule firing every second from `anchor`, with a
/// workflow target `noop`, overlap `allow` and room for ten runs at once.
inline schedule_input every_second(std::string name, time_point anchor) {
    schedule_input in;
    in.name = std::move(name);
    in.timezone = "UTC";
    in.schedule.kind = "interval";
    in.schedule.every_seconds = 1;
    in.schedule.anchor_at = anchor;
    in.target.kind = "workflow";
    in.target.workflow_id = "noop";
    in.policy.overlap = "allow";
    in.policy.max_concurrency = 10;
    return in;
}

/// A run id of the shape of the planner's (id_generator: "run_" and a 26-character ULID, 10
/// characters of time and 16 more), unique per (round, position) and increasing with the
/// position within a round, as the planner's ids increase within a pass. The id is in a run's
/// row, its record and five indexes of runs: with shorter ids the raw inserts would write
/// smaller rows than the planner's (docs/performance.md, nineteenth session).
inline std::string bench_run_id(std::int64_t round, std::int64_t position) {
    static constexpr std::string_view crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    std::string id = "run_";
    id.resize(4 + 26);
    const auto put = [&id](std::size_t at, std::size_t width, std::uint64_t value) {
        for (std::size_t k = width; k-- > 0; value >>= 5) {
            id[at + k] = crockford[value & 31];
        }
    };
    put(4, 10, static_cast<std::uint64_t>(round));
    put(14, 16, static_cast<std::uint64_t>(position));
    return id;
}

/// A pending run row like the planner's: schedule `i`'s, the `position`-th written in `round`.
inline run bench_run(std::int64_t i, std::int64_t position, time_point nominal, std::int64_t round) {
    run r;
    r.id = bench_run_id(round, position);
    r.schedule = "sch_bench_" + std::to_string(i);
    r.occurrence_key = occurrence_key(r.schedule, nominal);
    r.nominal_time = nominal;
    r.due_time = nominal;
    r.created_at = nominal;
    r.updated_at = nominal;
    return r;
}

/// 0 … n-1 in the order of their decimal text, the order of the ids bench_schedule makes of them
/// ("…_10" before "…_2"): the order a planner pass reads its due schedules in (by next_run_at,
/// then id), and for a raw insert the order of its rows in every index of runs that starts with
/// its schedule's id (the run ids, like the planner's, increase in the order written). In plain
/// numeric order a raw chunk scattered its rows over the whole of those indexes, and the SQLite
/// raw insert at 100,000 ran about 10 % slower than in this order: a baseline below its best.
inline std::vector<std::int64_t> in_id_order(std::int64_t n) {
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
        order[static_cast<std::size_t>(i)] = i;
    }
    std::sort(order.begin(), order.end(),
              [](std::int64_t a, std::int64_t b) { return std::to_string(a) < std::to_string(b); });
    return order;
}

/// Loads `due` schedules due at t0 and `idle` schedules due in a year, in large transactions
/// straight through the backend (setup, not what is measured).
template <class Store>
void bulk_schedules(Store& store, std::int64_t due, std::int64_t idle) {
    const std::int64_t total = due + idle;
    for (std::int64_t i = 0; i < total;) {
        auto tx = store.backend().begin();
        if (!tx) {
            throw std::runtime_error(tx.error().message);
        }
        for (const auto end = std::min<std::int64_t>(total, i + 10'000); i < end; ++i) {
            const auto next = i < due ? t0 : t0 + std::chrono::hours{24 * 365};
            if (!tx->put_schedule(bench_schedule(i, next), std::nullopt)) {
                throw std::runtime_error("bulk load failed");
            }
        }
        if (!tx->commit()) {
            throw std::runtime_error("bulk commit failed");
        }
    }
}

}  // namespace wakeplane::bench
