// One cached version of an edge object, immutable once built, and the answers made from it.
#pragma once

#include "edge/origin.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/string_body.hpp>

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mgw::edge {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::span_body<char const>>;

struct Object {
    unsigned status = 200;
    HeaderList headers;  // the origin's kept headers, without Date and Expires (written per answer)
    std::string body;    // exactly the origin's bytes
    std::string gzip;    // prepared once per version; empty when not worth it or already encoded
    std::string last_modified;
    std::string etag;
    std::optional<std::time_t> expires_after;  // the origin's Expires minus its Date
    std::size_t bytes() const;
};

// Builds the version (and its gzip variant) from an origin answer. Runs outside any lock.
std::shared_ptr<const Object> make_object(FetchResult&& r);

// What an answer depends on in the client's request.
struct ClientInfo {
    unsigned version = 11;
    bool keep_alive = true;
    bool head = false;
    bool gzip_ok = false;
    std::string if_modified_since;
    std::string if_none_match;
};
ClientInfo client_info(const Request& req);

// Whether an Accept-Encoding value lets us send gzip (a "gzip" or "*" token whose q is not 0).
bool accepts_gzip(std::string_view accept_encoding);

struct Reply {
    Response res;
    std::shared_ptr<const void> owner;  // keeps the body's bytes alive until the answer is written
    std::string_view outcome;           // access-log outcome
    std::string_view reason;            // access-log reason (errors)
};

// 200/404/... from the object, or 304 when the client's copy is that version (as stock: its
// If-Modified-Since equals Last-Modified, or its If-None-Match names the ETag).
Reply answer(const std::shared_ptr<const Object>& obj, const ClientInfo& c, std::string_view outcome);
// A plain-text answer made by the edge itself (502, 504, 405).
Reply answer_error(unsigned status, std::string_view text, const ClientInfo& c, std::string_view outcome,
                   std::string_view reason);

}  // namespace mgw::edge
