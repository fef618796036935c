// A schedule packed into one string, as the schedule cache keeps it (private to the stores).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include <wakeplane/model.hpp>

namespace wakeplane::detail {

// Why a packed image: a decoded `schedule` is 776 bytes of members, most of them empty strings
// and maps (a workflow target leaves eight of its nine members empty), and a cache entry holding
// one took 1,066 bytes for a workflow schedule and 1,482 for an HTTP one with two headers
// (mallinfo2 over 65,536 entries). The image keeps only what is set: with it an entry takes 432
// and 688 bytes, so the same memory caches more than twice the schedules. Unpacking builds the
// strings a copy of the decoded schedule built, and reads their lengths besides: a hit costs
// about 700 instructions more than the copy did (callgrind, a planner pass of 2,000).
//
// The image is not a storage format: it lives in one process's memory, is read only by the
// build that wrote it, and carries no version. Instants are written as their native 8 bytes;
// counts and lengths in base-128 groups (one byte below 128); the policy's integers zigzagged
// first, so that a small negative one stays small too; strings as a length and their bytes.

/// Every member of a schedule, so that a member added to the model without a place in the image
/// stops the build here. The size is that of libstdc++'s C++11 string ABI on x86-64 without its
/// debug containers, the layout it was taken on; elsewhere the round-trip tests stand guard alone.
#if defined(__GLIBCXX__) && defined(__x86_64__) && _GLIBCXX_USE_CXX11_ABI && !defined(_GLIBCXX_DEBUG)
static_assert(sizeof(schedule) == 776,
              "schedule changed: give the new member a place in pack_schedule and unpack_schedule, "
              "and in the round-trip test, then update this size");
#endif

namespace image_detail {

/// Presence bits of the optional instants and the flags, in one 16-bit word.
enum : std::uint16_t {
    has_anchor_at = 1u << 0,
    has_at = 1u << 1,
    has_start_at = 1u << 2,
    has_end_at = 1u << 3,
    has_paused_at = 1u << 4,
    has_next_run_at = 1u << 5,
    has_last_run_at = 1u << 6,
    is_enabled = 1u << 7,
    is_deleted = 1u << 8,
};

class writer {
public:
    void fixed(std::uint64_t v) { out_.append(reinterpret_cast<const char*>(&v), sizeof v); }
    void i64(std::int64_t v) {
        const auto u = static_cast<std::uint64_t>(v);
        length((u << 1) ^ (v < 0 ? ~std::uint64_t{0} : 0));
    }
    void instant(time_point t) { fixed(static_cast<std::uint64_t>(t.time_since_epoch().count())); }
    void optional_instant(const std::optional<time_point>& t) {
        if (t) {
            instant(*t);
        }
    }
    void byte(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
    /// Base-128 groups, low first: almost every length fits in one byte.
    void length(std::uint64_t n) {
        while (n >= 0x80) {
            byte(static_cast<std::uint8_t>(n | 0x80));
            n >>= 7;
        }
        byte(static_cast<std::uint8_t>(n));
    }
    void text(std::string_view s) {
        length(s.size());
        out_.append(s);
    }
    std::string take() && { return std::move(out_); }

private:
    std::string out_;
};

/// Reads what writer wrote, in the same order. The image comes from pack_schedule in this
/// process, never from outside, so the reader trusts its lengths.
class reader {
public:
    explicit reader(std::string_view in) : in_(in) {}
    std::uint64_t fixed() {
        std::uint64_t v;
        std::memcpy(&v, in_.data() + at_, sizeof v);
        at_ += sizeof v;
        return v;
    }
    std::int64_t i64() {
        const std::uint64_t z = length();
        return static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
    }
    time_point instant() { return time_point{duration{static_cast<std::int64_t>(fixed())}}; }
    std::optional<time_point> optional_instant(bool present) {
        return present ? std::optional<time_point>{instant()} : std::nullopt;
    }
    std::uint8_t byte() { return static_cast<std::uint8_t>(in_[at_++]); }
    std::uint64_t length() {
        std::uint64_t n = 0;
        for (unsigned shift = 0;; shift += 7) {
            const auto b = byte();
            n |= static_cast<std::uint64_t>(b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return n;
            }
        }
    }
    /// Appended in place, to an empty string: no string is built to be moved and destroyed,
    /// and an empty member is left as it is.
    void text(std::string& out) {
        const auto n = static_cast<std::size_t>(length());
        if (n != 0) {
            out.append(in_.data() + at_, n);
            at_ += n;
        }
    }

private:
    std::string_view in_;
    std::size_t at_ = 0;
};

}  // namespace image_detail

/// `s` packed: every member, the empty ones in a byte or a bit.
[[nodiscard]] inline std::string pack_schedule(const schedule& s) {
    using namespace image_detail;
    std::uint16_t flags = 0;
    flags |= s.spec.anchor_at ? has_anchor_at : 0;
    flags |= s.spec.at ? has_at : 0;
    flags |= s.start_at ? has_start_at : 0;
    flags |= s.end_at ? has_end_at : 0;
    flags |= s.paused_at ? has_paused_at : 0;
    flags |= s.next_run_at ? has_next_run_at : 0;
    flags |= s.last_run_at ? has_last_run_at : 0;
    flags |= s.enabled ? is_enabled : 0;
    flags |= s.deleted ? is_deleted : 0;
    writer w;
    w.byte(static_cast<std::uint8_t>(flags & 0xff));
    w.byte(static_cast<std::uint8_t>(flags >> 8));
    w.text(s.id);
    w.text(s.name);
    w.text(s.timezone);
    // spec
    w.text(s.spec.kind);
    w.text(s.spec.expr);
    w.i64(s.spec.every_seconds);
    w.optional_instant(s.spec.anchor_at);
    w.optional_instant(s.spec.at);
    w.byte(static_cast<std::uint8_t>(s.spec.dst.gap));
    w.byte(static_cast<std::uint8_t>(s.spec.dst.repeated));
    // target
    w.text(s.target.kind);
    w.text(s.target.method);
    w.text(s.target.url);
    w.length(s.target.headers.size());
    for (const auto& [name, value] : s.target.headers) {
        w.text(name);
        w.text(value);
    }
    w.text(s.target.body_json);
    w.text(s.target.command);
    w.length(s.target.args.size());
    for (const auto& a : s.target.args) {
        w.text(a);
    }
    w.text(s.target.workflow_id);
    w.text(s.target.input_json);
    // policy
    w.text(s.policy.overlap);
    w.text(s.policy.misfire);
    w.i64(s.policy.timeout_seconds);
    w.i64(s.policy.max_concurrency);
    w.i64(s.policy.misfire_grace_seconds);
    w.i64(s.policy.catch_up_limit);
    w.i64(s.policy.jitter_seconds);
    // retry
    w.i64(s.retry.max_attempts);
    w.text(s.retry.strategy);
    w.i64(s.retry.initial_delay_seconds);
    w.i64(s.retry.max_delay_seconds);
    // times
    w.optional_instant(s.start_at);
    w.optional_instant(s.end_at);
    w.optional_instant(s.paused_at);
    w.optional_instant(s.next_run_at);
    w.optional_instant(s.last_run_at);
    w.instant(s.created_at);
    w.instant(s.updated_at);
    return std::move(w).take();
}

/// Makes `s`, a default-constructed schedule, the one pack_schedule packed into `image`, equal
/// to it in every member. Filled in place, for a caller that builds it where it keeps it.
inline void unpack_schedule_into(std::string_view image, schedule& s) {
    using namespace image_detail;
    reader r{image};
    const std::uint16_t flags = static_cast<std::uint16_t>(r.byte() | (r.byte() << 8));
    s.enabled = (flags & is_enabled) != 0;
    s.deleted = (flags & is_deleted) != 0;
    r.text(s.id);
    r.text(s.name);
    r.text(s.timezone);
    r.text(s.spec.kind);
    r.text(s.spec.expr);
    s.spec.every_seconds = r.i64();
    s.spec.anchor_at = r.optional_instant(flags & has_anchor_at);
    s.spec.at = r.optional_instant(flags & has_at);
    s.spec.dst.gap = static_cast<dst_gap>(r.byte());
    s.spec.dst.repeated = static_cast<dst_repeated>(r.byte());
    r.text(s.target.kind);
    r.text(s.target.method);
    r.text(s.target.url);
    for (auto n = r.length(); n > 0; --n) {
        std::string name;
        r.text(name);
        r.text(s.target.headers.emplace_hint(s.target.headers.end(), std::move(name), std::string{})->second);
    }
    r.text(s.target.body_json);
    r.text(s.target.command);
    s.target.args.resize(static_cast<std::size_t>(r.length()));
    for (auto& a : s.target.args) {
        r.text(a);
    }
    r.text(s.target.workflow_id);
    r.text(s.target.input_json);
    r.text(s.policy.overlap);
    r.text(s.policy.misfire);
    s.policy.timeout_seconds = r.i64();
    s.policy.max_concurrency = r.i64();
    s.policy.misfire_grace_seconds = r.i64();
    s.policy.catch_up_limit = r.i64();
    s.policy.jitter_seconds = r.i64();
    s.retry.max_attempts = r.i64();
    r.text(s.retry.strategy);
    s.retry.initial_delay_seconds = r.i64();
    s.retry.max_delay_seconds = r.i64();
    s.start_at = r.optional_instant(flags & has_start_at);
    s.end_at = r.optional_instant(flags & has_end_at);
    s.paused_at = r.optional_instant(flags & has_paused_at);
    s.next_run_at = r.optional_instant(flags & has_next_run_at);
    s.last_run_at = r.optional_instant(flags & has_last_run_at);
    s.created_at = r.instant();
    s.updated_at = r.instant();
}

/// The schedule pack_schedule packed into `image`.
[[nodiscard]] inline schedule unpack_schedule(std::string_view image) {
    schedule s;
    unpack_schedule_into(image, s);
    return s;
}

}  // namespace wakeplane::detail
