// The geo database the gateway currently answers from, and its hot reload (SIGHUP and file
// change, never failing a request). A lookup copies the current shared_ptr and never waits for a
// reload's file I/O: a reload maps the new file first and swaps only if it opened, so a corrupt or
// half-copied file leaves the old database answering. The old mapping is released when its last
// lookup finishes.
//
// Operators must REPLACE the file (write elsewhere, then rename over it), never rewrite it in place:
// the live database is mmap'ed, and truncating a mapped file makes the next lookup fault (SIGBUS).
#pragma once

#include "geoip/geo.hpp"

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace mgw::geoip {

enum class ReloadStatus {
    unchanged,  // maybe_reload_if_changed: same file as last time (or still missing)
    reloaded,   // the new file answers from now on
    failed,     // `error` says why; the previous database (if any) keeps answering
};

struct ReloadResult {
    ReloadStatus status = ReloadStatus::unchanged;
    std::string error;
};

class GeoProvider {
public:
    explicit GeoProvider(std::string path);
    GeoProvider(const GeoProvider&) = delete;
    GeoProvider& operator=(const GeoProvider&) = delete;

    // Start-up: nullopt when the database opened, else a message naming the file and the problem
    // (the caller makes that fatal unless geo is off).
    std::optional<std::string> open();

    // SIGHUP: map the file again, unconditionally.
    ReloadResult reload();

    // Timer: reload only if the file's inode, device, size or mtime differ from the last attempt.
    // A failed attempt is remembered, so a broken file is reported once, not on every tick.
    ReloadResult maybe_reload_if_changed();

    // nullopt when nothing is loaded, the address is unknown, or not an address.
    std::optional<GeoResult> lookup(std::string_view ip) const;

    // The database answering right now (nullptr before a successful open). Holding it keeps it mapped.
    std::shared_ptr<const GeoDatabase> current() const;
    bool loaded() const { return current() != nullptr; }
    const std::string& path() const { return path_; }

private:
    struct FileStamp {
        bool exists = false;
        dev_t dev = 0;
        ino_t ino = 0;
        off_t size = 0;
        timespec mtime{};
        std::string error;  // why stat failed when !exists
        bool same_as(const FileStamp& o) const;
    };
    static FileStamp stamp(const std::string& path);
    ReloadResult load_locked(FileStamp seen);

    std::string path_;
    // Not std::atomic<std::shared_ptr>: libstdc++ 12 implements it with a lock bit whose load side
    // unlocks relaxed, which ThreadSanitizer (our tsan preset) reports as a race. This mutex guards
    // only the pointer copy (a refcount increment), never an open or a stat.
    mutable std::mutex db_mutex_;
    std::shared_ptr<const GeoDatabase> db_;
    std::mutex reload_mutex_;  // serialises SIGHUP and timer reloads; lookups never take it
    FileStamp last_seen_;
    bool attempted_ = false;
};

}  // namespace mgw::geoip
