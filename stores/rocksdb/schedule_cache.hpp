// Decoded schedule records of the RocksDB store, by id and record version.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <wakeplane/model.hpp>

namespace wakeplane::stores::rocksdb_layout {

/// Schedule records as decoded, each with the record version (schedule_times::record_version)
/// it was decoded from. A planner pass reads every due schedule, and a claim the schedule of
/// every run it claims; reading and decoding the same 800 bytes of JSON each time was a fifth
/// of a pass. The times keys carry the version, so a reader that holds them asks for (id, version)
/// and gets either the record that version names or nothing: a record rewritten since has
/// another version and misses. Only records read from committed data may be inserted (see the
/// store), since only committed versions are unique.
///
/// Bounded. Once `capacity` entries are held, only one new schedule in `admit_interval` gets in,
/// in place of the entry that came in first (an id replaced by a newer version keeps its place),
/// so entries nobody reads any more, a deleted schedule's say, still leave in turn. Admitting
/// every new schedule would empty the cache for the commonest load larger than it: the planner
/// reads every due schedule in the same order each pass, and replacing the oldest entry on every
/// miss evicts exactly the ones the pass reads next, so no read ever hits. Admitting one in
/// `admit_interval` keeps most entries for many passes instead: about capacity / schedules of
/// the reads hit. Thread-safe; a lookup copies the record out under the lock.
class schedule_cache {
public:
    /// Once full, one new schedule in this many is admitted (see the class comment).
    static constexpr std::size_t admit_interval = 8;

    /// At most `capacity` records; 0 caches nothing.
    explicit schedule_cache(std::size_t capacity) : capacity_(capacity) {}

    /// The record of schedule `id` at `version`, as decoded (its moving members are those of
    /// the record; the caller applies the times). nullopt when not cached at that version.
    [[nodiscard]] std::optional<schedule> find(std::string_view id, std::uint64_t version) const {
        if (version == 0) {
            return std::nullopt;
        }
        const hashed_id key{id};
        std::lock_guard lock{mutex_};
        const auto it = entries_.find(key);
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
        const hashed_id key{record.id};
        std::lock_guard lock{mutex_};
        if (auto it = entries_.find(key); it != entries_.end()) {
            // Versions only grow, and a reader may insert an older one after a newer one.
            if (it->second.version < version) {
                it->second = entry{version, record};
            }
            return;
        }
        if (entries_.size() >= capacity_) {
            if (offered_while_full_++ % admit_interval != 0) {
                return;
            }
            // Not entries_.begin(): which entry that is follows the hash table's bucket lists
            // (in libstdc++ often the newest), and the cache could keep its first entries for good.
            entries_.erase(arrivals_.front());
            arrivals_.pop_front();
        }
        stored_id stored{key.hash, record.id};
        arrivals_.push_back(stored);
        try {
            entries_.emplace(std::move(stored), entry{version, record});
        } catch (...) {
            arrivals_.pop_back();  // every id in arrivals_ stays in entries_, and the reverse
            throw;
        }
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
    /// Keys carry their hash. libstdc++ keeps no hash codes in the nodes of a map whose hasher
    /// it takes for cheap (any user-defined one), so every node a lookup walks past had its id
    /// hashed again: that was most of a lookup. Here the hasher returns the stored code, and the
    /// lookup key (a string_view with its code, no string built) hashes its id once.
    struct hashed_id {
        explicit hashed_id(std::string_view text) : hash(std::hash<std::string_view>{}(text)), id(text) {}
        std::size_t hash;
        std::string_view id;
    };
    struct stored_id {
        std::size_t hash;
        std::string id;
    };
    struct id_hash {
        using is_transparent = void;
        std::size_t operator()(const hashed_id& k) const noexcept { return k.hash; }
        std::size_t operator()(const stored_id& k) const noexcept { return k.hash; }
    };
    struct id_equal {
        using is_transparent = void;
        template <class A, class B>
        bool operator()(const A& a, const B& b) const noexcept {
            return a.hash == b.hash && std::string_view{a.id} == std::string_view{b.id};
        }
    };

    std::size_t capacity_;
    mutable std::mutex mutex_;
    std::unordered_map<stored_id, entry, id_hash, id_equal> entries_;
    std::deque<stored_id> arrivals_;  ///< the ids of entries_, oldest first
    std::size_t offered_while_full_ = 0;  ///< new schedules offered while full; every admit_interval-th gets in
};

}  // namespace wakeplane::stores::rocksdb_layout
