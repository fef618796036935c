// The http executor: a libcurl easy handle driven by a multi handle, so a stop wakes it at once.
#include <wakeplane/executors/http.hpp>

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <memory>
#include <set>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

#include <wakeplane/codec.hpp>

#include "bounded_text.hpp"

namespace wakeplane::executors {
namespace {

/// libcurl's global state, set up once per process. A function-local static is initialized
/// exactly once even when the first runs start on several threads together. It is never torn
/// down: runs may still be finishing while the process exits.
CURLcode curl_ready() {
    static const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
    return code;
}

struct easy_deleter {
    void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
struct multi_deleter {
    void operator()(CURLM* m) const noexcept { curl_multi_cleanup(m); }
};
struct slist_deleter {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using easy_handle = std::unique_ptr<CURL, easy_deleter>;
using multi_handle = std::unique_ptr<CURLM, multi_deleter>;
using header_list = std::unique_ptr<curl_slist, slist_deleter>;

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
    return out;
}

/// An RFC 9110 token character: what methods and header names are made of.
bool is_tchar(char c) {
    static constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           specials.find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar); }

/// A header value may hold any byte but control characters (tab excepted): a CR or LF would
/// let a target smuggle extra headers into the request.
bool is_valid_value(std::string_view v) {
    return std::none_of(v.begin(), v.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && c != '\t') || u == 0x7f;
    });
}

/// Go's canonical header name: `x-token` → `X-Token`. A name that is not a token stays as is.
std::string canonical_header(std::string_view name) {
    std::string out(name);
    if (!is_token(name)) {
        return out;
    }
    bool upper_next = true;
    for (char& c : out) {
        c = upper_next ? ascii_upper(c) : ascii_lower(c);
        upper_next = c == '-';
    }
    return out;
}

/// `text` in double quotes, as Go's %q prints a plain URL or name.
std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

/// The start of every transport error, as Go's url.Error prints it: `Get "http://host/x": `.
std::string error_prefix(std::string_view method, std::string_view url) {
    return std::string(1, method[0]) + lower(method.substr(1)) + " " + quoted(url) + ": ";
}

/// Whether the request carries a body through CURLOPT_POSTFIELDS: always when the target has
/// one, and empty for POST, PUT and PATCH without one, which then send `Content-Length: 0` as
/// the original did (servers answer 411 to a bodiless PUT without it).
bool sends_fields(std::string_view method, const target_spec& target) {
    return !target.body_json.empty() || method == "POST" || method == "PUT" || method == "PATCH";
}

/// What the transfer delivered: the final response's status text and the bounded body.
struct response_state {
    detail::bounded_text body;
    bool body_cut = false;    ///< reading stopped at the bound; libcurl then ends with CURLE_WRITE_ERROR
    std::string status_text;  ///< "200 OK": the last status line seen (redirects, 100 Continue)
};

/// libcurl's write callback: keeps the body up to the bound, then ends the transfer, since
/// nobody would keep the rest (and a slow endless body must not hold the run).
std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) noexcept {
    auto& state = *static_cast<response_state*>(user);
    const std::size_t n = size * count;
    try {
        if (state.body.append({data, n})) {
            return n;
        }
        state.body_cut = true;
    } catch (const std::exception&) {
        // Out of memory: returning 0 fails the transfer with libcurl's write error.
    }
    return 0;
}

/// libcurl's header callback: remembers the status text of the latest status line.
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) noexcept {
    const std::size_t n = size * count;
    std::string_view line{data, n};
    if (!line.starts_with("HTTP/")) {
        return n;
    }
    line.remove_prefix(std::min(line.find(' '), line.size()));
    while (!line.empty() && line.front() == ' ') {
        line.remove_prefix(1);
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) {
        line.remove_suffix(1);
    }
    try {
        static_cast<response_state*>(user)->status_text.assign(line);
    } catch (const std::exception&) {
        return 0;
    }
    return n;
}

/// The deny list's check on every connection the transfer opens (CURLOPT_OPENSOCKETFUNCTION,
/// which libcurl calls with the resolved address, also for redirects), and what it refused.
struct connection_guard {
    const std::vector<address_range>* deny;
    std::string refused;  ///< `address 10.0.0.1 is in the denied range 10.0.0.0/8`; empty when none
};

