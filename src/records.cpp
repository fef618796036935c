// Lossless JSON of stored records and ledger events.
#include <wakeplane/ledger.hpp>

#include <array>
#include <charconv>
#include <map>
#include <string>
#include <vector>

#include "json_scan.hpp"

namespace wakeplane {
namespace {

constexpr std::array<std::string_view, 20> event_names = {
    "schedule_created", "schedule_updated", "schedule_paused", "schedule_resumed", "schedule_deleted",
    "schedule_planned", "occurrence_materialized", "occurrence_skipped", "occurrences_skipped_summary",
    "occurrence_coalesced", "run_triggered", "run_claimed", "run_started", "lease_renewed", "run_finished",
    "retry_scheduled", "run_requeued", "dead_lettered", "lease_recovered", "claim_released"};


/// A member name written as it is: a string literal of printable ASCII without quotes or
/// backslashes, checked when the program is compiled, so that the writer copies it instead of
/// scanning it for what to escape (a run record has 21 of them).
class json_name {
public:
    template <std::size_t N>
    consteval json_name(const char (&text)[N]) : text_(text, N - 1) {  // NOLINT: implicit by design
        for (char c : text_) {
            if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
                throw "a JSON member name written unescaped must be printable ASCII without quotes or backslashes";
            }
        }
    }
    [[nodiscard]] constexpr std::string_view text() const noexcept { return text_; }

private:
    std::string_view text_;
};

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
    json_writer& key(json_name k) {
        comma();
        out_ += '"';
        out_ += k.text();
        out_ += "\":";
        first_ = true;  // the value follows without a comma
        return *this;
    }
    /// A member name that is data (a header name, say): escaped like any string.
    json_writer& data_key(std::string_view k) {
        comma();
        quoted(k);
        out_ += ':';
        first_ = true;
        return *this;
    }
    json_writer& str(std::string_view v) {
        comma();
        quoted(v);
        return *this;
    }
    json_writer& i64(std::int64_t v) {
        comma();
        std::array<char, 24> digits;  // an int64 has at most 20 characters
        const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), v).ptr;
        out_.append(digits.data(), end);
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
    json_writer& time(time_point t) {
        comma();
        out_ += '"';
        append_rfc3339(out_, t);  // nothing to escape in a timestamp
        out_ += '"';
        return *this;
    }
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
            data_key(k).str(v);
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
        std::size_t plain = 0;  // start of the run of bytes copied as they are, appended in one go
        const auto flush = [&](std::size_t i) { out_.append(v.data() + plain, i - plain); };
        for (std::size_t i = 0; i < v.size();) {
            const auto c = static_cast<unsigned char>(v[i]);
            if (c >= 0x80) {
                const std::size_t n = detail::utf8_sequence_length(v, i);
                if (n == 0) {
                    flush(i);
                    out_ += "\xEF\xBF\xBD";
                    plain = ++i;
                } else {
                    i += n;
                }
                continue;
            }
            if (c >= 0x20 && c != '"' && c != '\\') {
                ++i;
                continue;
            }
            flush(i);
            switch (c) {
            case '"': out_ += "\\\""; break;
            case '\\': out_ += "\\\\"; break;
            case '\n': out_ += "\\n"; break;
            case '\r': out_ += "\\r"; break;
            case '\t': out_ += "\\t"; break;
            default: {
                static constexpr char hex[] = "0123456789abcdef";
                out_ += "\\u00";
                out_ += hex[(c >> 4) & 0xF];
                out_ += hex[c & 0xF];
            }
            }
            plain = ++i;
        }
        flush(v.size());
        out_ += '"';
    }

    std::string out_;
    bool first_ = true;
};

// ---- reading ----------------------------------------------------------------------------------
//
// Reading records is strict: a record that does not decode is corruption, reported, never
// guessed. Each record type is a table of its members; members may come in any order, unknown
// members are skipped (a newer writer may add some), and a required member that is missing or
// of the wrong type is corruption that names it.

