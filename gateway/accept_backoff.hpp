// What a listener does when accept() fails. At the file-descriptor limit (EMFILE, ENFILE) the
// pending connection stays in the kernel's queue, so retrying at once fails at once again: the
// accept loop would spin a core without accepting anything. Instead the loop waits (10 ms,
// doubling up to 500 ms) and tries again, so it resumes by itself as soon as descriptors are
// free; every failure is counted, and a log line says why connections wait at most every 10 s.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace mgw::metrics {
class Metrics;
}

namespace mgw::gateway {

class AcceptBackoff {
public:
    static constexpr std::chrono::milliseconds min_delay{10};
    static constexpr std::chrono::milliseconds max_delay{500};
    static constexpr std::chrono::seconds log_interval{10};

    AcceptBackoff(const boost::asio::any_io_executor& ex, metrics::Metrics& metrics, std::string listener);

    // After a failed accept (not operation_aborted): counts it, logs now and then, and calls
    // `retry` after the backoff delay (at once for errors that concern one connection only).
    void failed(const boost::system::error_code& ec, std::function<void()> retry);
    // After an accept that worked: the delay starts from the minimum again (logged once).
    void succeeded();
    void cancel();

    // EMFILE / ENFILE (and the kernel's out-of-memory answers, which pass the same way).
    static bool is_resource_limit(const boost::system::error_code& ec);

private:
    boost::asio::steady_timer timer_;
    metrics::Metrics& metrics_;
    std::string listener_;
    std::chrono::milliseconds delay_{0};
    std::chrono::steady_clock::time_point last_log_{};
    unsigned long unlogged_ = 0;
    bool pause_logged_ = false;  // an accept_paused line not yet followed by accept_resumed
};

}  // namespace mgw::gateway
