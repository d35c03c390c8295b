// Listener with the connection cap enforced at accept (a refused connection is closed at once and
// counted), and the registry the drain walks to close idle keep-alive connections.
#include "gateway/server.hpp"

#include "gateway/access_log.hpp"
#include "gateway/run_barrier.hpp"
#include "gateway/session.hpp"
#include "metrics/metrics.hpp"

#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include <dirent.h>

#include <algorithm>
#include <cassert>
#include <stdexcept>

namespace mgw::gateway {
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::optional<tcp::endpoint> parse_endpoint(const std::string& host_port, std::string& error) {
    std::string host;
    std::string port;
    if (!host_port.empty() && host_port.front() == '[') {
        auto close = host_port.find(']');
        if (close == std::string::npos || close + 1 >= host_port.size() || host_port[close + 1] != ':') {
            error = "expected [IPv6]:PORT, got '" + host_port + "'";
            return std::nullopt;
        }
        host = host_port.substr(1, close - 1);
        port = host_port.substr(close + 2);
    } else {
        auto colon = host_port.rfind(':');
        if (colon == std::string::npos) {
            error = "expected HOST:PORT, got '" + host_port + "'";
            return std::nullopt;
        }
        host = host_port.substr(0, colon);
        port = host_port.substr(colon + 1);
    }
    // Only IP addresses: a name would need resolving, which may give several addresses or change
    // between --check-config and the start.
    boost::system::error_code ec;
    auto addr = net::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
    if (ec) {
        error = "'" + host + "' in '" + host_port + "' is not an IP address (host names are not resolved)";
        return std::nullopt;
    }
    unsigned long p = 0;
    bool ok = !port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos;
    if (ok) p = std::stoul(port);
    if (!ok || p > 65535) {
        error = "bad port '" + port + "' in '" + host_port + "' (0 to 65535; 0 picks a free one)";
        return std::nullopt;
    }
    return tcp::endpoint{addr, static_cast<unsigned short>(p)};
}

tcp::endpoint parse_endpoint(const std::string& host_port) {
    std::string error;
    auto ep = parse_endpoint(host_port, error);
    if (!ep) throw std::invalid_argument(error);
    return *ep;
}

TrackingServer::TrackingServer(net::io_context& ioc, ServerShared& shared,
                               std::vector<net::io_context*> session_contexts)
    : session_contexts_(std::move(session_contexts)), shared_(shared), acceptor_(net::make_strand(ioc)),
      backoff_(acceptor_.get_executor(), shared.metrics, "tracking") {
    assert(!session_contexts_.empty());
}

void open_acceptor(tcp::acceptor& acceptor, const std::string& host_port) {
    auto ep = parse_endpoint(host_port);
    boost::system::error_code ec;
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen on " + host_port + ": " + ec.message());
}

void TrackingServer::listen(const std::string& host_port) { open_acceptor(acceptor_, host_port); }

tcp::endpoint TrackingServer::local_endpoint() const { return acceptor_.local_endpoint(); }

std::size_t open_descriptors() {
    std::size_t n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.' ? 1 : 0;
        ::closedir(d);
        if (n) --n;  // the directory stream itself
    }
    return n;
}

void TrackingServer::start() {
    // Connections stop being accepted a reserve short of the descriptor limit: what is left keeps
    // the spool able to open its next segment, Redis able to reconnect, the admin listener able to
    // answer probes, while clients wait in the kernel's queue.
    if (shared_.fd_limit) {
        const std::uint64_t reserve = std::clamp<std::uint64_t>(shared_.fd_limit / 16, 8, 256);
        const std::uint64_t held = open_descriptors();
        fd_budget_ =
            shared_.fd_limit > held + reserve ? static_cast<std::size_t>(shared_.fd_limit - held - reserve) : 1;
    }
    do_accept();
}

void TrackingServer::do_accept() {
    if (!acceptor_.is_open()) return;  // stopped while a backoff was waiting
    if (fd_budget_ && shared_.connections.load() >= fd_budget_)
        return backoff_.failed(make_error_code(net::error::no_descriptors), [this] { do_accept(); });
    net::io_context& context = *session_contexts_[next_context_++ % session_contexts_.size()];
    acceptor_.async_accept(context, [this](boost::system::error_code ec, TcpStream::socket_type socket) {
        if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
        if (ec) return backoff_.failed(ec, [this] { do_accept(); });
        backoff_.succeeded();
        {
            if (shared_.connections.load() >= shared_.opts.server.max_connections) {
                // Over the cap: a fixed 503 and close, without reading the request.
                static constexpr std::string_view busy =
                    "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n"
                    "Content-Length: 0\r\n\r\n";
                shared_.metrics.connection_refused();
                if (shared_.opts.server.access_log) {
                    boost::system::error_code pec;
                    const auto peer = socket.remote_endpoint(pec);
                    const std::string ip =
                        pec ? std::string("0.0.0.0") : canonical_ip(peer.address().to_string()).value_or("0.0.0.0");
                    const AccessRecord rec{"-", "-", 503, busy.size(), 0.0, ip, "rejected", "connection_limit", ""};
                    access_log(rec, shared_.opts.server.access_log_sample);
                }
                auto sock = std::make_shared<tcp::socket>(std::move(socket));
                net::async_write(*sock, net::buffer(busy), [sock](boost::system::error_code, std::size_t) {
                    boost::system::error_code ignored;
                    sock->shutdown(tcp::socket::shutdown_both, ignored);
                    sock->close(ignored);
                });
            } else {
                shared_.connections++;
                boost::system::error_code ignored;
                socket.set_option(tcp::no_delay(true), ignored);
                // The session writes an answer at once when it fits (never blocking); if this
                // fails, it writes asynchronously as before.
                socket.non_blocking(true, ignored);
                // The accept loop must go on whatever one connection's start throws.
                try {
                    std::make_shared<Session>(TcpStream(std::move(socket)), shared_)->run();
                } catch (...) { report_exception(shared_.metrics, std::current_exception()); }
            }
        }
        do_accept();
    });
}

void TrackingServer::stop_accepting() {
    net::post(acceptor_.get_executor(), [this] {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        backoff_.cancel();
    });
}

void TrackingServer::close_idle_sessions() {
    std::vector<std::shared_ptr<SessionBase>> live;
    {
        std::lock_guard lock(shared_.mu);
        for (auto& [ptr, weak] : shared_.sessions)
            if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    for (auto& s : live) s->close_if_idle();
}

}  // namespace mgw::gateway