using detail::json_scan;
using detail::record_corrupt;

template <class T>
struct member {
    std::string_view name;
    void (*read)(json_scan&, T&);
    bool required = true;
};

/// Reads the object at the cursor into `out` through its member table.
template <class T, std::size_t N>
void read_members(json_scan& in, T& out, const std::array<member<T>, N>& table, std::string_view what) {
    static_assert(N <= 64, "one bit per member");
    std::uint64_t seen = 0;
    std::size_t next = 0;  // records are written in table order: look where the last one ended first
    const auto guess = [&] { return table[next].name; };
    in.object(guess, [&](std::string_view key) {
        std::size_t k = next;
        if (key.data() != table[k].name.data()) {  // not the guess: look it up by name
            std::size_t tried = 0;
            while (tried < N && table[k].name != key) {
                k = k + 1 == N ? 0 : k + 1;
                ++tried;
            }
            if (tried == N) {
                in.skip();
                return;
            }
        }
        try {
            table[k].read(in, out);
        } catch (const record_corrupt& e) {
            throw record_corrupt(std::string(what) + "." + std::string(table[k].name) + ": " + e.what());
        }
        seen |= std::uint64_t{1} << k;
        next = k + 1 == N ? 0 : k + 1;
    });
    for (std::size_t k = 0; k < N; ++k) {
        if (table[k].required && (seen & (std::uint64_t{1} << k)) == 0) {
            throw record_corrupt(std::string(what) + "." + std::string(table[k].name) + " is missing");
        }
    }
}

time_point read_time(json_scan& in) {
    auto t = parse_rfc3339(in.string_view());
    if (!t) {
        in.fail(t.error().message);
    }
    return *t;
}
std::optional<time_point> read_opt_time(json_scan& in) {
    if (in.null()) {
        return std::nullopt;
    }
    return read_time(in);
}
std::optional<std::string> read_opt_string(json_scan& in) {
    if (in.null()) {
        return std::nullopt;
    }
    return in.string();
}
std::optional<std::int64_t> read_opt_i64(json_scan& in) {
    if (in.null()) {
        return std::nullopt;
    }
    return in.i64();
}

// Members are spelled as captureless lambdas so that each table is data, not code paths.
#define WP_MEMBER(T, name, body) member<T>{name, [](json_scan& in, T& x) { body; }}
#define WP_OPTIONAL(T, name, body) member<T>{name, [](json_scan& in, T& x) { body; }, false}

const auto spec_members = std::to_array<member<schedule_spec>>({
    WP_MEMBER(schedule_spec, "kind", x.kind = in.string()),
    WP_MEMBER(schedule_spec, "expr", x.expr = in.string()),
    WP_MEMBER(schedule_spec, "every_seconds", x.every_seconds = in.i64()),
    WP_OPTIONAL(schedule_spec, "anchor_at", x.anchor_at = read_opt_time(in)),
    WP_OPTIONAL(schedule_spec, "at", x.at = read_opt_time(in)),
    WP_MEMBER(schedule_spec, "dst_gap",
              auto v = parse_dst_gap(in.string_view()); if (!v) in.fail("unknown value"); x.dst.gap = *v),
    WP_MEMBER(schedule_spec, "dst_repeated",
              auto v = parse_dst_repeated(in.string_view()); if (!v) in.fail("unknown value"); x.dst.repeated = *v),
});

const auto target_members = std::to_array<member<target_spec>>({
    WP_MEMBER(target_spec, "kind", x.kind = in.string()),
    WP_MEMBER(target_spec, "method", x.method = in.string()),
    WP_MEMBER(target_spec, "url", x.url = in.string()),
    WP_MEMBER(target_spec, "headers", x.headers.clear(); in.object([&](std::string_view k) {
        std::string name(k);
        x.headers.insert_or_assign(std::move(name), in.string());
    })),
    WP_MEMBER(target_spec, "body_json", x.body_json = in.string()),
    WP_MEMBER(target_spec, "command", x.command = in.string()),
    WP_MEMBER(target_spec, "args", x.args.clear(); in.array([&] { x.args.push_back(in.string()); })),
    WP_MEMBER(target_spec, "workflow_id", x.workflow_id = in.string()),
    WP_MEMBER(target_spec, "input_json", x.input_json = in.string()),
});

