// Routes under /v1/schedules: create, list, get, PUT, PATCH, delete, pause, resume, trigger,
// a schedule's runs and its preview (ORIGINAL-BEHAVIOR §2, §7.2; DECISIONS 11, 22-28).
#include <charconv>

#include <wakeplane/cadence.hpp>
#include <wakeplane/codec.hpp>
#include <wakeplane/validate.hpp>

#include "internal.hpp"

namespace wakeplane::http::detail {
namespace {

constexpr std::int64_t default_preview_count = 10;
constexpr std::int64_t max_preview_count = 1000;

/// The live schedule `id`, or 404 (a deleted schedule is hidden, DECISIONS 22).
result<schedule> live_schedule(control& ctl, std::string_view id) {
    auto s = ctl.get_schedule(id);
    if (!s) {
        return tl::unexpected(s.error());
    }
    if (!*s || (*s)->deleted) {
        return tl::unexpected(schedule_not_found(id));
    }
    return **s;
}

/// `enabled`: exactly `true` or `false`; empty or absent is no filter.
result<std::optional<bool>> enabled_filter(const request& r) {
    auto raw = non_empty_param(r, "enabled");
    if (!raw) {
        return std::optional<bool>{};
    }
    if (*raw == "true" || *raw == "false") {
        return std::optional<bool>{*raw == "true"};
    }
    return fail(errc::bad_request, "invalid enabled value " + go_quote(*raw) + ": must be true or false");
}

/// `count` of a preview: 1 to 1000, default 10.
result<std::int64_t> preview_count(const request& r) {
    auto raw = non_empty_param(r, "count");
    if (!raw) {
        return default_preview_count;
    }
    std::int64_t n = 0;
    const auto* last = raw->data() + raw->size();
    const auto [end, ec] = std::from_chars(raw->data(), last, n);
    if (ec != std::errc{} || end != last || n < 1 || n > max_preview_count) {
        return fail(errc::bad_request, "invalid count value " + go_quote(*raw) + ": must be an integer from 1 to " +
                                           std::to_string(max_preview_count));
    }
    return n;
}

/// A page of runs as list items.
response runs_page(const result<page<run>>& p) {
    return page_response(p, [](const run& r) { return encode_run_summary(r); });
}
}  // namespace

response create_schedule(const call& c) {
    auto in = decode_schedule_input(c.req.body);
    if (!in) {
        return error_response(in.error());
    }
    auto s = c.ctl.create_schedule(std::move(*in));
    if (!s) {
        return error_response(s.error());
    }
    return json_response(201, encode_schedule(*s));
}

response list_schedules(const call& c) {
    auto enabled = enabled_filter(c.req);
    if (!enabled) {
        return error_response(enabled.error());
    }
    auto paging = page_of(c.req);
    if (!paging) {
        return error_response(paging.error());
    }
    schedule_filter f;
    f.enabled = *enabled;
    return page_response(c.ctl.list_schedules(f, *paging), [](const auto& row) { return encode_schedule_summary(row); });
}

response get_schedule(const call& c) {
    auto s = live_schedule(c.ctl, c.id);
    if (!s) {
        return error_response(s.error());
    }
    return json_response(200, encode_schedule(*s));
}

response replace_schedule(const call& c) {
    auto in = decode_schedule_input(c.req.body);
    if (!in) {
        return error_response(in.error());
    }
    auto s = c.ctl.replace_schedule(c.id, std::move(*in));
    if (!s) {
        return error_response(s.error());
    }
    return json_response(200, encode_schedule(*s));
}

response patch_schedule(const call& c) {
    auto patch = decode_schedule_patch(c.req.body);
    if (!patch) {
        return error_response(patch.error());
    }
    auto current = live_schedule(c.ctl, c.id);
    if (!current) {
        return error_response(current.error());
    }
    // Merged, then validated with defaults like a PUT (DECISIONS 25-26).
    auto s = c.ctl.replace_schedule(c.id, apply_patch(*current, *patch));
    if (!s) {
        return error_response(s.error());
    }
    return json_response(200, encode_schedule(*s));
}

response delete_schedule(const call& c) {
    auto s = c.ctl.remove(c.id);
    if (!s) {
        return error_response(s.error());
    }
    return json_response(200, object_writer{}.boolean("deleted", true).text("id", s->id).done());
}

response pause_schedule(const call& c) {
    auto s = c.ctl.pause(c.id);
    if (!s) {
        return error_response(s.error());
    }
    // A map in the original: keys sorted.
    return json_response(200, object_writer{}.boolean("enabled", s->enabled).text("id", s->id).time("paused_at", s->paused_at).done());
}

response resume_schedule(const call& c) {
    auto s = c.ctl.resume(c.id);
    if (!s) {
        return error_response(s.error());
    }
    return json_response(200, object_writer{}
                                  .boolean("enabled", s->enabled)
                                  .text("id", s->id)
                                  .time("next_run_at", s->next_run_at)
                                  .time("paused_at", s->paused_at)
                                  .done());
}

response trigger_schedule(const call& c) {
    auto reason = decode_reason(c.req.body, true);
    if (!reason) {
        return error_response(reason.error());
    }
    if (trim(*reason).empty()) {
        return error_response(error{errc::bad_request, "reason must be non-empty", {}});
    }
    auto r = c.ctl.trigger(c.id, *reason);
    if (!r) {
        return error_response(r.error());
    }
    // 200, not 201, and a map with sorted keys, as the original answers.
    return json_response(200, object_writer{}
                                  .time("created_at", r->created_at)
                                  .text("occurrence_key", r->occurrence_key)
                                  .text("run_id", r->id)
                                  .text("schedule_id", r->schedule)
                                  .text("status", to_string(r->status))
                                  .done());
}

response list_schedule_runs(const call& c) {
    auto status = status_filter(c.req);
    if (!status) {
        return error_response(status.error());
    }
    auto paging = page_of(c.req);
    if (!paging) {
        return error_response(paging.error());
    }
    // A deleted schedule keeps its history readable (DECISIONS 22); one that never existed is 404.
    auto s = c.ctl.get_schedule(c.id);
    if (!s) {
        return error_response(s.error());
    }
    if (!*s) {
        return error_response(schedule_not_found(c.id));
    }
    run_filter f;
    f.schedule = std::string(c.id);
    f.status = *status;
    return runs_page(c.ctl.list_runs(f, *paging));
}

response preview_schedule(const call& c) {
    auto count = preview_count(c.req);
    if (!count) {
        return error_response(count.error());
    }
    time_point from = c.ctl.now();
    if (auto raw = non_empty_param(c.req, "from")) {
        auto t = parse_rfc3339(*raw);
        if (!t) {
            return error_response(error{errc::bad_request, "invalid from value: " + t.error().message, {}});
        }
        from = *t;
    }
    auto s = live_schedule(c.ctl, c.id);
    if (!s) {
        return error_response(s.error());
    }
    auto cad = cadence_of(*s);
    if (!cad) {
        return error_response(cad.error());
    }
    std::string items = "[";
    std::optional<time_point> t = from;
    for (std::int64_t i = 0; i < *count; ++i) {
        t = next_after(*cad, *t);
        if (!t) {
            break;
        }
        items += items.size() > 1 ? "," : "";
        items += encode_json_string(format_rfc3339(*t));
    }
    items += ']';
    return json_response(200, object_writer{}.raw("items", items).done());
}

}  // namespace wakeplane::http::detail
