// Defaults, validation and PATCH merging of schedule definitions.
#include <wakeplane/validate.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <iterator>
#include <string>
#include <system_error>

#include <wakeplane/cron.hpp>
#include <wakeplane/tz.hpp>

namespace wakeplane {
namespace {

/// Collects field errors in the order the checks run, which is the order the API reports them.
class error_list {
public:
    void add(std::string field, std::string message) { errors_.push_back({std::move(field), std::move(message)}); }
    [[nodiscard]] std::vector<field_error> take() { return std::move(errors_); }

private:
    std::vector<field_error> errors_;
};

/// `s` without leading and trailing ASCII whitespace, as Go's strings.TrimSpace sees it for ASCII.
std::string_view trim(std::string_view s) noexcept {
    constexpr std::string_view space = " \t\n\v\f\r";
    const auto first = s.find_first_not_of(space);
    if (first == std::string_view::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(space) - first + 1);
}

bool is_blank(std::string_view s) noexcept { return trim(s).empty(); }

bool contains(const std::vector<std::string_view>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

std::string one_of(const std::vector<std::string_view>& names) { return "must be one of " + join_names(names); }

const std::string too_long = "must be <= " + std::to_string(max_duration_seconds);

/// RFC 9110 `tchar`: the characters of a header name.
bool is_token_char(char c) noexcept {
    constexpr std::string_view symbols = "!#$%&'*+-.^_`|~";
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           symbols.find(c) != std::string_view::npos;
}

bool is_header_name(std::string_view name) noexcept {
    return !name.empty() && std::all_of(name.begin(), name.end(), is_token_char);
}

/// A header value must not smuggle a line break or NUL into the request the executor sends.
bool is_header_value(std::string_view value) noexcept {
    return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool is_hex(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/// True when every `%` starts a two-digit hex escape, as Go's URL parser requires.
bool escapes_are_valid(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) {
                return false;
            }
            i += 2;
        }
    }
    return true;
}

/// A registered name, IPv4 address or percent-escaped host: RFC 3986 unreserved and sub-delims,
/// plus non-ASCII bytes (internationalized names, as Go accepts them).
bool is_host_char(char c) noexcept {
    constexpr std::string_view allowed = "-._~%!$&'()*+,;=";
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           static_cast<unsigned char>(c) >= 0x80 || allowed.find(c) != std::string_view::npos;
}

/// An IPv6 literal's inside, with an optional `%25` zone: hex digits, `:` and `.` (embedded IPv4).
bool is_ipv6_literal(std::string_view s) noexcept {
    const auto zone = s.find('%');
    const std::string_view address = s.substr(0, zone);
    return !address.empty() && address.find(':') != std::string_view::npos &&
           std::all_of(address.begin(), address.end(), [](char c) { return is_hex(c) || c == ':' || c == '.'; });
}

/// An optional port: digits only, at most 65535. Empty is allowed (RFC 3986 permits `host:`).
bool is_port(std::string_view s) noexcept {
    if (s.empty()) {
        return true;
    }
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
    return ec == std::errc{} && end == s.data() + s.size() && s.size() <= 5 && port <= 65535;
}

/// True for an absolute `http` or `https` URL with a non-empty host: the only URLs an HTTP
/// executor can request (DECISIONS 26). Unlike Go's ParseRequestURI, `/path`, `ftp://x` and
/// `http://` are refused. Spaces and control characters are refused anywhere.
bool is_http_url(std::string_view url) {
    const bool has_bad_char = std::any_of(url.begin(), url.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u == 0x7F;
    });
    if (has_bad_char || !escapes_are_valid(url)) {
        return false;
    }
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) {
        return false;
    }
    std::string scheme(url.substr(0, scheme_end));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
    if (scheme != "http" && scheme != "https") {
        return false;
    }
    const std::string_view rest = url.substr(scheme_end + 3);
    std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        authority.remove_prefix(at + 1);  // user information plays no part in where the request goes
    }
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos || !is_ipv6_literal(authority.substr(1, close - 1))) {
            return false;
        }
        const std::string_view after = authority.substr(close + 1);
        return after.empty() || (after.front() == ':' && is_port(after.substr(1)));
    }
    const auto colon = authority.rfind(':');
    const std::string_view host = authority.substr(0, colon);
    if (host.empty() || !std::all_of(host.begin(), host.end(), is_host_char)) {
        return false;
    }
    return colon == std::string_view::npos || is_port(authority.substr(colon + 1));
}

/// The HTTP methods the original accepts (ORIGINAL-BEHAVIOR §2.1, rule 4b), compared upper-cased.
bool is_http_method(std::string_view method) {
    constexpr std::array<std::string_view, 7> methods = {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"};
    std::string upper(method);
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](char c) { return static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c); });
    return std::find(methods.begin(), methods.end(), upper) != methods.end();
}

