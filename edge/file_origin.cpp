// Local files instead of an origin (--js-dir, --js-tracker-file). A "fetch" is a stat and, when the
// file changed, a read: the cache in front asks again once an object's freshness has run out, so a
// file replaced on disk is served within that time, without a restart (as the geo database is
// picked up by polling its stamp). Files are small and read on the I/O thread.
//
// Headers follow Matomo's ProxyHttp::serverStaticFile, which stock uses for the tracker: Last-Modified
// (the file's mtime), Cache-Control: public, must-revalidate, Vary: Accept-Encoding,
// Content-Disposition: inline; filename=..., and Expires ten days out. An ETag made of the file's
// stamp lets a change within the same second be noticed.
#include "edge/origin.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

namespace mgw::edge {
namespace {

constexpr std::time_t expires_days = 10;  // js/index.php: $daysExpireFarFuture

struct Stamp {
    bool exists = false;
    struct stat st {};
};

Stamp stamp_of(const std::string& path) {
    Stamp s;
    s.exists = ::stat(path.c_str(), &s.st) == 0 && S_ISREG(s.st.st_mode);
    return s;
}

bool same(const Stamp& a, const Stamp& b) {
    return a.exists == b.exists && a.st.st_ino == b.st.st_ino && a.st.st_size == b.st.st_size &&
           a.st.st_mtim.tv_sec == b.st.st_mtim.tv_sec && a.st.st_mtim.tv_nsec == b.st.st_mtim.tv_nsec;
}

std::string etag_of(const Stamp& s) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "\"%llx-%lx-%llx\"", static_cast<unsigned long long>(s.st.st_ino),
                  static_cast<long>(s.st.st_mtim.tv_sec) * 1000000000L + s.st.st_mtim.tv_nsec,
                  static_cast<unsigned long long>(s.st.st_size));
    return buf;
}

class FileOrigin : public Origin {
public:
    FileOrigin(std::string dir, std::string tracker_file, std::size_t max_bytes)
        : dir_(std::move(dir)), tracker_file_(std::move(tracker_file)), max_bytes_(max_bytes) {}

    bool serves(Kind k) const override {
        if (dir_.empty()) return k == Kind::tracker;
        return k == Kind::tracker || k == Kind::container || k == Kind::preview;
    }

    void fetch(const FetchRequest& req, FetchCallback done) override {
        // The target's file name was built by path.cpp from listed names only: no '..', no '/'
        // beyond "js/".
        const std::string path = !tracker_file_.empty() && req.target->kind == Kind::tracker
                                     ? tracker_file_
                                     : dir_ + "/" + req.target->file_name;
        FetchResult r;
        const Stamp before = stamp_of(path);
        if (!before.exists) {
            r.status = 404;
            r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
            r.body = "not found\n";
            return done(std::move(r));
        }
        const std::time_t now = std::time(nullptr);
        const std::string etag = etag_of(before);
        const std::string base = path.substr(path.find_last_of('/') + 1);
        r.headers = {{"Content-Type", "application/javascript; charset=UTF-8"},
                     {"Last-Modified", http_time(before.st.st_mtim.tv_sec)},
                     {"ETag", etag},
                     {"Cache-Control", "public, must-revalidate"},
                     {"Vary", "Accept-Encoding"},
                     {"Content-Disposition", "inline; filename=" + base},
                     {"Date", http_time(now)},
                     {"Expires", http_time(now + expires_days * 86400)}};
        if (req.if_none_match == etag) {
            r.status = 304;
            return done(std::move(r));
        }
        if (static_cast<std::size_t>(before.st.st_size) > max_bytes_) {
            r.error = FetchError::too_large;
            return done(std::move(r));
        }
        std::ifstream in(path, std::ios::binary);
        std::ostringstream buf;
        buf << in.rdbuf();
        // Rewritten while we read (CustomJsTracker writes in place): not this version, try again later.
        if (!in || !same(before, stamp_of(path))) {
            r.error = FetchError::malformed;
            return done(std::move(r));
        }
        r.status = 200;
        r.body = std::move(buf).str();
        done(std::move(r));
    }

private:
    std::string dir_;
    std::string tracker_file_;
    std::size_t max_bytes_;
};

}  // namespace

std::unique_ptr<Origin> make_file_origin(const std::string& dir, const std::string& tracker_file, std::size_t max_bytes,
                                         std::string& error) {
    struct stat st {};
    if (!dir.empty() && (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))) {
        error = "js-dir: '" + dir + "' is not a readable directory";
        return nullptr;
    }
    if (!tracker_file.empty() && ::stat(tracker_file.c_str(), &st) != 0) {
        error = "cannot read JavaScript tracker file '" + tracker_file + "'";
        return nullptr;
    }
    std::string d = dir;
    while (d.size() > 1 && d.back() == '/') d.pop_back();
    return std::make_unique<FileOrigin>(std::move(d), tracker_file, max_bytes);
}

}  // namespace mgw::edge
