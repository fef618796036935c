#include <wakeplane/policy/set.hpp>

#include <array>

#include <catch2/catch.hpp>

using namespace wakeplane;
using namespace std::chrono_literals;

namespace {

struct not_a_policy {};
struct misfire_without_name {
    missed select(missed m) const noexcept { return m; }
};
struct misfire_throwing {
    static constexpr std::string_view name = "throwing";
    missed select(missed m) const { return m; }  // not noexcept
};
/// A host-defined policy: runs the oldest missed occurrence only.
struct oldest_only {
    static constexpr std::string_view name = "oldest_only";
    missed select(missed m) const noexcept { return m.first(m.empty() ? 0 : 1); }
};
struct overlap_wrong_result {
    static constexpr std::string_view name = "wrong";
    bool decide(overlap_state) const noexcept { return true; }
};
struct retry_wrong_arg {
    static constexpr std::string_view name = "wrong";
    std::optional<duration> delay_after(std::string) const noexcept { return {}; }
};

std::array<time_point, 5> five() {
    const auto t = parse_rfc3339("2026-03-12T10:00:00Z").value();
    return {t, t + 1min, t + 2min, t + 3min, t + 4min};
}

}  // namespace

TEST_CASE("policy concepts accept the built-ins and reject look-alikes", "[policy][concepts]") {
    STATIC_REQUIRE(misfire_policy<misfire::skip>);
    STATIC_REQUIRE(misfire_policy<misfire::run_once_if_late>);
    STATIC_REQUIRE(misfire_policy<misfire::catch_up>);
    STATIC_REQUIRE(misfire_policy<oldest_only>);
    STATIC_REQUIRE_FALSE(misfire_policy<not_a_policy>);
    STATIC_REQUIRE_FALSE(misfire_policy<misfire_without_name>);
    STATIC_REQUIRE_FALSE(misfire_policy<misfire_throwing>);
    STATIC_REQUIRE(overlap_policy<overlap::allow>);
    STATIC_REQUIRE(overlap_policy<overlap::forbid>);
    STATIC_REQUIRE(overlap_policy<overlap::queue_latest>);
    STATIC_REQUIRE(overlap_policy<overlap::replace>);
    STATIC_REQUIRE_FALSE(overlap_policy<overlap_wrong_result>);
    STATIC_REQUIRE_FALSE(overlap_policy<misfire::skip>);
    STATIC_REQUIRE(retry_policy<retry::none>);
    STATIC_REQUIRE(retry_policy<retry::exponential>);
    STATIC_REQUIRE_FALSE(retry_policy<retry_wrong_arg>);
    STATIC_REQUIRE_FALSE(retry_policy<overlap::allow>);
}

TEST_CASE("misfire policies select from the missed occurrences", "[policy][misfire]") {
    const auto m = five();
    const missed all{m};
    CHECK(misfire::skip{}.select(all).empty());
    REQUIRE(misfire::run_once_if_late{}.select(all).size() == 1);
    CHECK(misfire::run_once_if_late{}.select(all).front() == m[4]);
    CHECK(misfire::run_once_if_late{}.select(missed{}).empty());
    auto c = misfire::catch_up{2}.select(all);
    REQUIRE(c.size() == 2);
    CHECK(c[0] == m[3]);  // the newest two, oldest first
    CHECK(c[1] == m[4]);
    CHECK(misfire::catch_up{100}.select(all).size() == 5);
    CHECK(misfire::catch_up{0}.select(all).empty());
}

