// ULID ids with a seeded, monotonic generator.
#include <wakeplane/ids.hpp>

#include <array>
#include <random>

namespace wakeplane {
namespace {

constexpr std::string_view crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Encodes 48 bits of time and 80 bits of randomness as 26 base32 characters (10 + 16).
void append_ulid(std::string& out, std::uint64_t ms, std::uint16_t hi, std::uint64_t lo) {
    std::array<char, 26> c{};
    // time: 48 bits in 10 characters (the first carries the top 3 bits of 50)
    for (int k = 9; k >= 0; --k) {
        c[static_cast<std::size_t>(k)] = crockford[ms & 31U];
        ms >>= 5;
    }
    // randomness: 80 bits in 16 characters, taken 5 bits at a time from the low end
    for (int k = 25; k >= 10; --k) {
        c[static_cast<std::size_t>(k)] = crockford[lo & 31U];
        lo = (lo >> 5) | (static_cast<std::uint64_t>(hi & 31U) << 59);
        hi = static_cast<std::uint16_t>(hi >> 5);
    }
    out.append(c.data(), c.size());
}

}  // namespace

id_generator::id_generator(std::uint64_t seed) noexcept : state_(seed) {}

/// splitmix64: tiny, fast and well distributed; ids need uniqueness, not secrecy.
std::uint64_t id_generator::draw() noexcept {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

std::string id_generator::next(std::string_view prefix, time_point now) {
    const auto ms = std::chrono::floor<std::chrono::milliseconds>(now).time_since_epoch().count();
    std::lock_guard lock{mutex_};
    if (ms > last_ms_) {
        last_ms_ = ms;
        rand_lo_ = draw();
        rand_hi_ = static_cast<std::uint16_t>(draw());
    } else {
        // Same millisecond, or the clock stepped back: stay on the last time and count up so that
        // ids keep their order. A wrap of all 80 bits is not reachable in practice.
        if (++rand_lo_ == 0) {
            ++rand_hi_;
        }
    }
    std::string out;
    out.reserve(prefix.size() + 27);
    out.append(prefix);
    out += '_';
    append_ulid(out, static_cast<std::uint64_t>(last_ms_ < 0 ? 0 : last_ms_) & 0xFFFFFFFFFFFFULL, rand_hi_, rand_lo_);
    return out;
}

std::uint64_t os_entropy_seed() {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

bool is_valid_id(std::string_view prefix, std::string_view text) noexcept {
    if (text.size() != prefix.size() + 27 || text.substr(0, prefix.size()) != prefix || text[prefix.size()] != '_') {
        return false;
    }
    for (char ch : text.substr(prefix.size() + 1)) {
        if (crockford.find(ch) == std::string_view::npos) {
            return false;
        }
    }
    return true;
}

}  // namespace wakeplane
