// Order-preserving key encodings of the RocksDB store.
#include "keys.hpp"

#include <array>

namespace wakeplane::stores::rocksdb_layout {

namespace {

/// Flipping the sign bit maps int64 onto uint64 monotonically: INT64_MIN → 0, -1 → 2^63 - 1,
/// 0 → 2^63. Big-endian bytes of the result then sort as the integers do.
constexpr std::uint64_t sign_flip = std::uint64_t{1} << 63;

void put_big_endian(std::string& out, std::uint64_t v) {
    std::array<char, fixed_width> bytes{};
    for (std::size_t i = 0; i < fixed_width; ++i) {
        bytes[fixed_width - 1 - i] = static_cast<char>(v & 0xFF);
        v >>= 8;
    }
    out.append(bytes.data(), bytes.size());
}

std::uint64_t get_big_endian(std::string_view at) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < fixed_width; ++i) {
        v = (v << 8) | static_cast<unsigned char>(at[i]);
    }
    return v;
}

/// Every status with its stored code; the one table both directions read.
constexpr std::array<std::pair<run_status, char>, 9> status_codes{{
    {run_status::pending, 'p'},
    {run_status::claimed, 'c'},
    {run_status::running, 'r'},
    {run_status::succeeded, 's'},
    {run_status::failed, 'f'},
    {run_status::retry_scheduled, 't'},
    {run_status::dead_lettered, 'd'},
    {run_status::cancelled, 'x'},
    {run_status::skipped, 'k'},
}};

}  // namespace

key_writer& key_writer::instant(time_point t) { return signed64(to_unix_micros(t)); }

key_writer& key_writer::seq(std::int64_t s) {
    put_big_endian(*out_, static_cast<std::uint64_t>(s));
    return *this;
}

key_writer& key_writer::signed64(std::int64_t v) {
    put_big_endian(*out_, static_cast<std::uint64_t>(v) ^ sign_flip);
    return *this;
}

key_writer& key_writer::escaped(std::string_view text) {
    for (char c : text) {
        out_->push_back(c);
        if (c == '\0') {
            out_->push_back('\xFF');
        }
    }
    out_->push_back('\0');
    out_->push_back('\x01');
    return *this;
}

key_writer& key_writer::raw(std::string_view text) {
    out_->append(text);
    return *this;
}

key_writer& key_writer::byte(char b) {
    out_->push_back(b);
    return *this;
}

std::string prefix_end(std::string_view prefix) {
    std::string end{prefix};
    while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xFF) {
        end.pop_back();
    }
    if (!end.empty()) {
        end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
    }
    return end;
}

time_point read_instant(std::string_view at) noexcept {
    return from_unix_micros(static_cast<std::int64_t>(get_big_endian(at) ^ sign_flip));
}

std::int64_t read_seq(std::string_view at) noexcept { return static_cast<std::int64_t>(get_big_endian(at)); }

namespace {
constexpr char times_enabled = 1;
constexpr char times_deleted = 2;
constexpr char times_has_next = 4;
constexpr char times_has_last = 8;
constexpr std::size_t times_v2_size = 1 + 2 * fixed_width;
constexpr std::size_t times_size = times_v2_size + fixed_width;

/// The flags and instants both layouts share; the caller has checked the size.
std::optional<schedule_times> decode_times_prefix(std::string_view value) noexcept {
    const auto flags = static_cast<unsigned char>(value.front());
    if ((flags & ~0x0Fu) != 0) {
        return std::nullopt;
    }
    schedule_times t;
    t.enabled = (flags & times_enabled) != 0;
    t.deleted = (flags & times_deleted) != 0;
    if ((flags & times_has_next) != 0) {
        t.next_run_at = read_instant(value.substr(1, fixed_width));
    }
    if ((flags & times_has_last) != 0) {
        t.last_run_at = read_instant(value.substr(1 + fixed_width, fixed_width));
    }
    return t;
}
}  // namespace

std::string encode_times(const schedule_times& t) {
    std::string out;
    out.reserve(times_size);
    const char flags = static_cast<char>((t.enabled ? times_enabled : 0) | (t.deleted ? times_deleted : 0) |
                                         (t.next_run_at ? times_has_next : 0) | (t.last_run_at ? times_has_last : 0));
    key_writer w{out, flags};  // a key_writer starts with one byte: here the flags, not a tag
    w.instant(t.next_run_at.value_or(time_point{}));
    w.instant(t.last_run_at.value_or(time_point{}));
    put_big_endian(out, t.record_version);
    return out;
}

std::optional<schedule_times> decode_times(std::string_view value) noexcept {
    if (value.size() != times_size) {
        return std::nullopt;
    }
    auto t = decode_times_prefix(value);
    if (t) {
        t->record_version = get_big_endian(value.substr(times_v2_size));
    }
    return t;
}

std::optional<schedule_times> decode_times_v2(std::string_view value) noexcept {
    if (value.size() != times_v2_size) {
        return std::nullopt;
    }
    return decode_times_prefix(value);
}

char status_code(run_status s) noexcept {
    for (const auto& [status, code] : status_codes) {
        if (status == s) {
            return code;
        }
    }
    return '?';  // unreachable: the table lists every enumerator (checked by the layout test)
}

std::optional<run_status> status_of_code(char c) noexcept {
    for (const auto& [status, code] : status_codes) {
        if (code == c) {
            return status;
        }
    }
    return std::nullopt;
}

}  // namespace wakeplane::stores::rocksdb_layout
