// Structured log events of a hosted scheduler: a level, a message and typed fields, handed to a
// callback so that the library never chooses a logging framework for its host.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <wakeplane/codec.hpp>

namespace wakeplane {

/// Severity of a log event, lowest first.
enum class log_level { debug, info, warn, error };

/// `DEBUG`, `INFO`, `WARN` or `ERROR`: the spelling of the `level` key (the original's slog names).
[[nodiscard]] constexpr std::string_view to_string(log_level l) noexcept {
    switch (l) {
    case log_level::debug: return "DEBUG";
    case log_level::info: return "INFO";
    case log_level::warn: return "WARN";
    case log_level::error: return "ERROR";
    }
    return "INFO";
}

/// `debug`, `info`, `warn` (or `warning`) or `error`, any case; nullopt otherwise.
[[nodiscard]] inline std::optional<log_level> parse_log_level(std::string_view text) noexcept {
    std::string lower;
    for (const char c : text) {
        lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    if (lower == "debug") {
        return log_level::debug;
    }
    if (lower == "info") {
        return log_level::info;
    }
    if (lower == "warn" || lower == "warning") {
        return log_level::warn;
    }
    if (lower == "error") {
        return log_level::error;
    }
    return std::nullopt;
}

/// One attribute of a log event; the value is kept as JSON text, so a sink writes it as is.
struct log_field {
    std::string key;
    std::string json;

    log_field(std::string_view k, std::string_view text) : key(k), json(encode_json_string(text)) {}
    log_field(std::string_view k, const char* text) : log_field(k, std::string_view{text}) {}
    log_field(std::string_view k, const std::string& text) : log_field(k, std::string_view{text}) {}
    log_field(std::string_view k, std::int64_t n) : key(k), json(std::to_string(n)) {}
    log_field(std::string_view k, int n) : key(k), json(std::to_string(n)) {}
    log_field(std::string_view k, std::size_t n) : key(k), json(std::to_string(n)) {}
    log_field(std::string_view k, bool b) : key(k), json(b ? "true" : "false") {}
};

using log_fields = std::vector<log_field>;

/// Where log events go. Called from any thread; must be thread-safe. An empty function drops
/// every event.
///
/// Example:
///     logger log = [](log_level l, std::string_view msg, const log_fields& f) { ... };
///     log(log_level::info, "listening", {{"addr", "127.0.0.1:8080"}});
using logger = std::function<void(log_level, std::string_view message, const log_fields& fields)>;

/// Calls `log` when it is set.
inline void emit(const logger& log, log_level level, std::string_view message, const log_fields& fields = {}) {
    if (log) {
        log(level, message, fields);
    }
}

}  // namespace wakeplane
