// libFuzzer target: the JSON schedule decoders with validation, as POST, PUT and PATCH use them.
//
// Input: any bytes, read as a request body. Properties:
//   - decode_schedule_input() and decode_schedule_patch() never crash, and a failure says why;
//   - a decoded create body goes through defaults and validation, a decoded patch through
//     apply_patch() onto a valid schedule and validation, without crashing;
//   - a valid definition survives encode_schedule_input() and decoding unchanged, as the CLI
//     sends a manifest that the daemon then decodes.
#include <wakeplane/codec.hpp>
#include <wakeplane/validate.hpp>

#include <cstdint>
#include <utility>

#include "fuzz_input.hpp"

namespace {

using wakeplane::fuzz::require;

/// A valid stored schedule for patches to merge into: hourly, in UTC, on a workflow target.
wakeplane::schedule patch_base() {
    wakeplane::schedule s;
    s.id = "sch_01JPC3V9QF7D2M8K4X6T1R5N0B";
    s.name = "base";
    s.timezone = "UTC";
    s.spec.kind = "interval";
    s.spec.every_seconds = 3600;
    s.target.kind = "workflow";
    s.target.workflow_id = "noop";
    return s;
}

void check_create(std::string_view body, const wakeplane::policy_catalog& catalog) {
    auto decoded = wakeplane::decode_schedule_input(body);
    if (!decoded) {
        require(!decoded.error().message.empty(), "a decoding failure says why");
        return;
    }
    auto checked = wakeplane::check_schedule_input(*std::move(decoded), catalog);
    if (!checked) {
        require(!checked.error().details.empty(), "a validation failure names its fields");
        return;
    }
    const auto again = wakeplane::decode_schedule_input(wakeplane::encode_schedule_input(*checked));
    require(again.has_value(), "an encoded valid definition decodes");
    require(*again == *checked, "a valid definition survives encoding and decoding");
}

void check_patch(std::string_view body, const wakeplane::policy_catalog& catalog) {
    const auto patch = wakeplane::decode_schedule_patch(body);
    if (!patch) {
        require(!patch.error().message.empty(), "a decoding failure says why");
        return;
    }
    static const wakeplane::schedule base = patch_base();
    (void)wakeplane::check_schedule_input(wakeplane::apply_patch(base, *patch), catalog);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto catalog = wakeplane::policy_catalog::defaults();
    const auto body = wakeplane::fuzz::as_text(data, size);
    check_create(body, catalog);
    check_patch(body, catalog);
    return 0;
}
