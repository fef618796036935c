// Schedule records of the durable stores, packed, by id and record version (private to the stores).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <wakeplane/detail/schedule_image.hpp>
#include <wakeplane/model.hpp>

namespace wakeplane::detail {

/// Schedule records, each with the record version it was decoded from (RocksDB: the
/// times key's record_version; SQLite: the schedules.record_version column). A planner pass
/// reads every due schedule, and a RocksDB claim the schedule of every run it claims; reading
/// and decoding the same 800 bytes of JSON each time was a fifth of a pass. Each record is kept
/// packed (schedule_image.hpp): an entry takes 432 bytes for a workflow schedule, where one
/// holding a decoded `schedule` took 1,066. A reader that holds the version asks for
/// (id, version) and gets either the record that version names or nothing:
/// a record rewritten since has another version and misses. Only records read from committed
/// data may be inserted (see the stores), since only committed versions are unique.
///
/// Bounded. Once `capacity` entries are held, only one new schedule in `admit_interval` gets in,
/// in place of an entry picked at random, so entries nobody reads any more, a deleted
/// schedule's say, still leave in time. Both halves matter for the commonest load larger than
/// the cache, a planner reading every due schedule in the same order each pass:
/// - admitting every miss turns the cache over once per pass, so entries leave before they are
///   read again;
/// - evicting the oldest entry evicts exactly the one the pass reads next, so once a pass has
///   more misses than the cache has entries, no read hits at all.
/// With both, about capacity / schedules of the reads hit while schedules stay within a few
/// times the capacity, and the rate decays smoothly past that. Thread-safe; a lookup unpacks the
/// record under the lock.
class schedule_cache {
public:
    /// Once full, one new schedule in this many is admitted (see the class comment).
    static constexpr std::size_t admit_interval = 8;

    /// At most `capacity` records; 0 caches nothing.
    explicit schedule_cache(std::size_t capacity) : capacity_(capacity) {}

    /// The record of schedule `id` at `version`, as decoded (its moving members are those of
    /// the record; the caller applies the times). nullopt when not cached at that version.
    [[nodiscard]] std::optional<schedule> find(std::string_view id, std::uint64_t version) const {
        std::optional<schedule> found;  // the only object returned: built in the caller's place
        unpack_entry(id, version, [&](std::string_view image) { unpack_schedule_into(image, found.emplace()); });
        return found;
    }

    /// find() into `into`, a default-constructed schedule, for a caller that keeps it where it
    /// is (a list of due schedules): whether the cache held `id` at `version`; `into` is left as
    /// it was when not.
    [[nodiscard]] bool find_into(std::string_view id, std::uint64_t version, schedule& into) const {
        return unpack_entry(id, version, [&](std::string_view image) { unpack_schedule_into(image, into); });
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
                it->second = entry{version, pack_schedule(record)};
            }
            return;
        }
        if (entries_.size() >= capacity_) {
            if (offered_while_full_++ % admit_interval != 0) {
                return;
            }
            // A victim drawn from ids_, not entries_.begin(): which entry that is follows the
            // hash table's bucket lists (in libstdc++ often the newest).
            const auto victim = static_cast<std::size_t>(draw_() % ids_.size());
            entries_.erase(entries_.find(*ids_[victim]));
            ids_[victim] = ids_.back();
            ids_.pop_back();
        }
        if (ids_.size() == ids_.capacity()) {  // the push_back after the emplace cannot throw then
            ids_.reserve(std::max<std::size_t>(64, 2 * ids_.size()));
        }
        const auto placed =
            entries_.emplace(stored_id{key.hash, record.id}, entry{version, pack_schedule(record)}).first;
        ids_.push_back(&placed->first);  // every id in ids_ is a key of entries_, and the reverse
    }

    /// At most this many records; 0 when the cache keeps none (nothing to offer it then).
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

    [[nodiscard]] std::size_t size() const {
        std::lock_guard lock{mutex_};
        return entries_.size();
    }

private:
    /// Calls `unpack(image)` under the lock when the cache holds `id` at `version`; whether it did.
    template <class Unpack>
    bool unpack_entry(std::string_view id, std::uint64_t version, Unpack&& unpack) const {
        if (version == 0) {
            return false;
        }
        const hashed_id key{id};
        std::lock_guard lock{mutex_};
        const auto it = entries_.find(key);
        if (it == entries_.end() || it->second.version != version) {
            return false;
        }
        unpack(std::string_view{it->second.image});
        return true;
    }

    struct entry {
        std::uint64_t version;
        std::string image;  ///< pack_schedule of the record
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
    /// The keys of entries_ (nodes do not move), in no order: victims are drawn by index. A
    /// pointer, not a copy of the id: a copy took 88 of an entry's bytes.
    std::vector<const stored_id*> ids_;
    std::size_t offered_while_full_ = 0;  ///< new schedules offered while full; every admit_interval-th gets in
    /// Picks victims. Seeded with a constant: which entry leaves needs no unpredictability, and
    /// a cache that behaves the same in every run keeps tests and benchmarks repeatable.
    std::minstd_rand draw_{20261127};
};

}  // namespace wakeplane::detail
