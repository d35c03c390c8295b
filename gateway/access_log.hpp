// The JSON access log: one object per line on stdout, sampled.
#pragma once

#include <boost/asio/io_context.hpp>

#include <string_view>

namespace mgw::gateway {

struct AccessRecord {
    std::string_view method;
    std::string_view target;  // the query string is cut off before logging
    unsigned status;
    std::size_t bytes;
    double seconds;
    std::string_view client_ip;  // logged with its last bytes masked
    std::string_view outcome;
    std::string_view reason;
    std::string_view queues;
};

// Writes the line at once, or, on a thread with an AccessLogBatch, into its batch.
void access_log(const AccessRecord& r, double sample_rate);

// While one lives on a thread, that thread's access lines are gathered and written together once
// its io_context has run the handlers that were ready (one write(2) for the lines of a round), and
// what is left when it ends. A write holds whole lines and at most PIPE_BUF (4096 bytes), unless
// one line alone is longer, so lines of different threads never mix on a pipe. The io_context must
// be run by this thread only.
class AccessLogBatch {
public:
    explicit AccessLogBatch(const boost::asio::io_context::executor_type& ex);
    ~AccessLogBatch();
    AccessLogBatch(const AccessLogBatch&) = delete;
    AccessLogBatch& operator=(const AccessLogBatch&) = delete;
};

// Lines below this level ("debug", "info", "warn", "error") are not written. Default: info.
void set_log_level(std::string_view level);

// One structured log line (start-up, state changes): {"time":..,"level":..,"event":..,<fields>}.
// `fields_json` is either empty or a comma-separated list of already-encoded "key":value pairs.
void log_event(std::string_view level, std::string_view event, std::string_view fields_json = {});

// JSON string escaping for log fields.
void append_json_string(std::string& out, std::string_view s);

// The IP with its last two IPv4 bytes (or last 80 IPv6 bits) zeroed: what the access log shows.
std::string mask_ip_for_log(std::string_view ip);

}  // namespace mgw::gateway
