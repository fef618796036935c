// Private: the line-oriented files operators write for wakeplaned (API tokens, the shell allow
// list): read whole, then one entry per line with blank lines and `#` comments skipped.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <wakeplane/result.hpp>

namespace wakeplane::detail {

/// One meaningful line of a configuration file: its 1-based number and its trimmed text.
struct config_line {
    std::size_t number = 0;
    std::string text;
};

/// ASCII whitespace trimmed from both ends.
[[nodiscard]] inline std::string_view trim_space(std::string_view s) noexcept {
    constexpr std::string_view space = " \t\r\n\f\v";
    const auto first = s.find_first_not_of(space);
    if (first == std::string_view::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(space) - first + 1);
}

/// The lines of `text` that are neither blank nor `#` comments, trimmed, with their numbers.
[[nodiscard]] inline std::vector<config_line> config_lines(std::string_view text) {
    std::vector<config_line> out;
    std::size_t number = 0;
    while (!text.empty()) {
        ++number;
        const auto end = text.find('\n');
        const auto line = trim_space(text.substr(0, end));
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        if (!line.empty() && line.front() != '#') {
            out.push_back({number, std::string(line)});
        }
    }
    return out;
}

/// The whole content of `path`; errc::bad_request `cannot read "<path>": <reason>` otherwise.
[[nodiscard]] inline result<std::string> read_config_file(const std::filesystem::path& path) {
    std::ifstream in{path, std::ios::binary};
    if (!in) {
        return fail(errc::bad_request, "cannot read \"" + path.string() + "\": " + std::strerror(errno));
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        return fail(errc::bad_request, "cannot read \"" + path.string() + "\"");
    }
    return text.str();
}

/// Reads `path` and parses its text with `parse` (a function of std::string_view returning a
/// result); a parse error's message is prefixed with the quoted path, as read errors are.
template <class Parse>
[[nodiscard]] auto parse_config_file(const std::filesystem::path& path, Parse parse) -> decltype(parse(std::string_view{})) {
    auto text = read_config_file(path);
    if (!text) {
        return tl::unexpected(text.error());
    }
    auto parsed = parse(std::string_view{*text});
    if (!parsed) {
        return fail(errc::bad_request, "\"" + path.string() + "\": " + parsed.error().message);
    }
    return parsed;
}

}  // namespace wakeplane::detail
