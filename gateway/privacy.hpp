// Privacy at the edge: IP anonymisation as Matomo does it, removal of configured query
// parameters from url/urlref, and the Do-Not-Track rule of the worker. Pure functions.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace mgw::gateway {

// Matomo's anonymisation (docs/wire-format.md, "Client IP") of a canonical address:
// IPv4 zeroes the last `ipv4_bytes` (0..3) bytes; IPv6 keeps /64 (level 1), /48 (2) or /24 (3),
// 0 leaves it; IPv4-mapped IPv6 is treated as IPv4. Out-of-range settings are clamped. The result is
// canonical text. Text that is no address becomes "0.0.0.0", which is what the worker would store.
std::string anonymize_ip(std::string_view ip, int ipv4_bytes, int ipv6_level);

// Removes every query parameter of `url` whose name is in `names` (compared after percent-decoding,
// ASCII case-insensitively, `email[]` matching `email`). Everything else stays byte-identical,
// including the order of the remaining pairs and the #fragment; a query left empty loses its '?'.
std::string strip_query_params(std::string_view url, std::span<const std::string> names);

// The worker's Do-Not-Track rule (docs/wire-format.md, "Other details"): X-Do-Not-Track exactly "1", or DNT starting
// with "1". Pass an empty view for an absent header.
bool dnt_requested(std::string_view dnt, std::string_view x_do_not_track);

}  // namespace mgw::gateway
