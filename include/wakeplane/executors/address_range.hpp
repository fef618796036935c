// Address ranges in CIDR notation, IPv4 and IPv6: the HTTP executor's deny list
// (WAKEPLANE_HTTP_DENY), which keeps targets away from metadata endpoints and internal networks.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <wakeplane/result.hpp>

struct sockaddr;

namespace wakeplane::executors {

/// One range: `10.0.0.0/8`, `169.254.169.254/32`, `fd00::/8`. An address without `/N` is a
/// single host. Host bits after the prefix are cleared (`10.1.2.3/8` is `10.0.0.0/8`).
class address_range {
public:
    /// errc::bad_request `"<text>" is not an IPv4 or IPv6 address range (CIDR)` or names the bad prefix.
    [[nodiscard]] static result<address_range> parse(std::string_view text);

    /// Whether the socket address lies in the range. An IPv4-mapped IPv6 address
    /// (`::ffff:127.0.0.1`) is compared as the IPv4 address it carries, so an IPv4 range cannot be
    /// sidestepped through an IPv6 socket.
    [[nodiscard]] bool contains(const sockaddr& address) const noexcept;

    /// The canonical form: `127.0.0.0/8`, `fd00::/8`.
    [[nodiscard]] std::string text() const;

private:
    address_range() = default;

    bool v6_ = false;
    std::array<std::uint8_t, 16> bytes_{};  ///< network address; IPv4 uses the first 4
    unsigned prefix_ = 0;                   ///< leading bits that must match
};

/// The ranges of a list separated by commas and/or whitespace (`"127.0.0.0/8, ::1"`); an empty
/// list is no range. The first bad entry is the error.
[[nodiscard]] result<std::vector<address_range>> parse_address_ranges(std::string_view list);

/// The first range of `ranges` that contains `address`, or nullptr.
[[nodiscard]] const address_range* find_range(const std::vector<address_range>& ranges, const sockaddr& address) noexcept;

/// `127.0.0.1` or `::1`: a socket address's IP as text ("?" for another family).
[[nodiscard]] std::string address_text(const sockaddr& address);

}  // namespace wakeplane::executors
