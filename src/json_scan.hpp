// A pull parser for the JSON of stored records (private to the library).
//
// Stores decode a run or a schedule for almost every operation, so the decoder sits on the hot
// path of the planner and the dispatcher. Building a DOM first (nlohmann's parse) cost about a
// quarter of the dispatcher's cycles; this scanner reads values straight into the record's
// fields instead, without allocating for keys or for strings that need no unescaping.
//
// It accepts exactly RFC 8259 JSON (no comments, no trailing commas, no control characters or
// invalid UTF-8 in strings) and throws record_corrupt on anything else: a record that does not
// parse is corruption, reported, never guessed.
#pragma once

#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "utf8.hpp"

namespace wakeplane::detail {

/// A stored record that does not decode; what() names where it went wrong.
struct record_corrupt : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class json_scan {
public:
    explicit json_scan(std::string_view text) noexcept : s_(text) {}

    /// Calls `on_key(key)` for each member of the object at the cursor; `on_key` must consume
    /// the member's value (through this scanner). The key view is valid until the next call.
    template <class F>
    void object(F&& on_key) {
        // With nothing to guess: an empty guess only ever matches the empty key, which reads the same.
        object([] { return std::string_view{}; }, std::forward<F>(on_key));
    }

    /// As object(), for an object whose keys usually come in an order the caller knows (a stored
    /// record is written in its member table's order): `guess()` names the key likely next, and
    /// a key that is exactly that name, quoted and without escapes, is taken with one comparison
    /// and passed on as the guess's own view, so the caller can tell by its address that the
    /// guess held. Any other key is read in full. A guess must be plain
    /// ASCII without quotes, backslashes or control characters, as it is compared with the text
    /// as written.
    template <class Guess, class F>
    void object(Guess&& guess, F&& on_key) {
        expect('{');
        if (consume('}')) {
            return;
        }
        do {
            const std::string_view key = key_guessed(guess());
            expect(':');
            on_key(key);
        } while (consume(','));
        expect('}');
    }

    /// Calls `on_item()` for each element of the array at the cursor; it must consume the element.
    template <class F>
    void array(F&& on_item) {
        expect('[');
        if (consume(']')) {
            return;
        }
        do {
            on_item();
        } while (consume(','));
        expect(']');
    }

    /// The string at the cursor, unescaped.
    [[nodiscard]] std::string string() { return std::string(string_view_of(value_scratch_)); }

    /// The string at the cursor, unescaped; the view is valid until the next string is read.
    [[nodiscard]] std::string_view string_view() { return string_view_of(value_scratch_); }

    [[nodiscard]] std::int64_t i64() {
        skip_ws();
        std::int64_t v = 0;
        const char* first = s_.data() + i_;
        const auto [end, ec] = std::from_chars(first, s_.data() + s_.size(), v);
        if (ec != std::errc{} || end == first) {
            fail("expected an integer");
        }
        i_ += static_cast<std::size_t>(end - first);
        if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) {
            fail("expected an integer");
        }
        return v;
    }

    [[nodiscard]] bool boolean() {
        if (word("true")) {
            return true;
        }
        if (word("false")) {
            return false;
        }
        fail("expected true or false");
    }

    /// Consumes `null` when it is at the cursor.
    [[nodiscard]] bool null() { return word("null"); }

    /// Skips one value of any kind, nested to a bounded depth.
    void skip() { skip_value(0); }

    /// Requires that only whitespace remains.
    void finish() {
        skip_ws();
        if (i_ != s_.size()) {
            fail("unexpected text after the value");
        }
    }

    [[noreturn]] void fail(std::string_view why) const {
        throw record_corrupt(std::string(why) + " at offset " + std::to_string(i_));
    }

private:
    static constexpr int max_depth = 64;

