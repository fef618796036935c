#include <wakeplane/ids.hpp>

#include <set>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using namespace wakeplane;
using namespace std::chrono_literals;

TEST_CASE("ids have the prefix and a 26-character ULID", "[ids]") {
    id_generator ids{1};
    const auto t = parse_rfc3339("2026-03-12T10:00:00Z").value();
    const auto id = ids.next(id_prefix::schedule, t);
    CHECK(id.size() == 30);
    CHECK(id.starts_with("sch_"));
    CHECK(is_valid_id(id_prefix::schedule, id));
    CHECK_FALSE(is_valid_id(id_prefix::run, id));
    // The time part encodes milliseconds since the epoch: 1773309600000 ms.
    CHECK(id.substr(4, 10) == "01KKGQT880");
}

TEST_CASE("is_valid_id rejects malformed ids", "[ids]") {
    CHECK_FALSE(is_valid_id("sch", "sch_"));
    CHECK_FALSE(is_valid_id("sch", "sch_01KKGQ5Q00ABCDEFGHJKMNPQRI"));  // I is not Crockford
    CHECK_FALSE(is_valid_id("sch", "sch-01KKGQ5Q00ABCDEFGHJKMNPQRS"));
    CHECK_FALSE(is_valid_id("sch", "sch_01kkgq5q00abcdefghjkmnpqrs"));
    CHECK(is_valid_id("sch", "sch_01KKGQ5Q00ABCDEFGHJKMNPQRS"));
}

TEST_CASE("one generator makes strictly increasing ids, also within a millisecond and after a backwards step", "[ids]") {
    id_generator ids{7};
    auto t = parse_rfc3339("2026-03-12T10:00:00Z").value();
    std::string prev = ids.next(id_prefix::run, t);
    for (int i = 0; i < 1000; ++i) {
        const auto step = (i % 3 == 0) ? -5ms : (i % 3 == 1 ? 0ms : 1ms);
        t += step;
        auto id = ids.next(id_prefix::run, t);
        REQUIRE(id > prev);
        prev = id;
    }
}

TEST_CASE("the same seed and times give the same ids", "[ids]") {
    id_generator a{99}, b{99}, c{100};
    const auto t = parse_rfc3339("2026-03-12T10:00:00Z").value();
    CHECK(a.next("run", t) == b.next("run", t));
    CHECK(a.next("run", t + 1s) == b.next("run", t + 1s));
    CHECK(a.next("run", t + 2s) != c.next("run", t + 2s));
}

TEST_CASE("ids stay unique across threads", "[ids][concurrency]") {
    id_generator ids{3};
    const auto t = parse_rfc3339("2026-03-12T10:00:00Z").value();
    std::vector<std::vector<std::string>> out(4);
    std::vector<std::thread> threads;
    for (std::size_t k = 0; k < out.size(); ++k) {
        threads.emplace_back([&, k] {
            for (int i = 0; i < 2000; ++i) {
                out[k].push_back(ids.next("run", t));
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    std::set<std::string> all;
    for (auto& v : out) {
        all.insert(v.begin(), v.end());
    }
    CHECK(all.size() == 8000);
}
