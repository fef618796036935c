// Lossless JSON of stored records and ledger events.
#include <wakeplane/ledger.hpp>

#include <array>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace wakeplane {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 19> event_names = {
    "schedule_created", "schedule_updated", "schedule_paused", "schedule_resumed", "schedule_deleted",
    "schedule_planned", "occurrence_materialized", "occurrence_skipped", "occurrences_skipped_summary",
    "occurrence_coalesced", "run_triggered", "run_claimed", "run_started", "lease_renewed", "run_finished",
    "retry_scheduled", "run_requeued", "dead_lettered", "lease_recovered"};


/// Writes JSON straight into a string: stores encode a record or an event for every write, so
/// this skips building a DOM (what nlohmann's dump would need) and allocates once per record.
class json_writer {
public:
    json_writer() { out_.reserve(512); }

    json_writer& open() {
        comma();
        out_ += '{';
        first_ = true;
        return *this;
    }
    json_writer& close() {
        out_ += '}';
        first_ = false;
        return *this;
    }
    json_writer& open_array() {
        comma();
        out_ += '[';
        first_ = true;
        return *this;
    }
    json_writer& close_array() {
        out_ += ']';
        first_ = false;
        return *this;
    }
    json_writer& key(std::string_view k) {
        comma();
        quoted(k);
        out_ += ':';
        first_ = true;  // the value follows without a comma
        return *this;
    }
    json_writer& str(std::string_view v) {
        comma();
        quoted(v);
        return *this;
    }
    json_writer& i64(std::int64_t v) {
        comma();
        out_ += std::to_string(v);
        return *this;
    }
    json_writer& boolean(bool v) {
        comma();
        out_ += v ? "true" : "false";
        return *this;
    }
    json_writer& null() {
        comma();
        out_ += "null";
        return *this;
    }
    /// Inserts already-encoded JSON.
    json_writer& raw(std::string_view v) {
        comma();
        out_ += v;
        return *this;
    }
    json_writer& time(time_point t) { return str(format_rfc3339(t)); }
    json_writer& time(const std::optional<time_point>& t) { return t ? time(*t) : null(); }
    json_writer& opt_str(const std::optional<std::string>& v) { return v ? str(std::string_view{*v}) : null(); }
    json_writer& opt_i64(const std::optional<std::int64_t>& v) { return v ? i64(*v) : null(); }
    json_writer& strings(const std::vector<std::string>& v) {
        open_array();
        for (const auto& x : v) {
            str(x);
        }
        return close_array();
    }
    json_writer& string_map(const std::map<std::string, std::string>& m) {
        open();
        for (const auto& [k, v] : m) {
            key(k).str(v);
        }
        return close();
    }

    [[nodiscard]] std::string take() { return std::move(out_); }

private:
    void comma() {
        if (!first_) {
            out_ += ',';
        }
        first_ = false;
    }

    /// A JSON string: quotes, backslashes and control characters escaped, valid UTF-8 kept as
    /// it is, and each byte of an invalid sequence replaced by U+FFFD, so any output a program
    /// printed becomes a record that reads back (as the original's JSON encoder does).
    void quoted(std::string_view v) {
        out_ += '"';
        for (std::size_t i = 0; i < v.size();) {
            const auto c = static_cast<unsigned char>(v[i]);
            if (c >= 0x80) {
                const std::size_t n = utf8_length(v.substr(i));
                if (n == 0) {
                    out_ += "\xEF\xBF\xBD";
                    ++i;
                } else {
                    out_.append(v.substr(i, n));
                    i += n;
                }
                continue;
            }
            switch (c) {
            case '"': out_ += "\\\""; break;
            case '\\': out_ += "\\\\"; break;
            case '\n': out_ += "\\n"; break;
            case '\r': out_ += "\\r"; break;
            case '\t': out_ += "\\t"; break;
            default:
                if (c < 0x20) {
                    static constexpr char hex[] = "0123456789abcdef";
                    out_ += "\\u00";
                    out_ += hex[(c >> 4) & 0xF];
                    out_ += hex[c & 0xF];
                } else {
                    out_ += static_cast<char>(c);
                }
            }
            ++i;
        }
        out_ += '"';
    }

