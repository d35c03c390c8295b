// The private admin listener: /livez (process alive, never checks Redis),
// /readyz (hits can be acknowledged: Redis writable, or room in the spool; geo database loaded; not
// draining), /metrics (Prometheus text format 0.0.4).
#pragma once

#include "gateway/accept_backoff.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <string>

namespace mgw::metrics {
class Metrics;
}

namespace mgw::gateway {

struct Readiness {
    bool ready = false;
    // Why not, e.g. "redis unavailable" or "draining"; when ready, what is degraded (e.g. "spooling,
    // redis unavailable: connect failed: Connection refused"), empty if nothing.
    std::string detail;
};

class AdminServer {
public:
    AdminServer(boost::asio::io_context& ioc, metrics::Metrics& metrics, std::function<Readiness()> readiness);
    void listen(const std::string& host_port);
    boost::asio::ip::tcp::endpoint local_endpoint() const;
    void start();
    void stop();

private:
    void do_accept();
    boost::asio::io_context& ioc_;
    metrics::Metrics& metrics_;
    std::function<Readiness()> readiness_;
    boost::asio::ip::tcp::acceptor acceptor_;
    AcceptBackoff backoff_;  // EMFILE/ENFILE: wait instead of spinning
};

}  // namespace mgw::gateway
