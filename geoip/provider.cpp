// GeoProvider: start-up open, SIGHUP reload and change-triggered reload of the mapped geo database.
#include "geoip/provider.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace mgw::geoip {

GeoProvider::GeoProvider(std::string path) : path_(std::move(path)) {}

bool GeoProvider::FileStamp::same_as(const FileStamp& o) const {
    if (exists != o.exists) return false;
    if (!exists) return true;
    return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec;
}

GeoProvider::FileStamp GeoProvider::stamp(const std::string& path) {
    FileStamp s;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        s.error = path + ": " + std::strerror(errno);
        return s;
    }
    s.exists = true;
    s.dev = st.st_dev;
    s.ino = st.st_ino;
    s.size = st.st_size;
    s.mtime = st.st_mtim;
    return s;
}

// Called with reload_mutex_ held. `seen` is taken BEFORE opening: if the file changes while we map
// it, the next check sees a newer stamp and loads again, instead of missing the change.
ReloadResult GeoProvider::load_locked(FileStamp seen) {
    last_seen_ = std::move(seen);
    attempted_ = true;
    std::string error;
    auto db = GeoDatabase::open(path_, error);
    if (!db) return {ReloadStatus::failed, error};
    {
        std::lock_guard swap(db_mutex_);
        db_.swap(db);
    }
    db.reset();  // the old database, unmapped here unless a lookup still holds it
    return {ReloadStatus::reloaded, {}};
}

std::optional<std::string> GeoProvider::open() {
    std::lock_guard lock(reload_mutex_);
    auto r = load_locked(stamp(path_));
    if (r.status == ReloadStatus::reloaded) return std::nullopt;
    return "cannot open geo database " + r.error;
}

ReloadResult GeoProvider::reload() {
    std::lock_guard lock(reload_mutex_);
    auto r = load_locked(stamp(path_));
    if (r.status == ReloadStatus::failed && loaded()) r.error += " (keeping the previously loaded database)";
    return r;
}

ReloadResult GeoProvider::maybe_reload_if_changed() {
    std::lock_guard lock(reload_mutex_);
    auto now = stamp(path_);
    if (attempted_ && now.same_as(last_seen_)) return {};
    if (!now.exists) {
        // Gone (or unreadable): keep answering from the mapped copy; say so once.
        std::string error = now.error;
        last_seen_ = std::move(now);
        attempted_ = true;
        if (loaded()) error += " (keeping the previously loaded database)";
        return {ReloadStatus::failed, std::move(error)};
    }
    auto r = load_locked(std::move(now));
    if (r.status == ReloadStatus::failed && loaded()) r.error += " (keeping the previously loaded database)";
    return r;
}

std::shared_ptr<const GeoDatabase> GeoProvider::current() const {
    std::lock_guard lock(db_mutex_);
    return db_;
}

std::optional<GeoResult> GeoProvider::lookup(std::string_view ip) const {
    auto db = current();
    if (!db) return std::nullopt;
    return db->lookup(ip);
}

}  // namespace mgw::geoip
