// Lossless JSON of stored records and ledger events.
#include <wakeplane/ledger.hpp>

#include <array>

#include <nlohmann/json.hpp>

namespace wakeplane {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 19> event_names = {
    "schedule_created", "schedule_updated", "schedule_paused", "schedule_resumed", "schedule_deleted",
    "schedule_planned", "occurrence_materialized", "occurrence_skipped", "occurrences_skipped_summary",
    "occurrence_coalesced", "run_triggered", "run_claimed", "run_started", "lease_renewed", "run_finished",
    "retry_scheduled", "run_requeued", "dead_lettered", "lease_recovered"};

json time_json(time_point t) { return format_rfc3339(t); }

json opt_time(const std::optional<time_point>& t) { return t ? json(format_rfc3339(*t)) : json(nullptr); }

template <class T>
json opt(const std::optional<T>& v) {
    return v ? json(*v) : json(nullptr);
}

/// Reading records is strict: a record that does not decode is corruption, reported, never guessed.
struct reader {
    const json& j;
    std::string what;

    [[noreturn]] void corrupt(std::string_view key) const {
        throw std::runtime_error(what + " record: bad field " + std::string(key));
    }
    const json& at(std::string_view key) const {
        auto it = j.find(key);
        if (it == j.end()) {
            corrupt(key);
        }
        return *it;
    }
    std::string str(std::string_view key) const { return at(key).get<std::string>(); }
    std::int64_t i64(std::string_view key) const { return at(key).get<std::int64_t>(); }
    bool boolean(std::string_view key) const { return at(key).get<bool>(); }
    time_point time(std::string_view key) const {
        auto t = parse_rfc3339(at(key).get<std::string>());
        if (!t) {
            corrupt(key);
        }
        return *t;
    }
    std::optional<time_point> opt_time(std::string_view key) const {
        auto it = j.find(key);
        if (it == j.end() || it->is_null()) {
            return std::nullopt;
        }
        return time(key);
    }
    std::optional<std::string> opt_str(std::string_view key) const {
        auto it = j.find(key);
        if (it == j.end() || it->is_null()) {
            return std::nullopt;
        }
        return it->get<std::string>();
    }
    std::optional<std::int64_t> opt_i64(std::string_view key) const {
        auto it = j.find(key);
        if (it == j.end() || it->is_null()) {
            return std::nullopt;
        }
        return it->get<std::int64_t>();
    }
};

json schedule_json(const schedule& s) {
    json spec = {{"kind", s.spec.kind},
                 {"expr", s.spec.expr},
                 {"every_seconds", s.spec.every_seconds},
                 {"anchor_at", opt_time(s.spec.anchor_at)},
                 {"at", opt_time(s.spec.at)},
                 {"dst_gap", to_string(s.spec.dst.gap)},
                 {"dst_repeated", to_string(s.spec.dst.repeated)}};
    json target = {{"kind", s.target.kind},       {"method", s.target.method},
                   {"url", s.target.url},         {"headers", s.target.headers},
                   {"body_json", s.target.body_json}, {"command", s.target.command},
                   {"args", s.target.args},       {"workflow_id", s.target.workflow_id},
                   {"input_json", s.target.input_json}};
    json policy = {{"overlap", s.policy.overlap},
                   {"misfire", s.policy.misfire},
                   {"timeout_seconds", s.policy.timeout_seconds},
                   {"max_concurrency", s.policy.max_concurrency},
                   {"misfire_grace_seconds", s.policy.misfire_grace_seconds},
                   {"catch_up_limit", s.policy.catch_up_limit},
                   {"jitter_seconds", s.policy.jitter_seconds}};
    json retry = {{"max_attempts", s.retry.max_attempts},
                  {"strategy", s.retry.strategy},
                  {"initial_delay_seconds", s.retry.initial_delay_seconds},
                  {"max_delay_seconds", s.retry.max_delay_seconds}};
    return {{"id", s.id},
            {"name", s.name},
            {"enabled", s.enabled},
            {"timezone", s.timezone},
            {"schedule", spec},
            {"target", target},
            {"policy", policy},
            {"retry", retry},
            {"start_at", opt_time(s.start_at)},
            {"end_at", opt_time(s.end_at)},
            {"paused_at", opt_time(s.paused_at)},
            {"next_run_at", opt_time(s.next_run_at)},
            {"last_run_at", opt_time(s.last_run_at)},
            {"created_at", time_json(s.created_at)},
            {"updated_at", time_json(s.updated_at)},
            {"deleted", s.deleted}};
}

schedule schedule_from(const json& j) {
    reader r{j, "schedule"};
    schedule s;
    s.id = r.str("id");
    s.name = r.str("name");
    s.enabled = r.boolean("enabled");
    s.timezone = r.str("timezone");
    reader spec{r.at("schedule"), "schedule"};
    s.spec.kind = spec.str("kind");
    s.spec.expr = spec.str("expr");
    s.spec.every_seconds = spec.i64("every_seconds");
    s.spec.anchor_at = spec.opt_time("anchor_at");
    s.spec.at = spec.opt_time("at");
    auto gap = parse_dst_gap(spec.str("dst_gap"));
    auto repeated = parse_dst_repeated(spec.str("dst_repeated"));
    if (!gap || !repeated) {
        spec.corrupt("dst");
    }
    s.spec.dst = {*gap, *repeated};
    reader t{r.at("target"), "schedule"};
    s.target.kind = t.str("kind");
    s.target.method = t.str("method");
    s.target.url = t.str("url");
    s.target.headers = t.at("headers").get<std::map<std::string, std::string>>();
    s.target.body_json = t.str("body_json");
    s.target.command = t.str("command");
    s.target.args = t.at("args").get<std::vector<std::string>>();
    s.target.workflow_id = t.str("workflow_id");
    s.target.input_json = t.str("input_json");
    reader p{r.at("policy"), "schedule"};
    s.policy.overlap = p.str("overlap");
    s.policy.misfire = p.str("misfire");
    s.policy.timeout_seconds = p.i64("timeout_seconds");
    s.policy.max_concurrency = p.i64("max_concurrency");
    s.policy.misfire_grace_seconds = p.i64("misfire_grace_seconds");
    s.policy.catch_up_limit = p.i64("catch_up_limit");
    s.policy.jitter_seconds = p.i64("jitter_seconds");
    reader rt{r.at("retry"), "schedule"};
    s.retry.max_attempts = rt.i64("max_attempts");
    s.retry.strategy = rt.str("strategy");
    s.retry.initial_delay_seconds = rt.i64("initial_delay_seconds");
    s.retry.max_delay_seconds = rt.i64("max_delay_seconds");
    s.start_at = r.opt_time("start_at");
    s.end_at = r.opt_time("end_at");
    s.paused_at = r.opt_time("paused_at");
    s.next_run_at = r.opt_time("next_run_at");
    s.last_run_at = r.opt_time("last_run_at");
    s.created_at = r.time("created_at");
    s.updated_at = r.time("updated_at");
    s.deleted = r.boolean("deleted");
    return s;
}

json run_json(const run& x) {
    return {{"id", x.id},
            {"schedule_id", x.schedule},
            {"occurrence_key", x.occurrence_key},
            {"nominal_time", time_json(x.nominal_time)},
            {"due_time", time_json(x.due_time)},
            {"status", to_string(x.status)},
            {"attempt", x.attempt},
            {"claimed_by_worker_id", opt(x.claimed_by_worker_id)},
            {"claim_expires_at", opt_time(x.claim_expires_at)},
            {"started_at", opt_time(x.started_at)},
            {"finished_at", opt_time(x.finished_at)},
            {"http_status_code", opt(x.http_status_code)},
            {"exit_code", opt(x.exit_code)},
            {"result_json", opt(x.result_json)},
            {"error_text", opt(x.error_text)},
            {"retry_available_at", opt_time(x.retry_available_at)},
            {"trigger_reason", opt(x.trigger_reason)},
            {"fencing_token", x.fencing_token},
            {"created_at", time_json(x.created_at)},
            {"updated_at", time_json(x.updated_at)},
            {"requeued_attempts", x.requeued_attempts}};
}

run run_from(const json& j) {
    reader r{j, "run"};
    run x;
    x.id = r.str("id");
    x.schedule = r.str("schedule_id");
    x.occurrence_key = r.str("occurrence_key");
    x.nominal_time = r.time("nominal_time");
    x.due_time = r.time("due_time");
    auto st = parse_run_status(r.str("status"));
    if (!st) {
        r.corrupt("status");
    }
    x.status = *st;
    x.attempt = r.i64("attempt");
    x.claimed_by_worker_id = r.opt_str("claimed_by_worker_id");
    x.claim_expires_at = r.opt_time("claim_expires_at");
    x.started_at = r.opt_time("started_at");
    x.finished_at = r.opt_time("finished_at");
    x.http_status_code = r.opt_i64("http_status_code");
    x.exit_code = r.opt_i64("exit_code");
    x.result_json = r.opt_str("result_json");
    x.error_text = r.opt_str("error_text");
    x.retry_available_at = r.opt_time("retry_available_at");
    x.trigger_reason = r.opt_str("trigger_reason");
    x.fencing_token = r.i64("fencing_token");
    x.created_at = r.time("created_at");
    x.updated_at = r.time("updated_at");
    x.requeued_attempts = r.i64("requeued_attempts");
    return x;
}

json receipt_json(const receipt& x) {
    return {{"id", x.id},     {"run_id", x.run},           {"receipt_kind", x.receipt_kind},
            {"content_type", x.content_type}, {"body", x.body}, {"truncated", x.truncated},
            {"created_at", time_json(x.created_at)}};
}

receipt receipt_from(const json& j) {
    reader r{j, "receipt"};
    return receipt{r.str("id"),   r.str("run_id"),         r.str("receipt_kind"), r.str("content_type"),
                   r.str("body"), r.boolean("truncated"), r.time("created_at")};
}

json dead_letter_json(const dead_letter& d) {
    return {{"id", d.id},         {"run_id", d.run},       {"schedule_id", d.schedule},
            {"occurrence_key", d.occurrence_key}, {"reason", d.reason}, {"payload_json", opt(d.payload_json)},
            {"created_at", time_json(d.created_at)}};
}

dead_letter dead_letter_from(const json& j) {
    reader r{j, "dead letter"};
    return dead_letter{r.str("id"),     r.str("run_id"),          r.str("schedule_id"), r.str("occurrence_key"),
                       r.str("reason"), r.opt_str("payload_json"), r.time("created_at")};
}

json data_json(const ledger_event& e) {
    return std::visit(
        [](const auto& p) -> json {
            using P = std::decay_t<decltype(p)>;
            if constexpr (std::is_same_v<P, std::monostate>) {
                return json::object();
            } else if constexpr (std::is_same_v<P, schedule>) {
                return {{"schedule", schedule_json(p)}};
            } else if constexpr (std::is_same_v<P, run_change>) {
                json receipts = json::array();
                for (const auto& rc : p.receipts) {
                    receipts.push_back(receipt_json(rc));
                }
                json out = {{"run", run_json(p.row)}, {"receipts", receipts}};
                if (p.schedule_after) {
                    out["schedule_after"] = schedule_json(*p.schedule_after);
                }
                return out;
            } else if constexpr (std::is_same_v<P, dead_letter>) {
                return {{"dead_letter", dead_letter_json(p)}};
            } else {
                return {{"count", p.count},
                        {"first", time_json(p.first)},
                        {"last", time_json(p.last)},
                        {"reason", p.reason}};
            }
        },
        e.payload);
}

void data_from(ledger_event& e, const json& d) {
    if (auto it = d.find("schedule"); it != d.end()) {
        e.payload = schedule_from(*it);
    } else if (auto rt = d.find("run"); rt != d.end()) {
        run_change c{run_from(*rt), {}, std::nullopt};
        for (const auto& x : d.at("receipts")) {
            c.receipts.push_back(receipt_from(x));
        }
        if (auto st = d.find("schedule_after"); st != d.end()) {
            c.schedule_after = schedule_from(*st);
        }
        e.payload = std::move(c);
    } else if (auto dt = d.find("dead_letter"); dt != d.end()) {
        e.payload = dead_letter_from(*dt);
    } else if (d.contains("count")) {
        reader r{d, "summary"};
        e.payload = skipped_summary{r.i64("count"), r.time("first"), r.time("last"), r.str("reason")};
    } else {
        e.payload = std::monostate{};
    }
}

/// Runs a decoder, turning a malformed record into errc::storage instead of an exception.
template <class F>
auto guarded(std::string_view what, F&& f) -> result<decltype(f())> {
    try {
        return f();
    } catch (const std::exception& ex) {
        return fail(errc::storage, std::string(what) + " is corrupt: " + ex.what());
    }
}

}  // namespace

