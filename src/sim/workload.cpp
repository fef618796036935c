// The simulated workload, drawn from the seed.
#include "workload.hpp"

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

std::vector<schedule_input> generate_schedules(prng& rng, std::size_t n, time_point start, time_point end) {
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
        draw_cadence(rng, in, start, end);
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

behaviour behaviour_of(std::uint64_t seed, std::string_view occurrence_key, std::int64_t attempt) {
    prng rng{seed ^ mix64(detail::stable_hash(occurrence_key) + static_cast<std::uint64_t>(attempt))};
    const auto secs = [](std::int64_t s) { return std::chrono::duration_cast<duration>(std::chrono::seconds{s}); };
    const auto roll = rng.below(1000);
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
