// Header selection and HTTP dates for the public edge.
#include "edge/origin.hpp"

#include <boost/beast/core/string.hpp>

#include <array>
#include <ctime>

namespace mgw::edge {

bool kept_header(std::string_view name) {
    static constexpr std::array<std::string_view, 13> kept = {"Content-Type",
                                                              "Content-Encoding",
                                                              "Content-Language",
                                                              "Last-Modified",
                                                              "ETag",
                                                              "Cache-Control",
                                                              "Expires",
                                                              "Date",
                                                              "Content-Disposition",
                                                              "Vary",
                                                              "Access-Control-Allow-Origin",
                                                              "Access-Control-Allow-Credentials",
                                                              "X-Content-Type-Options"};
    for (auto k : kept)
        if (boost::beast::iequals(k, name)) return true;
    return false;
}

std::string http_time(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    return {buf, std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm)};
}

std::optional<std::time_t> parse_http_time(std::string_view s) {
    const std::string text(s);
    std::tm tm{};
    const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end != '\0') return std::nullopt;
    return timegm(&tm);
}

}  // namespace mgw::edge