std::string_view to_string(event_kind k) noexcept { return event_names[static_cast<std::size_t>(k)]; }

std::optional<event_kind> parse_event_kind(std::string_view s) noexcept {
    for (std::size_t i = 0; i < event_names.size(); ++i) {
        if (event_names[i] == s) {
            return static_cast<event_kind>(i);
        }
    }
    return std::nullopt;
}

std::string encode_schedule_record(const schedule& s) { return schedule_json(s).dump(); }
result<schedule> decode_schedule_record(std::string_view j) {
    return guarded("schedule record", [&] { return schedule_from(json::parse(j)); });
}
std::string encode_run_record(const run& r) { return run_json(r).dump(); }
result<run> decode_run_record(std::string_view j) {
    return guarded("run record", [&] { return run_from(json::parse(j)); });
}
std::string encode_receipt_record(const receipt& r) { return receipt_json(r).dump(); }
result<receipt> decode_receipt_record(std::string_view j) {
    return guarded("receipt record", [&] { return receipt_from(json::parse(j)); });
}
std::string encode_dead_letter_record(const dead_letter& d) { return dead_letter_json(d).dump(); }
result<dead_letter> decode_dead_letter_record(std::string_view j) {
    return guarded("dead letter record", [&] { return dead_letter_from(json::parse(j)); });
}

