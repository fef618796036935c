// The SQLite store's background checkpoints.
#include "checkpointer.hpp"

#include <utility>

namespace wakeplane::stores::sqlite_detail {

checkpointer::checkpointer(connection own, int threshold, int limit)
    : own_(std::move(own)), threshold_(threshold), limit_(limit), thread_([this] { loop(); }) {}

checkpointer::~checkpointer() {
    {
        std::lock_guard lock{mutex_};
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

bool checkpointer::wal_grew(int pages) noexcept {
    if (pages < threshold_) {
        return false;
    }
    std::unique_lock lock{mutex_};
    if (limit_ > 0 && pages >= limit_) {
        // The writer copies the rest itself; a checkpoint asked for and not begun would only
        // find the lock taken.
        idle_.wait(lock, [&] { return !running_; });
        wanted_ = false;
        ++writer_checkpoints_;
        return true;
    }
    if (wanted_) {
        return false;  // one is asked for already: it will copy these frames too
    }
    wanted_ = true;
    lock.unlock();
    wake_.notify_one();
    return false;
}

std::uint64_t checkpointer::checkpoints() const {
    std::lock_guard lock{mutex_};
    return checkpoints_;
}

std::uint64_t checkpointer::writer_checkpoints() const {
    std::lock_guard lock{mutex_};
    return writer_checkpoints_;
}

void checkpointer::loop() {
    std::unique_lock lock{mutex_};
    for (;;) {
        wake_.wait(lock, [&] { return wanted_ || stopping_; });
        if (stopping_) {
            return;  // closing the last connection checkpoints what is left
        }
        wanted_ = false;
        running_ = true;
        lock.unlock();
        // A failure (the disk, a lock held by another process) leaves the frames in the WAL,
        // where they are as durable; the next commit past the threshold asks again.
        (void)own_.checkpoint_passive();
        lock.lock();
        running_ = false;
        ++checkpoints_;
        idle_.notify_all();
    }
}

}  // namespace wakeplane::stores::sqlite_detail
