// The local spool: an append-only log of request sets that Redis could not take, kept in segment
// files under one directory, made durable by fsync in groups, and read back in order for replay.
//
// Appends come from any thread and are written by one I/O thread: it gathers what arrives within
// the sync interval, writes it with one system call, fdatasync()s, and only then reports the sets
// stored (group commit). A reader (the replay loop, one at a time) walks the records in the order
// they were written; a small cursor file records how far replay got, so a restarted gateway
// resumes there. Segments are deleted once replay has passed their end.
#pragma once

#include "queue/sink.hpp"
#include "spool/record.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mgw::metrics {
class Metrics;
}

namespace mgw::spool {

struct SpoolOptions {
    // An absolute, conventional place (the Docker image and the Helm chart use it too): a relative
    // default would put hits into whatever directory the gateway was started from.
    std::string dir = "/var/spool/matomo-gateway";
    std::uint64_t max_bytes = 1ull << 30;  // disk the spool may use; beyond it appends are refused
    // Memory the spool may hold in encoded sets waiting for the I/O thread (a slow or stalled
    // fsync); beyond it appends are refused, so a stalled disk cannot grow the process without bound.
    std::uint64_t max_pending_bytes = 32ull << 20;
    std::uint64_t segment_bytes = 64ull << 20;   // a segment is closed once it reaches this size
    std::chrono::milliseconds sync_interval{2};  // group-commit window before each fdatasync
};

// A place in the spool: segment number and byte offset within it.
struct Position {
    std::uint64_t segment = 0;
    std::uint64_t offset = 0;
    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads the defaulted <=>'s comparison with 0
    friend auto operator<=>(const Position&, const Position&) = default;
};

struct Entry {
    Record record;
    Position start;
    Position end;
};

// What start-up found in the directory.
struct Recovery {
    std::uint64_t records = 0;  // valid records waiting for replay
    std::uint64_t segments = 0;
    std::uint64_t corrupt_regions = 0;  // damaged or torn stretches skipped
    std::uint64_t corrupt_bytes = 0;
    std::uint64_t possible_duplicates = 0;  // records that were being replayed when the last process stopped
    std::uint64_t removed_segments = 0;     // empty or fully replayed segments deleted at start
};

class Spool {
public:
    // Called on the spool's I/O thread once the set is durable (true) or refused (false: full or
    // write error), or inline from append() when refused at once.
    using AppendDone = std::function<void(bool stored)>;

    Spool(SpoolOptions opts, metrics::Metrics* metrics, queue::WriterLog log);
    ~Spool();
    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;

    // Creates the directory if needed, scans what an earlier process left (counting valid records,
    // reporting damaged ones), opens a new segment and starts the I/O thread. Error text or nullopt.
    std::optional<std::string> open(Recovery* recovery = nullptr);
    // Thread-safe.
    void append(std::string_view key, std::string_view value, AppendDone done);
    // Writes and syncs what is pending, then stops the I/O thread. Appends after stop are refused.
    void stop();

    // No room for another set (appends are being refused).
    bool full() const;
    std::uint64_t bytes() const;
    std::uint64_t records() const;
    // Unix ms at which the oldest record still waiting was spooled; 0 when none waits.
    std::uint64_t oldest_spooled_ms() const;
    // Encoded sets in memory waiting for the I/O thread.
    std::uint64_t pending_bytes() const;
    // How long the write + fdatasync in progress has been running (zero when none is): a stalled
    // disk shows here while it stalls, not only once the call returns.
    std::chrono::duration<double> io_in_progress() const;

    // Replay side, one caller at a time. Returns up to `max` durable records after the read
    // position and moves the read position past them.
    std::vector<Entry> read(std::size_t max);
    // Moves the read position back (after a failed replay window).
    void rewind(Position p);
    // Records that a window up to `end` is being sent: if the process dies before consume(), the
    // next start counts those records as possible duplicates.
    void mark_inflight(Position end);
    // Replay reached `end` (everything before it is in Redis): `n` records fewer wait, the cursor
    // moves, and segments wholly before it are deleted.
    void consume(Position end, std::uint64_t n);

private:
    struct Segment {
        std::uint64_t size = 0;     // bytes written (closed segments: final size)
        std::uint64_t durable = 0;  // bytes fsync'ed (what the reader may see)
        bool closed = false;
        bool scanned = false;  // damage already reported by the start-up scan
    };
    struct Pending {
        std::string bytes;  // the encoded record
        AppendDone done;
        std::uint64_t spooled_ms;
    };

    void io_loop();
    bool open_segment(std::uint64_t seq, std::string& error);  // I/O thread or open(); takes no lock
    void roll(std::unique_lock<std::mutex>& lock);
    void delete_consumed(std::unique_lock<std::mutex>& lock);
    void write_cursor(std::unique_lock<std::mutex>& lock, bool sync);
    std::string segment_path(std::uint64_t seq) const;
    void scan_segment(std::uint64_t seq, std::uint64_t from, Position inflight, Recovery& rec);
    void report_corrupt(std::uint64_t seq, std::uint64_t offset, std::uint64_t bytes, bool at_start_up);
    void update_gauges();
    void update_gauges_locked();

    SpoolOptions opts_;
    metrics::Metrics* metrics_;
    queue::WriterLog log_;

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Pending> pending_;
    std::uint64_t pending_bytes_ = 0;
    std::map<std::uint64_t, Segment> segments_;
    std::uint64_t disk_bytes_ = 0;
    std::uint64_t records_ = 0;
    std::uint64_t oldest_ms_ = 0;
    bool full_ = false;
    bool stopping_ = false;
    bool roll_requested_ = false;
    Position cursor_;           // committed: everything before it is in Redis
    Position inflight_;         // end of the window being replayed (== cursor_ when none)
    Position read_;             // where the next read() starts
    std::uint64_t active_ = 0;  // the segment being appended to
    int active_fd_ = -1;
    int cursor_fd_ = -1;
    int dir_fd_ = -1;
    std::thread io_;
    std::atomic<std::int64_t> io_started_ns_{0};  // steady_clock of the write in progress, 0 when idle
    std::chrono::steady_clock::time_point last_stall_log_{};
    std::uint64_t memory_refusals_ = 0;  // appends refused over max_pending_bytes since the last log line
};

}  // namespace mgw::spool
