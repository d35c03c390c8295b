// Log lines are assembled in a thread-local buffer and written whole (event lines with one fwrite,
// access lines with one write(2), alone or in a thread's batch), so concurrent threads never
// interleave within a line.
#include "gateway/access_log.hpp"

#include "queue/request_set.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <random>
#include <string>

#include <unistd.h>

namespace mgw::gateway {
namespace {

int level_rank(std::string_view level) {
    if (level == "debug") return 0;
    if (level == "info") return 1;
    if (level == "warn") return 2;
    return 3;
}

std::atomic<int> min_level{1};

// The second's text is formatted once per second and thread; a line only adds the milliseconds.
// Writes at most 32 bytes at `out`; returns their end.
char* format_time(char* out) {
    auto now = std::chrono::system_clock::now();
    auto secs = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    thread_local std::time_t cached_at = -1;
    thread_local char text[32];
    thread_local std::size_t len = 0;
    if (secs != cached_at) {
        std::tm tm{};
        gmtime_r(&secs, &tm);
        len = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_at = secs;
    }
    std::memcpy(out, text, len);
    out += len;
    out[0] = '.';
    out[1] = static_cast<char>('0' + ms / 100);
    out[2] = static_cast<char>('0' + ms / 10 % 10);
    out[3] = static_cast<char>('0' + ms % 10);
    out[4] = 'Z';
    return out + 5;
}

void append_time(std::string& out) {
    char buf[40];
    out.append(buf, format_time(buf));
}

// The masked form of the last address logged on this thread: a keep-alive client's hits share it.
std::string_view masked_ip_cached(std::string_view ip) {
    thread_local std::string last_ip;
    thread_local std::string last_masked;
    if (ip != last_ip || last_masked.empty()) {
        last_ip.assign(ip);
        last_masked = mask_ip_for_log(ip);
    }
    return last_masked;
}

bool sampled(double rate) {
    if (rate >= 1.0) return true;
    if (rate <= 0.0) return false;
    thread_local std::minstd_rand rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng) < rate;
}

void emit(std::string& line) {
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
}

// An access line goes out with one write(2), without stdio's lock and buffer (every other line is
// flushed at once, so the two never mix within a line).
void emit_access(std::string_view line) {
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        const ssize_t n = ::write(STDOUT_FILENO, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // stdout gone: the log is lost, the hit is not
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

// A thread's access lines waiting to be written, and room for the one being written after them:
// a line is written straight into it. `ex` is set while an AccessLogBatch lives on the thread; without
// one every line is written on its own.
struct Batch {
    static constexpr std::size_t max_write = 4096;  // PIPE_BUF: one write(2) of it is atomic on a pipe
    std::optional<boost::asio::io_context::executor_type> ex;
    std::string buf;       // the waiting lines, then room; only grows
    std::size_t size = 0;  // bytes of whole lines in `buf`
    bool flush_posted = false;

    void flush() {
        emit_access({buf.data(), size});
        size = 0;
    }
    // Room for a line of at most `max` bytes after the waiting ones, which are written first when
    // both might not fit in one atomic write.
    char* room(std::size_t max) {
        if (size != 0 && size + max > max_write) flush();
        if (buf.size() < size + max) buf.resize(size + max);
        return buf.data() + size;
    }
    // The line written at room() ends at `end`. It goes out at once without a batch or when it is
    // longer than one atomic write (then alone); else a flush is posted for this round.
    void commit(const char* end) {
        size = static_cast<std::size_t>(end - buf.data());
        if (!ex || size > max_write) return flush();
        if (flush_posted) return;
        flush_posted = true;
        boost::asio::post(*ex, [this] {
            flush_posted = false;
            flush();
        });
    }
};
thread_local Batch batch;

// Characters a log string escapes: '"', '\\', control characters and DEL.
constexpr auto needs_escape = [] {
    std::array<bool, 256> t{};
    for (unsigned c = 0; c < 0x20; ++c) t[c] = true;
    t['"'] = t['\\'] = t[0x7f] = true;
    return t;
}();

// Writes `s` as a JSON string at `d` (at most 6 * s.size() + 2 bytes); returns the end. Runs of
// characters that need no escape are copied whole.
char* write_log_string(char* d, std::string_view s) {
    const auto copy = [&d](std::string_view run) {
        if (run.empty()) return;  // an empty view's data() may be null, which memcpy may not take
        std::memcpy(d, run.data(), run.size());
        d += run.size();
    };
    *d++ = '"';
    std::size_t plain = 0;  // start of the run of characters that need no escape
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (!needs_escape[c]) continue;
        copy(s.substr(plain, i - plain));
        plain = i + 1;
        *d++ = '\\';
        if (c == '"' || c == '\\') *d++ = static_cast<char>(c);
        else d = queue::write_u00xx(d, c);
    }
    copy(s.substr(plain));
    *d++ = '"';
    return d;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
    const std::size_t old = out.size();
    out.resize(old + 6 * s.size() + 2);
    out.resize(static_cast<std::size_t>(write_log_string(out.data() + old, s) - out.data()));
}

std::string mask_ip_for_log(std::string_view ip) {
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address(std::string(ip), ec);
    if (ec) return "invalid";
    if (a.is_v4()) {
        auto b = a.to_v4().to_bytes();
        b[2] = b[3] = 0;
        return boost::asio::ip::address_v4(b).to_string();
    }
    auto b = a.to_v6().to_bytes();
    for (std::size_t i = 6; i < b.size(); ++i) b[i] = 0;
    return boost::asio::ip::address_v6(b).to_string();
}

namespace {

// The access line is written through a raw cursor into room sized ahead (at most 6 bytes per string
// byte when escaped, plus the fixed text): no capacity check per piece.
class LineWriter {
public:
    explicit LineWriter(char* p) : p_(p) {}
    void lit(std::string_view s) {
        std::memcpy(p_, s.data(), s.size());  // `s` is always a literal here, never a null view
        p_ += s.size();
    }
    // `,"name":` (given as `key`) and the value as a JSON string.
    void field(std::string_view key, std::string_view value) {
        lit(key);
        p_ = write_log_string(p_, value);
    }
    template <class T>
    void number(T value) {
        p_ = std::to_chars(p_, p_ + 24, value).ptr;
    }
    void fixed6(double value) { p_ = std::to_chars(p_, p_ + 40, value, std::chars_format::fixed, 6).ptr; }
    void time() { p_ = format_time(p_); }
    const char* end() const { return p_; }

private:
    char* p_;
};

}  // namespace

void access_log(const AccessRecord& r, double sample_rate) {
    if (!sampled(sample_rate)) return;
    const std::string_view path = r.target.substr(0, r.target.find('?'));
    const std::string_view ip = masked_ip_cached(r.client_ip);
    const std::size_t strings =
        r.method.size() + path.size() + ip.size() + r.outcome.size() + r.reason.size() + r.queues.size();
    LineWriter w(batch.room(6 * strings + 512));
    w.lit("{\"time\":\"");
    w.time();
    w.field("\",\"event\":\"access\",\"method\":", r.method);
    w.field(",\"path\":", path);
    w.lit(",\"status\":");
    w.number(r.status);
    w.lit(",\"bytes\":");
    w.number(r.bytes);
    w.lit(",\"duration\":");
    w.fixed6(r.seconds);
    w.field(",\"client_ip\":", ip);
    w.field(",\"outcome\":", r.outcome);
    if (!r.reason.empty()) w.field(",\"reason\":", r.reason);
    if (!r.queues.empty()) w.field(",\"queues\":", r.queues);
    w.lit("}\n");
    batch.commit(w.end());
}

AccessLogBatch::AccessLogBatch(const boost::asio::io_context::executor_type& ex) { batch.ex = ex; }

AccessLogBatch::~AccessLogBatch() {
    batch.flush();
    batch.ex.reset();
    batch.flush_posted = false;
}

void set_log_level(std::string_view level) { min_level = level_rank(level); }

void log_event(std::string_view level, std::string_view event, std::string_view fields_json) {
    if (level_rank(level) < min_level) return;
    std::string line = "{\"time\":\"";
    append_time(line);
    line += "\",\"level\":";
    append_json_string(line, level);
    line += ",\"event\":";
    append_json_string(line, event);
    if (!fields_json.empty()) {
        line.push_back(',');
        line.append(fields_json);
    }
    line.push_back('}');
    emit(line);
}

}  // namespace mgw::gateway
