// RFC 3339 formatting and parsing of UTC instants.
#include <wakeplane/time.hpp>

#include <array>
#include <cstdio>

#include <date/date.h>

namespace wakeplane {
namespace {

/// Writes `v` as exactly `width` decimal digits at `p` and returns the end (v is in range:
/// callers format calendar fields).
char* put_digits(char* p, long long v, int width) {
    for (int k = width - 1; k >= 0; --k) {
        p[k] = static_cast<char>('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

/// Room for any instant formatted by put_seconds and put_rfc3339: a year of up to 11 characters
/// (printf's spelling of the int range), the rest of the date and time, a fraction and the 'Z'.
using instant_buffer = std::array<char, 48>;

/// Writes `YYYY-MM-DDTHH:MM:SS` for the whole seconds of `t` at `p` and returns the end. Stores
/// format several instants per record they write: this fills a buffer that the caller appends
/// once, without printf or temporary strings.
char* put_seconds(char* p, time_point t) {
    const auto day = std::chrono::floor<date::days>(t);
    const date::year_month_day ymd{day};
    const date::hh_mm_ss<duration> tod{t - day};
    const int year = int(ymd.year());
    if (year < 0 || year > 9999) {  // outside RFC 3339's four digits: keep printf's spelling
        p += std::snprintf(p, 16, "%04d", year);
    } else {
        p = put_digits(p, year, 4);
    }
    *p++ = '-';
    p = put_digits(p, unsigned(ymd.month()), 2);
    *p++ = '-';
    p = put_digits(p, unsigned(ymd.day()), 2);
    *p++ = 'T';
    p = put_digits(p, tod.hours().count(), 2);
    *p++ = ':';
    p = put_digits(p, tod.minutes().count(), 2);
    *p++ = ':';
    return put_digits(p, tod.seconds().count(), 2);
}

/// A tiny cursor over the text being parsed; every accessor is bounds-checked.
struct scanner {
    std::string_view s;
    std::size_t i = 0;

    [[nodiscard]] bool done() const noexcept { return i >= s.size(); }
    [[nodiscard]] char peek() const noexcept { return done() ? '\0' : s[i]; }

    /// Reads exactly `n` decimal digits.
    bool digits(int n, int& value) noexcept {
        value = 0;
        for (int k = 0; k < n; ++k) {
            if (done() || s[i] < '0' || s[i] > '9') {
                return false;
            }
            value = value * 10 + (s[i] - '0');
            ++i;
        }
        return true;
    }

    bool literal(char c) noexcept {
        if (peek() != c) {
            return false;
        }
        ++i;
        return true;
    }
};

tl::unexpected<error> bad_time(std::string_view text, std::string_view why) {
    std::string msg = "\"";
    msg.append(text.substr(0, 64));
    msg += "\" is not an RFC 3339 timestamp: ";
    msg += why;
    return fail(errc::bad_request, std::move(msg));
}

struct parse_options {
    bool yaml = false;  // accept a space separator, a missing offset and a bare date
};

result<time_point> parse_timestamp(std::string_view text, parse_options opt) {
    scanner sc{text};
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    if (!sc.digits(4, y) || !sc.literal('-') || !sc.digits(2, mo) || !sc.literal('-') || !sc.digits(2, d)) {
        return bad_time(text, "expected YYYY-MM-DD");
    }
    if (mo < 1 || mo > 12) {
        return bad_time(text, "month out of range");
    }
    const date::year_month_day ymd{date::year{y}, date::month{unsigned(mo)}, date::day{unsigned(d)}};
    if (!ymd.ok()) {
        return bad_time(text, "day out of range");
    }
    const time_point midnight{date::sys_days{ymd}};
    if (sc.done() && opt.yaml) {
        return midnight;
    }
    const char sep = sc.peek();
    if (sep == 'T' || sep == 't' || (opt.yaml && sep == ' ')) {
        ++sc.i;
    } else {
        return bad_time(text, "expected 'T' between date and time");
    }
    if (!sc.digits(2, h) || !sc.literal(':') || !sc.digits(2, mi) || !sc.literal(':') || !sc.digits(2, se)) {
        return bad_time(text, "expected hh:mm:ss");
    }
    if (h > 23) {
        return bad_time(text, "hour out of range");
    }
    if (mi > 59) {
        return bad_time(text, "minute out of range");
    }
    if (se > 59) {
        return bad_time(text, "second out of range");
    }
    std::int64_t micros = 0;
    if (sc.literal('.')) {
        int count = 0;
        while (!sc.done() && sc.peek() >= '0' && sc.peek() <= '9') {
            if (count < 6) {  // digits beyond microseconds are truncated
                micros = micros * 10 + (sc.peek() - '0');
            }
            ++count;
            ++sc.i;
        }
        if (count == 0) {
            return bad_time(text, "expected digits after '.'");
        }
        for (int k = count; k < 6; ++k) {
            micros *= 10;
        }
    }
    if (opt.yaml) {
        while (sc.peek() == ' ' || sc.peek() == '\t') {  // YAML allows space before the zone
            ++sc.i;
        }
    }
    std::chrono::seconds offset{0};
    if (sc.peek() == 'Z' || sc.peek() == 'z') {
        ++sc.i;
    } else if (sc.peek() == '+' || sc.peek() == '-') {
        const bool negative = sc.peek() == '-';
        ++sc.i;
        int oh = 0, om = 0;
        if (!sc.digits(2, oh)) {
            return bad_time(text, "expected offset hh:mm");
        }
        if (sc.literal(':')) {
            if (!sc.digits(2, om)) {
                return bad_time(text, "expected offset hh:mm");
            }
        } else if (!opt.yaml) {
            return bad_time(text, "expected offset hh:mm");
        }
        if (oh > 23 || om > 59) {
            return bad_time(text, "offset out of range");
        }
        offset = std::chrono::hours{oh} + std::chrono::minutes{om};
        if (negative) {
            offset = -offset;
        }
    } else if (!opt.yaml || !sc.done()) {
        return bad_time(text, "a time zone offset (Z or +hh:mm) is required");
    }
    if (!sc.done()) {
        return bad_time(text, "unexpected trailing characters");
    }
    return midnight + std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{se} + duration{micros} -
           offset;
}

}  // namespace

void append_rfc3339(std::string& out, time_point t) {
    instant_buffer buf;
    char* p = put_seconds(buf.data(), t);
    auto frac = (t - std::chrono::floor<std::chrono::seconds>(t)).count();
    if (frac != 0) {
        int width = 6;  // microseconds, trailing zeros dropped
        while (frac % 10 == 0) {
            frac /= 10;
            --width;
        }
        *p++ = '.';
        p = put_digits(p, frac, width);
    }
    *p++ = 'Z';
    out.append(buf.data(), p);
}

std::string format_rfc3339(time_point t) {
    std::string out;
    out.reserve(32);
    append_rfc3339(out, t);
    return out;
}

std::string format_rfc3339_seconds(time_point t) {
    instant_buffer buf;
    char* p = put_seconds(buf.data(), std::chrono::floor<std::chrono::seconds>(t));
    *p++ = 'Z';
    return std::string(buf.data(), p);
}

result<time_point> parse_rfc3339(std::string_view text) { return parse_timestamp(text, {}); }

result<time_point> parse_yaml_timestamp(std::string_view text) { return parse_timestamp(text, {.yaml = true}); }

}  // namespace wakeplane