curl_socket_t open_checked_socket(void* user, curlsocktype purpose, curl_sockaddr* address) noexcept {
    auto& guard = *static_cast<connection_guard*>(user);
    if (purpose == CURLSOCKTYPE_IPCXN) {
        if (const auto* range = find_range(*guard.deny, address->addr)) {
            try {
                guard.refused = "address " + address_text(address->addr) + " is in the denied range " + range->text();
            } catch (const std::exception&) {
                guard.refused = "address denied";  // out of memory: still refuse, with less detail
            }
            return CURL_SOCKET_BAD;
        }
    }
    // Close-on-exec: shell runs spawned meanwhile on other threads must not inherit it.
    return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

/// Appends one raw header line; false when libcurl ran out of memory.
bool append_line(header_list& list, const std::string& line) {
    curl_slist* grown = curl_slist_append(list.get(), line.c_str());
    if (grown == nullptr) {
        return false;
    }
    list.release();
    list.reset(grown);
    return true;
}

/// The request's header lines, in libcurl's syntax (`Name: value`, `Name;` for an empty value,
/// `Name:` to drop a header libcurl would add itself). The error is Go's text for a header
/// that cannot be sent.
tl::expected<header_list, std::string> request_headers(const target_spec& target, const run_context& ctx, bool fields) {
    const std::array<std::pair<std::string, std::string>, 5> identity{{
        {"Idempotency-Key", ctx.occurrence_key + ":" + std::to_string(ctx.attempt)},
        {"Wakeplane-Run-Id", ctx.run},
        {"Wakeplane-Occurrence-Key", ctx.occurrence_key},
        {"Wakeplane-Attempt", std::to_string(ctx.attempt)},
        {"Wakeplane-Fencing-Token", std::to_string(ctx.fencing_token)},
    }};
    std::set<std::string> identity_names;
    for (const auto& [name, value] : identity) {
        identity_names.insert(lower(name));
    }
    std::set<std::string> given;  // lower-cased names the target sets
    std::vector<std::string> lines;
    for (const auto& [name, value] : target.headers) {
        if (!is_token(name)) {
            return tl::unexpected("net/http: invalid header field name " + quoted(name));
        }
        if (!is_valid_value(value)) {
            return tl::unexpected("net/http: invalid header field value for " + quoted(canonical_header(name)));
        }
        if (identity_names.contains(lower(name))) {
            continue;  // the run's identity is what the receiver deduplicates on; a target cannot forge it
        }
        given.insert(lower(name));
        lines.push_back(canonical_header(name) + (value.empty() ? ";" : ": " + value));
    }
    for (const auto& [name, value] : identity) {
        lines.push_back(name + ": " + value);
    }
    if (fields && !given.contains("content-type")) {
        // The original sent no Content-Type, which most JSON servers reject; libcurl would
        // otherwise claim a form (application/x-www-form-urlencoded).
        lines.emplace_back(target.body_json.empty() ? "Content-Type:" : "Content-Type: application/json");
    }
    if (!given.contains("expect")) {
        lines.emplace_back("Expect:");  // no 100-continue round trip for larger bodies; Go sends none
    }
    header_list list;
    for (const auto& line : lines) {
        if (!append_line(list, line)) {
            return tl::unexpected(std::string("out of memory"));
        }
    }
    return list;
}

/// Sets every option of the request; returns the first code that is not CURLE_OK.
CURLcode configure(CURL* h, const target_spec& target, const std::string& method, curl_slist* headers,
                   response_state& state, connection_guard& guard, const http_options& options) {
    static constexpr char no_body[] = "";
    const bool fields = sends_fields(method, target);
    const std::array<CURLcode, 14> common{
        curl_easy_setopt(h, CURLOPT_URL, target.url.c_str()),
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L),
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https"),
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"),
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L),
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, options.max_redirects),
        // HTTP/1.1 always carries the server's reason phrase, which result_json reports.
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1)),
        curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""),  // compressed bodies arrive decoded, as with Go
        curl_easy_setopt(h, CURLOPT_USERAGENT, "wakeplane"),
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers),
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body),
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &state),
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header),
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &state),
    };
    if (const auto bad = std::find_if(common.begin(), common.end(), [](CURLcode c) { return c != CURLE_OK; });
        bad != common.end()) {
        return *bad;
    }
    if (!options.deny.empty()) {
        const std::array<CURLcode, 3> checked{
            curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_checked_socket),
            curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &guard),
            curl_easy_setopt(h, CURLOPT_PROXY, ""),  // "" ignores *_proxy variables: a proxy would bypass the check
        };
        if (const auto bad = std::find_if(checked.begin(), checked.end(), [](CURLcode c) { return c != CURLE_OK; });
            bad != checked.end()) {
            return *bad;
        }
    }
    if (options.connect_timeout) {
        if (const CURLcode c = curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout->count()));
            c != CURLE_OK) {
            return c;
        }
    }
    if (method == "HEAD") {
        return curl_easy_setopt(h, CURLOPT_NOBODY, 1L);  // a HEAD response has no body to wait for
    }
    if (!fields) {
        return method == "GET" ? curl_easy_setopt(h, CURLOPT_HTTPGET, 1L)
                               : curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    const char* body = target.body_json.empty() ? no_body : target.body_json.c_str();
    const CURLcode size = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(target.body_json.size()));
    const CURLcode data = curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    // POST is libcurl's own method for fields, which also turns it into GET on a 301/302/303
    // as Go does; any other method travels as a custom request.
    const CURLcode verb = method == "POST" ? CURLE_OK : curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    return size != CURLE_OK ? size : (data != CURLE_OK ? data : verb);
}

/// How a transfer ended.
struct transfer_end {
    bool stopped = false;                  ///< ctx.stop ended it
    CURLcode code = CURLE_OK;              ///< libcurl's verdict when it finished
    const char* multi_failure = nullptr;   ///< the multi interface itself failed (out of memory)
};

