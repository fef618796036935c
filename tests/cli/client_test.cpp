// The CLI's HTTP side: addresses, error lines, the client and list paging, against an
// in-process server.
#include "api_client.hpp"

#include <map>
#include <thread>

#include <catch2/catch.hpp>
#include <httplib.h>

#include "../helpers/executor_support.hpp"
#include "commands.hpp"
#include "endpoint.hpp"
#include "failure.hpp"
#include "process.hpp"
#include "serve.hpp"

using namespace wakeplane::cli;

namespace {

/// An httplib server on a free 127.0.0.1 port, serving on its own thread for one test.
class test_server {
public:
    test_server() {
        port_ = server_.bind_to_any_port("127.0.0.1");
        REQUIRE(port_ > 0);
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        REQUIRE(wakeplane::testing::eventually([this] { return server_.is_running(); }));
    }
    test_server(const test_server&) = delete;
    test_server& operator=(const test_server&) = delete;
    ~test_server() {
        server_.stop();
        thread_.join();
    }

    httplib::Server& routes() { return server_; }

    /// A client for this server, with `base` as the address's path.
    api_client client(const std::string& base = "") const {
        return api_client(parse_endpoint("http://127.0.0.1:" + std::to_string(port_) + base).value());
    }

private:
    httplib::Server server_;
    int port_ = 0;
    std::thread thread_;
};

}  // namespace

TEST_CASE("--addr accepts URLs and the daemon's listen form", "[cli][endpoint]") {
    auto ep = parse_endpoint("http://127.0.0.1:8080");
    REQUIRE(ep);
    CHECK(ep->scheme == "http");
    CHECK(ep->host == "127.0.0.1");
    CHECK(ep->port == 8080);
    CHECK(ep->base_path.empty());
    CHECK(ep->display() == "http://127.0.0.1:8080");

    ep = parse_endpoint("127.0.0.1:9000");
    REQUIRE(ep);
    CHECK(ep->origin() == "http://127.0.0.1:9000");

    ep = parse_endpoint("https://wp.example.com/prefix/");
    REQUIRE(ep);
    CHECK(ep->port == 443);
    CHECK(ep->base_path == "/prefix");
    CHECK(ep->display() == "https://wp.example.com:443/prefix");

    ep = parse_endpoint("http://[::1]:8080");
    REQUIRE(ep);
    CHECK(ep->host == "::1");
    CHECK(ep->origin() == "http://[::1]:8080");

    CHECK(parse_endpoint("http://localhost")->port == 80);
}

TEST_CASE("a malformed --addr is a usage failure quoting it", "[cli][endpoint]") {
    for (const char* bad : {"ftp://x", "http://:80", "http://h:0", "http://h:99999", "http://h:x", "http://h:",
                            "http://[::1", "http://h/p?q=1", ""}) {
        INFO(bad);
        const auto ep = parse_endpoint(bad);
        REQUIRE_FALSE(ep);
        CHECK(ep.error().code == exit_code::usage);
        CHECK(ep.error().message.rfind("--addr \"" + std::string(bad) + "\": ", 0) == 0);
    }
}

TEST_CASE("error answers become one line with code, message and details", "[cli][failure]") {
    CHECK(describe_error_answer(404, R"({"code":"not_found","error":"schedule \"x\" was not found"})") ==
          R"(not_found: schedule "x" was not found)");
    CHECK(describe_error_answer(400, R"({"code":"validation_failed","error":"validation failed","details":[
              {"field":"name","message":"must be non-empty"},{"field":"schedule.expr","message":"must parse"}]})") ==
          "validation_failed: name: must be non-empty; schedule.expr: must parse");
    CHECK(describe_error_answer(409, R"({"code":"conflict","error":"name taken","details":[{"field":"name","message":"x"}]})") ==
          "conflict: name taken: name: x");
    CHECK(describe_error_answer(502, "<html>\nBad gateway</html>") == "HTTP 502: <html>");
    CHECK(describe_error_answer(500, "") == "HTTP 500");
    CHECK(describe_error_answer(400, "{\"code\":\"bad_request\",\"error\":\"two\\nlines\"}") == "bad_request: two lines");
}

TEST_CASE("ids are percent-encoded into their path segment", "[cli][client]") {
    CHECK(percent_encode("sch_01ABC-x.y~z") == "sch_01ABC-x.y~z");
    CHECK(percent_encode("a b/c?d") == "a%20b%2Fc%3Fd");
    CHECK(schedule_path("../x") == "/v1/schedules/..%2Fx");
    CHECK(run_path("run_1") == "/v1/runs/run_1");
}

