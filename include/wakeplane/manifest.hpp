// YAML schedule manifests (ORIGINAL-BEHAVIOR §8): the create request written as YAML.
#pragma once

#include <filesystem>
#include <string_view>

#include <wakeplane/model.hpp>
#include <wakeplane/result.hpp>

namespace wakeplane {

/// Decodes a manifest: the keys of the create request (`name`, `enabled`, `timezone`, `start_at`,
/// `end_at`, `schedule`, `target`, `policy`, `retry`, our `schedule.dst` and policy additions),
/// unknown keys ignored. Plain scalars take their YAML type (`300` is an integer, `true` a
/// boolean); quoted scalars stay strings, so `timeout_seconds: "300"` is an error, as in the
/// original. Time fields accept unquoted YAML timestamps (`2026-03-12 10:00:00`, `2026-03-12`,
/// UTC when no offset is given) and quoted RFC 3339 strings. An absent `enabled` stays absent
/// (true once defaults apply, DECISIONS 25). Defaults are not applied here.
///
/// Failures: bad YAML, or a document that is not a mapping, is errc::bad_request naming the line
/// and column; wrongly typed fields are errc::validation_failed with the same field paths and
/// messages as the JSON decoder (`policy.timeout_seconds`: `must be an integer`).
///
/// Example:
///     name: nightly-backup
///     timezone: America/New_York
///     schedule: {kind: cron, expr: "0 3 * * *"}
///     target: {kind: shell, command: /usr/local/bin/backup.sh}
[[nodiscard]] result<schedule_input> decode_manifest(std::string_view yaml_text);

/// Reads and decodes the manifest at `path`. Every failure's message starts with the path
/// (`examples/x.yaml: cannot read the file: No such file or directory`).
[[nodiscard]] result<schedule_input> load_manifest(const std::filesystem::path& path);

}  // namespace wakeplane
