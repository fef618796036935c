// CIDR ranges over socket addresses.
#include <wakeplane/executors/address_range.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace wakeplane::executors {
namespace {

/// The 16 bytes of `::ffff:0:0/96` that precede an IPv4 address mapped into IPv6.
constexpr std::array<std::uint8_t, 12> v4_mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/// The address bytes of `address` and whether they are IPv6; nullopt for other families.
/// A mapped IPv4 address comes back as IPv4.
std::optional<std::pair<bool, std::array<std::uint8_t, 16>>> ip_of(const sockaddr& address) noexcept {
    std::array<std::uint8_t, 16> bytes{};
    if (address.sa_family == AF_INET) {
        sockaddr_in in{};
        std::memcpy(&in, &address, sizeof in);
        std::memcpy(bytes.data(), &in.sin_addr, 4);
        return std::pair{false, bytes};
    }
    if (address.sa_family == AF_INET6) {
        sockaddr_in6 in6{};
        std::memcpy(&in6, &address, sizeof in6);
        std::memcpy(bytes.data(), &in6.sin6_addr, 16);
        if (std::equal(v4_mapped_prefix.begin(), v4_mapped_prefix.end(), bytes.begin())) {
            std::array<std::uint8_t, 16> v4{};
            std::copy(bytes.begin() + 12, bytes.end(), v4.begin());
            return std::pair{false, v4};
        }
        return std::pair{true, bytes};
    }
    return std::nullopt;
}

tl::unexpected<error> not_a_range(std::string_view text, std::string_view why = {}) {
    // Appended piece by piece: g++ 12 -O3 warns (-Wrestrict, a false positive) on `"…" + std::string`.
    std::string message = "\"";
    message.append(text).append("\" is not an IPv4 or IPv6 address range (CIDR)");
    if (!why.empty()) {
        message.append(": ").append(why);
    }
    return fail(errc::bad_request, std::move(message));
}

}  // namespace

result<address_range> address_range::parse(std::string_view text) {
    const auto slash = text.find('/');
    const std::string ip(text.substr(0, slash));
    address_range r;
    if (::inet_pton(AF_INET, ip.c_str(), r.bytes_.data()) == 1) {
        r.v6_ = false;
    } else if (::inet_pton(AF_INET6, ip.c_str(), r.bytes_.data()) == 1) {
        r.v6_ = true;
    } else {
        return not_a_range(text);
    }
    const unsigned bits = r.v6_ ? 128 : 32;
    r.prefix_ = bits;
    if (slash != std::string_view::npos) {
        const auto digits = text.substr(slash + 1);
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), r.prefix_);
        if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || r.prefix_ > bits) {
            return not_a_range(text, "the prefix length must be a number from 0 to " + std::to_string(bits));
        }
    }
    for (unsigned i = 0; i < bits / 8; ++i) {  // clear the host bits
        const unsigned keep = r.prefix_ > i * 8 ? std::min(8U, r.prefix_ - i * 8) : 0U;
        r.bytes_[i] &= static_cast<std::uint8_t>(0xff00U >> keep);
    }
    return r;
}

bool address_range::contains(const sockaddr& address) const noexcept {
    const auto ip = ip_of(address);
    if (!ip || ip->first != v6_) {
        return false;
    }
    for (unsigned i = 0; i * 8 < prefix_; ++i) {
        const unsigned keep = std::min(8U, prefix_ - i * 8);
        const auto mask = static_cast<std::uint8_t>(0xff00U >> keep);
        if ((ip->second[i] & mask) != bytes_[i]) {
            return false;
        }
    }
    return true;
}

std::string address_range::text() const {
    std::array<char, INET6_ADDRSTRLEN> buf{};
    ::inet_ntop(v6_ ? AF_INET6 : AF_INET, bytes_.data(), buf.data(), buf.size());
    return std::string(buf.data()) + "/" + std::to_string(prefix_);
}

result<std::vector<address_range>> parse_address_ranges(std::string_view list) {
    std::vector<address_range> out;
    constexpr std::string_view separators = ", \t\r\n";
    while (true) {
        const auto first = list.find_first_not_of(separators);
        if (first == std::string_view::npos) {
            return out;
        }
        list.remove_prefix(first);
        const auto item = list.substr(0, list.find_first_of(separators));
        auto r = address_range::parse(item);
        if (!r) {
            return tl::unexpected(r.error());
        }
        out.push_back(*r);
        list.remove_prefix(item.size());
    }
}

const address_range* find_range(const std::vector<address_range>& ranges, const sockaddr& address) noexcept {
    for (const auto& r : ranges) {
        if (r.contains(address)) {
            return &r;
        }
    }
    return nullptr;
}

std::string address_text(const sockaddr& address) {
    const auto ip = ip_of(address);
    if (!ip) {
        return "?";
    }
    std::array<char, INET6_ADDRSTRLEN> buf{};
    ::inet_ntop(ip->first ? AF_INET6 : AF_INET, ip->second.data(), buf.data(), buf.size());
    return buf.data();
}

}  // namespace wakeplane::executors
