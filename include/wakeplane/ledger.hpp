// The append-only ledger: one event per state change; schedule and run rows are its projection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <wakeplane/model.hpp>
#include <wakeplane/time.hpp>

namespace wakeplane {

/// Every kind of state change. The spelling of to_string() is the `kind` of /v1/ledger items.
enum class event_kind {
    schedule_created,
    schedule_updated,
    schedule_paused,
    schedule_resumed,
    schedule_deleted,
    schedule_planned,          ///< the planner moved next_run_at
    occurrence_materialized,   ///< a pending run for a nominal occurrence
    occurrence_skipped,        ///< a skipped run row with its reason
    occurrences_skipped_summary,  ///< what exceeded catch_up_limit: count, first and last nominal time
    occurrence_coalesced,      ///< a waiting run superseded by a newer occurrence
    run_triggered,
    run_claimed,
    run_started,
    lease_renewed,
    run_finished,              ///< succeeded, failed, dead_lettered or cancelled, with receipts
    retry_scheduled,           ///< the next attempt's row
    run_requeued,              ///< a fresh attempt after a drain interrupted the previous one
    dead_lettered,
    lease_recovered,           ///< an expired lease put back to pending or failed
    claim_released,            ///< a claim given back unstarted (a drain): the run is pending again
};

[[nodiscard]] std::string_view to_string(event_kind k) noexcept;
[[nodiscard]] std::optional<event_kind> parse_event_kind(std::string_view s) noexcept;

/// Payload of occurrences_skipped_summary (DECISIONS 9): occurrences too old to be listed one by one.
struct skipped_summary {
    std::int64_t count = 0;
    time_point first{};
    time_point last{};
    std::string reason;
    friend bool operator==(const skipped_summary&, const skipped_summary&) = default;
};

/// Payload of schedule_planned: a planner pass moves next_run_at and nothing else, so the event
/// carries that field alone (a whole schedule was most of the bytes a pass wrote). nullopt: the
/// schedule has no occurrence left. Ledgers written before this payload existed carry the whole
/// schedule in schedule_planned; both forms decode and replay.
struct next_run_change {
    std::optional<time_point> next_run_at;
    friend bool operator==(const next_run_change&, const next_run_change&) = default;
};

/// A run row after the change, with the receipts written by the same change (run_finished).
/// The last run a planner pass writes for a schedule also carries the schedule's new
/// next_run_at (`next_run`), so a pass costs one event per occurrence, not one more per schedule.
/// A success that moved the schedule's last_run_at carries the new value (`last_run_at`) and
/// nothing else of the schedule. Ledgers written before that carry the whole schedule after
/// the change instead (`schedule_after`); they still decode and replay, nothing writes it now.
struct run_change {
    run row;
    std::vector<receipt> receipts{};
    std::optional<schedule> schedule_after{};
    std::optional<next_run_change> next_run{};
    std::optional<time_point> last_run_at{};
    friend bool operator==(const run_change&, const run_change&) = default;
};

/// One ledger entry. `payload` carries the full row after the change, so that replaying the
/// ledger from sequence 1 rebuilds the projection exactly: a schedule event carries the schedule,
/// a run event the run (and its receipts), dead_lettered the dead letter, schedule_planned only the
/// moved next_run_at.
struct ledger_event {
    std::int64_t seq = 0;      ///< gapless, from 1; assigned by the store at append
    time_point at{};
    event_kind kind = event_kind::schedule_created;
    schedule_id schedule;
    std::optional<run_id> run;
    std::optional<std::string> occurrence_key;
    std::optional<std::int64_t> attempt;
    std::variant<std::monostate, struct schedule, run_change, dead_letter, skipped_summary, next_run_change> payload;
    friend bool operator==(const ledger_event&, const ledger_event&) = default;
};

/// Lossless JSON of the stored records (every field, unlike the API's shapes): stores keep rows
/// and ledger payloads in this form. decode_* of what encode_* wrote gives the same value.
[[nodiscard]] std::string encode_schedule_record(const schedule& s);
[[nodiscard]] result<schedule> decode_schedule_record(std::string_view json);
[[nodiscard]] std::string encode_run_record(const run& r);
[[nodiscard]] result<run> decode_run_record(std::string_view json);
[[nodiscard]] std::string encode_receipt_record(const receipt& r);
[[nodiscard]] result<receipt> decode_receipt_record(std::string_view json);
[[nodiscard]] std::string encode_dead_letter_record(const dead_letter& d);
[[nodiscard]] result<dead_letter> decode_dead_letter_record(std::string_view json);

/// The `data` of a ledger event (its payload) as JSON, as /v1/ledger shows it: every run change
/// carries its whole row.
[[nodiscard]] std::string encode_event_data(const ledger_event& e);

/// Whether `e` records a fresh materialization: an occurrence_materialized event whose row is
/// the pending first sight of the occurrence that the event's header names (its run id,
/// schedule, occurrence key and attempt; created and updated at the event's instant; nothing
/// claimed, started or finished) and that carries nothing but the row and a next_run_at.
/// A planner pass writes one per occurrence; stores keep such an event's row as the two
/// instants the header does not name (`"pending_run": {"nominal_time", "due_time"}`) instead
/// of the whole row, which they hold in their run table anyway, and leave out the nominal time
/// when the occurrence key names it and the due time when it is the nominal time: a planned
/// occurrence without jitter keeps `"pending_run": {}`, and its event's data goes from about
/// 650 bytes to 55. Decoding builds the same row back.
[[nodiscard]] bool is_fresh_materialization(const ledger_event& e);

/// The `data` of a ledger event as stores keep it: as encode_event_data(), except that a fresh
/// materialization (above) writes its row as its two instants. `encoded_row`, when given for
/// an event that carries its whole row, must be encode_run_record() of that row: a store that
/// has just encoded the row for its own table saves encoding it again.
[[nodiscard]] std::string encode_stored_event_data(const ledger_event& e, const std::string* encoded_row = nullptr);
/// Reads stored or API `data` into `header`'s payload (both forms; the header must name the
/// run, occurrence key and attempt of a compact fresh materialization).
[[nodiscard]] result<ledger_event> decode_event_data(ledger_event header, std::string_view data);

/// The whole event as one JSON object `{seq, at, kind, schedule_id, run_id?, occurrence_key?,
/// attempt?, data}` (DECISIONS 28), its data as stores keep it (encode_stored_event_data), and
/// back (used by key-value stores). The header comes before `data`, which a compact fresh
/// materialization needs to be read back.
[[nodiscard]] std::string encode_event(const ledger_event& e, const std::string* encoded_row = nullptr);
[[nodiscard]] result<ledger_event> decode_event(std::string_view json);

}  // namespace wakeplane
