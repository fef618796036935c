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
