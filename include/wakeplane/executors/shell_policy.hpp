// Which programs shell targets may run on this server: everything, nothing, or an allow list
// of absolute paths and directories (WAKEPLANE_SHELL, WAKEPLANE_SHELL_ALLOW; docs/security.md).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <wakeplane/model.hpp>
#include <wakeplane/result.hpp>

namespace wakeplane::executors {

/// The shell executor's policy, checked twice: when a schedule is validated (so a bad target is
/// refused before it is stored) and again before each attempt (so a list that shrank since the
/// schedule was created still stops it). A plain value, passed to whoever needs it.
///
/// An allow-list entry is an absolute path: ending in `/`, it allows every program under that
/// directory (`/opt/jobs/` allows `/opt/jobs/a` and `/opt/jobs/x/b`); otherwise exactly that
/// program. With a list, a command must be an absolute, lexically normal path (no `.`, `..` or
/// empty segment), since a `PATH` lookup or a `..` could otherwise leave the allowed places.
/// Symbolic links are not resolved: an allowed directory must not contain links to elsewhere.
///
/// Example:
///     auto p = shell_policy::parse("# jobs\n/usr/local/bin/backup.sh\n/opt/jobs/\n").value();
///     p.refusal("/opt/jobs/sync");   // nullopt: allowed
///     p.refusal("/bin/sh");          // `command "/bin/sh" is not allowed on this server`
class shell_policy {
public:
    /// Any command, found in `PATH` when it has no `/`: the default, when nothing is configured.
    [[nodiscard]] static shell_policy allow_all() { return shell_policy{mode::all, {}}; }
    /// No command at all: shell targets are disabled (WAKEPLANE_SHELL=off).
    [[nodiscard]] static shell_policy disabled() { return shell_policy{mode::none, {}}; }

    /// Parses an allow-list file: one entry per line, blank lines and `#` comments ignored,
    /// whitespace trimmed. errc::bad_request names the line of an entry that is not an absolute,
    /// lexically normal path, or says that the list is empty (use WAKEPLANE_SHELL=off for that).
    [[nodiscard]] static result<shell_policy> parse(std::string_view text);

    /// Reads and parses the file at `path`; every message starts with the quoted path.
    [[nodiscard]] static result<shell_policy> load(const std::filesystem::path& path);

    /// nullopt when `command` may run; otherwise the reason, one line for a run's error_text.
    [[nodiscard]] std::optional<std::string> refusal(std::string_view command) const;

    /// The validation rule (a target_rule): for a shell target that may not run,
    /// `target.command`: `is not allowed on this server`, or, when shell targets are disabled,
    /// `target.kind`: `shell is disabled on this server`. Other targets pass.
    [[nodiscard]] std::vector<field_error> check(const target_spec& target) const;

    /// The configured entries (empty unless the policy is an allow list).
    [[nodiscard]] const std::vector<std::string>& entries() const noexcept { return entries_; }

private:
    enum class mode { all, none, listed };
    shell_policy(mode m, std::vector<std::string> entries) : mode_(m), entries_(std::move(entries)) {}

    mode mode_;
    std::vector<std::string> entries_;
};

}  // namespace wakeplane::executors
