// The file is immutable while the process runs (CustomJsTracker regenerates it on the Matomo side;
// redeploy or restart to pick up a new one), so both variants are prepared once.
#include "gateway/js_tracker.hpp"

#include "queue/compressor.hpp"
#include "queue/queue_choice.hpp"

#include <sys/stat.h>
#include <boost/beast/http/field.hpp>

#include <ctime>
#include <fstream>
#include <sstream>

namespace mgw::gateway {
namespace http = boost::beast::http;

namespace {

std::string http_time(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    return {buf, std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm)};
}

bool accepts_gzip(std::string_view accept_encoding) {
    // Good enough for the tracker: any gzip token not explicitly refused with q=0.
    auto pos = accept_encoding.find("gzip");
    if (pos == std::string_view::npos) return false;
    auto rest = accept_encoding.substr(pos + 4, 8);
    return rest.find("q=0") == std::string_view::npos || rest.find("q=0.") != std::string_view::npos;
}

}  // namespace

std::shared_ptr<const JsTracker> JsTracker::load(const std::string& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    struct stat st {};
    if (!in || ::stat(path.c_str(), &st) != 0) {
        error = "cannot read JavaScript tracker file '" + path + "'";
        return nullptr;
    }
    auto js = std::make_shared<JsTracker>();
    std::ostringstream buf;
    buf << in.rdbuf();
    js->plain_ = buf.str();
    js->etag_ = "\"" + queue::md5_hex(js->plain_) + "\"";
    js->last_modified_ = http_time(st.st_mtime);
    js->gzip_ = queue::gzip_compress(js->plain_, 9);
    return js;
}

void JsTracker::respond(Response& res, const Request& req, bool head) const {
    res = Response{};
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    res.set(http::field::date, http_date());
    res.set(http::field::vary, "Accept-Encoding");
    res.set(http::field::etag, etag_);
    res.set(http::field::last_modified, last_modified_);
    res.set(http::field::cache_control, "public, max-age=864000");
    res.set(http::field::expires, http_time(std::time(nullptr) + 864000));
    std::string_view inm = req[http::field::if_none_match];
    std::string_view ims = req[http::field::if_modified_since];
    if ((!inm.empty() && inm.find(etag_) != std::string_view::npos) ||
        (inm.empty() && !ims.empty() && ims == last_modified_)) {
        res.result(http::status::not_modified);
        return;
    }
    res.result(http::status::ok);
    res.set(http::field::content_type, "application/javascript; charset=UTF-8");
    res.set(http::field::content_disposition, "inline; filename=matomo.js");
    const std::string& body = accepts_gzip(req[http::field::accept_encoding]) && !gzip_.empty() ? gzip_ : plain_;
    if (&body == &gzip_) res.set(http::field::content_encoding, "gzip");
    res.content_length(body.size());
    if (!head) res.body() = {body.data(), body.size()};
}

}  // namespace mgw::gateway
