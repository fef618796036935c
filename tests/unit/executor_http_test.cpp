#include <wakeplane/executors/http.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <httplib.h>

#include "../helpers/executor_support.hpp"

using namespace wakeplane;
using namespace wakeplane::executors;
using namespace std::chrono_literals;
using wakeplane::testing::eventually;
using wakeplane::testing::test_context;

namespace {

/// A request as the test server saw it.
struct seen_request {
    std::string method;
    std::string path;
    std::string body;
    httplib::Headers headers;
};

/// A cpp-httplib server on 127.0.0.1 and a free port, serving one test from its own thread.
/// `/slow` answers only once the test releases it (or the server is torn down), so a test can
/// hold a request open without sleeping.
class test_server {
public:
    /// Listens on `host` (any address of 127.0.0.0/8 is a loopback address on Linux).
    explicit test_server(std::string host = "127.0.0.1") : host_(std::move(host)) {
        server_.set_keep_alive_max_count(1);  // one request per connection: nothing lingers at stop
        server_.Get("/ok", [this](const httplib::Request& req, httplib::Response& res) {
            record(req);
            res.set_content("hello", "text/plain");
        });
        server_.Get("/unavailable", [this](const httplib::Request& req, httplib::Response& res) {
            record(req);
            res.status = 503;
            res.set_content("down for maintenance", "text/plain");
        });
        server_.Post("/echo", [this](const httplib::Request& req, httplib::Response& res) {
            record(req);
            res.status = 201;
            res.set_content(R"({"created":true})", "application/json");
        });
        server_.Put("/put", [this](const httplib::Request& req, httplib::Response& res) {
            record(req);
            res.status = 204;
        });
        server_.Get("/redirect", [this](const httplib::Request& req, httplib::Response& res) {
            record(req);
            res.set_redirect("/ok");
        });
        server_.Get("/loop", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/loop"); });
        server_.Get("/to", [this](const httplib::Request& req, httplib::Response& res) {  // /to?url=<absolute URL>
            record(req);
            res.set_redirect(req.get_param_value("url"));
        });
        server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
            res.set_content(std::string(100'000, 'x'), "text/plain");
        });
        server_.Get("/slow", [this](const httplib::Request& req, httplib::Response& res) {
            record(req);
            std::unique_lock lock{mutex_};
            changed_.wait_for(lock, 30s, [&] { return released_; });  // real-time ok: a failure bound
            res.set_content("late", "text/plain");
        });
        port_ = server_.bind_to_any_port(host_);
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        // stop() only works once the server runs.
        REQUIRE(eventually([this] { return server_.is_running(); }));
    }

    test_server(const test_server&) = delete;
    test_server& operator=(const test_server&) = delete;

    ~test_server() {
        release();
        server_.stop();
        thread_.join();
    }

    [[nodiscard]] std::string url(std::string_view path) const {
        return "http://" + host_ + ":" + std::to_string(port_) + std::string(path);
    }

    /// Waits until `count` requests have arrived; false after a generous bound.
    bool wait_for_requests(std::size_t count) {
        std::unique_lock lock{mutex_};
        return changed_.wait_for(lock, 10s, [&] { return seen_.size() >= count; });  // real-time ok
    }

    [[nodiscard]] std::vector<seen_request> requests() {
        std::lock_guard lock{mutex_};
        return seen_;
    }

    /// Lets `/slow` answer.
    void release() {
        {
            std::lock_guard lock{mutex_};
            released_ = true;
        }
        changed_.notify_all();
    }

private:
    void record(const httplib::Request& req) {
        {
            std::lock_guard lock{mutex_};
            seen_.push_back(seen_request{req.method, req.path, req.body, req.headers});
        }
        changed_.notify_all();
    }

    std::string host_;
    httplib::Server server_;
    int port_ = 0;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<seen_request> seen_;
    bool released_ = false;
};

/// A TCP port on 127.0.0.1 that is bound but not listening: connecting to it is refused, and
/// nobody else can take it while the object lives.
class refused_port {
public:
    refused_port() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
        port_ = ntohs(addr.sin_port);
    }
    refused_port(const refused_port&) = delete;
    refused_port& operator=(const refused_port&) = delete;
    ~refused_port() { ::close(fd_); }
    [[nodiscard]] int port() const { return port_; }

private:
    int fd_;
    int port_ = 0;
};

target_spec http_target(std::string method, std::string url) {
    target_spec t;
    t.kind = "http";
    t.method = std::move(method);
    t.url = std::move(url);
    return t;
}

std::string header(const seen_request& req, const std::string& name) {
    return req.headers.count(name) == 1 ? req.headers.find(name)->second : "<" + std::to_string(req.headers.count(name)) + " values>";
}

}  // namespace

