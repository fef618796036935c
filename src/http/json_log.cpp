// spdlog behind the logger callback: a formatter that writes each event as one JSON line.
#include <wakeplane/http/json_log.hpp>

#include <chrono>
#include <memory>
#include <string>

#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <wakeplane/codec.hpp>
#include <wakeplane/time.hpp>

namespace wakeplane::http {
namespace {

spdlog::level::level_enum to_spdlog(log_level l) noexcept {
    switch (l) {
    case log_level::debug: return spdlog::level::debug;
    case log_level::info: return spdlog::level::info;
    case log_level::warn: return spdlog::level::warn;
    case log_level::error: return spdlog::level::err;
    }
    return spdlog::level::info;
}

std::string_view level_name(spdlog::level::level_enum l) noexcept {
    switch (l) {
    case spdlog::level::trace:
    case spdlog::level::debug: return to_string(log_level::debug);
    case spdlog::level::warn: return to_string(log_level::warn);
    case spdlog::level::err:
    case spdlog::level::critical: return to_string(log_level::error);
    default: return to_string(log_level::info);
    }
}

/// Wraps the payload (`"msg":…,fields…`, built by the logger function) in `{"time","level",…}`.
class json_formatter final : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        const auto t = std::chrono::time_point_cast<duration>(msg.time);
        std::string head = R"({"time":")" + format_rfc3339(time_point{t.time_since_epoch()}) + R"(","level":")";
        head += level_name(msg.level);
        head += "\",";
        dest.append(head.data(), head.data() + head.size());
        dest.append(msg.payload.data(), msg.payload.data() + msg.payload.size());
        dest.push_back('}');
        dest.push_back('\n');
    }

    [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<json_formatter>(); }
};

}  // namespace

logger stderr_json_logger(log_level min) {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto out = std::make_shared<spdlog::logger>("wakeplane", sink);
    out->set_formatter(std::make_unique<json_formatter>());
    out->set_level(to_spdlog(min));
    out->flush_on(spdlog::level::trace);
    return [out](log_level level, std::string_view message, const log_fields& fields) {
        const auto l = to_spdlog(level);
        if (!out->should_log(l)) {
            return;
        }
        std::string payload = "\"msg\":" + encode_json_string(message);
        for (const auto& f : fields) {
            payload += ',';
            payload += encode_json_string(f.key);
            payload += ':';
            payload += f.json;
        }
        out->log(l, spdlog::string_view_t{payload.data(), payload.size()});
    };
}

}  // namespace wakeplane::http
