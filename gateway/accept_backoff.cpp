#include "gateway/accept_backoff.hpp"

#include "gateway/access_log.hpp"
#include "metrics/metrics.hpp"

#include <boost/asio/error.hpp>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace mgw::gateway {

AcceptBackoff::AcceptBackoff(const boost::asio::any_io_executor& ex, metrics::Metrics& metrics, std::string listener)
    : timer_(ex), metrics_(metrics), listener_(std::move(listener)) {}

bool AcceptBackoff::is_resource_limit(const boost::system::error_code& ec) {
    if (ec.category() != boost::system::system_category()) return false;
    const int v = ec.value();
    return v == EMFILE || v == ENFILE || v == ENOBUFS || v == ENOMEM;
}

void AcceptBackoff::failed(const boost::system::error_code& ec, std::function<void()> retry) {
    const bool limit = is_resource_limit(ec);
    metrics_.accept_error(limit);
    // A connection that went away before it was accepted: the next one is unaffected. Anything
    // else backs off too, so a lasting error cannot spin the loop either.
    if (!limit && (ec == boost::asio::error::connection_aborted || ec == boost::asio::error::connection_reset))
        return retry();
    ++unlogged_;
    const auto now = std::chrono::steady_clock::now();
    if (last_log_ == std::chrono::steady_clock::time_point{} || now - last_log_ >= log_interval) {
        last_log_ = now;
        std::string fields = "\"listener\":";
        append_json_string(fields, listener_);
        fields += ",\"error\":";
        append_json_string(fields, ec.message());
        fields += ",\"failures\":" + std::to_string(unlogged_);
        if (limit)
            fields +=
                ",\"detail\":\"open file descriptor limit reached: new connections wait in the kernel's "
                "queue until some close\"";
        log_event("warn", "accept_paused", fields);
        unlogged_ = 0;
        pause_logged_ = true;
    }
    delay_ = std::clamp(delay_ * 2, min_delay, max_delay);
    timer_.expires_after(delay_);
    timer_.async_wait([retry = std::move(retry)](boost::system::error_code wec) {
        if (!wec) retry();
    });
}

void AcceptBackoff::succeeded() {
    delay_ = std::chrono::milliseconds(0);
    // One line per logged pause, so a loop at the limit that accepts now and then stays quiet.
    if (!pause_logged_) return;
    pause_logged_ = false;
    std::string fields = "\"listener\":";
    append_json_string(fields, listener_);
    log_event("info", "accept_resumed", fields);
}

void AcceptBackoff::cancel() { timer_.cancel(); }

}  // namespace mgw::gateway