const auto policy_members = std::to_array<member<policy_spec>>({
    WP_MEMBER(policy_spec, "overlap", x.overlap = in.string()),
    WP_MEMBER(policy_spec, "misfire", x.misfire = in.string()),
    WP_MEMBER(policy_spec, "timeout_seconds", x.timeout_seconds = in.i64()),
    WP_MEMBER(policy_spec, "max_concurrency", x.max_concurrency = in.i64()),
    WP_MEMBER(policy_spec, "misfire_grace_seconds", x.misfire_grace_seconds = in.i64()),
    WP_MEMBER(policy_spec, "catch_up_limit", x.catch_up_limit = in.i64()),
    WP_MEMBER(policy_spec, "jitter_seconds", x.jitter_seconds = in.i64()),
});

const auto retry_members = std::to_array<member<retry_spec>>({
    WP_MEMBER(retry_spec, "max_attempts", x.max_attempts = in.i64()),
    WP_MEMBER(retry_spec, "strategy", x.strategy = in.string()),
    WP_MEMBER(retry_spec, "initial_delay_seconds", x.initial_delay_seconds = in.i64()),
    WP_MEMBER(retry_spec, "max_delay_seconds", x.max_delay_seconds = in.i64()),
});

const auto schedule_members = std::to_array<member<schedule>>({
    WP_MEMBER(schedule, "id", x.id = in.string()),
    WP_MEMBER(schedule, "name", x.name = in.string()),
    WP_MEMBER(schedule, "enabled", x.enabled = in.boolean()),
    WP_MEMBER(schedule, "timezone", x.timezone = in.string()),
    WP_MEMBER(schedule, "schedule", read_members(in, x.spec, spec_members, "schedule")),
    WP_MEMBER(schedule, "target", read_members(in, x.target, target_members, "target")),
    WP_MEMBER(schedule, "policy", read_members(in, x.policy, policy_members, "policy")),
    WP_MEMBER(schedule, "retry", read_members(in, x.retry, retry_members, "retry")),
    WP_OPTIONAL(schedule, "start_at", x.start_at = read_opt_time(in)),
    WP_OPTIONAL(schedule, "end_at", x.end_at = read_opt_time(in)),
    WP_OPTIONAL(schedule, "paused_at", x.paused_at = read_opt_time(in)),
    WP_OPTIONAL(schedule, "next_run_at", x.next_run_at = read_opt_time(in)),
    WP_OPTIONAL(schedule, "last_run_at", x.last_run_at = read_opt_time(in)),
    WP_MEMBER(schedule, "created_at", x.created_at = read_time(in)),
    WP_MEMBER(schedule, "updated_at", x.updated_at = read_time(in)),
    WP_MEMBER(schedule, "deleted", x.deleted = in.boolean()),
});

