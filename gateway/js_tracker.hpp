// Serves the installation's JavaScript tracker file (matomo.js) at /matomo.js, /piwik.js and /js/
// without a query (checklist item 34): loaded once at start-up, with ETag / Last-Modified
// revalidation, a pre-compressed gzip variant for clients that accept it, and long caching.
#pragma once

#include "gateway/responses.hpp"

#include <memory>
#include <string>

namespace mgw::gateway {

class JsTracker {
public:
    // Reads the file; nullptr and `error` set when it can't be read (a start-up error).
    static std::shared_ptr<const JsTracker> load(const std::string& path, std::string& error);

    // Answers GET/HEAD for the file: 200 (identity or gzip), or 304 when the client's copy is current.
    void respond(Response& res, const Request& req, bool head) const;

private:
    std::string plain_;
    std::string gzip_;
    std::string etag_;
    std::string last_modified_;
};

}  // namespace mgw::gateway
