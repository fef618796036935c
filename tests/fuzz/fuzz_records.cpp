// libFuzzer target: the decoders of stored records (schedules, runs, receipts, dead letters and
// ledger events), which every store runs on what it reads back from disk.
//
// Input: any bytes, read as one stored record. Properties:
//   - no decoder crashes, and a failure says why (a corrupt record is reported, never guessed);
//   - what a decoder accepts survives encoding and decoding again unchanged, so a store that
//     rewrites a record it read keeps what it read.
#include <wakeplane/ledger.hpp>

#include <cstdint>
#include <string>

#include "fuzz_input.hpp"

namespace {

using wakeplane::fuzz::require;

/// Decodes `text` with `decode`; what decodes must come back equal through `encode`.
template <class Decode, class Encode>
void check(std::string_view text, Decode decode, Encode encode) {
    const auto decoded = decode(text);
    if (!decoded) {
        require(!decoded.error().message.empty(), "a decoding failure says why");
        return;
    }
    const std::string encoded = encode(*decoded);
    const auto again = decode(encoded);
    require(again.has_value(), "an encoded record decodes");
    require(*again == *decoded, "a decoded record survives encoding and decoding");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = wakeplane::fuzz::as_text(data, size);
    check(text, wakeplane::decode_schedule_record, wakeplane::encode_schedule_record);
    check(text, wakeplane::decode_run_record, wakeplane::encode_run_record);
    check(text, wakeplane::decode_receipt_record, wakeplane::encode_receipt_record);
    check(text, wakeplane::decode_dead_letter_record, wakeplane::encode_dead_letter_record);
    check(text, wakeplane::decode_event, [](const wakeplane::ledger_event& e) { return wakeplane::encode_event(e); });
    return 0;
}
