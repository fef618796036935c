// A one-shot TCP connect that keeps the errno httplib does not report.
#include "reachability.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace wakeplane::cli {
namespace {

/// strerror(code) starting in lower case, to fit in the middle of a sentence.
std::string lower_strerror(int code) {
    std::string text = std::strerror(code);
    if (!text.empty()) {
        text.front() = static_cast<char>(std::tolower(static_cast<unsigned char>(text.front())));
    }
    return text;
}

/// Closes a socket on scope exit.
struct socket_guard {
    int fd;
    ~socket_guard() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

/// Connects to one resolved address; 0 on success, else the errno (ETIMEDOUT after `timeout`).
int try_connect(const addrinfo& ai, std::chrono::milliseconds timeout) {
    socket_guard sock{::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol)};
    if (sock.fd < 0) {
        return errno;
    }
    if (::connect(sock.fd, ai.ai_addr, ai.ai_addrlen) == 0) {
        return 0;
    }
    if (errno != EINPROGRESS) {
        return errno;
    }
    pollfd pfd{sock.fd, POLLOUT, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
    if (ready == 0) {
        return ETIMEDOUT;
    }
    if (ready < 0) {
        return errno;
    }
    int code = 0;
    socklen_t len = sizeof code;
    if (::getsockopt(sock.fd, SOL_SOCKET, SO_ERROR, &code, &len) != 0) {
        return errno;
    }
    return code;
}

}  // namespace

std::string connect_failure_reason(const std::string& host, int port, std::chrono::milliseconds timeout) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
    if (rc != 0) {
        return "cannot resolve host \"" + host + "\": " + ::gai_strerror(rc);
    }
    const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
    // Report the last address's failure, as a client trying them in order would meet it.
    int last = 0;
    for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
        last = try_connect(*ai, timeout);
        if (last == 0) {
            return "connection failed";
        }
    }
    if (last == ETIMEDOUT) {
        const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout).count();
        return "timed out after " + std::to_string(seconds) + "s";
    }
    return lower_strerror(last);
}

}  // namespace wakeplane::cli