const auto run_members = std::to_array<member<run>>({
    WP_MEMBER(run, "id", x.id = in.string()),
    WP_MEMBER(run, "schedule_id", x.schedule = in.string()),
    WP_MEMBER(run, "occurrence_key", x.occurrence_key = in.string()),
    WP_MEMBER(run, "nominal_time", x.nominal_time = read_time(in)),
    WP_MEMBER(run, "due_time", x.due_time = read_time(in)),
    WP_MEMBER(run, "status",
              auto v = parse_run_status(in.string_view()); if (!v) in.fail("unknown status"); x.status = *v),
    WP_MEMBER(run, "attempt", x.attempt = in.i64()),
    WP_OPTIONAL(run, "claimed_by_worker_id", x.claimed_by_worker_id = read_opt_string(in)),
    WP_OPTIONAL(run, "claim_expires_at", x.claim_expires_at = read_opt_time(in)),
    WP_OPTIONAL(run, "started_at", x.started_at = read_opt_time(in)),
    WP_OPTIONAL(run, "finished_at", x.finished_at = read_opt_time(in)),
    WP_OPTIONAL(run, "http_status_code", x.http_status_code = read_opt_i64(in)),
    WP_OPTIONAL(run, "exit_code", x.exit_code = read_opt_i64(in)),
    WP_OPTIONAL(run, "result_json", x.result_json = read_opt_string(in)),
    WP_OPTIONAL(run, "error_text", x.error_text = read_opt_string(in)),
    WP_OPTIONAL(run, "retry_available_at", x.retry_available_at = read_opt_time(in)),
    WP_OPTIONAL(run, "trigger_reason", x.trigger_reason = read_opt_string(in)),
    WP_MEMBER(run, "fencing_token", x.fencing_token = in.i64()),
    WP_MEMBER(run, "created_at", x.created_at = read_time(in)),
    WP_MEMBER(run, "updated_at", x.updated_at = read_time(in)),
    WP_MEMBER(run, "requeued_attempts", x.requeued_attempts = in.i64()),
});

const auto receipt_members = std::to_array<member<receipt>>({
    WP_MEMBER(receipt, "id", x.id = in.string()),
    WP_MEMBER(receipt, "run_id", x.run = in.string()),
    WP_MEMBER(receipt, "receipt_kind", x.receipt_kind = in.string()),
    WP_MEMBER(receipt, "content_type", x.content_type = in.string()),
    WP_MEMBER(receipt, "body", x.body = in.string()),
    WP_MEMBER(receipt, "truncated", x.truncated = in.boolean()),
    WP_MEMBER(receipt, "created_at", x.created_at = read_time(in)),
});

const auto dead_letter_members = std::to_array<member<dead_letter>>({
    WP_MEMBER(dead_letter, "id", x.id = in.string()),
    WP_MEMBER(dead_letter, "run_id", x.run = in.string()),
    WP_MEMBER(dead_letter, "schedule_id", x.schedule = in.string()),
    WP_MEMBER(dead_letter, "occurrence_key", x.occurrence_key = in.string()),
    WP_MEMBER(dead_letter, "reason", x.reason = in.string()),
    WP_OPTIONAL(dead_letter, "payload_json", x.payload_json = read_opt_string(in)),
    WP_MEMBER(dead_letter, "created_at", x.created_at = read_time(in)),
});

/// The row of a fresh materialization of `e` (is_fresh_materialization): everything but the two
/// instants follows from the event's header. The one definition of the compact form, used to
/// decide whether a row may be written compactly and to build it back.
run fresh_pending_run(const ledger_event& e, time_point nominal, time_point due) {
    run r;
    r.id = e.run.value_or(std::string{});
    r.schedule = e.schedule;
    r.occurrence_key = e.occurrence_key.value_or(std::string{});
    r.nominal_time = nominal;
    r.due_time = due;
    r.status = run_status::pending;
    r.attempt = e.attempt.value_or(0);
    r.created_at = e.at;
    r.updated_at = e.at;
    return r;
}

/// The nominal time that the occurrence key of `e` names when it is `<schedule_id>:<instant>`, as
/// occurrence_key() makes a planned occurrence's key; nullopt for any other key.
std::optional<time_point> nominal_in_key(const ledger_event& e) {
    if (!e.occurrence_key) {
        return std::nullopt;
    }
    const std::string_view key = *e.occurrence_key;
    if (key.size() <= e.schedule.size() || !key.starts_with(e.schedule) || key[e.schedule.size()] != ':') {
        return std::nullopt;
    }
    auto t = parse_rfc3339(key.substr(e.schedule.size() + 1));
    return t ? std::optional<time_point>{*t} : std::nullopt;
}