/// Rule 2 and DECISIONS 3: the timezone is required and must be in the tz database.
void check_timezone(const schedule_input& in, error_list& errors) {
    if (in.timezone.empty()) {
        errors.add("timezone", "is required");
    } else if (!time_zone::locate(in.timezone)) {
        errors.add("timezone", "must be a valid IANA timezone");
    }
}

/// Rules 3a-3e: at most one error for the schedule block.
void check_schedule(const schedule_spec& spec, error_list& errors) {
    if (spec.kind == "cron") {
        if (is_blank(spec.expr)) {
            errors.add("schedule.expr", "is required for cron");
        } else if (auto parsed = cron_expr::parse(spec.expr); !parsed) {
            // The original's prefix, then the parser's reason (DECISIONS 2: includes "can never fire").
            errors.add("schedule.expr", "must parse as a cron expression: " + parsed.error().message);
        }
    } else if (spec.kind == "interval") {
        if (spec.every_seconds <= 0) {
            errors.add("schedule.every_seconds", "must be > 0");
        } else if (spec.every_seconds > max_duration_seconds) {
            errors.add("schedule.every_seconds", too_long);
        }
    } else if (spec.kind == "once") {
        if (!spec.at) {
            errors.add("schedule.at", "is required for once");
        }
    } else {
        errors.add("schedule.kind", "must be one of cron, interval, once");
    }
}

/// Rules 4a-4d with DECISIONS 26: method, URL, then each header.
void check_http_target(const target_spec& target, error_list& errors) {
    if (is_blank(target.method)) {
        errors.add("target.method", "is required for http");
    } else if (!is_http_method(target.method)) {
        errors.add("target.method", "must be a valid HTTP method");
    }
    if (is_blank(target.url)) {
        errors.add("target.url", "is required for http");
    } else if (!is_http_url(target.url)) {
        errors.add("target.url", "must be an absolute http or https URL");
    }
    for (const auto& [name, value] : target.headers) {
        if (!is_header_name(name)) {
            errors.add("target.headers", "has an invalid header name \"" + name + "\"");
        } else if (!is_header_value(value)) {
            errors.add("target.headers", "has an invalid value for header \"" + name + "\"");
        }
    }
}

/// Rules 4a-4g.
void check_target(const target_spec& target, error_list& errors) {
    if (target.kind == "http") {
        check_http_target(target, errors);
    } else if (target.kind == "shell") {
        if (is_blank(target.command)) {
            errors.add("target.command", "is required for shell");
        }
    } else if (target.kind == "workflow") {
        if (is_blank(target.workflow_id)) {
            errors.add("target.workflow_id", "is required for workflow");
        }
    } else {
        errors.add("target.kind", "must be one of http, shell, workflow");
    }
}

/// A duration in seconds that must be > 0 and fit max_duration_seconds.
void check_positive_seconds(std::string field, std::int64_t value, error_list& errors) {
    if (value <= 0) {
        errors.add(std::move(field), "must be > 0");
    } else if (value > max_duration_seconds) {
        errors.add(std::move(field), too_long);
    }
}

/// One of our added policy numbers: >= 0, and within max_duration_seconds when it is a duration.
void check_non_negative(std::string field, std::int64_t value, bool is_duration, error_list& errors) {
    if (value < 0) {
        errors.add(std::move(field), "must be >= 0");
    } else if (is_duration && value > max_duration_seconds) {
        errors.add(std::move(field), too_long);
    }
}

/// Rules 5a-5d, then our additions in declaration order.
void check_policy(const policy_spec& policy, const policy_catalog& catalog, error_list& errors) {
    if (!contains(catalog.overlap, policy.overlap)) {
        errors.add("policy.overlap", one_of(catalog.overlap));
    }
    if (!contains(catalog.misfire, policy.misfire)) {
        errors.add("policy.misfire", one_of(catalog.misfire));
    }
    check_positive_seconds("policy.timeout_seconds", policy.timeout_seconds, errors);
    if (policy.max_concurrency < 1) {
        errors.add("policy.max_concurrency", "must be >= 1");
    }
    check_non_negative("policy.misfire_grace_seconds", policy.misfire_grace_seconds, true, errors);
    check_non_negative("policy.catch_up_limit", policy.catch_up_limit, false, errors);
    check_non_negative("policy.jitter_seconds", policy.jitter_seconds, true, errors);
}

/// Rules 6a-6e. The delays only matter to (and are only checked for) the exponential strategy;
/// 6d and 6e can both fire.
void check_retry(const retry_spec& retry, const policy_catalog& catalog, error_list& errors) {
    if (retry.max_attempts < 0) {
        errors.add("retry.max_attempts", "must be >= 0");
    }
    if (!contains(catalog.retry, retry.strategy)) {
        errors.add("retry.strategy", one_of(catalog.retry));
    }
    if (retry.strategy == "exponential") {
        check_positive_seconds("retry.initial_delay_seconds", retry.initial_delay_seconds, errors);
        check_positive_seconds("retry.max_delay_seconds", retry.max_delay_seconds, errors);
        if (retry.max_delay_seconds < retry.initial_delay_seconds) {
            errors.add("retry.max_delay_seconds", "must be >= initial_delay_seconds");
        }
    }
}

}  // namespace

