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

    /// Starts the daemon (again) with `extra` settings and `args`, and returns a client of it.
    api_client start(const std::map<std::string, std::string>& extra = {}, const std::vector<std::string>& args = {}) {
        launch(extra, args);
        return api_client{process_->wait_listening()};
    }

    /// Starts the daemon without waiting for it to listen (for start-ups that must fail).
    daemon_process& launch(const std::map<std::string, std::string>& extra, const std::vector<std::string>& args = {}) {
        ++starts_;
        std::map<std::string, std::string> env{{"WAKEPLANE_STORE", store_under_test()},
                                               {"WAKEPLANE_DB_PATH", db_},
                                               {"WAKEPLANE_HTTP_ADDR", "127.0.0.1:0"},
                                               {"WAKEPLANE_SCHEDULER_INTERVAL_SECONDS", "1"},
                                               {"WAKEPLANE_DISPATCHER_INTERVAL_SECONDS", "1"},
                                               {"WAKEPLANE_LEASE_TTL_SECONDS", "2"},
                                               {"WAKEPLANE_SHUTDOWN_TIMEOUT_SECONDS", "1"},
                                               {"WAKEPLANE_LOG_LEVEL", "debug"}};
        for (const auto& [k, v] : extra) {
            env[k] = v;
        }
        process_ = std::make_unique<daemon_process>(binary_from_env("WAKEPLANED_BIN"), args, env, dir_.path(),
                                                    "daemon-" + std::to_string(starts_) + ".log");
        return *process_;
    }

    /// Writes `text` to `name` in the daemon's directory and returns its absolute path.
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream{dir_.path() / name} << text;
        return (dir_.path() / name).string();
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

namespace {

/// The first attempt of `schedule` once it has ended (any terminal status).
json ended_first_attempt(api_client& api, const std::string& schedule) {
    json run;
    REQUIRE(eventually([&] {
        run = attempt_of(api, schedule, 1);
        return !run.is_null() && (run["status"] == "failed" || run["status"] == "dead_lettered" ||
                                  run["status"] == "succeeded");
    }));
    return run;
}

}  // namespace

TEST_CASE("with API tokens every route but the probes needs one, and the log names the token", "[e2e][auth]") {
    daemon_fixture d;
    auto api = d.start({{"WAKEPLANE_API_TOKENS_FILE", d.write("tokens", "# CI\nci:e2e-secret-1234\n")}});
    auto& http = api.raw();

    CHECK(api.get("/healthz")["ok"] == true);
    CHECK(api.get("/readyz")["ok"] == true);
    const auto refused = http.Get("/v1/schedules");
    REQUIRE(refused);
    CHECK(refused->status == 401);
    CHECK(json::parse(refused->body)["code"] == "unauthorized");
    CHECK(refused->get_header_value("WWW-Authenticate") == "Bearer realm=\"wakeplane\"");
    const auto wrong = http.Post("/v1/schedules", {{"Authorization", "Bearer e2e-secret-123"}},
                                 shell_schedule("x", "true").dump(), "application/json");
    REQUIRE(wrong);
    CHECK(wrong->status == 401);

    http.set_bearer_token_auth("e2e-secret-1234");
    CHECK(api.post("/v1/schedules", shell_schedule("x", "true"), 201)["name"] == "x");
    CHECK(api.get("/v1/schedules")["items"].size() == 1);  // the refused POST created nothing

    CHECK(d.process().find_log("starting").value()["api_tokens"] == 1);
    const auto log = d.process().log();
    CHECK(log.find(R"("path":"/v1/schedules","status":201)") != std::string::npos);
    CHECK(log.find(R"("token":"ci")") != std::string::npos);
    CHECK(log.find("e2e-secret-1234") == std::string::npos);  // the secret never reaches the log
    CHECK(d.terminate() == 0);
}

TEST_CASE("a non-loopback address needs API tokens or --insecure-listen", "[e2e][auth]") {
    daemon_fixture d;
    auto& refused = d.launch({{"WAKEPLANE_HTTP_ADDR", "0.0.0.0:0"}});
    CHECK(refused.wait_exit() == 2);
    CHECK(refused.log() ==
          "wakeplaned: invalid configuration: WAKEPLANE_HTTP_ADDR 0.0.0.0:0 is reachable from other machines and no "
          "API tokens are configured: set WAKEPLANE_API_TOKENS_FILE, or pass --insecure-listen to serve it without "
          "authentication\n");

    d.start({{"WAKEPLANE_HTTP_ADDR", "0.0.0.0:0"}}, {"--insecure-listen"});
    const auto warning = d.process().find_log("serving without authentication on a non-loopback address (--insecure-listen)");
    REQUIRE(warning);
    CHECK((*warning)["level"] == "WARN");
    CHECK(d.terminate() == 0);
}