    /// The length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629: no overlong
    /// forms, no surrogates, nothing above U+10FFFF), or 0 when it is not one.
    static std::size_t utf8_length(std::string_view s) noexcept {
        const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
        const auto cont = [&](std::size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
        const unsigned char c = b(0);
        if (c >= 0xC2 && c <= 0xDF) {
            return cont(1) ? 2 : 0;
        }
        if (c >= 0xE0 && c <= 0xEF) {
            if (!cont(1) || !cont(2) || (c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) > 0x9F)) {
                return 0;
            }
            return 3;
        }
        if (c >= 0xF0 && c <= 0xF4) {
            if (!cont(1) || !cont(2) || !cont(3) || (c == 0xF0 && b(1) < 0x90) || (c == 0xF4 && b(1) > 0x8F)) {
                return 0;
            }
            return 4;
        }
        return 0;
    }

    std::string out_;
    bool first_ = true;
};

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

void write_schedule(json_writer& w, const schedule& s) {
    w.open();
    w.key("id").str(s.id).key("name").str(s.name).key("enabled").boolean(s.enabled).key("timezone").str(s.timezone);
    w.key("schedule").open();
    w.key("kind").str(s.spec.kind).key("expr").str(s.spec.expr).key("every_seconds").i64(s.spec.every_seconds);
    w.key("anchor_at").time(s.spec.anchor_at).key("at").time(s.spec.at);
    w.key("dst_gap").str(to_string(s.spec.dst.gap)).key("dst_repeated").str(to_string(s.spec.dst.repeated));
    w.close();
    w.key("target").open();
    w.key("kind").str(s.target.kind).key("method").str(s.target.method).key("url").str(s.target.url);
    w.key("headers").string_map(s.target.headers).key("body_json").str(s.target.body_json);
    w.key("command").str(s.target.command).key("args").strings(s.target.args);
    w.key("workflow_id").str(s.target.workflow_id).key("input_json").str(s.target.input_json);
    w.close();
    w.key("policy").open();
    w.key("overlap").str(s.policy.overlap).key("misfire").str(s.policy.misfire);
    w.key("timeout_seconds").i64(s.policy.timeout_seconds).key("max_concurrency").i64(s.policy.max_concurrency);
    w.key("misfire_grace_seconds").i64(s.policy.misfire_grace_seconds);
    w.key("catch_up_limit").i64(s.policy.catch_up_limit).key("jitter_seconds").i64(s.policy.jitter_seconds);
    w.close();
    w.key("retry").open();
    w.key("max_attempts").i64(s.retry.max_attempts).key("strategy").str(s.retry.strategy);
    w.key("initial_delay_seconds").i64(s.retry.initial_delay_seconds);
    w.key("max_delay_seconds").i64(s.retry.max_delay_seconds);
    w.close();
    w.key("start_at").time(s.start_at).key("end_at").time(s.end_at).key("paused_at").time(s.paused_at);
    w.key("next_run_at").time(s.next_run_at).key("last_run_at").time(s.last_run_at);
    w.key("created_at").time(s.created_at).key("updated_at").time(s.updated_at).key("deleted").boolean(s.deleted);
    w.close();
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

void write_run(json_writer& w, const run& x) {
    w.open();
    w.key("id").str(x.id).key("schedule_id").str(x.schedule).key("occurrence_key").str(x.occurrence_key);
    w.key("nominal_time").time(x.nominal_time).key("due_time").time(x.due_time);
    w.key("status").str(to_string(x.status)).key("attempt").i64(x.attempt);
    w.key("claimed_by_worker_id").opt_str(x.claimed_by_worker_id).key("claim_expires_at").time(x.claim_expires_at);
    w.key("started_at").time(x.started_at).key("finished_at").time(x.finished_at);
    w.key("http_status_code").opt_i64(x.http_status_code).key("exit_code").opt_i64(x.exit_code);
    w.key("result_json").opt_str(x.result_json).key("error_text").opt_str(x.error_text);
    w.key("retry_available_at").time(x.retry_available_at).key("trigger_reason").opt_str(x.trigger_reason);
    w.key("fencing_token").i64(x.fencing_token);
    w.key("created_at").time(x.created_at).key("updated_at").time(x.updated_at);
    w.key("requeued_attempts").i64(x.requeued_attempts);
    w.close();
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

void write_receipt(json_writer& w, const receipt& x) {
    w.open();
    w.key("id").str(x.id).key("run_id").str(x.run).key("receipt_kind").str(x.receipt_kind);
    w.key("content_type").str(x.content_type).key("body").str(x.body).key("truncated").boolean(x.truncated);
    w.key("created_at").time(x.created_at);
    w.close();
}

receipt receipt_from(const json& j) {
    reader r{j, "receipt"};
    return receipt{r.str("id"),   r.str("run_id"),         r.str("receipt_kind"), r.str("content_type"),
                   r.str("body"), r.boolean("truncated"), r.time("created_at")};
}

void write_dead_letter(json_writer& w, const dead_letter& d) {
    w.open();
    w.key("id").str(d.id).key("run_id").str(d.run).key("schedule_id").str(d.schedule);
    w.key("occurrence_key").str(d.occurrence_key).key("reason").str(d.reason);
    w.key("payload_json").opt_str(d.payload_json).key("created_at").time(d.created_at);
    w.close();
}

dead_letter dead_letter_from(const json& j) {
    reader r{j, "dead letter"};
    return dead_letter{r.str("id"),     r.str("run_id"),          r.str("schedule_id"), r.str("occurrence_key"),
                       r.str("reason"), r.opt_str("payload_json"), r.time("created_at")};
}

void write_data(json_writer& w, const ledger_event& e) {
    std::visit(
        [&w](const auto& p) {
            using P = std::decay_t<decltype(p)>;
            w.open();
            if constexpr (std::is_same_v<P, schedule>) {
                w.key("schedule");
                write_schedule(w, p);
            } else if constexpr (std::is_same_v<P, run_change>) {
                w.key("run");
                write_run(w, p.row);
                w.key("receipts").open_array();
                for (const auto& rc : p.receipts) {
                    write_receipt(w, rc);
                }
                w.close_array();
                if (p.schedule_after) {
                    w.key("schedule_after");
                    write_schedule(w, *p.schedule_after);
                }
            } else if constexpr (std::is_same_v<P, dead_letter>) {
                w.key("dead_letter");
                write_dead_letter(w, p);
            } else if constexpr (std::is_same_v<P, skipped_summary>) {
                w.key("count").i64(p.count).key("first").time(p.first).key("last").time(p.last);
                w.key("reason").str(p.reason);
            }
            w.close();
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

std::string encode_schedule_record(const schedule& s) {
    json_writer w;
    write_schedule(w, s);
    return w.take();
}
result<schedule> decode_schedule_record(std::string_view j) {
    return guarded("schedule record", [&] { return schedule_from(json::parse(j)); });
}
std::string encode_run_record(const run& r) {
    json_writer w;
    write_run(w, r);
    return w.take();
}
result<run> decode_run_record(std::string_view j) {
    return guarded("run record", [&] { return run_from(json::parse(j)); });
}
std::string encode_receipt_record(const receipt& r) {
    json_writer w;
    write_receipt(w, r);
    return w.take();
}
result<receipt> decode_receipt_record(std::string_view j) {
    return guarded("receipt record", [&] { return receipt_from(json::parse(j)); });
}
std::string encode_dead_letter_record(const dead_letter& d) {
    json_writer w;
    write_dead_letter(w, d);
    return w.take();
}
result<dead_letter> decode_dead_letter_record(std::string_view j) {
    return guarded("dead letter record", [&] { return dead_letter_from(json::parse(j)); });
}

std::string encode_event_data(const ledger_event& e) {
    json_writer w;
    write_data(w, e);
    return w.take();
}

result<ledger_event> decode_event_data(ledger_event header, std::string_view data) {
    return guarded("ledger event", [&] {
        data_from(header, json::parse(data));
        return header;
    });
}

std::string encode_event(const ledger_event& e) {
    json_writer w;
    w.open();
    w.key("seq").i64(e.seq).key("at").time(e.at).key("kind").str(to_string(e.kind)).key("schedule_id").str(e.schedule);
    if (e.run) {
        w.key("run_id").str(*e.run);
    }
    if (e.occurrence_key) {
        w.key("occurrence_key").str(*e.occurrence_key);
    }
    if (e.attempt) {
        w.key("attempt").i64(*e.attempt);
    }
    w.key("data");
    write_data(w, e);
    w.close();
    return w.take();
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
