// A small parser and checker of the Prometheus text exposition format 0.0.4, strict enough to
// catch what a scraper would reject or misread.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace wakeplane::testing {

/// One sample line: `name{labels} value`.
struct prom_sample {
    std::string name;
    std::map<std::string, std::string> labels;
    double value = 0;
};

/// One family: `# HELP` and `# TYPE` and the samples that follow them.
struct prom_family {
    std::string name;
    std::string type;  ///< counter, gauge, histogram, summary, untyped
    std::string help;
    std::vector<prom_sample> samples;
};

/// The parsed exposition, families in the order they appeared.
struct prom_exposition {
    std::vector<prom_family> families;

    /// The value of the sample `name` with exactly `labels`; throws when absent.
    [[nodiscard]] double value(std::string_view name, const std::map<std::string, std::string>& labels = {}) const {
        for (const auto& f : families) {
            for (const auto& s : f.samples) {
                if (s.name == name && s.labels == labels) {
                    return s.value;
                }
            }
        }
        throw std::runtime_error("no sample " + std::string(name));
    }

    [[nodiscard]] const prom_family& family(std::string_view name) const {
        for (const auto& f : families) {
            if (f.name == name) {
                return f;
            }
        }
        throw std::runtime_error("no family " + std::string(name));
    }
};

namespace prom_detail {

[[noreturn]] inline void reject(std::size_t line, const std::string& why) {
    throw std::runtime_error("metrics line " + std::to_string(line) + ": " + why);
}

inline bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
inline bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

inline bool valid_name(std::string_view n) {
    if (n.empty() || !is_name_start(n[0])) {
        return false;
    }
    for (char c : n) {
        if (!is_name_char(c)) {
            return false;
        }
    }
    return true;
}

inline double parse_value(std::string_view text, std::size_t line) {
    if (text == "+Inf") {
        return std::numeric_limits<double>::infinity();
    }
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(std::string(text), &used);
    } catch (const std::exception&) {
        reject(line, "bad value '" + std::string(text) + "'");
    }
    if (used != text.size()) {
        reject(line, "bad value '" + std::string(text) + "'");
    }
    return v;
}

/// `{a="b",c="d"}` starting at text[0] == '{'; returns the labels, advances `pos` past `}`.
inline std::map<std::string, std::string> parse_labels(std::string_view text, std::size_t& pos, std::size_t line) {
    std::map<std::string, std::string> labels;
    ++pos;  // '{'
    while (pos < text.size() && text[pos] != '}') {
        const auto eq = text.find('=', pos);
        if (eq == std::string_view::npos) {
            reject(line, "label without '='");
        }
        const std::string key(text.substr(pos, eq - pos));
        if (!valid_name(key) || key.find(':') != std::string::npos) {
            reject(line, "bad label name '" + key + "'");
        }
        if (eq + 1 >= text.size() || text[eq + 1] != '"') {
            reject(line, "label value not quoted");
        }
        std::string value;
        std::size_t i = eq + 2;
        for (; i < text.size() && text[i] != '"'; ++i) {
            if (text[i] == '\\') {
                ++i;
                if (i >= text.size() || (text[i] != '\\' && text[i] != '"' && text[i] != 'n')) {
                    reject(line, "bad escape in label value");
                }
                value += text[i] == 'n' ? '\n' : text[i];
            } else {
                value += text[i];
            }
        }
        if (i >= text.size()) {
            reject(line, "unterminated label value");
        }
        if (!labels.emplace(key, value).second) {
            reject(line, "duplicate label '" + key + "'");
        }
        pos = i + 1;
        if (pos < text.size() && text[pos] == ',') {
            ++pos;
        }
    }
    if (pos >= text.size()) {
        reject(line, "unterminated label set");
    }
    ++pos;  // '}'
    return labels;
}

/// The family a sample name belongs to: histograms own `_bucket`, `_sum` and `_count`.
inline bool belongs(const prom_family& f, std::string_view sample) {
    if (sample == f.name) {
        return f.type != "histogram";
    }
    if (f.type == "histogram") {
        return sample == f.name + "_bucket" || sample == f.name + "_sum" || sample == f.name + "_count";
    }
    return false;
}

