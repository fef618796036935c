// Routes under /v1/runs, /v1/dead-letters and /v1/ledger (ORIGINAL-BEHAVIOR §7.2, DECISIONS 24, 28).
#include <charconv>

#include <wakeplane/codec.hpp>
#include <wakeplane/ledger.hpp>

#include "internal.hpp"

namespace wakeplane::http::detail {
namespace {

/// What a cancel without a reason records.
constexpr std::string_view default_cancel_reason = "cancelled by operator";

/// `after` (or `cursor`, its alias, for clients that page every list alike): the ledger sequence
/// number to continue after; 0 when absent.
result<std::int64_t> ledger_after(const request& r) {
    auto raw = non_empty_param(r, "after");
    if (!raw) {
        raw = non_empty_param(r, "cursor");
    }
    if (!raw) {
        return std::int64_t{0};
    }
    std::int64_t n = 0;
    const auto* last = raw->data() + raw->size();
    const auto [end, ec] = std::from_chars(raw->data(), last, n);
    if (ec != std::errc{} || end != last || n < 0) {
        return fail(errc::bad_request, "invalid after value " + go_quote(*raw) + ": must be a non-negative integer");
    }
    return n;
}

/// A ledger entry as /v1/ledger lists it: `{seq, at, kind, schedule_id, run_id?, occurrence_key?,
/// attempt?, data}` (DECISIONS 28), with Go's string escaping like every response.
std::string encode_ledger_item(const ledger_event& e) {
    object_writer w;
    w.number("seq", e.seq).time("at", e.at).text("kind", to_string(e.kind)).text("schedule_id", e.schedule);
    if (e.run) {
        w.text("run_id", *e.run);
    }
    if (e.occurrence_key) {
        w.text("occurrence_key", *e.occurrence_key);
    }
    if (e.attempt) {
        w.number("attempt", *e.attempt);
    }
    const std::string data = encode_event_data(e);
    auto escaped = compact_json(data);
    w.raw("data", escaped ? *escaped : data);
    return w.done();
}

/// The run the route names and its receipts; an unknown run is the API's not-found error.
result<std::pair<run, std::vector<receipt>>> run_with_receipts(const call& c) {
    auto r = c.ctl.get_run(c.id);
    if (!r) {
        return tl::unexpected(r.error());
    }
    if (!*r) {
        return tl::unexpected(run_not_found(c.id));
    }
    auto receipts = c.ctl.list_receipts(c.id);
    if (!receipts) {
        return tl::unexpected(receipts.error());
    }
    return std::pair{std::move(**r), std::move(*receipts)};
}

}  // namespace

response list_runs(const call& c) {
    auto status = status_filter(c.req);
    if (!status) {
        return error_response(status.error());
    }
    auto paging = page_of(c.req);
    if (!paging) {
        return error_response(paging.error());
    }
    run_filter f;
    f.schedule = non_empty_param(c.req, "schedule_id");
    f.status = *status;
    return page_response(c.ctl.list_runs(f, *paging), [](const auto& row) { return encode_run_summary(row); });
}

response get_run(const call& c) {
    auto found = run_with_receipts(c);
    if (!found) {
        return error_response(found.error());
    }
    return json_response(200, encode_run(found->first, found->second));
}

response list_receipts(const call& c) {
    auto found = run_with_receipts(c);
    if (!found) {
        return error_response(found.error());
    }
    const auto& receipts = found->second;
    // A run has a handful of receipts: one page, always the last.
    std::vector<std::string> items;
    items.reserve(receipts.size());
    for (const auto& rc : receipts) {
        items.push_back(encode_receipt(rc));
    }
    return json_response(200, list_body(items, std::nullopt));
}

response cancel_run(const call& c) {
    auto reason = decode_reason(c.req.body, false);
    if (!reason) {
        return error_response(reason.error());
    }
    const std::string text = trim(*reason).empty() ? std::string(default_cancel_reason) : *reason;
    auto r = c.ctl.cancel(c.id, text);
    if (!r) {
        return error_response(r.error());
    }
    return json_response(200, encode_run(*r));
}

response list_dead_letters(const call& c) {
    auto paging = page_of(c.req);
    if (!paging) {
        return error_response(paging.error());
    }
    dead_letter_filter f;
    f.schedule = non_empty_param(c.req, "schedule_id");
    return page_response(c.ctl.list_dead_letters(f, *paging), [](const auto& row) { return encode_dead_letter(row); });
}

response read_ledger(const call& c) {
    auto after = ledger_after(c.req);
    if (!after) {
        return error_response(after.error());
    }
    ledger_query q;
    q.after = *after;
    q.limit = page_limit(c.req) + 1;  // one more tells whether a next page exists
    q.schedule = non_empty_param(c.req, "schedule_id");
    q.run = non_empty_param(c.req, "run_id");
    auto events = c.ctl.read_ledger(q);
    if (!events) {
        return error_response(events.error());
    }
    const std::size_t limit = q.limit - 1;
    std::optional<std::string> next;
    if (events->size() > limit) {
        events->resize(limit);
        next = std::to_string(events->back().seq);
    }
    std::vector<std::string> items;
    items.reserve(events->size());
    for (const auto& e : *events) {
        items.push_back(encode_ledger_item(e));
    }
    return json_response(200, list_body(items, next));
}

}  // namespace wakeplane::http::detail
