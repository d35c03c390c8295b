#include "spool/spool.hpp"

#include "metrics/metrics.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace mgw::spool {

namespace {

constexpr std::uint64_t header_bytes = segment_magic.size();
constexpr std::uint32_t cursor_magic = 0x4352474D;  // "MGRC"
constexpr std::size_t cursor_bytes = 4 + 4 * 8 + 4;
constexpr std::size_t read_chunk = std::size_t{256} * 1024;

std::uint64_t now_ms() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

std::string errno_text(std::string_view what, const std::string& path) {
    std::string out(what);
    out += ' ';
    out += path;
    out += ": ";
    out += std::strerror(errno);
    return out;
}

bool write_all(int fd, const char* data, std::size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, data, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

// Reads [offset, offset + n) or less at the end of the file.
std::size_t pread_some(int fd, std::string& buf, std::uint64_t offset, std::size_t n) {
    const std::size_t old = buf.size();
    buf.resize(old + n);
    std::size_t got = 0;
    while (got < n) {
        const ssize_t r = ::pread(fd, buf.data() + old + got, n - got, static_cast<off_t>(offset + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += static_cast<std::size_t>(r);
    }
    buf.resize(old + got);
    return got;
}

void put_le(unsigned char* p, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) p[i] = static_cast<unsigned char>((v >> (8 * i)) & 0xff);
}

std::uint64_t get_le(const unsigned char* p, int bytes) {
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

std::span<const unsigned char> bytes_of(const std::string& s) {
    return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

// Segment files are named by a zero-padded sequence number so that name order is write order.
bool parse_segment_name(const char* name, std::uint64_t& seq) {
    constexpr std::string_view prefix = "segment-", suffix = ".spool";
    const std::string_view n(name);
    if (n.size() != prefix.size() + 16 + suffix.size() || !n.starts_with(prefix) || !n.ends_with(suffix)) return false;
    const char* first = n.data() + prefix.size();
    const char* last = first + 16;
    if (!std::all_of(first, last, [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }))
        return false;
    std::uint64_t v = 0;
    auto [end, err] = std::from_chars(first, last, v, 16);
    if (err != std::errc{} || end != last) return false;
    seq = v;
    return true;
}

}  // namespace

Spool::Spool(SpoolOptions opts, metrics::Metrics* metrics, queue::WriterLog log)
    : opts_(std::move(opts)), metrics_(metrics), log_(std::move(log)) {}

Spool::~Spool() {
    stop();
    if (active_fd_ >= 0) ::close(active_fd_);
    if (cursor_fd_ >= 0) ::close(cursor_fd_);
    if (dir_fd_ >= 0) ::close(dir_fd_);
}

std::string Spool::segment_path(std::uint64_t seq) const {
    char name[40];
    std::snprintf(name, sizeof name, "segment-%016llx.spool", static_cast<unsigned long long>(seq));
    return opts_.dir + "/" + name;
}

std::optional<std::string> Spool::open(Recovery* recovery) {
    if (::mkdir(opts_.dir.c_str(), 0750) != 0 && errno != EEXIST) return errno_text("cannot create", opts_.dir);
    dir_fd_ = ::open(opts_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd_ < 0) return errno_text("cannot open", opts_.dir);
    // One process per spool directory: two writers would interleave segments and replay twice.
    if (::flock(dir_fd_, LOCK_EX | LOCK_NB) != 0)
        return errno == EWOULDBLOCK ? "spool directory " + opts_.dir + " is in use by another gateway process"
                                    : errno_text("cannot lock", opts_.dir);

    std::vector<std::uint64_t> found;
    std::string source_file;
    if (DIR* d = ::opendir(opts_.dir.c_str())) {
        while (dirent* e = ::readdir(d)) {
            std::uint64_t seq = 0;
            if (parse_segment_name(e->d_name, seq)) found.push_back(seq);
            const std::string_view name(e->d_name);
            if (name == "CMakeLists.txt" || name.ends_with(".cpp") || name.ends_with(".hpp")) source_file = name;
        }
        ::closedir(d);
    } else {
        return errno_text("cannot list", opts_.dir);
    }
    // Spooled sets hold client IPs and URLs: never write them among source files, where a commit or
    // a container build would pick them up (a relative --spool-dir started from a source tree).
    if (!source_file.empty())
        return "spool directory " + opts_.dir + " holds source files (" + source_file +
               "); refusing to write hits there, pass a --spool-dir of its own";
    std::sort(found.begin(), found.end());

    // The cursor: where replay had got to, and the end of the window it was sending.
    const std::string cursor_path = opts_.dir + "/cursor";
    cursor_fd_ = ::open(cursor_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (cursor_fd_ < 0) return errno_text("cannot open", cursor_path);
    Position cursor{found.empty() ? 0 : found.front(), header_bytes};
    Position inflight = cursor;
    {
        unsigned char c[cursor_bytes];
        const ssize_t n = ::pread(cursor_fd_, c, sizeof c, 0);
        if (n == static_cast<ssize_t>(sizeof c) && get_le(c, 4) == cursor_magic &&
            get_le(c + cursor_bytes - 4, 4) == crc32c({c, cursor_bytes - 4})) {
            cursor = {get_le(c + 4, 8), get_le(c + 12, 8)};
            inflight = {get_le(c + 20, 8), get_le(c + 28, 8)};
        } else if (n > 0 && log_) {
            // A damaged cursor: replay starts again at the oldest segment (records may be sent twice).
            log_("warn", "spool_cursor_damaged", cursor_path);
        }
    }
    if (inflight < cursor) inflight = cursor;

    Recovery rec;
    std::uint64_t next = 0;
    for (std::uint64_t seq : found) {
        next = seq + 1;
        if (seq < cursor.segment) {
            // Replayed before the last stop but not yet deleted.
            ::unlink(segment_path(seq).c_str());
            ++rec.removed_segments;
            continue;
        }
        struct stat st {};
        if (::stat(segment_path(seq).c_str(), &st) != 0) continue;
        // Nothing after the cursor: an empty segment (every start opens a new one, and a quiet run
        // writes nothing into it) or one replay has passed entirely. Kept, they would pile up.
        const std::uint64_t from = seq == cursor.segment ? std::max(cursor.offset, header_bytes) : header_bytes;
        if (static_cast<std::uint64_t>(st.st_size) <= from) {
            ::unlink(segment_path(seq).c_str());
            ++rec.removed_segments;
            continue;
        }
        Segment s;
        s.size = s.durable = static_cast<std::uint64_t>(st.st_size);
        s.closed = true;
        s.scanned = true;
        segments_[seq] = s;
        disk_bytes_ += s.size;
        scan_segment(seq, seq == cursor.segment ? cursor.offset : header_bytes, inflight, rec);
    }
    if (segments_.empty() || cursor.segment < segments_.begin()->first)
        cursor = {segments_.empty() ? next : segments_.begin()->first, header_bytes};
    cursor_ = inflight_ = read_ = cursor;
    records_ = rec.records;
    rec.segments = segments_.size();

    if (rec.removed_segments) ::fsync(dir_fd_);
    std::string error;
    if (!open_segment(next, error)) return error;
    if (segments_.size() == 1) cursor_ = inflight_ = read_ = {active_, header_bytes};
    {
        std::unique_lock lock(mu_);
        write_cursor(lock, true);
    }
    if (metrics_) {
        metrics_->spool_recovered(rec.records, rec.corrupt_regions, rec.corrupt_bytes, rec.possible_duplicates);
        metrics_->spool_max_bytes(static_cast<double>(opts_.max_bytes));
    }
    update_gauges();
    if (recovery) *recovery = rec;
    io_ = std::thread([this] { io_loop(); });
    return std::nullopt;
}

void Spool::scan_segment(std::uint64_t seq, std::uint64_t from, Position inflight, Recovery& rec) {
    const std::string path = segment_path(seq);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    const std::uint64_t size = segments_[seq].size;
    {
        std::string head;
        pread_some(fd, head, 0, header_bytes);
        if (head != segment_magic) {
            report_corrupt(seq, 0, std::min<std::uint64_t>(size, header_bytes), true);
            ++rec.corrupt_regions;
            rec.corrupt_bytes += std::min<std::uint64_t>(size, header_bytes);
        }
    }
    std::string buf;
    std::uint64_t buf_at = from;  // file offset of buf[0]
    std::uint64_t pos = from;
    Record r;
    while (pos < size) {
        const std::size_t have = buf.size() - static_cast<std::size_t>(pos - buf_at);
        const bool at_end = buf_at + buf.size() >= size;
        auto view = bytes_of(buf).subspan(static_cast<std::size_t>(pos - buf_at));
        DecodeResult d = have ? decode_record(view, r, at_end) : DecodeResult{};
        if (d.status == DecodeStatus::need_more) {
            buf.erase(0, static_cast<std::size_t>(pos - buf_at));
            buf_at = pos;
            if (pread_some(fd, buf, buf_at + buf.size(), std::max<std::size_t>(read_chunk, buf.size())) == 0) break;
            continue;
        }
        if (d.status == DecodeStatus::corrupt) {
            report_corrupt(seq, pos, d.consumed, true);
            ++rec.corrupt_regions;
            rec.corrupt_bytes += d.consumed;
        } else {
            if (rec.records == 0) oldest_ms_ = r.spooled_at_ms;
            ++rec.records;
            if (Position{seq, pos} < inflight) ++rec.possible_duplicates;
        }
        pos += d.consumed;
    }
    ::close(fd);
}

void Spool::report_corrupt(std::uint64_t seq, std::uint64_t offset, std::uint64_t bytes, bool at_start_up) {
    if (metrics_ && !at_start_up) metrics_->spool_corrupt(1, bytes);
    if (log_) {
        log_(
            "warn", "spool_record_damaged",
            segment_path(seq) + " at byte " + std::to_string(offset) + ": " + std::to_string(bytes) + " bytes skipped");
    }
}

bool Spool::open_segment(std::uint64_t seq, std::string& error) {
    const std::string path = segment_path(seq);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
        error = errno_text("cannot create", path);
        return false;
    }
    if (!write_all(fd, segment_magic.data(), segment_magic.size()) || ::fdatasync(fd) != 0 || ::fsync(dir_fd_) != 0) {
        error = errno_text("cannot write", path);
        ::close(fd);
        ::unlink(path.c_str());
        return false;
    }
    std::lock_guard lock(mu_);
    if (active_fd_ >= 0) ::close(active_fd_);
    active_fd_ = fd;
    active_ = seq;
    Segment s;
    s.size = s.durable = header_bytes;
    segments_[seq] = s;
    disk_bytes_ += header_bytes;
    return true;
}

void Spool::append(std::string_view key, std::string_view value, AppendDone done) {
    if (!record_fits(key, value)) {
        // Refused before it is acknowledged: replay could not read it back.
        if (metrics_) metrics_->spool_append(metrics::SpoolAppend::too_large);
        if (log_) log_("warn", "spool_set_too_large", std::to_string(key.size() + value.size()) + " bytes");
        done(false);
        return;
    }
    Pending p;
    p.spooled_ms = now_ms();
    encode_record(p.bytes, p.spooled_ms, key, value);
    bool log_memory = false;
    bool over_memory = false;
    std::uint64_t refusals = 0;
    {
        std::lock_guard lock(mu_);
        const bool disk_room = disk_bytes_ + pending_bytes_ + p.bytes.size() <= opts_.max_bytes;
        // One set is always taken when none waits, so a set larger than the budget (up to the
        // record limit) is never refused for memory alone.
        const bool memory_room = pending_bytes_ == 0 || pending_bytes_ + p.bytes.size() <= opts_.max_pending_bytes;
        if (!stopping_ && disk_room && memory_room) {
            pending_bytes_ += p.bytes.size();
            p.done = std::move(done);
            pending_.push_back(std::move(p));
            full_ = false;
            cv_.notify_one();
            if (metrics_) metrics_->spool_pending(static_cast<double>(pending_bytes_));
            return;
        }
        if (!stopping_ && disk_room) {
            // The disk is not keeping up (a slow or stalled fdatasync): say so at most every 10 s.
            over_memory = true;
            ++memory_refusals_;
            const auto now = std::chrono::steady_clock::now();
            if (last_stall_log_ == std::chrono::steady_clock::time_point{} ||
                now - last_stall_log_ >= std::chrono::seconds(10)) {
                last_stall_log_ = now;
                log_memory = true;
                refusals = std::exchange(memory_refusals_, 0);
            }
        } else {
            full_ = true;
        }
    }
    if (log_memory && log_)
        log_("warn", "spool_write_stalled",
             std::to_string(refusals) + " sets refused: " + std::to_string(opts_.max_pending_bytes) +
                 " bytes wait for the disk (--spool-max-pending-bytes); the write in progress has taken " +
                 std::to_string(io_in_progress().count()) + " s");
    if (metrics_) metrics_->spool_append(over_memory ? metrics::SpoolAppend::memory_full : metrics::SpoolAppend::full);
    done(false);
}

void Spool::io_loop() {
    std::unique_lock lock(mu_);
    for (;;) {
        cv_.wait(lock, [&] { return stopping_ || !pending_.empty() || roll_requested_; });
        if (roll_requested_) {
            roll(lock);
            continue;
        }
        if (pending_.empty() && stopping_) break;
        // Group commit: let the sets arriving within the interval share the fdatasync.
        if (opts_.sync_interval.count() > 0 && !stopping_)
            cv_.wait_for(lock, opts_.sync_interval, [&] { return stopping_; });
        std::vector<Pending> batch;
        batch.swap(pending_);
        const int fd = active_fd_;
        const std::uint64_t seq = active_;
        std::uint64_t size = segments_[seq].size;
        lock.unlock();

        std::vector<iovec> iov;
        iov.reserve(batch.size());
        std::uint64_t total = 0;
        for (auto& p : batch) {
            iov.push_back({p.bytes.data(), p.bytes.size()});
            total += p.bytes.size();
        }
        bool ok = true;
        const auto t0 = std::chrono::steady_clock::now();
        io_started_ns_ = t0.time_since_epoch().count() | 1;  // never 0 while a write runs
        for (std::size_t i = 0; i < iov.size() && ok;) {
            const int n = static_cast<int>(std::min<std::size_t>(iov.size() - i, IOV_MAX));
            ssize_t w = ::writev(fd, iov.data() + i, n);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) {
                ok = false;
                break;
            }
            // Partial write: finish the iovecs it cut short one by one.
            while (w > 0 && i < iov.size()) {
                if (static_cast<std::size_t>(w) >= iov[i].iov_len) {
                    w -= static_cast<ssize_t>(iov[i].iov_len);
                    ++i;
                } else {
                    ok = write_all(fd, static_cast<char*>(iov[i].iov_base) + w,
                                   iov[i].iov_len - static_cast<std::size_t>(w));
                    w = 0;
                    ++i;
                }
            }
        }
        if (ok) ok = ::fdatasync(fd) == 0;
        const std::string error = ok ? std::string() : errno_text("cannot write", segment_path(seq));
        io_started_ns_ = 0;
        const double io_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (metrics_) metrics_->spool_fsync(io_seconds);
        // Clients wait for this: a slow disk is worth a line (the histogram has the distribution).
        if (io_seconds >= 1.0 && log_)
            log_("warn", "spool_fsync_slow",
                 std::to_string(io_seconds) + " s for " + std::to_string(batch.size()) + " sets");

        lock.lock();
        pending_bytes_ -= total;
        if (metrics_) metrics_->spool_pending(static_cast<double>(pending_bytes_));
        if (ok) {
            auto& s = segments_[seq];
            size = s.size + total;
            s.size = s.durable = size;
            disk_bytes_ += total;
            if (records_ == 0) oldest_ms_ = batch.front().spooled_ms;
            records_ += batch.size();
        }
        const bool roll_now = !ok || size >= opts_.segment_bytes;
        lock.unlock();
        if (!ok && log_) log_("error", "spool_write_failed", error);
        for (auto& p : batch) {
            if (metrics_) metrics_->spool_append(ok ? metrics::SpoolAppend::ok : metrics::SpoolAppend::error);
            p.done(ok);
        }
        update_gauges();
        lock.lock();
        // A segment that failed a write is closed as it is (its tail is damaged at worst, which the
        // reader skips) and appends go on in a fresh one.
        if (roll_now) roll(lock);
    }
    if (active_fd_ >= 0) ::fdatasync(active_fd_);
    write_cursor(lock, true);
}

// Closes the active segment and opens the next. Called on the I/O thread with the lock held.
void Spool::roll(std::unique_lock<std::mutex>& lock) {
    roll_requested_ = false;
    segments_[active_].closed = true;
    const std::uint64_t next = active_ + 1;
    lock.unlock();
    std::string error;
    const bool ok = open_segment(next, error);
    lock.lock();
    if (!ok) {
        if (log_) log_("error", "spool_write_failed", error);
        segments_[active_].closed = false;  // keep appending where we are
        return;
    }
    delete_consumed(lock);
}

void Spool::delete_consumed(std::unique_lock<std::mutex>& lock) {
    bool deleted = false;
    while (!segments_.empty()) {
        auto it = segments_.begin();
        const bool passed = it->first < cursor_.segment ||
                            (it->first == cursor_.segment && it->second.closed && cursor_.offset >= it->second.size);
        if (!passed || it->first == active_) break;
        ::unlink(segment_path(it->first).c_str());
        disk_bytes_ -= it->second.size;
        segments_.erase(it);
        deleted = true;
    }
    if (deleted) {
        if (cursor_.segment < segments_.begin()->first) cursor_ = inflight_ = {segments_.begin()->first, header_bytes};
        if (read_ < cursor_) read_ = cursor_;
        full_ = false;
        write_cursor(lock, true);
        update_gauges_locked();
    }
}

void Spool::write_cursor(std::unique_lock<std::mutex>&, bool sync) {
    unsigned char c[cursor_bytes];
    put_le(c, cursor_magic, 4);
    put_le(c + 4, cursor_.segment, 8);
    put_le(c + 12, cursor_.offset, 8);
    put_le(c + 20, inflight_.segment, 8);
    put_le(c + 28, inflight_.offset, 8);
    put_le(c + cursor_bytes - 4, crc32c({c, cursor_bytes - 4}), 4);
    // One small pwrite: a process crash never tears it; the CRC catches a torn write after a power
    // cut (replay then restarts at the oldest segment, at least once).
    if (::pwrite(cursor_fd_, c, sizeof c, 0) != static_cast<ssize_t>(sizeof c) && log_)
        log_("error", "spool_cursor_write_failed", std::strerror(errno));
    if (sync) ::fdatasync(cursor_fd_);
}

void Spool::stop() {
    {
        std::lock_guard lock(mu_);
        if (stopping_ && !io_.joinable()) return;
        stopping_ = true;
        cv_.notify_all();
    }
    if (io_.joinable()) io_.join();
}

bool Spool::full() const {
    std::lock_guard lock(mu_);
    return full_;
}
std::uint64_t Spool::bytes() const {
    std::lock_guard lock(mu_);
    return disk_bytes_;
}
std::uint64_t Spool::records() const {
    std::lock_guard lock(mu_);
    return records_;
}
std::uint64_t Spool::pending_bytes() const {
    std::lock_guard lock(mu_);
    return pending_bytes_;
}
std::chrono::duration<double> Spool::io_in_progress() const {
    const std::int64_t started = io_started_ns_;
    if (started == 0) return std::chrono::duration<double>(0);
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    return std::chrono::duration<double>(std::chrono::steady_clock::duration(std::max<std::int64_t>(0, now - started)));
}
std::uint64_t Spool::oldest_spooled_ms() const {
    std::lock_guard lock(mu_);
    return records_ ? oldest_ms_ : 0;
}

std::vector<Entry> Spool::read(std::size_t max) {
    std::vector<Entry> out;
    std::unique_lock lock(mu_);
    while (out.size() < max) {
        auto it = segments_.find(read_.segment);
        if (it == segments_.end()) {
            // Deleted or never existed: go on at the next segment there is.
            it = segments_.upper_bound(read_.segment);
            if (it == segments_.end()) break;
            read_ = {it->first, header_bytes};
        }
        const Segment seg = it->second;
        if (read_.offset >= seg.durable) {
            if (!seg.closed) break;  // the active segment: nothing more is durable yet
            auto next = segments_.upper_bound(read_.segment);
            if (next == segments_.end()) break;
            read_ = {next->first, header_bytes};
            continue;
        }
        const Position at = read_;
        lock.unlock();
        const int fd = ::open(segment_path(at.segment).c_str(), O_RDONLY | O_CLOEXEC);
        std::string buf;
        std::uint64_t pos = at.offset;
        std::uint64_t buf_at = pos;
        if (fd >= 0) {
            Record r;
            while (out.size() < max && pos < seg.durable) {
                auto view = bytes_of(buf).subspan(static_cast<std::size_t>(pos - buf_at));
                const bool at_end = buf_at + buf.size() >= seg.durable;
                DecodeResult d = view.empty() ? DecodeResult{} : decode_record(view, r, at_end && seg.closed);
                if (d.status == DecodeStatus::need_more) {
                    buf.erase(0, static_cast<std::size_t>(pos - buf_at));
                    buf_at = pos;
                    const std::uint64_t left = seg.durable - (buf_at + buf.size());
                    if (left == 0 || pread_some(fd, buf, buf_at + buf.size(),
                                                static_cast<std::size_t>(std::min<std::uint64_t>(
                                                    left, std::max(read_chunk, buf.size())))) == 0)
                        break;
                    continue;
                }
                if (d.status == DecodeStatus::corrupt) {
                    if (!seg.scanned) report_corrupt(at.segment, pos, d.consumed, false);
                } else {
                    Entry e;
                    e.start = {at.segment, pos};
                    e.end = {at.segment, pos + d.consumed};
                    e.record = std::move(r);
                    r = Record{};
                    out.push_back(std::move(e));
                }
                pos += d.consumed;
            }
            ::close(fd);
        }
        lock.lock();
        if (read_ != at) break;  // rewound meanwhile
        if (fd < 0) {
            // An unreadable closed segment is skipped (reported); the active one is retried later.
            if (!seg.closed) break;
            if (log_) log_("error", "spool_segment_unreadable", segment_path(at.segment));
            read_ = {at.segment, seg.durable};
            continue;
        }
        if (pos == at.offset) break;
        read_.offset = pos;
    }
    if (!out.empty()) { oldest_ms_ = out.front().record.spooled_at_ms; }
    return out;
}

void Spool::rewind(Position p) {
    std::lock_guard lock(mu_);
    if (p < cursor_) p = cursor_;
    read_ = p;
}

void Spool::mark_inflight(Position end) {
    std::unique_lock lock(mu_);
    inflight_ = end;
    write_cursor(lock, false);
}

void Spool::consume(Position end, std::uint64_t n) {
    {
        std::unique_lock lock(mu_);
        if (cursor_ < end) cursor_ = end;
        if (inflight_ < cursor_) inflight_ = cursor_;
        records_ -= std::min(records_, n);
        write_cursor(lock, false);
        const auto& active = segments_[active_];
        if (cursor_.segment == active_ && cursor_.offset >= active.size && active.size > header_bytes) {
            // Replay caught up with the writer: close this segment so its disk can be freed.
            roll_requested_ = true;
            cv_.notify_one();
        }
        delete_consumed(lock);
    }
    update_gauges();
}

void Spool::update_gauges() {
    std::lock_guard lock(mu_);
    update_gauges_locked();
}

void Spool::update_gauges_locked() {
    if (metrics_)
        metrics_->spool_state(static_cast<double>(disk_bytes_), static_cast<double>(records_),
                              static_cast<double>(segments_.size()));
}

}  // namespace mgw::spool