/// Histogram rules: per series, `le` buckets ascending with non-decreasing counts, a `+Inf`
/// bucket equal to `_count`, and a `_sum`.
inline void check_histogram(const prom_family& f) {
    std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
    std::map<std::map<std::string, std::string>, double> counts;
    std::set<std::map<std::string, std::string>> sums;
    for (const auto& s : f.samples) {
        auto labels = s.labels;
        if (s.name == f.name + "_bucket") {
            auto it = labels.find("le");
            if (it == labels.end()) {
                throw std::runtime_error(f.name + ": bucket without le");
            }
            const double le = parse_value(it->second, 0);
            labels.erase(it);
            buckets[labels].emplace_back(le, s.value);
        } else if (s.name == f.name + "_count") {
            counts[labels] = s.value;
        } else {
            sums.insert(labels);
        }
    }
    for (const auto& [labels, bs] : buckets) {
        for (std::size_t i = 1; i < bs.size(); ++i) {
            if (bs[i].first <= bs[i - 1].first || bs[i].second < bs[i - 1].second) {
                throw std::runtime_error(f.name + ": buckets out of order or not cumulative");
            }
        }
        if (bs.empty() || !std::isinf(bs.back().first) || !counts.count(labels) || counts[labels] != bs.back().second ||
            !sums.count(labels)) {
            throw std::runtime_error(f.name + ": +Inf bucket, _count and _sum disagree");
        }
    }
}

}  // namespace prom_detail

/// Parses `text` and checks it: every sample belongs to the family declared by the `# HELP` and
/// `# TYPE` lines before it; families are contiguous and unique; counters end in `_total` and
/// gauges do not; names, labels and values are well-formed; no series repeats; histograms are
/// consistent. Throws std::runtime_error naming the first problem.
inline prom_exposition parse_prometheus(std::string_view text) {
    using namespace prom_detail;
    prom_exposition out;
    std::set<std::string> seen_families;
    std::set<std::string> seen_series;
    std::size_t line_no = 0;
    std::string pending_help;
    std::string pending_help_name;
    while (!text.empty()) {
        ++line_no;
        const auto nl = text.find('\n');
        if (nl == std::string_view::npos) {
            reject(line_no, "the exposition must end with a newline");
        }
        const std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl + 1);
        if (line.starts_with("# HELP ")) {
            const auto rest = line.substr(7);
            const auto sp = rest.find(' ');
            pending_help_name = std::string(rest.substr(0, sp));
            pending_help = sp == std::string_view::npos ? "" : std::string(rest.substr(sp + 1));
            continue;
        }
        if (line.starts_with("# TYPE ")) {
            const auto rest = line.substr(7);
            const auto sp = rest.find(' ');
            prom_family f;
            f.name = std::string(rest.substr(0, sp));
            f.type = sp == std::string_view::npos ? "" : std::string(rest.substr(sp + 1));
            if (!valid_name(f.name) || pending_help_name != f.name || pending_help.empty()) {
                reject(line_no, "TYPE of '" + f.name + "' without its HELP before it");
            }
            if (f.type != "counter" && f.type != "gauge" && f.type != "histogram" && f.type != "summary" &&
                f.type != "untyped") {
                reject(line_no, "unknown type '" + f.type + "'");
            }
            if (f.type == "counter" && !f.name.ends_with("_total")) {
                reject(line_no, "counter '" + f.name + "' does not end in _total");
            }
            if (f.type == "gauge" && f.name.ends_with("_total")) {
                reject(line_no, "gauge '" + f.name + "' ends in _total");
            }
            if (!seen_families.insert(f.name).second) {
                reject(line_no, "family '" + f.name + "' declared twice");
            }
            f.help = pending_help;
            out.families.push_back(std::move(f));
            continue;
        }
        if (line.empty() || line.starts_with('#')) {
            reject(line_no, "unexpected line '" + std::string(line) + "'");
        }
        std::size_t pos = 0;
        while (pos < line.size() && is_name_char(line[pos])) {
            ++pos;
        }
        prom_sample s;
        s.name = std::string(line.substr(0, pos));
        if (!valid_name(s.name)) {
            reject(line_no, "bad metric name");
        }
        if (pos < line.size() && line[pos] == '{') {
            s.labels = parse_labels(line, pos, line_no);
        }
        if (pos >= line.size() || line[pos] != ' ') {
            reject(line_no, "no value");
        }
        s.value = parse_value(line.substr(pos + 1), line_no);
        if (out.families.empty() || !belongs(out.families.back(), s.name)) {
            reject(line_no, "sample '" + s.name + "' outside its family");
        }
        std::string series = s.name;
        for (const auto& [k, v] : s.labels) {
            series += "|" + k + "=" + v;
        }
        if (!seen_series.insert(series).second) {
            reject(line_no, "series repeated: " + series);
        }
        out.families.back().samples.push_back(std::move(s));
    }
    for (const auto& f : out.families) {
        if (f.type == "histogram") {
            prom_detail::check_histogram(f);
        }
    }
    return out;
}

}  // namespace wakeplane::testing
