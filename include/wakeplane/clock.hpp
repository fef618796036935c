// The clock concept and the two clocks: the real one and a manual one for time travel.
#pragma once

#include <atomic>
#include <concepts>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <map>
#include <stop_token>
#include <utility>

#include <wakeplane/time.hpp>

namespace wakeplane {

/// A clock tells the current UTC instant. The scheduler holds an instance, never a global,
/// so every test and simulation owns its own time.
template <class C>
concept clock = requires(const C& c) {
    { c.now() } noexcept -> std::same_as<time_point>;
};

/// The operating system's wall clock (`std::chrono::system_clock`), truncated to microseconds.
/// This is the only place in the library that reads real time.
struct system_clock {
    [[nodiscard]] time_point now() const noexcept;

    /// Blocks until `t` or until `stop` is requested; true when `t` was reached.
    bool sleep_until(time_point t, std::stop_token stop = {}) const;
};

/// A clock that moves only when told to: forward with advance() and set(), and backwards with
/// set() to model an NTP step. Reads and moves are atomic, so a test thread may move it while
/// dispatcher threads read it. Copies share one time (they are handles).
///
/// Example:
///     manual_clock c{parse_rfc3339("2026-03-08T06:59:00Z").value()};
///     c.advance(std::chrono::minutes{2});   // 07:01:00Z, across the New York spring-forward
///     c.set(c.now() - std::chrono::hours{1});  // a backwards step
class manual_clock {
public:
    manual_clock() = default;
    explicit manual_clock(time_point start) { state_->now_us.store(to_unix_micros(start)); }
    // Copies are handles to one clock: a test keeps one and hands another to a scheduler, and
    // both read and move the same time.
    manual_clock(const manual_clock&) = default;
    manual_clock& operator=(const manual_clock&) = default;

    [[nodiscard]] time_point now() const noexcept {
        return from_unix_micros(state_->now_us.load(std::memory_order_acquire));
    }

    /// Moves time forward by `d` (a negative `d` moves it back, like set()).
    void advance(duration d) {
        state_->now_us.fetch_add(d.count(), std::memory_order_acq_rel);
        wake();
    }

    /// Jumps to `t`, earlier or later than now.
    void set(time_point t) {
        state_->now_us.store(to_unix_micros(t), std::memory_order_release);
        wake();
    }

    /// Blocks the calling thread until the clock reads `t` or later (someone moves it there) or
    /// `stop` is requested; true when `t` was reached. Simulated work uses it to take simulated
    /// time: a handler that needs 5 minutes sleeps until start + 5 min, and wakes when a test
    /// moves the clock there.
    bool sleep_until(time_point t, std::stop_token stop = {}) const {
        auto& st = *state_;
        sleeper self;
        sleeper_key key{t, 0};
        // A sleeper leaves the sleepers under the mutex at the very moment it is released: when
        // a stop is requested (in the requesting thread) or when time reaches it (in the thread
        // moving the clock, which unlists it). A driver then never mistakes a thread that is
        // waking up for one still parked on simulated time.
        auto leave = [&] {
            if (self.listed) {
                st.sleeping.erase(key);
                self.listed = false;
                st.changed.notify_all();
            }
        };
        std::unique_lock lock{st.mutex, std::defer_lock};
        std::stop_callback on_stop{stop, [&] {
                                       std::lock_guard guard{st.mutex};
                                       leave();
                                       self.wake.notify_one();
                                   }};
        lock.lock();
        while (!stop.stop_requested() && now() < t) {
            if (!self.listed) {  // first time, or released and then the clock went back before we ran
                key.second = ++st.next_ticket;
                st.sleeping.emplace(key, &self);
                self.listed = true;
                st.changed.notify_all();
            }
            self.wake.wait(lock);
        }
        leave();
        const bool reached = now() >= t;
        lock.unlock();  // before on_stop goes: its callback may be waiting for the mutex
        return reached;
    }

    /// How many threads are blocked in sleep_until(), and the earliest instant one waits for.
    [[nodiscard]] std::size_t sleepers() const {
        std::lock_guard lock{state_->mutex};
        return state_->sleeping.size();
    }
    [[nodiscard]] std::optional<time_point> earliest_sleeper() const {
        std::lock_guard lock{state_->mutex};
        return state_->sleeping.empty() ? std::optional<time_point>{}
                                        : std::optional<time_point>{state_->sleeping.begin()->first.first};
    }

    /// Blocks until `pred(number of sleepers)` holds; checked again whenever a sleeper comes or
    /// goes and whenever notify_waiters() is called. A driver uses it to let simulated work run
    /// until every worker is either finished or asleep on this clock.
    template <class Pred>
    void wait_until(Pred&& pred) const {
        std::unique_lock lock{state_->mutex};
        state_->changed.wait(lock, [&] { return pred(state_->sleeping.size()); });
    }

    /// Wakes wait_until() callers so they check their predicate again.
    void notify_waiters() const {
        std::lock_guard lock{state_->mutex};
        state_->changed.notify_all();
    }

private:
    /// One thread in sleep_until(), on its own stack. Each has its own condition variable: a
    /// clock move wakes only the sleepers it releases, not every parked thread (with thousands
    /// of simulated executions asleep, one shared variable made every move O(sleepers) in
    /// context switches).
    struct sleeper {
        std::condition_variable wake;
        bool listed = false;  ///< in state::sleeping; only changed under the mutex
    };
    /// (wake-up instant, ticket): ordered by instant, so the earliest is the first and a move
    /// releases a prefix.
    using sleeper_key = std::pair<time_point, std::uint64_t>;

    struct state {
        std::atomic<std::int64_t> now_us{0};
        std::mutex mutex;
        std::condition_variable changed;  // observers: a sleeper came or went
        std::map<sleeper_key, sleeper*> sleeping;
        std::uint64_t next_ticket = 0;
    };

    /// Releases every sleeper whose instant has come and wakes those only.
    void wake() {
        std::lock_guard lock{state_->mutex};
        auto& sleeping = state_->sleeping;
        const auto released = sleeping.upper_bound({now(), std::numeric_limits<std::uint64_t>::max()});
        for (auto it = sleeping.begin(); it != released; ++it) {
            it->second->listed = false;
            it->second->wake.notify_one();
        }
        sleeping.erase(sleeping.begin(), released);
        state_->changed.notify_all();
    }

    std::shared_ptr<state> state_ = std::make_shared<state>();
};

static_assert(clock<system_clock>);
static_assert(clock<manual_clock>);

}  // namespace wakeplane
