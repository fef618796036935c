// Private: the threads a dispatcher runs executions on, kept and reused between executions.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

namespace wakeplane::detail {

/// A growing pool of detached threads. An execution may block for as long as its executor
/// likes (a child process, an HTTP call, a workflow that ignores its stop request), so the pool
/// never makes a job wait for a busy thread: submit() hands the job to an idle thread or starts
/// a new one. What the pool saves is the thread start per execution (a clone, a fresh stack
/// faulted in page by page), which dominated a no-op execution.
///
/// Threads keep the pool alive through a shared_ptr, so a job still running when its owner
/// closes the pool (an abandoned execution) finishes safely; its thread then exits.
class worker_pool : public std::enable_shared_from_this<worker_pool> {
public:
    /// At most `keep_idle` threads wait for work; one that would be more exits instead.
    [[nodiscard]] static std::shared_ptr<worker_pool> create(std::size_t keep_idle) {
        return std::shared_ptr<worker_pool>(new worker_pool(keep_idle));
    }

    worker_pool(const worker_pool&) = delete;
    worker_pool& operator=(const worker_pool&) = delete;

    /// Runs `job` on a pool thread. Never blocks on other jobs, unless the system refuses to
    /// start threads: then the job waits for a busy thread to free up.
    ///
    /// When the job needs a new thread and none is being started, the caller starts one; a
    /// thread being started starts the next one itself if more are needed by then. So a burst
    /// of submits (a batch of claims whose executions all begin at once) costs the submitter one
    /// thread start, not one per job: the starts happen beside it, on the new threads.
    void submit(std::function<void()> job) {
        bool spawn = false;
        {
            std::lock_guard lock{mutex_};
            jobs_.push_back(std::move(job));
            spawn = starting_ == 0 && needs_thread();
            if (spawn) {
                ++starting_;
                ++threads_;
            }
        }
        if (spawn) {
            try {
                start_thread();
            } catch (...) {
                // The system refused a thread: the job stays queued and runs on the next thread
                // that frees up (or that a later submit manages to start).
                thread_not_started();
            }
        } else {
            ready_.notify_one();
        }
    }

    /// Lets idle threads exit and makes busy ones exit after their job. submit() must not be
    /// called afterwards.
    void close() {
        {
            std::lock_guard lock{mutex_};
            closed_ = true;
        }
        ready_.notify_all();
    }

    /// Waits until `pred(idle threads, live threads)` holds: a condition for tests of the pool's
    /// reuse and bounds, woken whenever a thread goes idle or exits (never a timed wait).
    template <class Pred>
    void await(Pred pred) {
        std::unique_lock lock{mutex_};
        changed_.wait(lock, [&] { return pred(idle_, threads_); });
    }

private:
    explicit worker_pool(std::size_t keep_idle) : keep_idle_(keep_idle) {}

    /// Whether the queued jobs outnumber the threads that will take them: every idle thread and
    /// every thread being started takes one. Called with the mutex held.
    [[nodiscard]] bool needs_thread() const noexcept { return jobs_.size() > idle_ + starting_; }

    void start_thread() {
        std::thread([self = shared_from_this()] { self->work(); }).detach();
    }

    /// Undoes the counts of a thread whose start failed.
    void thread_not_started() {
        {
            std::lock_guard lock{mutex_};
            --starting_;
            --threads_;
        }
        changed_.notify_all();
    }

    /// A pool thread: takes jobs until the pool closes or enough threads already idle. Taking a
    /// job, it starts the next thread if the jobs left still outnumber the threads that will take
    /// them (checked after taking its own, so that the job is not counted for two threads).
    void work() {
        std::unique_lock lock{mutex_};
        --starting_;
        for (;;) {
            if (!jobs_.empty()) {
                auto job = std::move(jobs_.front());
                jobs_.pop_front();
                const bool spawn = needs_thread();
                if (spawn) {
                    ++starting_;
                    ++threads_;
                }
                lock.unlock();
                if (spawn) {
                    try {
                        start_thread();
                    } catch (...) {
                        // Out of threads: the queued jobs wait for threads that free up. Nobody
                        // could catch the error above this thread, and ending the process would
                        // lose more.
                        thread_not_started();
                    }
                }
                job();
                job = nullptr;  // release what the job captured before waiting for the next one
                lock.lock();
                continue;
            }
            if (closed_ || idle_ >= keep_idle_) {
                --threads_;
                changed_.notify_all();
                return;
            }
            ++idle_;
            changed_.notify_all();
            ready_.wait(lock, [&] { return !jobs_.empty() || closed_; });
            --idle_;
        }
    }

    std::mutex mutex_;
    std::condition_variable ready_;    ///< a job arrived or the pool closed
    std::condition_variable changed_;  ///< a thread went idle or exited (await())
    std::deque<std::function<void()>> jobs_;
    std::size_t idle_ = 0;      ///< threads waiting in work()
    std::size_t starting_ = 0;  ///< threads started that have not yet entered work()
    std::size_t threads_ = 0;   ///< threads started and not yet returned
    bool closed_ = false;
    std::size_t keep_idle_;
};

}  // namespace wakeplane::detail