/// libcurl's verdict on the one transfer of `multi`; a finished transfer always leaves one.
CURLcode finished_code(CURLM* multi) {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
        if (msg->msg == CURLMSG_DONE) {
            return msg->data.result;
        }
    }
    return CURLE_OK;
}

/// Drives the transfer until it finishes or `stop` is requested. curl_multi_poll() sleeps until
/// the socket has news, libcurl's own timer fires, or curl_multi_wakeup() is called by the stop
/// callback from the thread that requested the stop.
transfer_end run_transfer(CURLM* multi, CURL* easy, const std::stop_token& stop) {
    if (const CURLMcode mc = curl_multi_add_handle(multi, easy); mc != CURLM_OK) {
        return {false, CURLE_OK, curl_multi_strerror(mc)};
    }
    transfer_end end;
    {
        std::stop_callback wake{stop, [multi] { curl_multi_wakeup(multi); }};
        int running = 1;
        while (true) {
            if (stop.stop_requested()) {
                end.stopped = true;
                break;
            }
            CURLMcode mc = curl_multi_perform(multi, &running);
            if (mc == CURLM_OK && running == 0) {
                end.code = finished_code(multi);
                break;
            }
            if (mc == CURLM_OK) {
                mc = curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
            }
            if (mc != CURLM_OK) {
                end.multi_failure = curl_multi_strerror(mc);
                break;
            }
        }
    }
    curl_multi_remove_handle(multi, easy);
    return end;
}

/// `{"status":"200 OK","url":"..."}`, keys sorted as the original's encoder wrote them.
std::string result_json_of(std::string_view status_text, std::string_view url) {
    return "{\"status\":" + encode_json_string(status_text) + ",\"url\":" + encode_json_string(url) + "}";
}

/// The result of a transfer that received a response.
execution_result response_result(CURL* easy, const target_spec& target, response_state& state) {
    execution_result r;
    long code = 0;
    char* content_type = nullptr;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &content_type);
    r.http_status_code = code;
    r.ok = code >= 200 && code <= 299;
    if (!r.ok) {
        r.error_text = "http executor returned status " + std::to_string(code);
    }
    r.result_json = result_json_of(state.status_text.empty() ? std::to_string(code) : state.status_text, target.url);
    r.receipts.push_back(
        std::move(state.body).into_receipt("http_response", content_type != nullptr ? content_type : ""));
    return r;
}

/// Runs the whole attempt; may throw std::bad_alloc, which execute() turns into a result.
execution_result run_request(const target_spec& target, const run_context& ctx, const executor_limits& limits,
                             const http_options& options) {
    execution_result r;
    std::string method = target.method.empty() ? "GET" : target.method;
    std::transform(method.begin(), method.end(), method.begin(), ascii_upper);
    if (!is_token(method)) {
        r.error_text = "net/http: invalid method " + quoted(method);  // Go fails before any request exists
        return r;
    }
    const std::string prefix = error_prefix(method, target.url);
    if (const CURLcode c = curl_ready(); c != CURLE_OK) {
        r.error_text = prefix + curl_easy_strerror(c);
        return r;
    }
    auto headers = request_headers(target, ctx, sends_fields(method, target));
    if (!headers) {
        r.error_text = prefix + headers.error();
        return r;
    }
    const easy_handle easy{curl_easy_init()};
    const multi_handle multi{curl_multi_init()};
    if (!easy || !multi) {
        r.error_text = prefix + "could not create a libcurl handle";
        return r;
    }
    response_state state{detail::bounded_text{limits.max_receipt_bytes}, false, {}};
    connection_guard guard{&options.deny, {}};
    if (const CURLcode c = configure(easy.get(), target, method, headers->get(), state, guard, options); c != CURLE_OK) {
        r.error_text = prefix + curl_easy_strerror(c);
        return r;
    }
    const transfer_end end = run_transfer(multi.get(), easy.get(), ctx.stop);
    if (end.stopped) {
        r.stopped = true;
        r.error_text = prefix + "context canceled";  // Go's text for a request whose context ended
        return r;
    }
    if (end.multi_failure != nullptr) {
        r.error_text = prefix + end.multi_failure;
        return r;
    }
    if (end.code == CURLE_COULDNT_CONNECT && !guard.refused.empty()) {
        r.error_text = prefix + guard.refused;
        return r;
    }
    if (end.code == CURLE_TOO_MANY_REDIRECTS) {
        r.error_text = prefix + "stopped after " + std::to_string(options.max_redirects) + " redirects";  // Go's text
        return r;
    }
    if (end.code != CURLE_OK && !(end.code == CURLE_WRITE_ERROR && state.body_cut)) {
        r.error_text = prefix + curl_easy_strerror(end.code);
        return r;
    }
    return response_result(easy.get(), target, state);
}

}  // namespace

execution_result http_executor::execute(const target_spec& target, const run_context& ctx) const {
    try {
        return run_request(target, ctx, limits_, options_);
    } catch (const std::exception& e) {
        execution_result r;
        r.error_text = std::string("http executor: ") + e.what();
        return r;
    }
}

}  // namespace wakeplane::executors
