// What the tracking rules read of an HTTP request, without the HTTP library: the method, the target,
// the header fields in their order, the body. The session fills it from Beast's parsed request
// (views into it, nothing copied); tests and fuzzers fill it directly.
#pragma once

#include <span>
#include <string_view>

namespace mgw::tracking {

struct Header {
    std::string_view name;  // as sent
    std::string_view value;
};

struct RequestView {
    std::string_view method;  // as sent: "GET", "POST", "OPTIONS", ...
    std::string_view target;  // path and query string
    std::span<const Header> headers;
    std::string_view body;

    // The first field named `name` (ASCII case-insensitive), empty when there is none.
    std::string_view header(std::string_view name) const;
    bool has_header(std::string_view name) const;
    // The query string: what follows the first '?' of the target, empty without one.
    std::string_view query() const;
};

bool iequals(std::string_view a, std::string_view b);

}  // namespace mgw::tracking
