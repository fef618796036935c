// Run statuses, occurrence keys and the cadence of a stored schedule.
#include <wakeplane/model.hpp>

#include <array>
#include <chrono>
#include <utility>

#include <wakeplane/validate.hpp>

namespace wakeplane {
namespace {

/// The wire names of run_status, indexed by its value.
constexpr std::array<std::string_view, 9> run_status_names = {
    "pending", "claimed", "running", "succeeded", "failed", "retry_scheduled", "dead_lettered", "cancelled", "skipped",
};

/// The kind-specific part of cadence_of().
result<decltype(cadence::kind)> cadence_kind(const schedule& s) {
    const schedule_spec& spec = s.spec;
    if (spec.kind == "cron") {
        auto expr = cron_expr::parse(spec.expr);
        if (!expr) {
            return tl::unexpected<error>(std::move(expr.error()));
        }
        auto zone = time_zone::locate(s.timezone);
        if (!zone) {
            return tl::unexpected<error>(std::move(zone.error()));
        }
        return cron_cadence{std::move(*expr), *zone, spec.dst};
    }
    if (spec.kind == "interval") {
        // Checked again here, not only in validate(): a bad value would overflow the microsecond count.
        if (spec.every_seconds <= 0 || spec.every_seconds > max_duration_seconds) {
            return invalid({{"schedule.every_seconds", "must be > 0 and <= " + std::to_string(max_duration_seconds)}});
        }
        // DECISIONS 5: whole seconds, so that the keys of an unanchored interval are exact.
        const time_point anchor = spec.anchor_at ? *spec.anchor_at
                                  : s.start_at   ? *s.start_at
                                                 : std::chrono::floor<std::chrono::seconds>(s.created_at);
        return interval_cadence{anchor, std::chrono::seconds{spec.every_seconds}};
    }
    if (spec.kind == "once") {
        if (!spec.at) {
            return invalid({{"schedule.at", "is required for once"}});
        }
        return once_cadence{*spec.at};
    }
    return invalid({{"schedule.kind", "must be one of cron, interval, once"}});
}

}  // namespace

std::string_view to_string(run_status s) noexcept {
    const auto index = static_cast<std::size_t>(s);
    return index < run_status_names.size() ? run_status_names[index] : std::string_view{"unknown"};
}

std::optional<run_status> parse_run_status(std::string_view s) noexcept {
    for (std::size_t i = 0; i < run_status_names.size(); ++i) {
        if (run_status_names[i] == s) {
            return static_cast<run_status>(i);
        }
    }
    return std::nullopt;
}

std::string occurrence_key(std::string_view schedule_id, time_point nominal) {
    std::string key(schedule_id);
    key += ':';
    key += format_rfc3339(nominal);
    return key;
}

std::string manual_occurrence_key(std::string_view run_id) {
    std::string key = "manual:";
    key += run_id;
    return key;
}

result<cadence> cadence_of(const schedule& s) {
    auto kind = cadence_kind(s);
    if (!kind) {
        return tl::unexpected<error>(std::move(kind.error()));
    }
    return cadence{std::move(*kind), bounds{s.start_at, s.end_at}};
}

}  // namespace wakeplane