TEST_CASE("the client sends to the base path and decodes JSON answers", "[cli][client]") {
    test_server server;
    std::string seen_body;
    std::string seen_query;
    server.routes().Post("/wp/v1/schedules/sch 1/trigger", [&](const httplib::Request& req, httplib::Response& res) {
        seen_body = req.body;
        res.set_content(R"({"run_id":"run_1","status":"pending"})", "application/json");
    });
    server.routes().Get("/wp/v1/runs", [&](const httplib::Request& req, httplib::Response& res) {
        seen_query = req.get_param_value("schedule_id");
        res.set_content(R"({"items":[],"next_cursor":null})", "application/json");
    });
    const auto client = server.client("/wp/");

    const auto triggered = client.post(schedule_path("sch 1") + "/trigger", R"({"reason":"r"})");
    REQUIRE(triggered);
    CHECK((*triggered)["run_id"] == "run_1");
    CHECK(seen_body == R"({"reason":"r"})");

    const auto runs = client.get("/v1/runs", {{"schedule_id", "a&b=c"}});
    REQUIRE(runs);
    CHECK(seen_query == "a&b=c");
}

TEST_CASE("an error answer and a non-JSON answer are exit-1 failures", "[cli][client]") {
    test_server server;
    server.routes().Get("/v1/runs/x", [](const httplib::Request&, httplib::Response& res) {
        res.status = 404;
        res.set_content(R"({"code":"not_found","error":"run \"x\" was not found"})", "application/json");
    });
    server.routes().Get("/v1/odd", [](const httplib::Request&, httplib::Response& res) {
        res.set_content("hello", "text/plain");
    });
    const auto client = server.client();
    const auto missing = client.get("/v1/runs/x");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == exit_code::failed);
    CHECK(missing.error().message == R"(not_found: run "x" was not found)");
    const auto odd = client.get("/v1/odd");
    REQUIRE_FALSE(odd);
    CHECK(odd.error().message.find("is not JSON: hello") != std::string::npos);
}

TEST_CASE("an unreachable server says why in one line", "[cli][client]") {
    const int port = wakeplane::testing::free_port();  // released: nobody listens there
    const api_client client(parse_endpoint("http://127.0.0.1:" + std::to_string(port)).value());
    const auto answer = client.get("/v1/schedules");
    REQUIRE_FALSE(answer);
    CHECK(answer.error().code == exit_code::failed);
    CHECK(answer.error().message == "cannot reach http://127.0.0.1:" + std::to_string(port) + ": connection refused");
}

TEST_CASE("--all follows next_cursor until null and returns every row once", "[cli][paging]") {
    test_server server;
    // Three pages: cursor "" → rows 1-2, "c1" → rows 3-4, "c2" → row 5.
    const std::map<std::string, std::string> pages = {
        {"", R"({"items":[{"id":"1"},{"id":"2"}],"next_cursor":"c1"})"},
        {"c1", R"({"items":[{"id":"3"},{"id":"4"}],"next_cursor":"c2"})"},
        {"c2", R"({"items":[{"id":"5"}],"next_cursor":null})"},
    };
    std::vector<std::string> limits;
    server.routes().Get("/v1/schedules", [&](const httplib::Request& req, httplib::Response& res) {
        limits.push_back(req.get_param_value("limit"));
        CHECK(req.get_param_value("enabled") == "true");
        res.set_content(pages.at(req.get_param_value("cursor")), "application/json");
    });
    const auto client = server.client();

    const auto all = fetch_list(client, "/v1/schedules", {{"enabled", "true"}}, page_options{2, {}, true});
    REQUIRE(all);
    CHECK(all->dump() == R"({"items":[{"id":"1"},{"id":"2"},{"id":"3"},{"id":"4"},{"id":"5"}],"next_cursor":null})");
    CHECK(limits == std::vector<std::string>{"2", "2", "2"});

    const auto one = fetch_list(client, "/v1/schedules", {{"enabled", "true"}}, page_options{2, std::string("c1"), false});
    REQUIRE(one);
    CHECK(one->dump() == pages.at("c1"));
}

TEST_CASE("--all stops with an error when the server repeats a cursor", "[cli][paging]") {
    test_server server;
    server.routes().Get("/v1/runs", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(R"({"items":[{"id":"1"}],"next_cursor":"same"})", "application/json");
    });
    const auto all = fetch_list(server.client(), "/v1/runs", {}, page_options{{}, {}, true});
    REQUIRE_FALSE(all);
    CHECK(all.error().message == "the server repeated the cursor same while listing /v1/runs");
}

TEST_CASE("serve looks for the daemon next to the CLI, then in the build tree", "[cli][serve]") {
    const auto candidates = daemon_candidates("/opt/wp/bin");
    REQUIRE(candidates.size() == 2);
    CHECK(candidates[0] == "/opt/wp/bin/wakeplaned");
    CHECK(candidates[1] == "/opt/wp/bin/src/daemon/wakeplaned");
}
