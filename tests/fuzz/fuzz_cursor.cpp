// libFuzzer target: the pagination cursor decoder (the `cursor` query parameter of every list).
//
// Input: any bytes, read as a cursor. Properties: decode_cursor() never crashes and fails only
// with `invalid cursor`; a cursor it accepts, encoded again, decodes to the same position.
#include <wakeplane/codec.hpp>

#include <cstdint>

#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using wakeplane::fuzz::require;
    const auto cursor = wakeplane::decode_cursor(wakeplane::fuzz::as_text(data, size));
    if (!cursor) {
        require(cursor.error().code == wakeplane::errc::bad_request, "a bad cursor is a bad request");
        require(cursor.error().message == "invalid cursor", "a bad cursor says `invalid cursor`");
        return 0;
    }
    const auto again = wakeplane::decode_cursor(wakeplane::encode_cursor(cursor->created_at, cursor->id));
    require(again.has_value(), "an encoded cursor decodes");
    require(*again == *cursor, "a cursor survives encoding and decoding");
    return 0;
}
