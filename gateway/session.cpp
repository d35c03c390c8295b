// The tracking session over TCP: the socket-specific operations and the one instantiation the
// server uses (the request handling itself is in session_impl.hpp).
#include "gateway/session_impl.hpp"

#include "gateway/client_ip.hpp"

namespace mgw::gateway {

std::string StreamOps<TcpStream>::peer_ip(TcpStream& s) {
    beast::error_code ec;
    auto ep = s.socket().remote_endpoint(ec);
    if (ec) return "0.0.0.0";
    return canonical_ip(ep.address().to_string()).value_or("0.0.0.0");
}

void StreamOps<TcpStream>::cancel_reads(TcpStream& s) {
    beast::error_code ignored;
    s.socket().cancel(ignored);
}

void StreamOps<TcpStream>::close(TcpStream& s) {
    beast::error_code ignored;
    s.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    s.close();
}

template class BasicSession<TcpStream>;

}  // namespace mgw::gateway
