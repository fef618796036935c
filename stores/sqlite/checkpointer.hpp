// checkpointer: copies the WAL into the database file on a thread of its own, so that no commit
// of the writer pays for a checkpoint.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "connection.hpp"

namespace wakeplane::stores::sqlite_detail {

/// SQLite checkpoints on the thread that commits, once the WAL passes 1,000 pages: every few
/// hundred runs claimed or started, one commit also writes megabytes into the database file and
/// syncs it, and the runs of that batch start late by that much. A checkpointer takes this off
/// the writer: the writer's WAL hook wakes it past `threshold` pages, and it runs a passive
/// checkpoint on its own connection, which does not block the writer (WAL mode lets a
/// checkpoint run beside one writer and any readers).
///
/// A passive checkpoint copies the frames committed when it began. SQLite starts the WAL over
/// from its beginning only at a write transaction that finds every frame copied; a writer that
/// commits without pause finds the checkpointer a commit behind, every time, and the WAL grows
/// without bound (a planner pass of 100,000 schedules added 60,000 frames, 240 MB, to it). So
/// past `limit` pages the committing thread checkpoints the rest itself: it waits for the
/// checkpoint in progress, if any, and wal_grew() tells it to run a passive checkpoint on its own
/// connection, which no other writer can outrun. Thread-safe.
class checkpointer final : public wal_listener {
public:
    /// Starts the thread; `own` is a connection of role checkpointer to the same file. `limit` is
    /// 0 (none) or at least `threshold`.
    checkpointer(connection own, int threshold, int limit);
    checkpointer(const checkpointer&) = delete;
    checkpointer& operator=(const checkpointer&) = delete;
    /// Stops the thread after the checkpoint in progress, if any.
    ~checkpointer();

    bool wal_grew(int pages) noexcept override;

    /// Checkpoints the thread has run so far.
    [[nodiscard]] std::uint64_t checkpoints() const;
    /// Times a committing thread was told to checkpoint, the WAL at its limit.
    [[nodiscard]] std::uint64_t writer_checkpoints() const;

private:
    void loop();

    connection own_;
    const int threshold_;
    const int limit_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;  ///< the thread waits here for wanted_ or stopping_
    std::condition_variable idle_;  ///< a writer at the limit waits here for !running_
    bool wanted_ = false;
    bool running_ = false;
    bool stopping_ = false;
    std::uint64_t checkpoints_ = 0;
    std::uint64_t writer_checkpoints_ = 0;
    std::thread thread_;  ///< last: starts once everything it uses is built
};

}  // namespace wakeplane::stores::sqlite_detail
