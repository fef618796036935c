#include <wakeplane/clock.hpp>

#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using namespace wakeplane;
using namespace std::chrono_literals;

namespace {
struct no_now {};
struct throwing_now {
    time_point now() const { return {}; }  // not noexcept
};
struct seconds_now {
    std::chrono::sys_seconds now() const noexcept { return {}; }  // wrong precision
};
}  // namespace

TEST_CASE("clock concept accepts the two clocks and rejects look-alikes", "[clock]") {
    STATIC_REQUIRE(wakeplane::clock<system_clock>);
    STATIC_REQUIRE(wakeplane::clock<manual_clock>);
    STATIC_REQUIRE_FALSE(wakeplane::clock<no_now>);
    STATIC_REQUIRE_FALSE(wakeplane::clock<throwing_now>);
    STATIC_REQUIRE_FALSE(wakeplane::clock<seconds_now>);
}

TEST_CASE("manual_clock moves only when told, also backwards", "[clock]") {
    const auto start = parse_rfc3339("2026-03-08T06:59:00Z").value();
    manual_clock c{start};
    CHECK(c.now() == start);
    CHECK(c.now() == start);  // reading does not move it
    c.advance(2min);
    CHECK(format_rfc3339(c.now()) == "2026-03-08T07:01:00Z");
    c.set(start - 1h);
    CHECK(format_rfc3339(c.now()) == "2026-03-08T05:59:00Z");
    c.advance(-30s);
    CHECK(format_rfc3339(c.now()) == "2026-03-08T05:58:30Z");
    manual_clock handle = c;  // copies are handles to the same clock
    handle.advance(1h);
    CHECK(c.now() == handle.now());
    CHECK(format_rfc3339(c.now()) == "2026-03-08T06:58:30Z");
}

TEST_CASE("manual_clock advances atomically from several threads", "[clock][concurrency]") {
    manual_clock c{time_point{}};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 10'000; ++i) {
                c.advance(1us);
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    CHECK(to_unix_micros(c.now()) == 40'000);
}

TEST_CASE("system_clock reads a plausible present", "[clock]") {
    // Not a timing test: only that it is the real calendar, not the epoch.
    CHECK(system_clock{}.now() > parse_rfc3339("2024-01-01T00:00:00Z").value());
}

TEST_CASE("manual_clock sleepers wake when time reaches them or when stopped", "[clock][concurrency]") {
    const auto start = parse_rfc3339("2026-03-12T10:00:00Z").value();
    manual_clock c{start};
    std::stop_source stop;
    bool reached_a = false;
    bool reached_b = true;
    std::thread a([&] { reached_a = c.sleep_until(start + 5min); });  // real-time ok: a manual clock, simulated time
    std::thread b([&] { reached_b = c.sleep_until(start + 1h, stop.get_token()); });  // real-time ok: a manual clock, simulated time
    c.wait_until([](std::size_t sleeping) { return sleeping == 2; });
    CHECK(c.earliest_sleeper() == start + 5min);
    c.advance(4min);
    CHECK(c.sleepers() == 2);          // not yet
    c.advance(1min);
    CHECK(c.sleepers() == 1);          // released at once by the move, before it even runs
    a.join();
    CHECK(reached_a);
    stop.request_stop();
    CHECK(c.sleepers() == 0);          // released by the stop request itself
    b.join();
    CHECK_FALSE(reached_b);
    CHECK(c.sleep_until(start));  // real-time ok: already there, returns at once
    CHECK_FALSE(c.earliest_sleeper().has_value());
}

TEST_CASE("manual_clock releases exactly the sleepers whose instant has come", "[clock][concurrency]") {
    // Sleepers are kept ordered by instant and a move wakes only those it releases: the
    // earliest is known at once and the others stay parked, however many there are.
    const auto start = parse_rfc3339("2026-03-12T10:00:00Z").value();
    manual_clock c{start};
    constexpr int n = 6;
    std::vector<int> reached(n, -1);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
        // Two sleepers per instant (start + 1, 2, 3 min): ties are kept apart by their ticket.
        threads.emplace_back([&, i] { reached[i] = c.sleep_until(start + std::chrono::minutes{1 + i / 2}) ? 1 : 0; });  // real-time ok: a manual clock, simulated time
    }
    c.wait_until([](std::size_t sleeping) { return sleeping == n; });
    CHECK(c.earliest_sleeper() == start + 1min);
    c.set(start + 2min);
    CHECK(c.sleepers() == 2);  // the four at +1 and +2 min were released by the move itself
    CHECK(c.earliest_sleeper() == start + 3min);
    c.set(start + 2min + 59s);
    CHECK(c.sleepers() == 2);
    c.set(start + 3min);
    CHECK(c.sleepers() == 0);
    CHECK_FALSE(c.earliest_sleeper().has_value());
    for (auto& t : threads) {
        t.join();
    }
    CHECK(reached == std::vector<int>(n, 1));
}
