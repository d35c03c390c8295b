#pragma once
// Small ASCII checks shared by the parsers (PHP and HTTP both mean ASCII '0'-'9', never the locale's).
#include <algorithm>
#include <string_view>

namespace mgw::gateway {

// A non-empty run of ASCII decimal digits.
inline bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace mgw::gateway
