// `wakeplane preview`: builds a cadence from flags or a manifest and lists its next fire times.
#include "preview.hpp"

#include <wakeplane/cadence.hpp>
#include <wakeplane/manifest.hpp>
#include <wakeplane/model.hpp>
#include <wakeplane/policy/catalog.hpp>
#include <wakeplane/validate.hpp>

namespace wakeplane::cli {
namespace {

/// A cadence from `--cron`, `--timezone` and the DST flags.
result<cadence> cadence_from_flags(const preview_request& req) {
    std::vector<field_error> errors;
    if (!req.timezone || req.timezone->empty()) {
        errors.push_back({"--timezone", "is required with --cron"});
    }
    dst_policy dst;
    if (req.dst_gap) {
        if (auto g = parse_dst_gap(*req.dst_gap)) {
            dst.gap = *g;
        } else {
            errors.push_back({"--dst-gap", "must be one of skip, shift"});
        }
    }
    if (req.dst_repeated) {
        if (auto r = parse_dst_repeated(*req.dst_repeated)) {
            dst.repeated = *r;
        } else {
            errors.push_back({"--dst-repeated", "must be one of first, last, both"});
        }
    }
    auto expr = cron_expr::parse(*req.cron);
    if (!expr) {
        errors.push_back({"--cron", expr.error().message});
    }
    const time_zone* zone = nullptr;
    if (req.timezone && !req.timezone->empty()) {
        if (auto z = time_zone::locate(*req.timezone)) {
            zone = *z;
        } else {
            errors.push_back({"--timezone", "must be a valid IANA timezone"});
        }
    }
    if (!errors.empty()) {
        return invalid(std::move(errors));
    }
    return cadence{cron_cadence{*std::move(expr), zone, dst}, {}};
}

/// A cadence from a manifest, validated as the daemon would validate it. An interval without
/// anchor_at or start_at is anchored at `from`, as if the schedule were created then.
result<cadence> cadence_from_manifest(const preview_request& req) {
    auto input = load_manifest(*req.manifest_path);
    if (!input) {
        return tl::unexpected(std::move(input).error());
    }
    auto checked = check_schedule_input(*std::move(input), policy_catalog::defaults());
    if (!checked) {
        return tl::unexpected(std::move(checked).error());
    }
    schedule s;
    s.name = checked->name;
    s.timezone = checked->timezone;
    s.spec = checked->schedule;
    s.start_at = checked->start_at;
    s.end_at = checked->end_at;
    s.created_at = req.from;
    return cadence_of(s);
}

}  // namespace

result<std::vector<time_point>> preview(const preview_request& req) {
    if (req.count < 1 || req.count > 100'000) {
        return invalid({{"--count", "must be between 1 and 100000"}});
    }
    if (req.manifest_path && (req.dst_gap || req.dst_repeated || req.timezone)) {
        return invalid({{"-f", "takes its timezone and DST policy from the manifest; drop --timezone and --dst-*"}});
    }
    auto c = req.cron ? cadence_from_flags(req) : cadence_from_manifest(req);
    if (!c) {
        return tl::unexpected(std::move(c).error());
    }
    std::vector<time_point> out;
    auto after = req.from;
    while (static_cast<std::int64_t>(out.size()) < req.count) {
        auto next = next_after(*c, after);
        if (!next) {
            break;
        }
        out.push_back(*next);
        after = *next;
    }
    return out;
}

std::string one_line(const error& e) {
    if (e.details.empty()) {
        return e.message;
    }
    std::string line;
    for (const auto& d : e.details) {
        if (!line.empty()) {
            line += "; ";
        }
        line += d.field + ": " + d.message;
    }
    return line;
}

}  // namespace wakeplane::cli
