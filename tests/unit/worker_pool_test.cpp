// The dispatcher's worker pool: threads are reused, a blocked job never delays another, the
// idle threads are bounded, and closing lets every thread go, a busy one after its job.
#include <wakeplane/detail/worker_pool.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

namespace {

using wakeplane::detail::worker_pool;

/// A one-shot signal between threads (a condition, never a timed wait).
class latch_flag {
public:
    void set() {
        // Notified under the lock: a waiter cannot return (and destroy a flag that lives on its
        // stack) before this call is done with the condition variable.
        std::lock_guard lock{m_};
        set_ = true;
        cv_.notify_all();
    }
    void wait() {
        std::unique_lock lock{m_};
        cv_.wait(lock, [&] { return set_; });
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    bool set_ = false;
};

/// Submits `jobs` jobs that each block until `release` is set, back to back, and returns once all
/// of them run at the same time (so each has a thread of its own).
void start_blocked(worker_pool& pool, int jobs, latch_flag& release) {
    std::atomic<int> started{0};
    latch_flag all_started;
    for (int i = 0; i < jobs; ++i) {
        pool.submit([&, jobs] {
            if (started.fetch_add(1) + 1 == jobs) {
                all_started.set();
            }
            release.wait();
        });
    }
    all_started.wait();
}

}  // namespace

TEST_CASE("worker_pool reuses an idle thread for the next job", "[worker_pool]") {
    auto pool = worker_pool::create(4);
    std::mutex m;
    std::set<std::thread::id> seen;
    for (int i = 0; i < 20; ++i) {
        latch_flag done;
        pool->submit([&] {
            {
                std::lock_guard lock{m};
                seen.insert(std::this_thread::get_id());
            }
            done.set();
        });
        done.wait();
        pool->await([](std::size_t idle, std::size_t) { return idle == 1; });  // back in the pool
    }
    CHECK(seen.size() == 1);
    pool->close();
    pool->await([](std::size_t, std::size_t threads) { return threads == 0; });
}

TEST_CASE("worker_pool never makes a job wait for a blocked one", "[worker_pool]") {
    auto pool = worker_pool::create(1);
    latch_flag release;
    latch_flag second_ran;
    pool->submit([&] { release.wait(); });           // blocks until the second job has run
    pool->submit([&] { second_ran.set(); });
    second_ran.wait();  // would never return if the second job queued behind the first
    release.set();
    // Two threads ran at once; with keep_idle 1 only one stays.
    pool->await([](std::size_t idle, std::size_t threads) { return idle == 1 && threads == 1; });
    pool->close();
    pool->await([](std::size_t, std::size_t threads) { return threads == 0; });
}

TEST_CASE("worker_pool keeps at most keep_idle threads idle", "[worker_pool]") {
    constexpr int jobs = 8;
    auto pool = worker_pool::create(3);
    latch_flag release;
    start_blocked(*pool, jobs, release);  // eight jobs blocked at once: eight threads
    pool->await([](std::size_t, std::size_t threads) { return threads == jobs; });
    release.set();
    pool->await([](std::size_t idle, std::size_t threads) { return idle == 3 && threads == 3; });
    pool->close();
    pool->await([](std::size_t, std::size_t threads) { return threads == 0; });
}

TEST_CASE("worker_pool lets a busy thread finish its job after close", "[worker_pool]") {
    auto pool = worker_pool::create(2);
    latch_flag entered;
    latch_flag release;
    std::atomic<bool> finished{false};
    pool->submit([&] {
        entered.set();
        release.wait();
        finished = true;
    });
    entered.wait();
    pool->close();
    release.set();
    pool->await([](std::size_t, std::size_t threads) { return threads == 0; });
    CHECK(finished);
}

TEST_CASE("worker_pool runs a burst of blocking jobs at once, started one thread after another",
          "[worker_pool]") {
    // Submitted back to back, faster than threads start: the submitter starts one thread and each
    // new thread the next. Every job blocks until all have started, so a job left without a
    // thread (a chain that stopped early) would hang the test.
    constexpr int jobs = 64;
    auto pool = worker_pool::create(jobs);
    latch_flag first;
    start_blocked(*pool, jobs, first);
    pool->await([](std::size_t, std::size_t threads) { return threads == jobs; });
    first.set();
    pool->await([](std::size_t idle, std::size_t) { return idle == jobs; });
    // A second burst reuses the idle threads and starts none.
    latch_flag second;
    start_blocked(*pool, jobs, second);
    pool->await([](std::size_t idle, std::size_t threads) { return idle == 0 && threads == jobs; });
    second.set();
    pool->close();
    pool->await([](std::size_t, std::size_t threads) { return threads == 0; });
}