/// The compact row of a fresh materialization (`pending_run`): what its event's header does not
/// say. Since SQLite schema 9 and RocksDB layout 6 each member is left out when it says nothing
/// more: `nominal_time` when the occurrence key names that instant (every planned occurrence's
/// does), `due_time` when it is the nominal time (no jitter). Most planner events then keep
/// `"pending_run":{}`.
struct pending_times {
    std::optional<time_point> nominal;
    std::optional<time_point> due;
};

const auto pending_run_members = std::to_array<member<pending_times>>({
    WP_OPTIONAL(pending_times, "nominal_time", x.nominal = read_time(in)),
    WP_OPTIONAL(pending_times, "due_time", x.due = read_time(in)),
});

/// The members of an event's `data`, gathered before the payload's kind is known: which
/// members are present decides it (a run change, a schedule, a dead letter or a summary).
struct data_members {
    std::optional<schedule> sched;
    std::optional<run> row;
    std::vector<receipt> receipts;
    std::optional<schedule> schedule_after;
    std::optional<dead_letter> letter;
    std::optional<std::int64_t> count;
    std::optional<time_point> first, last;
    std::optional<std::string> reason;
    std::optional<pending_times> pending;
    bool has_next_run_at = false;  ///< `next_run_at` present (null is a value: no occurrence left)
    std::optional<time_point> next_run_at;
    std::optional<time_point> last_run_at;
};

const auto event_data_members = std::to_array<member<data_members>>({
    WP_OPTIONAL(data_members, "schedule", read_members(in, x.sched.emplace(), schedule_members, "schedule")),
    WP_OPTIONAL(data_members, "run", read_members(in, x.row.emplace(), run_members, "run")),
    WP_OPTIONAL(data_members, "pending_run", read_members(in, x.pending.emplace(), pending_run_members, "pending_run")),
    WP_OPTIONAL(data_members, "receipts",
                in.array([&] { read_members(in, x.receipts.emplace_back(), receipt_members, "receipt"); })),
    WP_OPTIONAL(data_members, "schedule_after",
                read_members(in, x.schedule_after.emplace(), schedule_members, "schedule_after")),
    WP_OPTIONAL(data_members, "dead_letter",
                read_members(in, x.letter.emplace(), dead_letter_members, "dead_letter")),
    WP_OPTIONAL(data_members, "count", x.count = in.i64()),
    WP_OPTIONAL(data_members, "first", x.first = read_time(in)),
    WP_OPTIONAL(data_members, "last", x.last = read_time(in)),
    WP_OPTIONAL(data_members, "reason", x.reason = in.string()),
    WP_OPTIONAL(data_members, "next_run_at", x.has_next_run_at = true; x.next_run_at = read_opt_time(in)),
    WP_OPTIONAL(data_members, "last_run_at", x.last_run_at = read_time(in)),
});

/// Reads an event's `data` object into its payload.
void read_event_data(json_scan& in, ledger_event& e) {
    data_members d;
    read_members(in, d, event_data_members, "data");
    if (d.sched) {
        e.payload = std::move(*d.sched);
    } else if (d.row || d.pending) {
        if (d.pending) {
            if (d.row || !d.receipts.empty()) {
                throw record_corrupt("data: pending_run comes alone, without a run or receipts");
            }
            if (e.kind != event_kind::occurrence_materialized || !e.run || !e.occurrence_key || !e.attempt ||
                e.schedule.empty()) {
                throw record_corrupt("data: pending_run needs an occurrence_materialized event whose "
                                     "schedule_id, run_id, occurrence_key and attempt come before its data");
            }
            const auto nominal = d.pending->nominal ? d.pending->nominal : nominal_in_key(e);
            if (!nominal) {
                throw record_corrupt("data: pending_run has no nominal_time, and its occurrence key names none");
            }
            d.row = fresh_pending_run(e, *nominal, d.pending->due.value_or(*nominal));
        }
        e.payload = run_change{std::move(*d.row), std::move(d.receipts), std::move(d.schedule_after),
                               d.has_next_run_at ? std::optional<next_run_change>{next_run_change{d.next_run_at}}
                                                 : std::nullopt,
                               d.last_run_at};
    } else if (d.letter) {
        e.payload = std::move(*d.letter);
    } else if (d.count) {
        if (!d.first || !d.last || !d.reason) {
            throw record_corrupt("data: a skipped summary needs first, last and reason");
        }
        e.payload = skipped_summary{*d.count, *d.first, *d.last, std::move(*d.reason)};
    } else if (d.has_next_run_at) {
        e.payload = next_run_change{d.next_run_at};
    } else {
        e.payload = std::monostate{};
    }
}