TEST_CASE("a shell command the allow list stopped allowing fails its run and never starts", "[e2e][shell]") {
    daemon_fixture d;
    const auto allow = d.write("allow", "/bin/\n");
    auto api = d.start({{"WAKEPLANE_SHELL_ALLOW", allow}});
    const auto id = api.post("/v1/schedules", shell_schedule("marker", "echo ran > marker", {{"max_attempts", 1}}), 201)["id"]
                        .get<std::string>();
    CHECK(d.terminate() == 0);

    d.write("allow", "# /bin/sh is no longer allowed\n/usr/local/bin/\n");
    api = d.start({{"WAKEPLANE_SHELL_ALLOW", allow}});
    const auto refused = api.post("/v1/schedules", shell_schedule("again", "true"), 400);
    CHECK(refused["details"] == json::parse(R"([{"field":"target.command","message":"is not allowed on this server"}])"));

    api.post("/v1/schedules/" + id + "/trigger", {{"reason", "after the list shrank"}});
    const auto run = ended_first_attempt(api, id);
    CHECK(run["status"] != "succeeded");
    CHECK(run["error_text"] == "command \"/bin/sh\" is not allowed on this server");
    CHECK_FALSE(run.contains("exit_code"));  // nothing was started
    CHECK_FALSE(std::filesystem::exists(d.dir() / "marker"));
    CHECK(d.terminate() == 0);
}

TEST_CASE("request, header and receipt limits and the HTTP deny list are configurable", "[e2e][limits]") {
    daemon_fixture d;
    auto api = d.start({{"WAKEPLANE_MAX_BODY_BYTES", "2048"},
                        {"WAKEPLANE_MAX_HEADER_COUNT", "12"},
                        {"WAKEPLANE_MAX_RECEIPT_BYTES", "16"},
                        {"WAKEPLANE_HTTP_DENY", "169.254.169.254/32, 127.0.0.0/8"}});
    auto& http = api.raw();

    const auto big = http.Post("/v1/schedules", std::string(4096, ' '), "application/json");
    REQUIRE(big);
    CHECK(big->status == 413);
    CHECK(big->body == "{\"code\":\"payload_too_large\",\"error\":\"request body exceeds the limit of 2048 bytes\"}\n");

    httplib::Headers many;
    for (int i = 0; i < 20; ++i) {
        many.emplace("X-Filler-" + std::to_string(i), "1");
    }
    const auto crowded = http.Get("/v1/status", many);
    REQUIRE(crowded);
    CHECK(crowded->status == 431);
    const auto crowded_body = json::parse(crowded->body);
    CHECK(crowded_body["code"] == "request_header_fields_too_large");
    CHECK(crowded_body["error"].get<std::string>().ends_with("header fields; the limit is 12"));
    CHECK(api.get("/v1/status")["database"]["driver"] == store_under_test());  // a few headers pass

    const auto loud = api.post("/v1/schedules", shell_schedule("loud", "printf '%0100d' 0"), 201)["id"].get<std::string>();
    api.post("/v1/schedules/" + loud + "/trigger", {{"reason", "limits"}});
    const auto printed = ended_first_attempt(api, loud);
    CHECK(printed["status"] == "succeeded");
    CHECK(receipt_body(printed, "stdout") == std::string(16, '0'));
    for (const auto& r : printed["receipts"]) {
        CHECK(r.value("truncated", false) == (r["receipt_kind"] == "stdout"));  // stderr was empty
    }

    json self = shell_schedule("self", "true", {{"max_attempts", 1}});
    const auto port = d.process().find_log("listening").value()["addr"].get<std::string>().substr(std::string("127.0.0.1:").size());
    const auto url = "http://127.0.0.1:" + port + "/healthz";
    self["target"] = {{"kind", "http"}, {"method", "GET"}, {"url", url}};
    const auto denied = api.post("/v1/schedules", self, 201)["id"].get<std::string>();
    api.post("/v1/schedules/" + denied + "/trigger", {{"reason", "ssrf"}});
    const auto refused = ended_first_attempt(api, denied);
    CHECK(refused["error_text"] == "Get \"" + url + "\": address 127.0.0.1 is in the denied range 127.0.0.0/8");
    CHECK_FALSE(refused.contains("http_status_code"));
    CHECK(d.terminate() == 0);
}
