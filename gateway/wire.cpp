#include "gateway/wire.hpp"

#include <boost/beast/http/status.hpp>

namespace mgw::gateway {

void serialize_header(const Response& res, std::string& out) {
    namespace http = boost::beast::http;
    out.clear();
    const unsigned version = res.version();
    const unsigned status = res.result_int();
    std::string_view reason = res.reason();
    if (reason.empty()) reason = http::obsolete_reason(static_cast<http::status>(status));
    std::size_t size = 16 + reason.size() + 2;
    for (const auto& f : res) size += f.name_string().size() + f.value().size() + 4;
    out.reserve(size);
    out.append("HTTP/1.");
    out.push_back(static_cast<char>('0' + version % 10));
    out.push_back(' ');
    char code[3] = {static_cast<char>('0' + status / 100 % 10), static_cast<char>('0' + status / 10 % 10),
                    static_cast<char>('0' + status % 10)};
    out.append(code, 3);
    out.push_back(' ');
    out.append(reason);
    out.append("\r\n");
    for (const auto& f : res) {
        out.append(f.name_string());
        out.append(": ");
        out.append(f.value());
        out.append("\r\n");
    }
    out.append("\r\n");
}

}  // namespace mgw::gateway
