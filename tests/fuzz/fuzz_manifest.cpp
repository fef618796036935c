// libFuzzer target: the YAML manifest decoder (`wakeplane schedule create -f`, `preview -f`).
//
// Input: any bytes, read as a manifest. Properties: decode_manifest() never crashes, hangs or
// exhausts memory (aliases that expand exponentially included); a failure says why; a decoded
// manifest goes through defaults and validation without crashing.
#include <wakeplane/manifest.hpp>
#include <wakeplane/validate.hpp>

#include <cstdint>
#include <utility>

#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto catalog = wakeplane::policy_catalog::defaults();
    auto decoded = wakeplane::decode_manifest(wakeplane::fuzz::as_text(data, size));
    if (!decoded) {
        wakeplane::fuzz::require(!decoded.error().message.empty(), "a decoding failure says why");
        return 0;
    }
    (void)wakeplane::check_schedule_input(*std::move(decoded), catalog);
    return 0;
}
