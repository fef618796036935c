// RFC 3339 formatting and parsing of UTC instants.
#include <wakeplane/time.hpp>

#include <array>
#include <cstdio>

#include <date/date.h>

namespace wakeplane {
namespace {

/// Writes `YYYY-MM-DDTHH:MM:SS` for the whole seconds of `t` into `out`.
void append_seconds(std::string& out, time_point t) {
    const auto day = std::chrono::floor<date::days>(t);
    const date::year_month_day ymd{day};
    const date::hh_mm_ss<duration> tod{t - day};
    std::array<char, 32> buf{};
    const int n = std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02lld", int(ymd.year()),
                                unsigned(ymd.month()), unsigned(ymd.day()), int(tod.hours().count()),
                                int(tod.minutes().count()), static_cast<long long>(tod.seconds().count()));
    out.append(buf.data(), static_cast<std::size_t>(n));
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

std::string format_rfc3339(time_point t) {
    std::string out;
    out.reserve(32);
    append_seconds(out, t);
    auto frac = (t - std::chrono::floor<std::chrono::seconds>(t)).count();
    if (frac != 0) {
        std::array<char, 8> buf{};
        std::snprintf(buf.data(), buf.size(), "%06lld", static_cast<long long>(frac));
        std::string_view digits{buf.data(), 6};
        while (digits.back() == '0') {
            digits.remove_suffix(1);
        }
        out += '.';
        out += digits;
    }
    out += 'Z';
    return out;
}

std::string format_rfc3339_seconds(time_point t) {
    std::string out;
    append_seconds(out, std::chrono::floor<std::chrono::seconds>(t));
    out += 'Z';
    return out;
}

result<time_point> parse_rfc3339(std::string_view text) { return parse_timestamp(text, {}); }

result<time_point> parse_yaml_timestamp(std::string_view text) { return parse_timestamp(text, {.yaml = true}); }

}  // namespace wakeplane
