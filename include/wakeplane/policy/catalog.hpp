// The policy names a scheduler was compiled with, as plain data for validation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wakeplane {

/// The names of the misfire, overlap and retry policies in a scheduler's compiled policy sets.
/// Validation checks a schedule's names against it and lists the allowed names in the error
/// (`policy.misfire: must be one of skip, run_once_if_late, catch_up`). Built from the sets with
/// catalog_of<MisfireSet, OverlapSet, RetrySet>() (policy/set.hpp).
struct policy_catalog {
    std::vector<std::string_view> misfire;
    std::vector<std::string_view> overlap;
    std::vector<std::string_view> retry;

    /// Every built-in policy: what the daemon exposes.
    [[nodiscard]] static policy_catalog defaults();
};

/// `a, b, c`: the allowed names as validation messages list them.
[[nodiscard]] inline std::string join_names(const std::vector<std::string_view>& names) {
    std::string out;
    for (auto n : names) {
        if (!out.empty()) {
            out += ", ";
        }
        out += n;
    }
    return out;
}

}  // namespace wakeplane
