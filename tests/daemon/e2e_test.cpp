// wakeplaned end to end: the real daemon over HTTP on 127.0.0.1, a temporary directory, the store
// named by WAKEPLANE_E2E_STORE (sqlite or rocksdb; meson runs this program once for each).
#include <catch2/catch.hpp>

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include <wakeplane/testing/temp_dir.hpp>

#include "daemon_process.hpp"
#include "prometheus.hpp"

using namespace wakeplane::testing;
using json = nlohmann::json;

namespace {

std::string store_under_test() {
    const char* s = std::getenv("WAKEPLANE_E2E_STORE");
    return s != nullptr ? s : "sqlite";
}

/// A client of one daemon address.
class api_client {
public:
    explicit api_client(const std::string& addr) : cli_(std::make_unique<httplib::Client>("http://" + addr)) {
        cli_->set_connection_timeout(std::chrono::seconds{5});
        cli_->set_read_timeout(std::chrono::seconds{10});
    }

    /// Sends a GET or a POST; the status and the body parsed as JSON (discarded when not JSON).
    std::pair<int, json> send(const std::string& method, const std::string& path, const std::string& body = "") {
        httplib::Result r = method == "GET" ? cli_->Get(path) : cli_->Post(path, body, "application/json");
        REQUIRE(r);
        return {r->status, json::parse(r->body, nullptr, false)};
    }

    json get(const std::string& path, int expect = 200) {
        auto [status, body] = send("GET", path);
        INFO("GET " << path << " -> " << status << " " << body.dump());
        REQUIRE(status == expect);
        return body;
    }

    json post(const std::string& path, const json& body, int expect = 200) {
        auto [status, out] = send("POST", path, body.dump());
        INFO("POST " << path << " -> " << status << " " << out.dump());
        REQUIRE(status == expect);
        return out;
    }

    std::string metrics() {
        auto r = cli_->Get("/v1/metrics");
        REQUIRE(r);
        REQUIRE(r->status == 200);
        return r->body;
    }

    /// The HTTP client itself, for requests the helpers above do not make.
    httplib::Client& raw() { return *cli_; }

private:
    std::unique_ptr<httplib::Client> cli_;  // a pointer: a restarted daemon gets a new client
};

/// A daemon in a temporary directory with short ticks, TTL and drain, restartable on the same store.
class daemon_fixture {
public:
    daemon_fixture() : db_(store_under_test() == "rocksdb" ? "store.rocksdb" : "wakeplane.db") {}

    /// Starts the daemon (again) and returns a client of it.
    api_client start() {
        ++starts_;
        process_ = std::make_unique<daemon_process>(
            binary_from_env("WAKEPLANED_BIN"), std::vector<std::string>{},
            std::map<std::string, std::string>{{"WAKEPLANE_STORE", store_under_test()},
                                               {"WAKEPLANE_DB_PATH", db_},
                                               {"WAKEPLANE_HTTP_ADDR", "127.0.0.1:0"},
                                               {"WAKEPLANE_SCHEDULER_INTERVAL_SECONDS", "1"},
                                               {"WAKEPLANE_DISPATCHER_INTERVAL_SECONDS", "1"},
                                               {"WAKEPLANE_LEASE_TTL_SECONDS", "2"},
                                               {"WAKEPLANE_SHUTDOWN_TIMEOUT_SECONDS", "1"},
                                               {"WAKEPLANE_LOG_LEVEL", "debug"}},
            dir_.path(), "daemon-" + std::to_string(starts_) + ".log");
        return api_client{process_->wait_listening()};
    }

    /// SIGTERM, then the exit status (which must come within the deadline).
    int terminate() {
        process_->signal(SIGTERM);
        auto status = process_->wait_exit();
        INFO(process_->log());
        REQUIRE(status);
        return *status;
    }

    /// SIGKILL: a crash, nothing cleaned up.
    void crash() {
        process_->signal(SIGKILL);
        REQUIRE(process_->wait_exit() == 128 + SIGKILL);
    }

    [[nodiscard]] daemon_process& process() { return *process_; }
    [[nodiscard]] const std::filesystem::path& dir() const { return dir_.path(); }
    [[nodiscard]] const std::string& db() const { return db_; }