const auto event_members = std::to_array<member<ledger_event>>({
    WP_MEMBER(ledger_event, "seq", x.seq = in.i64()),
    WP_MEMBER(ledger_event, "at", x.at = read_time(in)),
    WP_MEMBER(ledger_event, "kind",
              auto v = parse_event_kind(in.string_view()); if (!v) in.fail("unknown kind"); x.kind = *v),
    WP_MEMBER(ledger_event, "schedule_id", x.schedule = in.string()),
    WP_OPTIONAL(ledger_event, "run_id", x.run = read_opt_string(in)),
    WP_OPTIONAL(ledger_event, "occurrence_key", x.occurrence_key = read_opt_string(in)),
    WP_OPTIONAL(ledger_event, "attempt", x.attempt = read_opt_i64(in)),
    WP_MEMBER(ledger_event, "data", read_event_data(in, x)),
});

#undef WP_MEMBER
#undef WP_OPTIONAL

/// Decodes one whole record text, turning corruption into errc::storage.
template <class T, class Read>
result<T> decode_text(std::string_view what, std::string_view text, Read&& read) {
    // Read in place and returned by its one name (so not moved): a schedule is about 800 bytes
    // to move, about a twentieth of its decoding.
    result<T> out{tl::in_place};
    try {
        json_scan in(text);
        read(in, *out);
        in.finish();
    } catch (const std::exception& ex) {
        out = fail(errc::storage, std::string(what) + " is corrupt: " + ex.what());
    }
    return out;
}

template <class T, std::size_t N>
result<T> decode_record(std::string_view what, std::string_view text, const std::array<member<T>, N>& table,
                        std::string_view name) {
    return decode_text<T>(what, text, [&](json_scan& in, T& out) { read_members(in, out, table, name); });
}

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

void write_receipt(json_writer& w, const receipt& x) {
    w.open();
    w.key("id").str(x.id).key("run_id").str(x.run).key("receipt_kind").str(x.receipt_kind);
    w.key("content_type").str(x.content_type).key("body").str(x.body).key("truncated").boolean(x.truncated);
    w.key("created_at").time(x.created_at);
    w.close();
}

void write_dead_letter(json_writer& w, const dead_letter& d) {
    w.open();
    w.key("id").str(d.id).key("run_id").str(d.run).key("schedule_id").str(d.schedule);
    w.key("occurrence_key").str(d.occurrence_key).key("reason").str(d.reason);
    w.key("payload_json").opt_str(d.payload_json).key("created_at").time(d.created_at);
    w.close();
}

/// Which form write_data() writes: /v1/ledger's (whole rows) or the stores' (a fresh
/// materialization's row compact).
enum class data_form { api, stored };

