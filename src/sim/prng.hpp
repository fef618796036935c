// The simulator's random source: xoshiro256** seeded through splitmix64, with its own range
// functions, so that a seed gives the same numbers with every compiler and standard library
// (std::uniform_int_distribution and friends differ between implementations).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>

namespace wakeplane::sim {

/// splitmix64's finalizer: a well-mixed 64-bit value from any 64-bit input.
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/// xoshiro256** (Blackman and Vigna). Equal seeds give equal sequences everywhere.
class prng {
public:
    explicit prng(std::uint64_t seed) noexcept {
        for (auto& word : s_) {
            seed = mix64(seed);
            word = seed;
        }
    }

    std::uint64_t next() noexcept {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    /// A number in [0, n) for n > 0, without modulo bias (rejection sampling).
    std::uint64_t below(std::uint64_t n) noexcept {
        const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
        std::uint64_t x = next();
        while (x >= limit) {
            x = next();
        }
        return x % n;
    }

    /// A number in [lo, hi].
    std::int64_t between(std::int64_t lo, std::int64_t hi) noexcept {
        return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo) + 1));
    }

    /// True with probability `per_mille` / 1000.
    bool chance(std::uint64_t per_mille) noexcept { return below(1000) < per_mille; }

    /// One element of a non-empty array or vector.
    template <class Range>
    const auto& pick(const Range& items) noexcept {
        return items[below(std::size(items))];
    }

private:
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

    std::uint64_t s_[4];
};

/// An index drawn with the given weights: i with probability weights[i] / their sum.
template <std::size_t N>
std::size_t weighted(prng& rng, const std::array<std::uint64_t, N>& weights) {
    std::uint64_t total = 0;
    for (auto w : weights) {
        total += w;
    }
    auto roll = rng.below(total);
    std::size_t i = 0;
    while (roll >= weights[i]) {
        roll -= weights[i++];
    }
    return i;
}

}  // namespace wakeplane::sim
