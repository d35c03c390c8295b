// The request parser every session uses: Beast's request_parser, except that a header field Beast's
// fields container cannot hold ends the read with header_limit (answered 431) instead of throwing.
//
// Beast 1.81 stores a field's name and value lengths in 16 bits and throws std::length_error for a
// name or value of 65,534 bytes or more. --max-header-bytes may be larger than that (it bounds the
// whole header), so one long field would otherwise throw out of the read and through the I/O loop.
#pragma once

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>

namespace mgw::gateway {

// The longest field name or value Beast's basic_fields accepts (it adds 2 bytes and compares with
// the 16-bit maximum).
inline constexpr std::size_t max_field_bytes = std::numeric_limits<std::uint16_t>::max() - 2;

class RequestParser final : public boost::beast::http::request_parser<boost::beast::http::string_body> {
private:
    void on_field_impl(boost::beast::http::field name, boost::beast::string_view name_string,
                       boost::beast::string_view value, boost::beast::error_code& ec) override {
        if (name_string.size() > max_field_bytes || value.size() > max_field_bytes) {
            ec = boost::beast::http::error::header_limit;
            return;
        }
        get().insert(name, name_string, value);
    }
};

}  // namespace mgw::gateway