TEST_CASE("http_executor models the executor concept", "[executor][http]") {
    STATIC_REQUIRE(executor<http_executor>);
    STATIC_REQUIRE(http_executor::kind == "http");
}

TEST_CASE("a 200 response gives its body as a receipt; the request carries the run's identity", "[executor][http]") {
    test_server server;
    auto target = http_target("get", server.url("/ok"));
    target.headers = {{"x-custom", "v"}, {"wakeplane-run-id", "forged"}};
    const auto r = http_executor{}.execute(target, test_context());
    CHECK(r.ok);
    CHECK_FALSE(r.stopped);
    CHECK(r.http_status_code == 200);
    CHECK_FALSE(r.exit_code);
    CHECK_FALSE(r.error_text);
    CHECK(r.result_json == R"({"status":"200 OK","url":")" + server.url("/ok") + R"("})");
    REQUIRE(r.receipts.size() == 1);
    CHECK(r.receipts[0] == receipt_body{"http_response", "text/plain", "hello", false});

    const auto seen = server.requests();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].method == "GET");
    CHECK(header(seen[0], "X-Custom") == "v");
    CHECK(header(seen[0], "Idempotency-Key") == "sch_01JPC3V9QF7D2M8K4X6T1R5N0B:2026-03-12T10:00:00Z:2");
    CHECK(header(seen[0], "Wakeplane-Run-Id") == "run_01JPC3V9QF7D2M8K4X6T1R5N0B");
    CHECK(header(seen[0], "Wakeplane-Occurrence-Key") == "sch_01JPC3V9QF7D2M8K4X6T1R5N0B:2026-03-12T10:00:00Z");
    CHECK(header(seen[0], "Wakeplane-Attempt") == "2");
    CHECK(header(seen[0], "Wakeplane-Fencing-Token") == "7");
    CHECK(seen[0].headers.count("Content-Type") == 0);  // no body, no content type
}

TEST_CASE("a 503 response is a failure that keeps the code, result_json and body", "[executor][http]") {
    test_server server;
    const auto r = http_executor{}.execute(http_target("GET", server.url("/unavailable")), test_context());
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.stopped);
    CHECK(r.http_status_code == 503);
    CHECK(r.error_text == "http executor returned status 503");
    CHECK(r.result_json == R"({"status":"503 Service Unavailable","url":")" + server.url("/unavailable") + R"("})");
    REQUIRE(r.receipts.size() == 1);
    CHECK(r.receipts[0].body == "down for maintenance");
}

TEST_CASE("a JSON body is sent with its content type", "[executor][http]") {
    test_server server;
    auto target = http_target("post", server.url("/echo"));
    target.body_json = R"({"a":1})";
    const auto r = http_executor{}.execute(target, test_context());
    CHECK(r.ok);
    CHECK(r.http_status_code == 201);
    CHECK(r.result_json == R"({"status":"201 Created","url":")" + server.url("/echo") + R"("})");
    REQUIRE(r.receipts.size() == 1);
    CHECK(r.receipts[0] == receipt_body{"http_response", "application/json", R"({"created":true})", false});
    const auto seen = server.requests();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].method == "POST");
    CHECK(seen[0].body == R"({"a":1})");
    CHECK(header(seen[0], "Content-Type") == "application/json");
    CHECK(seen[0].headers.count("Expect") == 0);
}

TEST_CASE("a bodiless PUT sends an empty body with Content-Length 0 and no content type", "[executor][http]") {
    test_server server;
    const auto r = http_executor{}.execute(http_target("PUT", server.url("/put")), test_context());
    CHECK(r.ok);
    CHECK(r.http_status_code == 204);
    const auto seen = server.requests();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].method == "PUT");
    CHECK(header(seen[0], "Content-Length") == "0");
    CHECK(seen[0].headers.count("Content-Type") == 0);
}