std::string encode_event_data(const ledger_event& e) { return data_json(e).dump(); }

result<ledger_event> decode_event_data(ledger_event header, std::string_view data) {
    return guarded("ledger event", [&] {
        data_from(header, json::parse(data));
        return header;
    });
}

std::string encode_event(const ledger_event& e) {
    json j = {{"seq", e.seq}, {"at", time_json(e.at)}, {"kind", to_string(e.kind)}, {"schedule_id", e.schedule}};
    if (e.run) {
        j["run_id"] = *e.run;
    }
    if (e.occurrence_key) {
        j["occurrence_key"] = *e.occurrence_key;
    }
    if (e.attempt) {
        j["attempt"] = *e.attempt;
    }
    j["data"] = data_json(e);
    return j.dump();
}

result<ledger_event> decode_event(std::string_view text) {
    return guarded("ledger event", [&] {
        const json j = json::parse(text);
        reader r{j, "ledger event"};
        ledger_event e;
        e.seq = r.i64("seq");
        e.at = r.time("at");
        auto k = parse_event_kind(r.str("kind"));
        if (!k) {
            r.corrupt("kind");
        }
        e.kind = *k;
        e.schedule = r.str("schedule_id");
        e.run = r.opt_str("run_id");
        e.occurrence_key = r.opt_str("occurrence_key");
        e.attempt = r.opt_i64("attempt");
        data_from(e, r.at("data"));
        return e;
    });
}

}  // namespace wakeplane
