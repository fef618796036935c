// due_rows: where the rows of the last due query are, for the planner's moves (private to the store).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <wakeplane/model.hpp>

namespace wakeplane::stores::sqlite_detail {

/// Each schedule's rowid as the last due query read it, in the order it returned them. A planner
/// moves the next_run_at of a chunk's schedules right after reading them, in the same order;
/// finding each row by its rowid instead of its id saves a descent through the id index, about a
/// ninth of a move (docs/performance.md, nineteenth session). A rowid is only a hint: VACUUM may
/// renumber rows and another connection may write in between, so the move checks the id as well
/// and, when nothing matched, moves by id (a stale plan thus costs two statements). Thread-safe; a
/// second planner on the same store only makes the hints miss.
class due_rows {
public:
    /// Lists longer than this are not kept: a planner's chunk is far shorter, and a larger list
    /// (one due query for everything) would keep its ids for the store's lifetime.
    static constexpr std::size_t most = 4096;

    /// Replaces the list with the schedules of one due query and their rowids, `rowids[i]` being
    /// that of `due[i]`; lists of another length than `due`, or longer than `most`, leave it empty.
    void remember(const std::vector<schedule>& due, const std::vector<std::int64_t>& rowids) {
        std::lock_guard lock{mutex_};
        count_ = 0;
        next_ = 0;
        if (due.size() != rowids.size() || due.size() > most) {
            return;
        }
        if (rows_.size() < due.size()) {
            rows_.resize(due.size());
        }
        for (std::size_t i = 0; i < due.size(); ++i) {
            rows_[i].id.assign(due[i].id);  // the string keeps its buffer from one chunk to the next
            rows_[i].rowid = rowids[i];
        }
        count_ = due.size();
    }

    /// The rowid of schedule `id`, when the list holds it at or after the last one taken (a
    /// planner skips some schedules of a chunk, never goes back); nullopt otherwise.
    [[nodiscard]] std::optional<std::int64_t> take(std::string_view id) {
        std::lock_guard lock{mutex_};
        for (std::size_t i = next_; i < count_; ++i) {
            if (rows_[i].id == id) {
                next_ = i + 1;
                return rows_[i].rowid;
            }
        }
        return std::nullopt;
    }

private:
    struct row {
        std::string id;
        std::int64_t rowid = 0;
    };
    std::mutex mutex_;
    std::vector<row> rows_;  ///< the first count_ are the last query's
    std::size_t count_ = 0;
    std::size_t next_ = 0;  ///< where the next take() starts looking
};

}  // namespace wakeplane::stores::sqlite_detail