    void skip_ws() noexcept {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) {
            ++i_;
        }
    }
    /// Consumes `c` when it is next after any whitespace. Records are written without
    /// whitespace, so the character at the cursor is looked at first, and this and expect() stay
    /// small enough to inline (the failure is out of line).
    bool consume(char c) noexcept {
        if (i_ < s_.size() && s_[i_] == c) [[likely]] {
            ++i_;
            return true;
        }
        skip_ws();
        if (i_ < s_.size() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    void expect(char c) {
        if (!consume(c)) [[unlikely]] {
            fail_expected(c);
        }
    }
    [[noreturn]] void fail_expected(char c) const { fail(std::string("expected '") + c + "'"); }
    bool word(std::string_view w) noexcept {
        skip_ws();
        if (s_.substr(i_, w.size()) == w) {
            i_ += w.size();
            return true;
        }
        return false;
    }

    /// The key at the cursor: `guess` itself when the text there is `"guess"`, else read in full.
    /// Record decoding spends a good part of its time on keys, nearly all of them the guess.
    std::string_view key_guessed(std::string_view guess) {
        skip_ws();
        const std::size_t n = guess.size();
        // n == 0 apart: an empty view's data may be null, which memcmp must not be given.
        if (s_.size() - i_ >= n + 2 && s_[i_] == '"' && s_[i_ + 1 + n] == '"' &&
            (n == 0 || std::memcmp(s_.data() + i_ + 1, guess.data(), n) == 0)) {
            i_ += n + 2;
            return guess;
        }
        return string_view_of(key_scratch_);
    }

    /// A string without escapes is returned as a view into the text; one with escapes is
    /// unescaped into `scratch`.
    std::string_view string_view_of(std::string& scratch) {
        expect('"');
        const std::size_t start = i_;
        i_ = plain_run_end(i_);
        while (i_ < s_.size()) {
            const auto c = static_cast<unsigned char>(s_[i_]);
            if (c == '"') {
                return s_.substr(start, i_++ - start);
            }
            if (c == '\\') {
                scratch.assign(s_.substr(start, i_ - start));
                return unescape_rest(scratch);
            }
            if (c < 0x20) {
                fail("control character in a string");
            }
            if (c >= 0x80) {
                i_ = plain_run_end(i_ + utf8_sequence_at(i_));
                continue;
            }
            ++i_;
        }
        fail("unterminated string");
    }

    /// The length of the UTF-8 sequence at `i`; a record is UTF-8 text (its encoder replaces
    /// invalid bytes), so anything else is corruption.
    std::size_t utf8_sequence_at(std::size_t i) const {
        const std::size_t n = utf8_sequence_length(s_, i);
        if (n == 0) {
            fail("invalid UTF-8 in a string");
        }
        return n;
    }

    /// Where the run of plain ASCII string bytes from `i` ends: the first quote, backslash,
    /// control character or byte of a multi-byte sequence, or the last few bytes of the text,
    /// which the caller then reads byte by byte. Records are mostly ids and instants of 20 to 30
    /// plain bytes, so eight at a time: a byte is flagged when it is zero after an XOR with '"'
    /// or '\\', is below 0x20, or has its high bit set (the subtractions' borrows can flag a
    /// byte after a flagged one, never before it, so the first flag is exact).
    [[nodiscard]] std::size_t plain_run_end(std::size_t i) const noexcept {
        if constexpr (std::endian::native == std::endian::little) {
            constexpr std::uint64_t ones = 0x0101010101010101ULL;
            constexpr std::uint64_t highs = 0x8080808080808080ULL;
            while (s_.size() - i >= 8) {
                std::uint64_t word;
                std::memcpy(&word, s_.data() + i, sizeof word);
                const std::uint64_t quote = word ^ (ones * '"');
                const std::uint64_t backslash = word ^ (ones * '\\');
                const std::uint64_t flags =
                    (((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) | ((word - ones * 0x20) & ~word) |
                     word) &
                    highs;
                if (flags != 0) {
                    return i + static_cast<std::size_t>(std::countr_zero(flags)) / 8;
                }
                i += 8;
            }
        }
        return i;
    }

    /// Continues a string from the first backslash, appending to `out`.
    std::string_view unescape_rest(std::string& out) {
        while (i_ < s_.size()) {
            const auto c = static_cast<unsigned char>(s_[i_++]);
            if (c == '"') {
                return out;
            }
            if (c < 0x20) {
                fail("control character in a string");
            }
            if (c >= 0x80) {
                const std::size_t n = utf8_sequence_at(i_ - 1);
                out.append(s_.substr(i_ - 1, n));
                i_ += n - 1;
                continue;
            }
            if (c != '\\') {
                out += static_cast<char>(c);
                continue;
            }
            if (i_ >= s_.size()) {
                break;
            }
            switch (s_[i_++]) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': append_utf8(out, code_point()); break;
            default: fail("bad escape in a string");
            }
        }
        fail("unterminated string");
    }

    /// The code point of a \u escape (the `\u` consumed), joining a surrogate pair.
    char32_t code_point() {
        const char32_t hi = hex4();
        if (hi >= 0xDC00 && hi <= 0xDFFF) {
            fail("lone low surrogate in a string");
        }
        if (hi < 0xD800 || hi > 0xDBFF) {
            return hi;
        }
        if (s_.substr(i_, 2) != "\\u") {
            fail("lone high surrogate in a string");
        }
        i_ += 2;
        const char32_t lo = hex4();
        if (lo < 0xDC00 || lo > 0xDFFF) {
            fail("bad surrogate pair in a string");
        }
        return 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    }

    char32_t hex4() {
        char32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            if (i_ >= s_.size()) {
                fail("short \\u escape");
            }
            const char c = s_[i_++];
            v <<= 4;
            if (c >= '0' && c <= '9') {
                v |= static_cast<char32_t>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                v |= static_cast<char32_t>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                v |= static_cast<char32_t>(c - 'A' + 10);
            } else {
                fail("bad \\u escape");
            }
        }
        return v;
    }

    static void append_utf8(std::string& out, char32_t cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    void skip_value(int depth) {
        if (depth > max_depth) {
            fail("nested too deeply");
        }
        skip_ws();
        if (i_ >= s_.size()) {
            fail("expected a value");
        }
        switch (s_[i_]) {
        case '{': object([&](std::string_view) { skip_value(depth + 1); }); return;
        case '[': array([&] { skip_value(depth + 1); }); return;
        case '"': (void)string_view(); return;
        case 't':
        case 'f': (void)boolean(); return;
        case 'n':
            if (!null()) {
                fail("expected a value");
            }
            return;
        default: skip_number();
        }
    }

    /// A JSON number of any form (only skipped: records hold integers).
    void skip_number() {
        const std::size_t start = i_;
        if (i_ < s_.size() && s_[i_] == '-') {
            ++i_;
        }
        const auto digits = [&] {
            const std::size_t from = i_;
            while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
                ++i_;
            }
            return i_ > from;
        };
        bool ok = digits();
        if (ok && i_ < s_.size() && s_[i_] == '.') {
            ++i_;
            ok = digits();
        }
        if (ok && i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
            ++i_;
            if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) {
                ++i_;
            }
            ok = digits();
        }
        if (!ok || i_ == start) {
            fail("expected a value");
        }
    }

    std::string_view s_;
    std::size_t i_ = 0;
    std::string key_scratch_;
    std::string value_scratch_;
};

}  // namespace wakeplane::detail
