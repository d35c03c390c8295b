// The public tracking listener: accepts connections (capped), runs one Session per connection and
// lets shutdown find idle keep-alive connections.
#pragma once

#include "gateway/accept_backoff.hpp"
#include "gateway/client_ip.hpp"
#include "gateway/options.hpp"
#include "geoip/provider.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace mgw::metrics {
class Metrics;
}
namespace mgw::queue {
class QueueSink;
}
namespace mgw::edge {
class PublicEdge;
}

namespace mgw::gateway {

class SessionBase;

// State every session shares; outlives all sessions.
struct ServerShared {
    ServerShared(const Options& o, queue::QueueSink& w, metrics::Metrics& m) : opts(o), writer(w), metrics(m) {}
    const Options& opts;
    queue::QueueSink& writer;
    metrics::Metrics& metrics;
    edge::PublicEdge* edge = nullptr;          // null when no origin nor local files are configured
    TrustedProxies trusted;                    // --trusted-proxies
    ClientIpOptions client_ip;                 // --proxy-headers
    geoip::GeoProvider* geo = nullptr;         // null when geolocation is off
    std::optional<std::string> gateway_token;  // --matomo-token-file
    // Names the 503s the memory guard causes with --ack=redis.
    const queue::MemoryGuard* memory_guard = nullptr;
    std::atomic<bool> draining{false};
    // The last step of a drain: requests read from now on are answered 503 instead of handled, so
    // the writer can stop with nothing left that a client still waits for.
    std::atomic<bool> closing{false};
    std::atomic<std::size_t> connections{0};
    std::uint64_t fd_limit = 0;        // RLIMIT_NOFILE's soft limit (0: unknown, no budget)
    std::atomic<std::size_t> busy{0};  // requests read and not yet answered
    std::mutex mu;                     // guards `sessions`
    std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;
};

class TrackingServer {
public:
    // Accepts on `ioc`; the sessions run on `session_contexts` (at least one) in turn. Each of those
    // must be run by exactly one thread: sessions have no strand.
    TrackingServer(boost::asio::io_context& ioc, ServerShared& shared,
                   std::vector<boost::asio::io_context*> session_contexts);
    // Binds and listens; throws std::runtime_error naming the address on failure.
    void listen(const std::string& host_port);
    boost::asio::ip::tcp::endpoint local_endpoint() const;
    void start();
    // Drain: stop accepting, close idle keep-alive connections; busy ones answer with
    // Connection: close and then close.
    void stop_accepting();
    void close_idle_sessions();

private:
    void do_accept();
    std::vector<boost::asio::io_context*> session_contexts_;
    std::size_t next_context_ = 0;  // the context the next session runs on (round robin)
    // Client connections the descriptor limit leaves room for (0: no budget), computed at start().
    std::size_t fd_budget_ = 0;
    ServerShared& shared_;
    boost::asio::ip::tcp::acceptor acceptor_;
    AcceptBackoff backoff_;  // EMFILE/ENFILE: wait instead of spinning
};

// "IP:PORT" (IPv6 as [addr]:port, empty IP: 0.0.0.0) to an endpoint; nullopt and `error` set when
// it is not one (config::check_startup reports that naming the option).
std::optional<boost::asio::ip::tcp::endpoint> parse_endpoint(const std::string& host_port, std::string& error);
// The same; throws std::invalid_argument.
boost::asio::ip::tcp::endpoint parse_endpoint(const std::string& host_port);

// Opens, binds and listens; throws std::runtime_error naming the address on failure.
void open_acceptor(boost::asio::ip::tcp::acceptor& acceptor, const std::string& host_port);

}  // namespace mgw::gateway
