// Defaults, validation and PATCH merging of schedule definitions (ORIGINAL-BEHAVIOR §2, DECISIONS 25-26).
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include <wakeplane/model.hpp>
#include <wakeplane/policy/catalog.hpp>
#include <wakeplane/result.hpp>

namespace wakeplane {

/// The largest number of seconds any duration field accepts (100 Julian years). The original had
/// no bound; ours keeps seconds × 10^6 (microseconds) far from overflowing a 64-bit count.
inline constexpr std::int64_t max_duration_seconds = 3'155'760'000;

/// The effective defaults (DECISIONS 25, ORIGINAL-BEHAVIOR §2.2).
namespace defaults {
inline constexpr std::string_view overlap = "forbid";
inline constexpr std::string_view misfire = "run_once_if_late";
inline constexpr std::int64_t timeout_seconds = 300;
inline constexpr std::int64_t max_concurrency = 1;
inline constexpr std::int64_t misfire_grace_seconds = 60;
inline constexpr std::int64_t catch_up_limit = 100;
inline constexpr std::int64_t jitter_seconds = 0;
inline constexpr std::string_view retry_strategy = "exponential";
inline constexpr std::int64_t initial_delay_seconds = 30;
inline constexpr std::int64_t max_delay_seconds = 900;
}  // namespace defaults

/// Fills defaults field by field: a `0` or `""` (what the original's clients send for an omitted
/// field) becomes the default, anything else is kept, so a client sending only
/// `retry.max_attempts` keeps it (unlike the original, §11.30). An absent `enabled` becomes true.
/// Negative numbers are kept, for validate() to reject. `schedule.dst` of any kind but cron goes
/// back to its default, since only cron uses it and encoders write it for cron only. Example:
/// policy `{overlap: "allow"}` becomes `{allow, run_once_if_late, 300, 1, 60, 100, 0}`.
void apply_defaults(schedule_input& in);

/// Every problem of a schedule definition, in the original's order (ORIGINAL-BEHAVIOR §2.1) with
/// our rules in place: `timezone` is required and must exist; a cron expression must parse and
/// be able to fire (`must parse as a cron expression: <reason>`); an HTTP target needs an
/// absolute http/https URL with a host and token header names; policy and retry names are checked
/// against `catalog` (`must be one of <names>`); the added policy numbers must be >= 0 and every
/// duration <= max_duration_seconds. Empty when the definition is valid. Call apply_defaults()
/// first: validate() treats a 0 timeout as invalid, as the original does.
[[nodiscard]] std::vector<field_error> validate(const schedule_input& in, const policy_catalog& catalog);

/// A host's own rule over a target, checked after the built-in ones: the field errors it finds.
/// wakeplaned's shell allow list is one (`target.command`: `is not allowed on this server`); it is
/// a hook rather than a built-in rule because what a server may run is the host's policy.
using target_rule = std::function<std::vector<field_error>(const target_spec&)>;

/// apply_defaults() then validate() then `extra` (when set): the input with its defaults, or
/// errc::validation_failed with every field error. Used by create, PUT and PATCH (after
/// apply_patch()), so that a `0` in a PATCH means the default too.
[[nodiscard]] result<schedule_input> check_schedule_input(schedule_input in, const policy_catalog& catalog,
                                                          const target_rule& extra = {});

/// Merges a PATCH into the current definition: `name`, `enabled`, `timezone` replace; `schedule`
/// and `target` replace the whole object; policy and retry members merge one by one; `start_at`
/// and `end_at` replace, and a JSON null clears them. The result still has to be checked.
[[nodiscard]] schedule_input apply_patch(const schedule& current, const schedule_patch& patch);

/// The definition part of a stored schedule, as a PUT would resend it (enabled always set).
[[nodiscard]] schedule_input input_of(const schedule& s);

}  // namespace wakeplane
