// The shell allow list: parsing it and deciding whether a command may run.
#include <wakeplane/executors/shell_policy.hpp>

#include <algorithm>

#include <wakeplane/detail/config_file.hpp>

namespace wakeplane::executors {
namespace {

/// An absolute path without `.`, `..` or empty segments: `/usr/bin/env`, and with
/// `directory` also a trailing `/` (`/opt/jobs/`). Lexical normality is what makes a prefix
/// comparison mean "inside this directory".
bool is_normal_absolute(std::string_view path, bool directory) {
    if (!path.starts_with('/')) {
        return false;
    }
    if (directory && path.ends_with('/')) {
        path.remove_suffix(1);
    }
    path.remove_prefix(1);
    if (path.empty()) {
        return directory;  // `/` itself: every absolute path
    }
    while (true) {
        const auto slash = path.find('/');
        const auto segment = path.substr(0, slash);
        if (segment.empty() || segment == "." || segment == "..") {
            return false;
        }
        if (slash == std::string_view::npos) {
            return true;
        }
        path.remove_prefix(slash + 1);
    }
}

/// Whether the allow-list entry `entry` covers `command` (both already known to be normal).
bool covers(std::string_view entry, std::string_view command) {
    return entry.ends_with('/') ? command.starts_with(entry) : command == entry;
}

}  // namespace

result<shell_policy> shell_policy::parse(std::string_view text) {
    std::vector<std::string> entries;
    for (auto& line : wakeplane::detail::config_lines(text)) {
        if (!is_normal_absolute(line.text, true)) {
            return fail(errc::bad_request, "line " + std::to_string(line.number) + ": \"" + line.text +
                                               "\" is not an absolute path without . or .. segments");
        }
        entries.push_back(std::move(line.text));
    }
    if (entries.empty()) {
        return fail(errc::bad_request, "allows no command; to disable shell targets set WAKEPLANE_SHELL=off");
    }
    return shell_policy{mode::listed, std::move(entries)};
}

result<shell_policy> shell_policy::load(const std::filesystem::path& path) {
    return wakeplane::detail::parse_config_file(path, &shell_policy::parse);
}

std::optional<std::string> shell_policy::refusal(std::string_view command) const {
    switch (mode_) {
    case mode::all: return std::nullopt;
    case mode::none: return std::string("shell targets are disabled on this server");
    case mode::listed: break;
    }
    const bool allowed = is_normal_absolute(command, false) &&
                         std::any_of(entries_.begin(), entries_.end(), [&](const std::string& e) { return covers(e, command); });
    if (allowed) {
        return std::nullopt;
    }
    return "command \"" + std::string(command) + "\" is not allowed on this server";
}

std::vector<field_error> shell_policy::check(const target_spec& target) const {
    if (target.kind != "shell" || mode_ == mode::all) {
        return {};
    }
    if (mode_ == mode::none) {
        return {{"target.kind", "shell is disabled on this server"}};
    }
    if (target.command.find_first_not_of(" \t\r\n\f\v") == std::string::npos || !refusal(target.command)) {
        return {};  // a blank command is already `is required for shell`
    }
    return {{"target.command", "is not allowed on this server"}};
}

}  // namespace wakeplane::executors
