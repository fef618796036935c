// The RocksDB store's key layout: one-byte tags and order-preserving encodings
// (docs/storage-rocksdb.md has the table). Private to the store and its tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <wakeplane/model.hpp>
#include <wakeplane/time.hpp>

namespace wakeplane::stores::rocksdb_layout {

/// The first byte of every key: the table or index it belongs to. Printable letters, so that
/// `ldb scan` output stays readable. Rows are lower case, indexes mostly upper case.
namespace tag {
inline constexpr char schedule = 's';          ///< id → schedule record
inline constexpr char schedule_times = 't';    ///< id → flags · next · last · record version (schedule_times)
inline constexpr char run = 'r';               ///< id → run record
inline constexpr char receipt = 'c';           ///< esc(run) · created_at · id → receipt record
inline constexpr char dead_letter = 'x';       ///< id → dead letter record
inline constexpr char ledger = 'L';            ///< seq → event (in the ledger column family)
inline constexpr char due = 'd';               ///< next_run_at · schedule id
inline constexpr char eligible = 'e';          ///< eligible time · run id → due flag
inline constexpr char lease = 'l';             ///< claim_expires_at · run id
inline constexpr char open_run = 'o';          ///< esc(schedule) · run id → status · nominal · eligible?
inline constexpr char occurrence = 'k';        ///< esc(occurrence_key) · attempt → run id
inline constexpr char live_name = 'n';         ///< name → schedule id
inline constexpr char schedules_created = 'S'; ///< created_at · schedule id → flags
inline constexpr char runs_created = 'R';      ///< created_at · run id
inline constexpr char runs_by_schedule = 'P';  ///< esc(schedule) · created_at · run id → status
inline constexpr char runs_by_status = 'T';    ///< status · created_at · run id
inline constexpr char letters_created = 'D';   ///< created_at · dead letter id
inline constexpr char letters_by_schedule = 'E';  ///< esc(schedule) · created_at · dead letter id
inline constexpr char ledger_by_schedule = 'M';   ///< esc(schedule) · seq
inline constexpr char ledger_by_run = 'N';        ///< esc(run) · seq
}  // namespace tag

/// The key and value that mark a directory as a Wakeplane store of this layout (tag '#'). Another
/// value means a layout this build does not know: refused at open rather than misread.
inline constexpr std::string_view layout_key = "#layout";
inline constexpr std::string_view layout_version = "6";
/// The layout before schedule_times existed: opening such a store adds them (see the store).
inline constexpr std::string_view layout_version_1 = "1";
/// The layout whose schedule_times had no record version: opening such a store versions them.
inline constexpr std::string_view layout_version_2 = "2";
/// The layout that kept the ledger in the default column family: opening such a store moves it.
inline constexpr std::string_view layout_version_3 = "3";
/// The layout whose ledger kept every run change's whole row: opening such a store marks it as
/// the current layout, whose ledger may keep a fresh materialization's row compact.
inline constexpr std::string_view layout_version_4 = "4";
/// The layout whose compact rows always named both their instants: opening such a store marks it
/// as the current layout, whose compact rows leave out the ones the event's header implies.
inline constexpr std::string_view layout_version_5 = "5";

/// The column family that holds the ledger (tag::ledger keys) since layout 4; every other key
/// lives in the default column family.
inline constexpr std::string_view ledger_family = "ledger";

/// The width of an encoded instant, sequence number or attempt.
inline constexpr std::size_t fixed_width = 8;

/// Bits of the value of a schedules_created entry, so that listings filter without reading rows.
inline constexpr char flag_deleted = 1;
inline constexpr char flag_enabled = 2;

/// Appends key components to a string that is cleared and tagged on construction. Every
/// encoding keeps the byte order of the key equal to the order of the values:
///   - instant: microseconds as int64 with the sign bit flipped, big-endian (8 bytes);
///   - seq: uint64 big-endian (8 bytes), sequence numbers being positive;
///   - escaped text: 0x00 becomes 0x00 0xFF and the text ends with 0x00 0x01, so that a
///     component is never a prefix of another and shorter text sorts first;
///   - raw text: as is, only as the last component of a key.
/// Example: key_writer{k, tag::due}.instant(t).raw("sch_a") gives "d" · t · "sch_a".
class key_writer {
public:
    key_writer(std::string& out, char tag) : out_(&out) {
        out.clear();
        out.push_back(tag);
    }
    /// Starts from a prefix built earlier (a tag and its leading components).
    key_writer(std::string& out, std::string_view prefix) : out_(&out) { out.assign(prefix); }

    key_writer& instant(time_point t);
    key_writer& seq(std::int64_t s);
    key_writer& signed64(std::int64_t v);
    key_writer& escaped(std::string_view text);
    key_writer& raw(std::string_view text);
    key_writer& byte(char b);

private:
    std::string* out_;
};

/// The smallest key greater than every key starting with `prefix` (an exclusive upper bound);
/// "" when there is none (the prefix is all 0xFF bytes).
[[nodiscard]] std::string prefix_end(std::string_view prefix);

/// Decodes an instant written by key_writer::instant from the 8 bytes at `at`.
[[nodiscard]] time_point read_instant(std::string_view at) noexcept;

/// Decodes a sequence number written by key_writer::seq from the 8 bytes at `at`.
[[nodiscard]] std::int64_t read_seq(std::string_view at) noexcept;

/// The fields of a schedule that move without the rest of it (tag::schedule_times): a planner
/// pass moves next_run_at and a success moves last_run_at, each with a small write instead of
/// decoding and rewriting the whole record (about 800 bytes). They override the record's own
/// members, which keep the values of the last full write. The flags repeat the record's, so that
/// a move checks them without the record. The record version names the record's last full write,
/// so that a reader holding a decoded record can tell, from the times alone, whether it is
/// still the stored one.
struct schedule_times {
    bool enabled = false;
    bool deleted = false;
    std::optional<time_point> next_run_at;
    std::optional<time_point> last_run_at;
    /// Different for every committed full write of one schedule; 0 only in layout 2's values,
    /// which the store versions when it opens them.
    std::uint64_t record_version = 0;

    /// The times of `s` as written in full by a write of record version `version`.
    [[nodiscard]] static schedule_times of(const schedule& s, std::uint64_t version) {
        return {s.enabled, s.deleted, s.next_run_at, s.last_run_at, version};
    }
    /// Sets the moving members of `s` (whose flags are the record's own).
    void apply_to(schedule& s) const {
        s.next_run_at = next_run_at;
        s.last_run_at = last_run_at;
    }
};

/// flags (1 enabled, 2 deleted, 4 has next_run_at, 8 has last_run_at) · next · last · record
/// version (uint64 big-endian), 25 bytes; an absent instant is written as zeros.
[[nodiscard]] std::string encode_times(const schedule_times& t);
/// nullopt when `value` is not 25 bytes or has unknown flags (corruption).
[[nodiscard]] std::optional<schedule_times> decode_times(std::string_view value) noexcept;
/// Layout 2's times (17 bytes, no record version), read once by the move to layout 3.
[[nodiscard]] std::optional<schedule_times> decode_times_v2(std::string_view value) noexcept;

/// The stored code of a run status. Fixed here, apart from the enum's order, so that
/// reordering run_status in the model cannot silently change what keys mean.
[[nodiscard]] char status_code(run_status s) noexcept;

/// The status of a stored code; nullopt for a byte that is no status code (corruption).
[[nodiscard]] std::optional<run_status> status_of_code(char c) noexcept;

}  // namespace wakeplane::stores::rocksdb_layout
