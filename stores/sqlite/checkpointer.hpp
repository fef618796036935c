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
/// checkpoint run beside one writer and any readers). Thread-safe.
class checkpointer final : public wal_listener {
public:
    /// Starts the thread; `own` is a connection of role checkpointer to the same file.
    checkpointer(connection own, int threshold);
    checkpointer(const checkpointer&) = delete;
    checkpointer& operator=(const checkpointer&) = delete;
    /// Stops the thread after the checkpoint in progress, if any.
    ~checkpointer();

    void wal_grew(int pages) noexcept override;

    /// Checkpoints run so far.
    [[nodiscard]] std::uint64_t checkpoints() const;

private:
    void loop();

    connection own_;
    const int threshold_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool wanted_ = false;
    bool stopping_ = false;
    std::uint64_t checkpoints_ = 0;
    std::thread thread_;  ///< last: starts once everything it uses is built
};

}  // namespace wakeplane::stores::sqlite_detail
