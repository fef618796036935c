// The SQLite store's background checkpoints.
#include "checkpointer.hpp"

#include <utility>

namespace wakeplane::stores::sqlite_detail {

checkpointer::checkpointer(connection own, int threshold)
    : own_(std::move(own)), threshold_(threshold), thread_([this] { loop(); }) {}

checkpointer::~checkpointer() {
    {
        std::lock_guard lock{mutex_};
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void checkpointer::wal_grew(int pages) noexcept {
    if (pages < threshold_) {
        return;
    }
    {
        std::lock_guard lock{mutex_};
        if (wanted_) {
            return;  // one is asked for already: it will copy these frames too
        }
        wanted_ = true;
    }
    wake_.notify_one();
}

std::uint64_t checkpointer::checkpoints() const {
    std::lock_guard lock{mutex_};
    return checkpoints_;
}

void checkpointer::loop() {
    std::unique_lock lock{mutex_};
    for (;;) {
        wake_.wait(lock, [&] { return wanted_ || stopping_; });
        if (stopping_) {
            return;  // closing the last connection checkpoints what is left
        }
        wanted_ = false;
        lock.unlock();
        // A failure (the disk, a lock held by another process) leaves the frames in the WAL,
        // where they are as durable; the next commit past the threshold asks again.
        (void)own_.checkpoint_passive();
        lock.lock();
        ++checkpoints_;
    }
}

}  // namespace wakeplane::stores::sqlite_detail
