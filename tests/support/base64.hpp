// Standard base64 (RFC 4648, with padding) for fixture bytes and for passing binary values to php.
#pragma once

#include <string>
#include <string_view>

namespace mgw::test {

std::string base64_encode(std::string_view bytes);

// Strict: throws std::invalid_argument on characters outside the alphabet or bad padding.
// ASCII whitespace is skipped.
std::string base64_decode(std::string_view text);

}  // namespace mgw::test