/// The event's payload; `encoded_row`, when given, is encode_run_record() of a run_change's row.
void write_data(json_writer& w, const ledger_event& e, data_form form, const std::string* encoded_row = nullptr) {
    std::visit(
        [&](const auto& p) {
            using P = std::decay_t<decltype(p)>;
            w.open();
            if constexpr (std::is_same_v<P, schedule>) {
                w.key("schedule");
                write_schedule(w, p);
            } else if constexpr (std::is_same_v<P, run_change>) {
                if (form == data_form::stored && is_fresh_materialization(e)) {
                    w.key("pending_run").open();
                    if (nominal_in_key(e) != p.row.nominal_time) {
                        w.key("nominal_time").time(p.row.nominal_time);
                    }
                    if (p.row.due_time != p.row.nominal_time) {
                        w.key("due_time").time(p.row.due_time);
                    }
                    w.close();
                } else {
                    w.key("run");
                    if (encoded_row != nullptr) {
                        w.raw(*encoded_row);
                    } else {
                        write_run(w, p.row);
                    }
                    w.key("receipts").open_array();
                    for (const auto& rc : p.receipts) {
                        write_receipt(w, rc);
                    }
                    w.close_array();
                }
                if (p.schedule_after) {
                    w.key("schedule_after");
                    write_schedule(w, *p.schedule_after);
                }
                if (p.next_run) {
                    w.key("next_run_at").time(p.next_run->next_run_at);
                }
                if (p.last_run_at) {
                    w.key("last_run_at").time(*p.last_run_at);
                }
            } else if constexpr (std::is_same_v<P, dead_letter>) {
                w.key("dead_letter");
                write_dead_letter(w, p);
            } else if constexpr (std::is_same_v<P, skipped_summary>) {
                w.key("count").i64(p.count).key("first").time(p.first).key("last").time(p.last);
                w.key("reason").str(p.reason);
            } else if constexpr (std::is_same_v<P, next_run_change>) {
                w.key("next_run_at").time(p.next_run_at);
            }
            w.close();
        },
        e.payload);
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
    return decode_record("schedule record", j, schedule_members, "schedule");
}
std::string encode_run_record(const run& r) {
    json_writer w;
    write_run(w, r);
    return w.take();
}
result<run> decode_run_record(std::string_view j) {
    return decode_record("run record", j, run_members, "run");
}
std::string encode_receipt_record(const receipt& r) {
    json_writer w;
    write_receipt(w, r);
    return w.take();
}
result<receipt> decode_receipt_record(std::string_view j) {
    return decode_record("receipt record", j, receipt_members, "receipt");
}
std::string encode_dead_letter_record(const dead_letter& d) {
    json_writer w;
    write_dead_letter(w, d);
    return w.take();
}
result<dead_letter> decode_dead_letter_record(std::string_view j) {
    return decode_record("dead letter record", j, dead_letter_members, "dead_letter");
}

bool is_fresh_materialization(const ledger_event& e) {
    const auto* change = std::get_if<run_change>(&e.payload);
    if (e.kind != event_kind::occurrence_materialized || change == nullptr || !change->receipts.empty() ||
        change->schedule_after || change->last_run_at || !e.run || !e.occurrence_key || !e.attempt) {
        return false;
    }
    const run& r = change->row;
    // The cheap tests first: a row that is not pending, or not new, is told apart without
    // building the comparison row.
    return r.status == run_status::pending && r.created_at == e.at && r.updated_at == e.at &&
           r == fresh_pending_run(e, r.nominal_time, r.due_time);
}

std::string encode_event_data(const ledger_event& e) {
    json_writer w;
    write_data(w, e, data_form::api);
    return w.take();
}

std::string encode_stored_event_data(const ledger_event& e, const std::string* encoded_row) {
    json_writer w;
    write_data(w, e, data_form::stored, encoded_row);
    return w.take();
}

result<ledger_event> decode_event_data(ledger_event header, std::string_view data) {
    return decode_text<ledger_event>("ledger event", data, [&](json_scan& in, ledger_event& out) {
        out = std::move(header);
        read_event_data(in, out);
    });
}

std::string encode_event(const ledger_event& e, const std::string* encoded_row) {
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
    write_data(w, e, data_form::stored, encoded_row);
    w.close();
    return w.take();
}

result<ledger_event> decode_event(std::string_view text) {
    return decode_text<ledger_event>("ledger event", text, [](json_scan& in, ledger_event& out) {
        read_members(in, out, event_members, "event");
    });
}

}  // namespace wakeplane