TEST_CASE("redirects are followed up to the limit", "[executor][http]") {
    test_server server;
    SECTION("the final response counts") {
        const auto r = http_executor{}.execute(http_target("GET", server.url("/redirect")), test_context());
        CHECK(r.ok);
        CHECK(r.http_status_code == 200);
        CHECK(r.result_json == R"({"status":"200 OK","url":")" + server.url("/redirect") + R"("})");
        REQUIRE(r.receipts.size() == 1);
        CHECK(r.receipts[0].body == "hello");
        CHECK(server.requests().size() == 2);  // /redirect, then /ok
    }
    SECTION("an endless loop fails once the limit is reached") {
        const http_executor exec{executor_limits{}, http_options{std::nullopt, 2, {}}};
        const auto r = exec.execute(http_target("GET", server.url("/loop")), test_context());
        CHECK_FALSE(r.ok);
        CHECK(r.error_text == "Get \"" + server.url("/loop") + "\": stopped after 2 redirects");
        CHECK(r.receipts.empty());
        CHECK_FALSE(r.http_status_code);
    }
}

TEST_CASE("a refused connection is a transport error without receipt", "[executor][http]") {
    const refused_port port;
    const auto url = "http://127.0.0.1:" + std::to_string(port.port()) + "/x";
    const auto r = http_executor{}.execute(http_target("GET", url), test_context());
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.stopped);
    CHECK(r.error_text == "Get \"" + url + "\": Couldn't connect to server");
    CHECK_FALSE(r.http_status_code);
    CHECK_FALSE(r.result_json);
    CHECK(r.receipts.empty());
}

TEST_CASE("a stop during a slow response returns at once", "[executor][http]") {
    test_server server;
    std::stop_source stop;
    const auto ctx = test_context(stop.get_token());
    const http_executor exec;
    const auto url = server.url("/slow");
    auto running = std::async(std::launch::async, [&] { return exec.execute(http_target("GET", url), ctx); });
    REQUIRE(server.wait_for_requests(1));

    stop.request_stop();
    REQUIRE(running.wait_for(5s) == std::future_status::ready);  // real-time ok: a failure bound
    const auto r = running.get();
    CHECK(r.stopped);
    CHECK_FALSE(r.ok);
    CHECK(r.error_text == "Get \"" + url + "\": context canceled");
    CHECK_FALSE(r.http_status_code);
    CHECK(r.receipts.empty());
}

TEST_CASE("a response body beyond the bound is cut and marked", "[executor][http]") {
    test_server server;
    const http_executor exec{executor_limits{1000}};
    const auto r = exec.execute(http_target("GET", server.url("/big")), test_context());
    CHECK(r.ok);
    CHECK(r.http_status_code == 200);
    REQUIRE(r.receipts.size() == 1);
    CHECK(r.receipts[0].truncated);
    CHECK(r.receipts[0].body == std::string(1000, 'x'));
}

TEST_CASE("a request that cannot be built fails before anything is sent", "[executor][http]") {
    SECTION("a method that is not a token") {
        const auto r = http_executor{}.execute(http_target("GE T", "http://127.0.0.1:1/x"), test_context());
        CHECK(r.error_text == R"(net/http: invalid method "GE T")");
    }
    SECTION("a header value with a line break") {
        auto target = http_target("GET", "http://127.0.0.1:1/x");
        target.headers = {{"x-bad", "a\r\nInjected: 1"}};
        const auto r = http_executor{}.execute(target, test_context());
        CHECK(r.error_text == R"(Get "http://127.0.0.1:1/x": net/http: invalid header field value for "X-Bad")");
    }
    SECTION("a scheme other than http and https") {
        const auto r = http_executor{}.execute(http_target("GET", "file:///etc/passwd"), test_context());
        CHECK_FALSE(r.ok);
        CHECK(r.error_text == R"(Get "file:///etc/passwd": Unsupported protocol)");
        CHECK(r.receipts.empty());
    }
}

// ---- the deny list (WAKEPLANE_HTTP_DENY) ---------------------------------------------------------

namespace {

/// An executor that may not connect to any of `ranges` (comma-separated CIDR).
http_executor denying(std::string_view ranges, long max_redirects = 5) {
    http_options options;
    options.max_redirects = max_redirects;
    options.deny = parse_address_ranges(ranges).value();
    return http_executor{executor_limits{}, std::move(options)};
}

sockaddr_in v4_address(const char* text) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    REQUIRE(::inet_pton(AF_INET, text, &a.sin_addr) == 1);
    return a;
}

sockaddr_in6 v6_address(const char* text) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    REQUIRE(::inet_pton(AF_INET6, text, &a.sin6_addr) == 1);
    return a;
}

template <class A>
const sockaddr& as_sockaddr(const A& a) {
    return *reinterpret_cast<const sockaddr*>(&a);
}

}  // namespace