TEST_CASE("overlap policies decide per DECISIONS 13", "[policy][overlap]") {
    using enum overlap_action;
    const auto s = [](std::int64_t active, std::int64_t max, bool newest = true, bool retry = false) {
        return overlap_state{active, max, newest, retry};
    };
    SECTION("allow runs up to max_concurrency") {
        CHECK(overlap::allow{}.decide(s(0, 1)) == claim);
        CHECK(overlap::allow{}.decide(s(1, 1)) == wait);
        CHECK(overlap::allow{}.decide(s(2, 3)) == claim);
        CHECK(overlap::allow{}.decide(s(3, 3, false)) == wait);
    }
    SECTION("forbid never overlaps and never drops") {
        CHECK(overlap::forbid{}.decide(s(0, 3)) == claim);
        CHECK(overlap::forbid{}.decide(s(1, 3)) == wait);
        CHECK(overlap::forbid{}.decide(s(1, 1, false)) == wait);
    }
    SECTION("queue_latest keeps only the newest waiting occurrence") {
        CHECK(overlap::queue_latest{}.decide(s(0, 1, false)) == claim);
        CHECK(overlap::queue_latest{}.decide(s(1, 1, false)) == supersede);
        CHECK(overlap::queue_latest{}.decide(s(1, 1, true)) == wait);
        CHECK(overlap::queue_latest{}.decide(s(1, 1, false, true)) == wait);  // a retry is never superseded
        CHECK(overlap::queue_latest{}.decide(s(2, 3, false)) == claim);
    }
    SECTION("replace cancels even at max_concurrency 1") {
        CHECK(overlap::replace{}.decide(s(0, 1)) == claim);
        CHECK(overlap::replace{}.decide(s(1, 1, true)) == cancel_active);
        CHECK(overlap::replace{}.decide(s(1, 1, false)) == supersede);
        CHECK(overlap::replace{}.decide(s(1, 1, false, true)) == wait);
        CHECK(overlap::replace{}.decide(s(3, 3, true)) == cancel_active);
        CHECK(overlap::replace{}.decide(s(2, 3, true)) == claim);
    }
}

TEST_CASE("exponential retry doubles up to the cap and stops at max_attempts", "[policy][retry]") {
    const retry::exponential r{7, 30s, 900s};
    CHECK(r.delay_after(1) == duration{30s});
    CHECK(r.delay_after(2) == duration{60s});
    CHECK(r.delay_after(3) == duration{120s});
    CHECK(r.delay_after(4) == duration{240s});
    CHECK(r.delay_after(5) == duration{480s});
    CHECK(r.delay_after(6) == duration{900s});
    CHECK_FALSE(r.delay_after(7).has_value());
    CHECK_FALSE(r.delay_after(0).has_value());
    const retry::exponential huge{std::numeric_limits<std::int64_t>::max(), 1s, 5s};
    CHECK(huge.delay_after(1'000'000'000) == duration{5s});  // no overflow
    CHECK_FALSE(retry::exponential{1, 30s, 900s}.delay_after(1).has_value());
    CHECK_FALSE(retry::exponential{0, 30s, 900s}.delay_after(1).has_value());
    CHECK_FALSE(retry::none{}.delay_after(1).has_value());
}

TEST_CASE("policy names resolve against the compiled set to a variant", "[policy][set]") {
    policy_spec p;
    p.catch_up_limit = 7;
    auto v = resolve_policy<misfire::all>("catch_up", p);
    REQUIRE(v.has_value());
    REQUIRE(std::holds_alternative<misfire::catch_up>(*v));
    CHECK(std::get<misfire::catch_up>(*v).limit == 7);
    CHECK(std::holds_alternative<misfire::skip>(*resolve_policy<misfire::all>("skip", p)));

    retry_spec r{4, "exponential", 10, 120};
    auto rv = resolve_policy<retry::all>("exponential", r);
    REQUIRE(rv.has_value());
    CHECK(std::get<retry::exponential>(*rv) == retry::exponential{4, 10s, 120s});
}

TEST_CASE("a name outside the set is a validation error listing the allowed names", "[policy][set]") {
    using narrow = misfire::set<misfire::skip, oldest_only>;
    auto v = resolve_policy<narrow>("catch_up", policy_spec{});
    REQUIRE_FALSE(v.has_value());
    CHECK(v.error().code == errc::validation_failed);
    REQUIRE(v.error().details.size() == 1);
    CHECK(v.error().details[0] == field_error{"policy.misfire", "must be one of skip, oldest_only"});
    auto o = resolve_policy<overlap::all>("sometimes", policy_spec{});
    CHECK(o.error().details[0] == field_error{"policy.overlap", "must be one of allow, forbid, queue_latest, replace"});
    auto r = resolve_policy<retry::all>("linear", retry_spec{});
    CHECK(r.error().details[0] == field_error{"retry.strategy", "must be one of none, exponential"});
}

TEST_CASE("the catalog lists a scheduler's compiled names", "[policy][set]") {
    auto c = catalog_of<misfire::set<oldest_only, misfire::skip>, overlap::set<overlap::forbid>, retry::set<retry::none>>();
    CHECK(c.misfire == std::vector<std::string_view>{"oldest_only", "skip"});
    CHECK(c.overlap == std::vector<std::string_view>{"forbid"});
    CHECK(c.retry == std::vector<std::string_view>{"none"});
    CHECK(policy_catalog::defaults().misfire.size() == 3);
    CHECK(join_names(policy_catalog::defaults().overlap) == "allow, forbid, queue_latest, replace");
}
