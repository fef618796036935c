// The simulated workload, drawn from the seed.
#include "workload.hpp"

#include <algorithm>
#include <array>
#include <string>

#include <wakeplane/planner.hpp>  // detail::stable_hash

namespace wakeplane::sim {
namespace {

using namespace std::chrono_literals;

// Zones with spring-forward gaps and fall-back repeats on both hemispheres, half-hour DST
// (Lord Howe), odd offsets (St John's, Chatham, Kolkata) and none (UTC, Tokyo).
constexpr std::array<std::string_view, 10> zones{
    "UTC",         "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/St_Johns",
    "Asia/Kolkata", "Pacific/Chatham", "America/Sao_Paulo", "Asia/Tokyo", "Europe/Dublin"};

// Expressions that fire hourly or less often, several inside DST gaps and repeats (02:30, 01:30).
constexpr std::array<std::string_view, 10> crons{
    "0 * * * *",   "*/30 * * * *", "30 2 * * *",     "30 1 * * *",  "0 9 * * 1-5",
    "*/20 8-18 * * *", "45 */3 * * *", "0 12 * * 0,6", "0 0 1 * *", "15 2,14 * * *"};

constexpr std::array<std::string_view, 3> misfires{"skip", "run_once_if_late", "catch_up"};
constexpr std::array<std::string_view, 4> overlaps{"allow", "forbid", "queue_latest", "replace"};
constexpr std::array<std::int64_t, 4> timeouts{60, 300, 900, 1800};

void draw_cadence(prng& rng, schedule_input& in, time_point now, time_point end) {
    in.schedule = schedule_spec{};  // an edit may change the kind: no field of the old one stays
    switch (rng.below(10)) {
    case 0: {  // once: some already missed, some in the window
        in.schedule.kind = "once";
        const auto from = now - 24h;
        const auto span = std::chrono::duration_cast<std::chrono::seconds>(end - from).count();
        in.schedule.at = from + std::chrono::seconds{rng.between(0, span)};
        break;
    }
    case 1:
    case 2:
    case 3:
    case 4: {
        in.schedule.kind = "interval";
        in.schedule.every_seconds = rng.between(1, 36) * 600;  // 10 min to 6 h
        if (rng.chance(500)) {
            in.schedule.anchor_at = now + std::chrono::seconds{rng.between(-3600, 3600)};
        }
        break;
    }
    default: {
        in.schedule.kind = "cron";
        in.schedule.expr = std::string(rng.pick(crons));
        in.schedule.dst.gap = rng.chance(500) ? dst_gap::shift : dst_gap::skip;
        in.schedule.dst.repeated = static_cast<dst_repeated>(rng.below(3));
        break;
    }
    }
}

// The scale mix (workload_kind::scale), per 100,000 schedules, with each kind's
// occurrences per 365 days. Mostly monthly and quarterly jobs (invoices, reports, clean-ups),
// some weekly, few daily or frequent ones: about 10.7 occurrences per schedule-year, which is
// what makes a year of 100,000 schedules a run of about 10 CPU minutes and 17 GiB here (the simulator
// costs about 600 µs of CPU and 18 KB at its peak per occurrence; docs/performance.md).
enum class fleet_cadence { monthly, quarterly, yearly, weekly, daily, weekdays, hourly, once };
struct fleet_share {
    fleet_cadence cadence;
    std::uint64_t per_100k;  ///< schedules of this kind among 100,000
    double per_year;         ///< its occurrences per 365 days (once: one per run)
};
constexpr std::array<fleet_share, 8> fleet_mix{{
    {fleet_cadence::monthly, 45'000, 12.0},
    {fleet_cadence::quarterly, 25'000, 4.0},
    {fleet_cadence::yearly, 10'000, 1.0},
    {fleet_cadence::weekly, 5'000, 52.0},
    {fleet_cadence::daily, 200, 365.0},
    {fleet_cadence::weekdays, 100, 261.0},
    {fleet_cadence::hourly, 5, 8760.0},
    {fleet_cadence::once, 14'695, 1.0},
}};

// The draws of an expression are sequenced one statement each: the operands of `+` are not,
// and a seed must draw the same schedules whatever the compiler.

/// "M H": a drawn minute and hour.
std::string at_minute_hour(prng& rng) {
    const auto minute = rng.between(0, 59);
    const auto hour = rng.between(0, 23);
    return std::to_string(minute) + " " + std::to_string(hour);
}

/// "M H D": a drawn minute, hour and day of the month (1-28: every month has it).
std::string at_day_of_month(prng& rng) {
    auto when = at_minute_hour(rng);
    return when + " " + std::to_string(rng.between(1, 28));
}


void draw_fleet_cadence(prng& rng, schedule_input& in, time_point now, time_point end) {
    std::array<std::uint64_t, fleet_mix.size()> weights{};
    std::transform(fleet_mix.begin(), fleet_mix.end(), weights.begin(), [](const fleet_share& f) { return f.per_100k; });
    const auto i = weighted(rng, weights);
    in.schedule = schedule_spec{};
    in.schedule.kind = "cron";
    switch (fleet_mix[i].cadence) {
    case fleet_cadence::monthly:
        in.schedule.expr = at_day_of_month(rng) + " * *";
        break;
    case fleet_cadence::quarterly: {  // months m, m+3, m+6, m+9
        auto when = at_day_of_month(rng);
        in.schedule.expr = when + " " + std::to_string(rng.between(1, 3)) + "-12/3 *";
        break;
    }
    case fleet_cadence::yearly: {
        auto when = at_day_of_month(rng);
        in.schedule.expr = when + " " + std::to_string(rng.between(1, 12)) + " *";
        break;
    }
    case fleet_cadence::weekly: {
        auto when = at_minute_hour(rng);
        in.schedule.expr = when + " * * " + std::to_string(rng.between(0, 6));
        break;
    }
    case fleet_cadence::daily:
        in.schedule.expr = at_minute_hour(rng) + " * * *";
        break;
    case fleet_cadence::weekdays:
        in.schedule.expr = at_minute_hour(rng) + " * * 1-5";
        break;
    case fleet_cadence::hourly:
        in.schedule.kind = "interval";
        in.schedule.every_seconds = 3600;
        break;
    case fleet_cadence::once: {
        in.schedule.kind = "once";
        const auto span = std::chrono::duration_cast<std::chrono::seconds>(end - now).count();
        in.schedule.at = now + std::chrono::seconds{rng.between(0, span)};
        break;
    }
    }
}

void draw_policies(prng& rng, schedule_input& in) {
    in.policy.misfire = std::string(rng.pick(misfires));
    in.policy.overlap = std::string(rng.pick(overlaps));
    in.policy.max_concurrency = rng.between(1, 3);
    in.policy.timeout_seconds = rng.pick(timeouts);
    in.policy.misfire_grace_seconds = rng.chance(300) ? 0 : rng.between(10, 600);
    in.policy.catch_up_limit = rng.chance(500) ? 0 : rng.between(1, 6);
    in.policy.jitter_seconds = rng.chance(700) ? 0 : rng.between(1, 120);
    in.retry.strategy = rng.chance(200) ? "none" : "exponential";
    in.retry.max_attempts = rng.between(0, 4);
    in.retry.initial_delay_seconds = rng.between(5, 120);
    in.retry.max_delay_seconds = rng.between(120, 1800);
}

}  // namespace

std::optional<workload_kind> parse_workload_kind(std::string_view name) noexcept {
    if (name == "standard") {
        return workload_kind::standard;
    }
    if (name == "scale") {
        return workload_kind::scale;
    }
    return std::nullopt;
}

double scale_occurrences_per_year() noexcept {
    double total = 0;
    for (const auto& f : fleet_mix) {
        total += static_cast<double>(f.per_100k) * f.per_year / 100'000.0;
    }
    return total;
}

std::vector<schedule_input> generate_schedules(prng& rng, std::size_t n, time_point start, time_point end,
                                               workload_kind kind) {
    std::vector<schedule_input> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        schedule_input in;
        in.name = "sim-" + std::to_string(i);
        in.timezone = std::string(rng.pick(zones));
        in.target.kind = "workflow";
        in.target.workflow_id = "sim";
        if (rng.chance(100)) {
            in.enabled = false;  // created paused; an operator resumes it later
        }
        if (kind == workload_kind::scale) {
            draw_fleet_cadence(rng, in, start, end);
        } else {
            draw_cadence(rng, in, start, end);
        }
        draw_policies(rng, in);
        out.push_back(std::move(in));
    }
    return out;
}

schedule_input edit_schedule(prng& rng, schedule_input in, time_point now) {
    switch (rng.below(4)) {
    case 0:
        draw_cadence(rng, in, now, now + 24h * 7);
        break;
    case 1:
        in.policy.overlap = std::string(rng.pick(overlaps));
        in.policy.max_concurrency = rng.between(1, 3);
        break;
    case 2:
        in.policy.misfire = std::string(rng.pick(misfires));
        in.retry.max_attempts = rng.between(0, 4);
        break;
    default:
        in.policy.timeout_seconds = rng.pick(timeouts);
        break;
    }
    return in;
}

behaviour behaviour_of(std::uint64_t seed, std::string_view occurrence_key, std::int64_t attempt, workload_kind kind) {
    prng rng{seed ^ mix64(detail::stable_hash(occurrence_key) + static_cast<std::uint64_t>(attempt))};
    const auto secs = [](std::int64_t s) { return std::chrono::duration_cast<duration>(std::chrono::seconds{s}); };
    const auto roll = rng.below(1000);
    if (kind == workload_kind::scale) {  // a healthy fleet: quick successes, few failures, rare long jobs
        if (roll < 970) {
            return {behaviour::kind::succeed, secs(rng.between(1, 90))};
        }
        if (roll < 990) {
            return {behaviour::kind::fail, secs(rng.between(1, 120))};
        }
        return {behaviour::kind::succeed, secs(rng.between(300, 2400))};
    }
    if (roll < 600) {
        return {behaviour::kind::succeed, secs(rng.between(1, 90))};
    }
    if (roll < 720) {  // long work: several lease renewals, sometimes past the timeout
        return {behaviour::kind::succeed, secs(rng.between(300, 2400))};
    }
    if (roll < 870) {
        return {behaviour::kind::fail, secs(rng.between(1, 120))};
    }
    if (roll < 930) {
        return {behaviour::kind::hang, secs(rng.between(7200, 14400))};
    }
    if (roll < 970) {  // deaf to stop requests and past any grace: abandoned, finishes much later
        return {behaviour::kind::ignore_stop, secs(rng.between(7200, 14400))};
    }
    return {behaviour::kind::ignore_stop, secs(rng.between(1, 60))};  // deaf, but quick
}

}  // namespace wakeplane::sim