TEST_CASE("address ranges parse as CIDR, IPv4 and IPv6, and match socket addresses", "[executor][http][deny]") {
    const auto ranges = parse_address_ranges(" 10.1.2.3/8, 169.254.169.254 fd00::/8,::1").value();
    REQUIRE(ranges.size() == 4);
    CHECK(ranges[0].text() == "10.0.0.0/8");  // host bits cleared
    CHECK(ranges[1].text() == "169.254.169.254/32");
    CHECK(ranges[2].text() == "fd00::/8");
    CHECK(ranges[3].text() == "::1/128");
    CHECK(parse_address_ranges("").value().empty());

    CHECK(ranges[0].contains(as_sockaddr(v4_address("10.255.0.1"))));
    CHECK_FALSE(ranges[0].contains(as_sockaddr(v4_address("11.0.0.1"))));
    CHECK(ranges[1].contains(as_sockaddr(v4_address("169.254.169.254"))));
    CHECK_FALSE(ranges[1].contains(as_sockaddr(v4_address("169.254.169.253"))));
    CHECK(ranges[2].contains(as_sockaddr(v6_address("fdab::1"))));
    CHECK_FALSE(ranges[2].contains(as_sockaddr(v6_address("fe80::1"))));
    CHECK(ranges[3].contains(as_sockaddr(v6_address("::1"))));
    // An IPv4 address reached through an IPv6 socket is still that IPv4 address.
    CHECK(ranges[0].contains(as_sockaddr(v6_address("::ffff:10.9.9.9"))));
    CHECK(find_range(ranges, as_sockaddr(v6_address("::ffff:169.254.169.254"))) == &ranges[1]);
    CHECK(find_range(ranges, as_sockaddr(v4_address("8.8.8.8"))) == nullptr);
    CHECK(address_text(as_sockaddr(v6_address("::ffff:10.9.9.9"))) == "10.9.9.9");
    CHECK(parse_address_ranges("0.0.0.0/0").value()[0].contains(as_sockaddr(v4_address("1.2.3.4"))));

    for (const auto* bad : {"10.0.0.0/33", "::1/129", "10.0.0.0/", "10.0.0.0/x", "example.com", "10.0.0/8", "1.2.3.4/-1"}) {
        INFO(bad);
        const auto r = parse_address_ranges(std::string("127.0.0.0/8,") + bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().message.starts_with("\"" + std::string(bad) + "\" is not an IPv4 or IPv6 address range (CIDR)"));
    }
}

TEST_CASE("a denied address is never connected to, also through a redirect", "[executor][http][deny]") {
    test_server allowed;                // 127.0.0.1
    test_server denied{"127.0.0.2"};   // another loopback address, denied below

    SECTION("a target in a denied range fails naming the address") {
        const auto r = denying("127.0.0.0/8").execute(http_target("GET", allowed.url("/ok")), test_context());
        CHECK_FALSE(r.ok);
        CHECK(r.error_text == "Get \"" + allowed.url("/ok") + "\": address 127.0.0.1 is in the denied range 127.0.0.0/8");
        CHECK_FALSE(r.http_status_code);
        CHECK(allowed.requests().empty());
    }
    SECTION("a redirect from an allowed address to a denied one is refused") {
        const auto target = allowed.url("/to?url=" + denied.url("/ok"));
        const auto r = denying("127.0.0.2/32").execute(http_target("GET", target), test_context());
        CHECK_FALSE(r.ok);
        CHECK(r.error_text == "Get \"" + target + "\": address 127.0.0.2 is in the denied range 127.0.0.2/32");
        CHECK(allowed.requests().size() == 1);
        CHECK(denied.requests().empty());
    }
    SECTION("addresses outside the list are reached as before") {
        const auto r = denying("10.0.0.0/8, 127.0.0.2").execute(http_target("GET", allowed.url("/redirect")), test_context());
        CHECK(r.ok);
        CHECK(r.http_status_code == 200);
    }
    SECTION("the redirect limit holds with a deny list too") {
        const auto r = denying("10.0.0.0/8", 3).execute(http_target("GET", allowed.url("/loop")), test_context());
        CHECK_FALSE(r.ok);
        CHECK(r.error_text == "Get \"" + allowed.url("/loop") + "\": stopped after 3 redirects");
    }
}

TEST_CASE("redirects leave http and https for no other protocol", "[executor][http][deny]") {
    test_server server;
    const auto target = server.url("/to?url=file:///etc/passwd");
    const auto r = http_executor{}.execute(http_target("GET", target), test_context());
    CHECK_FALSE(r.ok);
    REQUIRE(r.error_text);
    CHECK(r.error_text->starts_with("Get \"" + target + "\": "));
    CHECK(r.receipts.empty());
}