    /// The content of a file the shell targets write in the daemon's directory.
    [[nodiscard]] std::string file(const std::string& name) const {
        std::ifstream in{dir_.path() / name};
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

private:
    temp_dir dir_{"wakeplaned-e2e"};
    std::string db_;
    int starts_ = 0;
    std::unique_ptr<daemon_process> process_;
};

/// A shell schedule created disabled (it runs only when triggered) running `/bin/sh -c script`.
json shell_schedule(const std::string& name, const std::string& script, const json& retry = json::object()) {
    return {{"name", name},
            {"enabled", false},
            {"timezone", "UTC"},
            {"schedule", {{"kind", "interval"}, {"every_seconds", 3600}}},
            {"target", {{"kind", "shell"}, {"command", "/bin/sh"}, {"args", {"-c", script}}}},
            {"retry", retry}};
}

/// The runs of `schedule`, oldest first.
json runs_of(api_client& api, const std::string& schedule) {
    auto items = api.get("/v1/runs?limit=500&schedule_id=" + schedule)["items"];
    std::reverse(items.begin(), items.end());
    return items;
}

/// The run of `schedule` with `attempt`, or null.
json attempt_of(api_client& api, const std::string& schedule, int attempt) {
    for (const auto& r : runs_of(api, schedule)) {
        if (r["attempt"] == attempt) {
            return api.get("/v1/runs/" + r["id"].get<std::string>());
        }
    }
    return nullptr;
}

/// The body of `run`'s receipt of `kind`.
std::string receipt_body(const json& run, const std::string& kind) {
    for (const auto& r : run["receipts"]) {
        if (r["receipt_kind"] == kind) {
            return r["body"].get<std::string>();
        }
    }
    return "(none)";
}

}  // namespace

TEST_CASE("a shell schedule runs, leaves receipts, and everything survives a restart", "[e2e]") {
    daemon_fixture d;
    auto api = d.start();

    const json echo = {{"name", "echo"},
                       {"timezone", "UTC"},
                       {"schedule", {{"kind", "interval"}, {"every_seconds", 1}}},
                       {"target", {{"kind", "shell"}, {"command", "/bin/echo"}, {"args", {"hello"}}}}};
    const auto created = api.post("/v1/schedules", echo, 201);
    const auto id = created["id"].get<std::string>();
    const auto fetched = api.get("/v1/schedules/" + id);
    CHECK(fetched["name"] == "echo");
    CHECK(fetched["target"] == created["target"]);
    CHECK(api.get("/v1/schedules")["items"][0]["id"] == id);
    CHECK(api.post("/v1/schedules", echo, 409)["code"] == "conflict");

    json run;
    REQUIRE(eventually([&] {
        auto done = api.get("/v1/runs?status=succeeded&schedule_id=" + id)["items"];
        if (done.empty()) {
            return false;
        }
        run = api.get("/v1/runs/" + done[0]["id"].get<std::string>());
        return true;
    }));
    CHECK(run["exit_code"] == 0);
    CHECK(run["result_json"] == json::parse(R"({"args":["hello"],"command":"/bin/echo"})"));
    REQUIRE(run["receipts"].size() == 2);
    CHECK(receipt_body(run, "stdout") == "hello\n");
    CHECK(receipt_body(run, "stderr") == "");

    const auto status = api.get("/v1/status");
    CHECK(status["database"] == json{{"driver", store_under_test()}, {"path", d.db()}});
    CHECK(status["workers"]["worker_id"].get<std::string>().ends_with(":" + std::to_string(d.process().pid())));
    CHECK(status["scheduler"]["loop_interval_seconds"] == 1);
    CHECK(status["scheduler"]["last_tick_at"] != "");
    const auto metrics = parse_prometheus(api.metrics());
    CHECK(metrics.value("runs_succeeded_total") >= 1);
    CHECK(metrics.value("executor_runs_total", {{"executor", "shell"}, {"status", "succeeded"}}) >= 1);
    CHECK(d.process().find_log("request"));  // debug level: one line per request

    CHECK(api.post("/v1/schedules/" + id + "/pause", json::object())["enabled"] == false);
    json before;
    REQUIRE(eventually([&] {  // runs queued before the pause still execute (DECISIONS 11)
        before = runs_of(api, id);
        return std::all_of(before.begin(), before.end(), [](const json& r) {
            return r["status"] == "succeeded" || r["status"] == "skipped";
        });
    }));
    CHECK(d.terminate() == 0);
    for (const auto* line : {"signal received, shutting down HTTP server", "shutdown requested", "run loop stopped",
                             "dispatcher shutdown complete", "shutdown complete", "serve stopped cleanly"}) {
        INFO(line);
        CHECK(d.process().find_log(line));
    }

    api = d.start();
    const auto again = api.get("/v1/schedules/" + id);
    CHECK(again["name"] == "echo");
    CHECK(again["enabled"] == false);
    CHECK(runs_of(api, id) == before);
    CHECK(api.get("/v1/runs/" + run["id"].get<std::string>()) == run);

    // A delete hides the schedule and keeps its history (DECISIONS 22).
    auto deleted = api.raw().Delete("/v1/schedules/" + id);
    REQUIRE(deleted);
    CHECK(json::parse(deleted->body) == json{{"deleted", true}, {"id", id}});
    CHECK(api.get("/v1/schedules/" + id, 404)["code"] == "not_found");
    CHECK(api.get("/v1/schedules/" + id + "/runs?limit=500")["items"].size() == before.size());
    CHECK(d.terminate() == 0);
}

TEST_CASE("the server answers its own errors with the envelope too", "[e2e][server]") {
    daemon_fixture d;
    auto api = d.start();
    auto& http = api.raw();

    const auto big = http.Post("/v1/schedules", std::string(2 * 1024 * 1024, ' '), "application/json");
    REQUIRE(big);
    CHECK(big->status == 413);
    CHECK(json::parse(big->body)["code"] == "payload_too_large");

    const auto wrong = http.Put("/v1/runs", "{}", "application/json");
    REQUIRE(wrong);
    CHECK(wrong->status == 405);
    CHECK(wrong->get_header_value("Allow") == "GET, HEAD");
    CHECK(wrong->get_header_value("Content-Type") == "application/json");

    const auto unknown = http.Get("/nope");
    REQUIRE(unknown);
    CHECK(unknown->status == 404);
    CHECK(unknown->body == "{\"code\":\"not_found\",\"error\":\"no route for GET /nope\"}\n");

    const auto head = http.Head("/v1/status");
    REQUIRE(head);
    CHECK(head->status == 200);
    CHECK(head->body.empty());

    const auto ready = http.Get("/readyz");
    REQUIRE(ready);
    CHECK(ready->body == "{\"ok\":true,\"storage\":\"ok\"}\n");
    CHECK(d.terminate() == 0);
}

TEST_CASE("a failing shell target retries into a dead letter", "[e2e]") {
    daemon_fixture d;
    auto api = d.start();
    const auto id = api.post("/v1/schedules",
                             shell_schedule("failing", "echo oops >&2; exit 3",
                                            {{"max_attempts", 2}, {"initial_delay_seconds", 1}, {"max_delay_seconds", 1}}),
                             201)["id"]
                        .get<std::string>();
    const auto trigger = api.post("/v1/schedules/" + id + "/trigger", {{"reason", "e2e"}});
    CHECK(trigger["status"] == "pending");

    json letters;
    REQUIRE(eventually([&] {
        letters = api.get("/v1/dead-letters?schedule_id=" + id)["items"];
        return !letters.empty();
    }));
    REQUIRE(letters.size() == 1);
    CHECK(letters[0]["reason"] == "exit status 3");
    CHECK(letters[0]["occurrence_key"] == trigger["occurrence_key"]);

    const auto first = attempt_of(api, id, 1);
    CHECK(first["status"] == "failed");
    CHECK(first["exit_code"] == 3);
    CHECK(first["error_text"] == "exit status 3");
    CHECK(first["trigger_reason"] == "e2e");
    const auto second = attempt_of(api, id, 2);
    CHECK(second["status"] == "dead_lettered");
    CHECK(second["id"] == letters[0]["run_id"]);
    CHECK(receipt_body(second, "stderr") == "oops\n");
    CHECK(runs_of(api, id).size() == 2);
    CHECK(d.terminate() == 0);
}

TEST_CASE("kill -9 while a run executes: after a restart it is recovered and runs again, never twice", "[e2e][crash]") {
    daemon_fixture d;
    auto api = d.start();
    // Each attempt notes its number, and its process group, then works for a while.
    const auto id = api.post("/v1/schedules",
                             shell_schedule("slow", "echo $WAKEPLANE_ATTEMPT >> marks; echo $$ > group.$WAKEPLANE_ATTEMPT; sleep 2",
                                            {{"max_attempts", 3}, {"initial_delay_seconds", 1}, {"max_delay_seconds", 1}}),
                             201)["id"]
                        .get<std::string>();
    api.post("/v1/schedules/" + id + "/trigger", {{"reason", "crash test"}});
    REQUIRE(eventually([&] { return d.file("marks") == "1\n" && !d.file("group.1").empty(); }));
    REQUIRE(attempt_of(api, id, 1)["status"] == "running");

    d.crash();
    ::kill(-std::stoi(d.file("group.1")), SIGKILL);  // the machine lost the work too

    api = d.start();
    json second;
    REQUIRE(eventually([&] {
        second = attempt_of(api, id, 2);
        return !second.is_null() && second["status"] == "succeeded";
    }));
    const auto first = attempt_of(api, id, 1);
    CHECK(first["status"] == "failed");
    CHECK(first["error_text"] == "worker lease expired during execution");
    CHECK(d.file("marks") == "1\n2\n");
    CHECK(runs_of(api, id).size() == 2);
    CHECK(d.terminate() == 0);
}

TEST_CASE("SIGTERM while a long run executes: it is requeued, not lost, and the exit is 0", "[e2e][drain]") {
    daemon_fixture d;
    auto api = d.start();
    const auto id = api.post("/v1/schedules", shell_schedule("long", "sleep 30"), 201)["id"].get<std::string>();
    api.post("/v1/schedules/" + id + "/trigger", {{"reason", "drain test"}});
    REQUIRE(eventually([&] {
        const auto first = attempt_of(api, id, 1);
        return !first.is_null() && first["status"] == "running";
    }));

    CHECK(d.terminate() == 0);
    CHECK(d.process().find_log("run interrupted by shutdown; requeued"));

    api = d.start();
    const auto first = attempt_of(api, id, 1);
    CHECK(first["status"] == "cancelled");
    CHECK(first["error_text"] == "interrupted by shutdown");
    REQUIRE(eventually([&] {
        const auto second = attempt_of(api, id, 2);
        return !second.is_null() && second["status"] == "running";
    }));
    CHECK(attempt_of(api, id, 2)["trigger_reason"] == "drain test");
    CHECK(d.terminate() == 0);
}

TEST_CASE("invalid configuration stops start-up with one line and exit code 2", "[e2e][config]") {
    temp_dir dir{"wakeplaned-config"};
    const auto bin = binary_from_env("WAKEPLANED_BIN");
    const std::vector<std::map<std::string, std::string>> bad{
        {{"WAKEPLANE_LEASE_TTL_SECONDS", "0"}},
        {{"WAKEPLANE_SCHEDULER_INTERVAL_SECONDS", "five"}},
        {{"WAKEPLANE_DISPATCHER_INTERVAL_SECONDS", "-2"}},
        {{"WAKEPLANE_STORE", "postgres"}},
    };
    int n = 0;
    for (const auto& env : bad) {
        daemon_process p{bin, {}, env, dir.path(), "bad-" + std::to_string(++n) + ".log"};
        CHECK(p.wait_exit() == 2);
        const auto out = p.log();
        INFO(out);
        CHECK(out.starts_with("wakeplaned: invalid configuration: "));
        CHECK(std::count(out.begin(), out.end(), '\n') == 1);
    }
    daemon_process flag{bin, {"--lease-ttl", "x"}, {}, dir.path(), "flag.log"};
    CHECK(flag.wait_exit() == 2);
    CHECK(flag.log().starts_with("wakeplaned: invalid configuration: --lease-ttl must be"));

    daemon_process version{bin, {"--version"}, {}, dir.path(), "version.log"};
    CHECK(version.wait_exit() == 0);
    CHECK(version.log() == std::string(WAKEPLANE_VERSION) + "\n");
}

TEST_CASE("the embedded example serves the same API with its own policies and workflow", "[e2e][embedded]") {
    if (store_under_test() != "sqlite") {
        return;  // the example has one store; run it once
    }
    temp_dir dir{"wakeplane-embedded"};
    daemon_process host{binary_from_env("WAKEPLANE_EMBEDDED_BIN"), {"127.0.0.1:0", "embedded.db"}, {}, dir.path()};
    api_client api{host.wait_listening()};

    const auto schedules = api.get("/v1/schedules")["items"];
    REQUIRE(schedules.size() == 1);
    CHECK(schedules[0]["name"] == "customer-sync");
    const auto id = schedules[0]["id"].get<std::string>();
    CHECK(api.get("/v1/schedules/" + id)["retry"]["strategy"] == "fixed");

    const auto run_id = api.post("/v1/schedules/" + id + "/trigger", {{"reason", "e2e"}})["run_id"].get<std::string>();
    json run;
    REQUIRE(eventually([&] {
        run = api.get("/v1/runs/" + run_id);
        return run["status"] == "succeeded";
    }));
    CHECK(run["result_json"] == json::parse(R"({"attempt":1,"source":"crm","synced":42})"));
    CHECK(run["receipts"][0]["receipt_kind"] == "workflow_result");

    json catch_up = shell_schedule("replay", "true");
    catch_up["policy"] = {{"misfire", "catch_up"}};
    const auto refused = api.post("/v1/schedules", catch_up, 400);
    CHECK(refused["details"][0] == json::parse(R"({"field":"policy.misfire","message":"must be one of skip, run_once_if_late"})"));

    host.signal(SIGTERM);
    CHECK(host.wait_exit() == 0);
}
