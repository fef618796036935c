// Decoded schedule records of the RocksDB store, by id and record version.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <wakeplane/model.hpp>

namespace wakeplane::stores::rocksdb_layout {

/// Schedule records as decoded, each with the record version (schedule_times::record_version)
/// it was decoded from. A planner pass reads every due schedule, and a claim the schedule of
/// every run it claims; decoding the same 800 bytes of JSON again each time was a fifth of a
/// pass. The times keys carry the version, so a reader that holds them asks for (id, version)
/// and gets either the record that version names or nothing: a record rewritten since has
/// another version and misses. Only records read from committed data may be inserted (see the
/// store), since only committed versions are unique.
///
/// Bounded: past `capacity` entries an insert first drops an arbitrary one. Thread-safe; a
/// lookup copies the record out under the lock.
class schedule_cache {
public:
    /// At most `capacity` records; 0 caches nothing.
    explicit schedule_cache(std::size_t capacity) : capacity_(capacity) {}

    /// The record of schedule `id` at `version`, as decoded (its moving members are those of
    /// the record; the caller applies the times). nullopt when not cached at that version.
    [[nodiscard]] std::optional<schedule> find(std::string_view id, std::uint64_t version) const {
        if (version == 0) {
            return std::nullopt;
        }
        std::lock_guard lock{mutex_};
        const auto it = entries_.find(id);
        if (it == entries_.end() || it->second.version != version) {
            return std::nullopt;
        }
        return it->second.record;
    }

    /// Remembers `record` as the record of its schedule at `version` (0: never cached).
    void insert(const schedule& record, std::uint64_t version) {
        if (version == 0 || capacity_ == 0) {
            return;
        }
        std::lock_guard lock{mutex_};
        if (auto it = entries_.find(std::string_view{record.id}); it != entries_.end()) {
            // Versions only grow, and a reader may insert an older one after a newer one.
            if (it->second.version < version) {
                it->second = entry{version, record};
            }
            return;
        }
        if (entries_.size() >= capacity_) {
            entries_.erase(entries_.begin());
        }
        entries_.emplace(record.id, entry{version, record});
    }

    [[nodiscard]] std::size_t size() const {
        std::lock_guard lock{mutex_};
        return entries_.size();
    }

private:
    struct entry {
        std::uint64_t version;
        schedule record;
    };
    /// Heterogeneous lookup by string_view, without building a std::string per find.
    struct id_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view id) const noexcept { return std::hash<std::string_view>{}(id); }
    };

    std::size_t capacity_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, entry, id_hash, std::equal_to<>> entries_;
};

}  // namespace wakeplane::stores::rocksdb_layout
