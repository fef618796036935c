// Policy sets: the policies a scheduler is compiled with, and name → policy resolution.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <wakeplane/detail/policy_set.hpp>
#include <wakeplane/model.hpp>
#include <wakeplane/policy/catalog.hpp>
#include <wakeplane/policy/misfire.hpp>
#include <wakeplane/policy/overlap.hpp>
#include <wakeplane/policy/retry.hpp>
#include <wakeplane/result.hpp>

namespace wakeplane {

namespace misfire {
/// The misfire policies a scheduler can use. Each schedule picks one by name.
///
/// Example:
///     using my_misfire = misfire::set<misfire::skip, misfire::catch_up>;
///     auto p = my_misfire::resolve("catch_up", spec.policy);   // variant holding catch_up{limit}
template <misfire_policy... Ps>
struct set : detail::policy_set<policy_spec, Ps...> {
    static constexpr std::string_view field = "policy.misfire";
};
/// Every built-in misfire policy.
using all = set<skip, run_once_if_late, catch_up>;
}  // namespace misfire

namespace overlap {
/// The overlap policies a scheduler can use.
template <overlap_policy... Ps>
struct set : detail::policy_set<policy_spec, Ps...> {
    static constexpr std::string_view field = "policy.overlap";
};
using all = set<allow, forbid, queue_latest, replace>;
}  // namespace overlap

namespace retry {
/// The retry policies a scheduler can use.
template <retry_policy... Ps>
struct set : detail::policy_set<retry_spec, Ps...> {
    static constexpr std::string_view field = "retry.strategy";
};
using all = set<none, exponential>;
}  // namespace retry

/// Resolves `name` against the set `Set` into its variant; the schedule's `spec` block (policy or
/// retry) supplies runtime parameters to policies that have a static `from(spec)`.
/// An unknown name is a validation error on Set::field listing the allowed names.
template <class Set, class Spec>
[[nodiscard]] result<typename Set::variant> resolve_policy(std::string_view name, const Spec& spec) {
    if (auto v = Set::resolve(name, spec)) {
        return *std::move(v);
    }
    return invalid({{std::string(Set::field), "must be one of " + join_names(Set::names())}});
}

/// The catalog (plain names) of three policy sets, for validation without templates.
template <class MisfireSet, class OverlapSet, class RetrySet>
[[nodiscard]] policy_catalog catalog_of() {
    return policy_catalog{MisfireSet::names(), OverlapSet::names(), RetrySet::names()};
}

}  // namespace wakeplane
