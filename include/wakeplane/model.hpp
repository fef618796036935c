// The domain model: schedules, runs, receipts, dead letters, ledger events and their ids.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <wakeplane/cadence.hpp>
#include <wakeplane/result.hpp>
#include <wakeplane/time.hpp>

namespace wakeplane {

/// Ids are `<prefix>_<ULID>` (ids.hpp): `sch_01JPC3V9QF7D2M8K4X6T1R5N0B`.
using schedule_id = std::string;
using run_id = std::string;

/// ScheduleSpec on the wire. `kind` stays text so that an unknown kind is a validation error
/// on `schedule.kind`, not a decoding error.
struct schedule_spec {
    std::string kind;                       ///< cron | interval | once
    std::string expr;                       ///< cron only
    std::int64_t every_seconds = 0;         ///< interval only
    std::optional<time_point> anchor_at;    ///< interval only
    std::optional<time_point> at;           ///< once only
    dst_policy dst;                         ///< cron only; our addition (`schedule.dst`)
    friend bool operator==(const schedule_spec&, const schedule_spec&) = default;
};

/// TargetSpec on the wire. `body` and `input` hold a JSON object as compact text with sorted
/// keys ("" when absent), so that the model does not drag a JSON library into every header.
struct target_spec {
    std::string kind;                            ///< http | shell | workflow
    std::string method;
    std::string url;
    std::map<std::string, std::string> headers;  ///< sorted, as the original emits maps
    std::string body_json;
    std::string command;
    std::vector<std::string> args;
    std::string workflow_id;
    std::string input_json;
    friend bool operator==(const target_spec&, const target_spec&) = default;
};

/// Policy block. Zero and "" mean "use the default" on input (DECISIONS 25); after
/// apply_defaults() every field holds its effective value.
struct policy_spec {
    std::string overlap;                       ///< default forbid
    std::string misfire;                       ///< default run_once_if_late
    std::int64_t timeout_seconds = 0;          ///< default 300
    std::int64_t max_concurrency = 0;          ///< default 1
    std::int64_t misfire_grace_seconds = 0;    ///< default 60 (our addition)
    std::int64_t catch_up_limit = 0;           ///< default 100 (our addition)
    std::int64_t jitter_seconds = 0;           ///< default 0 (our addition)
    friend bool operator==(const policy_spec&, const policy_spec&) = default;
};

/// Retry block; `max_attempts` counts every attempt, the first included (0 and 1: no retry).
struct retry_spec {
    std::int64_t max_attempts = 0;
    std::string strategy;                      ///< none | exponential; default exponential
    std::int64_t initial_delay_seconds = 0;    ///< default 30
    std::int64_t max_delay_seconds = 0;        ///< default 900
    friend bool operator==(const retry_spec&, const retry_spec&) = default;
};

/// The body of POST /v1/schedules and PUT /v1/schedules/{id} after decoding, before defaults.
struct schedule_input {
    std::string name;
    std::optional<bool> enabled;               ///< absent means true (DECISIONS 25)
    std::string timezone;
    schedule_spec schedule;
    target_spec target;
    policy_spec policy;
    retry_spec retry;
    std::optional<time_point> start_at;
    std::optional<time_point> end_at;
    friend bool operator==(const schedule_input&, const schedule_input&) = default;
};

/// The body of PATCH: every field optional; `start_at`/`end_at` distinguish absent (outer
/// nullopt) from JSON null (inner nullopt, which clears the bound) (DECISIONS 26).
/// `schedule` and `target` replace the whole object; `policy` and `retry` merge field by field.
struct schedule_patch {
    std::optional<std::string> name;
    std::optional<bool> enabled;
    std::optional<std::string> timezone;
    std::optional<schedule_spec> schedule;
    std::optional<target_spec> target;
    std::optional<std::string> overlap, misfire;
    std::optional<std::int64_t> timeout_seconds, max_concurrency, misfire_grace_seconds, catch_up_limit,
        jitter_seconds;
    std::optional<std::int64_t> max_attempts;
    std::optional<std::string> strategy;
    std::optional<std::int64_t> initial_delay_seconds, max_delay_seconds;
    std::optional<std::optional<time_point>> start_at;
    std::optional<std::optional<time_point>> end_at;
};

/// A stored schedule (the projection the API reads).
struct schedule {
    schedule_id id;
    std::string name;
    bool enabled = true;
    std::string timezone;
    schedule_spec spec;
    target_spec target;
    policy_spec policy;
    retry_spec retry;
    std::optional<time_point> start_at;
    std::optional<time_point> end_at;
    std::optional<time_point> paused_at;      ///< non-null exactly when !enabled (DECISIONS 11)
    std::optional<time_point> next_run_at;
    std::optional<time_point> last_run_at;
    time_point created_at{};
    time_point updated_at{};
    bool deleted = false;                     ///< soft delete (DECISIONS 22); hidden from listings
    friend bool operator==(const schedule&, const schedule&) = default;
};

enum class run_status { pending, claimed, running, succeeded, failed, retry_scheduled, dead_lettered, cancelled, skipped };

[[nodiscard]] std::string_view to_string(run_status s) noexcept;
[[nodiscard]] std::optional<run_status> parse_run_status(std::string_view s) noexcept;
/// succeeded, failed, dead_lettered, cancelled and skipped are final.
[[nodiscard]] constexpr bool is_terminal(run_status s) noexcept {
    return s == run_status::succeeded || s == run_status::failed || s == run_status::dead_lettered ||
           s == run_status::cancelled || s == run_status::skipped;
}

/// One attempt of one occurrence.
struct run {
    run_id id;
    schedule_id schedule;
    std::string occurrence_key;
    time_point nominal_time{};
    time_point due_time{};
    run_status status = run_status::pending;
    std::int64_t attempt = 1;
    std::optional<std::string> claimed_by_worker_id;
    std::optional<time_point> claim_expires_at;
    std::optional<time_point> started_at;
    std::optional<time_point> finished_at;
    std::optional<std::int64_t> http_status_code;
    std::optional<std::int64_t> exit_code;
    std::optional<std::string> result_json;   ///< embedded JSON value as text
    std::optional<std::string> error_text;
    std::optional<time_point> retry_available_at;
    std::optional<std::string> trigger_reason; ///< manual triggers (DECISIONS 20)
    std::int64_t fencing_token = 0;            ///< lease epoch; 0 before the first claim
    time_point created_at{};
    time_point updated_at{};
    /// Earlier attempts of this occurrence that a drain interrupted and requeued; they do not
    /// count against retry.max_attempts (DECISIONS 15).
    std::int64_t requeued_attempts = 0;
    friend bool operator==(const run&, const run&) = default;
};

struct receipt {
    std::string id;             ///< rcpt_…
    run_id run;
    std::string receipt_kind;   ///< stdout | stderr | http_response | workflow_result | summary
    std::string content_type;
    std::string body;
    bool truncated = false;     ///< body was cut at the configured bound (DECISIONS 19)
    time_point created_at{};
    friend bool operator==(const receipt&, const receipt&) = default;
};

struct dead_letter {
    std::string id;             ///< dlq_…
    run_id run;
    schedule_id schedule;
    std::string occurrence_key;
    std::string reason;
    std::optional<std::string> payload_json;
    time_point created_at{};
    friend bool operator==(const dead_letter&, const dead_letter&) = default;
};

/// `{schedule_id}:{nominal time, UTC RFC 3339}`; exact, fraction kept when non-zero (DECISIONS 5).
[[nodiscard]] std::string occurrence_key(std::string_view schedule_id, time_point nominal);

/// The key of a manual trigger: `manual:<run id>`.
[[nodiscard]] std::string manual_occurrence_key(std::string_view run_id);

/// Builds the cadence of a validated schedule (its spec, timezone, bounds and, for an interval
/// without anchor, the creation instant truncated to the second; DECISIONS 5).
[[nodiscard]] result<cadence> cadence_of(const schedule& s);

}  // namespace wakeplane
