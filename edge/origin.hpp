// Where the public edge gets its objects: the private Matomo over HTTP (HttpOrigin) or local files
// (FileOrigin). Both answer a conditional GET for a canonical target built by path.cpp.
#pragma once

#include "edge/path.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mgw::edge {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct FetchRequest {
    const Target* target = nullptr;  // valid until the callback runs
    std::string if_modified_since;   // the cached copy's validators, for a conditional request
    std::string if_none_match;
    std::string accept_language;  // the opt-out only: it is written in the visitor's language
};

enum class FetchError { none, refused, timeout, too_large, malformed };

struct FetchResult {
    FetchError error = FetchError::none;
    unsigned status = 0;
    HeaderList headers;  // only the ones the edge passes on or needs (kept_header below)
    std::string body;
};

using FetchCallback = std::function<void(FetchResult)>;

class Origin {
public:
    virtual ~Origin() = default;
    // Calls `done` exactly once, possibly before returning (local files), never with a lock held.
    virtual void fetch(const FetchRequest& req, FetchCallback done) = 0;
    // Kinds this origin can serve (local files have no configs.php nor opt-out).
    virtual bool serves(Kind k) const = 0;
};

// Headers of an origin response worth keeping: content description, validators, caching and CORS.
// Never Set-Cookie (a Matomo session cookie must not reach the public), nor hop-by-hop fields.
bool kept_header(std::string_view name);

// http://host[:port][/base]. The host is resolved once, at start-up. nullptr and `error` set when
// the URL is not usable.
std::unique_ptr<Origin> make_http_origin(boost::asio::any_io_executor ex, const std::string& url,
                                         std::chrono::milliseconds connect_timeout,
                                         std::chrono::milliseconds response_timeout, std::size_t max_bytes,
                                         std::string& error);

// A directory laid out like Matomo's document root, or one tracker file for the tracker paths.
std::unique_ptr<Origin> make_file_origin(const std::string& dir, const std::string& tracker_file, std::size_t max_bytes,
                                         std::string& error);

// RFC 7231 IMF-fixdate, and back (nullopt when unparsable).
std::string http_time(std::time_t t);
std::optional<std::time_t> parse_http_time(std::string_view s);

}  // namespace mgw::edge
