// Boost.Hana machinery behind the policy sets; never named by users.
#pragma once

#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/hana.hpp>

namespace wakeplane::detail {

/// True when P has a static `from(const Spec&)` that builds it with runtime parameters.
template <class P, class Spec>
concept configurable_from = requires(const Spec& s) {
    { P::from(s) } -> std::same_as<P>;
};

/// Builds P for a schedule: from its spec when P takes parameters, default-constructed otherwise.
template <class P, class Spec>
[[nodiscard]] P make_policy(const Spec& spec) {
    if constexpr (configurable_from<P, Spec>) {
        return P::from(spec);
    } else {
        return P{};
    }
}

template <class... Ps>
[[nodiscard]] consteval bool names_unique() {
    constexpr std::string_view names[] = {Ps::name...};
    for (std::size_t i = 0; i < sizeof...(Ps); ++i) {
        for (std::size_t j = i + 1; j < sizeof...(Ps); ++j) {
            if (names[i] == names[j]) {
                return false;
            }
        }
    }
    return true;
}

/// The common part of misfire::set, overlap::set and retry::set: a type list, its variant,
/// its names, and resolution of a name to a variant alternative. Dispatch on the result is
/// static (std::visit over the variant); the name is looked up once, at validation.
template <class Spec, class... Ps>
struct policy_set {
    static_assert(sizeof...(Ps) > 0, "a policy set needs at least one policy");
    static_assert(names_unique<Ps...>(), "two policies in one set share a name");

    using variant = std::variant<Ps...>;
    static constexpr auto types = boost::hana::tuple_t<Ps...>;

    /// The names in declaration order (manifest and API spelling).
    [[nodiscard]] static std::vector<std::string_view> names() { return {Ps::name...}; }

    [[nodiscard]] static bool contains(std::string_view name) noexcept { return ((Ps::name == name) || ...); }

    /// The policy named `name`, configured from `spec`, or nullopt when the set has no such name.
    [[nodiscard]] static std::optional<variant> resolve(std::string_view name, const Spec& spec) {
        std::optional<variant> out;
        boost::hana::for_each(types, [&](auto t) {
            using P = typename decltype(t)::type;
            if (!out && P::name == name) {
                out.emplace(std::in_place_type<P>, make_policy<P>(spec));
            }
        });
        return out;
    }
};

}  // namespace wakeplane::detail
