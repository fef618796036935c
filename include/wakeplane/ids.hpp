// Ids `<prefix>_<ULID>`: a 48-bit millisecond time and 80 random bits in Crockford base32.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include <wakeplane/time.hpp>

namespace wakeplane {

/// The id prefixes of ORIGINAL-BEHAVIOR §1.1.
namespace id_prefix {
inline constexpr std::string_view schedule = "sch";
inline constexpr std::string_view run = "run";
inline constexpr std::string_view receipt = "rcpt";
inline constexpr std::string_view dead_letter = "dlq";
inline constexpr std::string_view lease = "lease";
}  // namespace id_prefix

/// Makes ULID-based ids from an injected time and a seeded generator, so a simulation with the
/// same seed and the same manual clock produces the same ids, byte for byte.
///
/// Unlike the original (a fresh entropy source per id), ids made by one generator are strictly
/// increasing: within one millisecond, or when the clock steps backwards, the 80-bit random part
/// of the previous id is incremented instead of drawn anew. Thread-safe.
///
/// Example:
///     id_generator ids{42};
///     auto a = ids.next(id_prefix::run, clock.now());   // "run_01JPC3V9QF7D2M8K4X6T1R5N0B"
///     auto b = ids.next(id_prefix::run, clock.now());   // b > a, also in the same millisecond
class id_generator {
public:
    explicit id_generator(std::uint64_t seed) noexcept;

    /// A new id `<prefix>_<26 characters>` for an entity created at `now`.
    [[nodiscard]] std::string next(std::string_view prefix, time_point now);

private:
    std::uint64_t draw() noexcept;

    std::mutex mutex_;
    std::uint64_t state_;
    std::int64_t last_ms_ = -1;
    std::uint16_t rand_hi_ = 0;  // top 16 of the 80 random bits
    std::uint64_t rand_lo_ = 0;  // low 64 of the 80 random bits
};

/// A seed from the operating system's entropy, for generators of real (not simulated) schedulers.
[[nodiscard]] std::uint64_t os_entropy_seed();

/// True when `text` is `<prefix>_` followed by 26 Crockford base32 characters (upper case).
[[nodiscard]] bool is_valid_id(std::string_view prefix, std::string_view text) noexcept;

}  // namespace wakeplane