void apply_defaults(schedule_input& in) {
    if (!in.enabled) {
        in.enabled = true;
    }
    // The DST policy means nothing to interval and once schedules and no encoder writes it for
    // them, so a client's `"dst"` on one would be stored, yet never shown by the API, and lost
    // when a definition is sent on (encode_schedule_input). Resetting it makes a definition read
    // back as it is kept (found by tests/fuzz/fuzz_schedule_json).
    if (in.schedule.kind != "cron") {
        in.schedule.dst = {};
    }
    policy_spec& policy = in.policy;
    if (policy.overlap.empty()) {
        policy.overlap = defaults::overlap;
    }
    if (policy.misfire.empty()) {
        policy.misfire = defaults::misfire;
    }
    if (policy.timeout_seconds == 0) {
        policy.timeout_seconds = defaults::timeout_seconds;
    }
    if (policy.max_concurrency == 0) {
        policy.max_concurrency = defaults::max_concurrency;
    }
    if (policy.misfire_grace_seconds == 0) {
        policy.misfire_grace_seconds = defaults::misfire_grace_seconds;
    }
    if (policy.catch_up_limit == 0) {
        policy.catch_up_limit = defaults::catch_up_limit;
    }
    // jitter_seconds: its default is 0, so there is nothing to fill in.
    retry_spec& retry = in.retry;
    if (retry.strategy.empty()) {
        retry.strategy = defaults::retry_strategy;
    }
    if (retry.initial_delay_seconds == 0) {
        retry.initial_delay_seconds = defaults::initial_delay_seconds;
    }
    if (retry.max_delay_seconds == 0) {
        retry.max_delay_seconds = defaults::max_delay_seconds;
    }
}

std::vector<field_error> validate(const schedule_input& in, const policy_catalog& catalog) {
    error_list errors;
    if (is_blank(in.name)) {
        errors.add("name", "must be non-empty");
    }
    check_timezone(in, errors);
    check_schedule(in.schedule, errors);
    check_target(in.target, errors);
    check_policy(in.policy, catalog, errors);
    check_retry(in.retry, catalog, errors);
    if (in.start_at && in.end_at && *in.start_at > *in.end_at) {
        errors.add("start_at", "must be <= end_at");
    }
    return errors.take();
}

result<schedule_input> check_schedule_input(schedule_input in, const policy_catalog& catalog, const target_rule& extra) {
    apply_defaults(in);
    auto errors = validate(in, catalog);
    if (extra) {
        auto more = extra(in.target);
        errors.insert(errors.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    }
    if (!errors.empty()) {
        return invalid(std::move(errors));
    }
    return in;
}

schedule_input input_of(const schedule& s) {
    schedule_input in;
    in.name = s.name;
    in.enabled = s.enabled;
    in.timezone = s.timezone;
    in.schedule = s.spec;
    in.target = s.target;
    in.policy = s.policy;
    in.retry = s.retry;
    in.start_at = s.start_at;
    in.end_at = s.end_at;
    return in;
}

schedule_input apply_patch(const schedule& current, const schedule_patch& patch) {
    schedule_input in = input_of(current);
    if (patch.name) {
        in.name = *patch.name;
    }
    if (patch.enabled) {
        in.enabled = *patch.enabled;
    }
    if (patch.timezone) {
        in.timezone = *patch.timezone;
    }
    if (patch.schedule) {
        in.schedule = *patch.schedule;
    }
    if (patch.target) {
        in.target = *patch.target;
    }
    const auto merge = [](auto& field, const auto& update) {
        if (update) {
            field = *update;
        }
    };
    merge(in.policy.overlap, patch.overlap);
    merge(in.policy.misfire, patch.misfire);
    merge(in.policy.timeout_seconds, patch.timeout_seconds);
    merge(in.policy.max_concurrency, patch.max_concurrency);
    merge(in.policy.misfire_grace_seconds, patch.misfire_grace_seconds);
    merge(in.policy.catch_up_limit, patch.catch_up_limit);
    merge(in.policy.jitter_seconds, patch.jitter_seconds);
    merge(in.retry.max_attempts, patch.max_attempts);
    merge(in.retry.strategy, patch.strategy);
    merge(in.retry.initial_delay_seconds, patch.initial_delay_seconds);
    merge(in.retry.max_delay_seconds, patch.max_delay_seconds);
    merge(in.start_at, patch.start_at);  // an engaged-but-empty value clears the bound
    merge(in.end_at, patch.end_at);
    return in;
}

}  // namespace wakeplane
