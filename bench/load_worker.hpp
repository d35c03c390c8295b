// The load itself: one Worker per thread, each with its own io_context, connections, request builder
// and statistics (nothing shared on the hot path but the closed-loop request counter).
//
// Closed loop: every connection sends its next request as soon as the previous response is in;
// latency runs from the write to the complete response.
// Open loop: requests follow a fixed schedule (request i of the whole run is due at start + i / rate,
// spread over the workers); a free connection takes the next due slot, and latency runs from the slot's
// intended time, so a stalled server shows up as latency instead of as fewer requests sent
// (no coordinated omission). Slots still unsent when the run ends are counted as `unsent`.
#pragma once

#include "bench/histogram.hpp"
#include "bench/hit_mix.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace mgw::bench {

using Clock = std::chrono::steady_clock;

struct RunConfig {
    boost::asio::ip::tcp::endpoint endpoint;
    std::string host_header;  // Host: value
    std::string path;         // tracking path, e.g. /matomo.php
    unsigned connections = 64;
    unsigned threads = 1;
    std::chrono::nanoseconds duration{0};  // 0: bounded by `requests` (and the 600 s cap)
    std::uint64_t requests = 0;            // 0: bounded by `duration`
    double rate = 0;                       // requests/s for the open loop; 0 is the closed loop
    bool keep_alive = true;
    Mix mix = Mix::pageview;
    std::uint64_t seed = 1;
    std::chrono::milliseconds timeout{10000};  // per request: connect, write and read
};

// Shared by the workers of one run.
struct RunControl {
    Clock::time_point start;
    Clock::time_point deadline;                // no request starts after it
    std::atomic<std::uint64_t> claimed{0};     // closed loop: requests started so far
    std::atomic<bool>* interrupted = nullptr;  // set by SIGINT/SIGTERM
};

struct WorkerStats {
    LatencyHistogram latency;     // completed requests only
    std::uint64_t sent = 0;       // requests started (slots taken)
    std::uint64_t completed = 0;  // requests with a complete response
    std::uint64_t ok = 0;         // of those, 2xx
    std::uint64_t hits_sent = 0;
    std::uint64_t hits_acknowledged = 0;  // hits carried by 2xx responses
    std::uint64_t connects = 0;
    std::uint64_t scheduled = 0;                            // open loop: slots due before the run ended
    std::map<unsigned, std::uint64_t> status;               // by HTTP status
    std::map<std::string, std::uint64_t> transport_errors;  // "phase: message"
    std::array<std::uint64_t, kKinds> kinds{};
    Clock::time_point last_completion{};

    void merge(const WorkerStats& o);
};

class Worker {
public:
    Worker(const RunConfig& cfg, RunControl& ctl, unsigned index, unsigned connections);
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    void run();  // blocks until every connection of this worker has finished
    const WorkerStats& stats() const { return stats_; }

private:
    friend class Connection;
    struct Slot {
        std::optional<Clock::time_point> intended;  // open loop only
    };
    std::optional<Slot> claim();
    void finish_schedule();

    const RunConfig& cfg_;
    RunControl& ctl_;
    unsigned index_;
    unsigned connections_;
    boost::asio::io_context ioc_{1};
    RequestBuilder builder_;
    WorkerStats stats_;
    // Open loop: this worker's slots are i * threads + index of the run's schedule.
    std::uint64_t next_slot_ = 0;
    std::uint64_t slot_budget_ = 0;  // 0: unbounded (duration decides)
};

}  // namespace mgw::bench
