// One client connection: read a request (fresh parser with limits and deadlines), run the hit
// path, wait for the writer's acknowledgement, answer, repeat while keep-alive lasts.
#pragma once

#include "gateway/responses.hpp"
#include "gateway/server.hpp"
#include "metrics/metrics.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/parser.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace mgw::gateway {

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(boost::asio::ip::tcp::socket&& socket, ServerShared& shared);
    ~Session();
    void run();
    // Called by the drain: closes the connection if it is waiting for a next request.
    void close_if_idle();

private:
    void read_proxy_header();
    void do_read();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void handle_request();
    void handle_tracking(const ResponseContext& ctx);
    void finish_tracking(bool ok, bool overloaded);
    void send();
    void on_write(boost::beast::error_code ec, std::size_t bytes);
    void fail_request(unsigned status, std::string_view reason, std::string_view text);
    void log_access();
    void close();

    boost::beast::tcp_stream stream_;
    // Reads use their own timer rather than the stream's expiry, which would close the socket:
    // a request that times out half-received still gets its 408.
    boost::asio::steady_timer read_timer_;
    bool timed_out_ = false;
    boost::beast::flat_buffer buffer_;
    ServerShared& shared_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    Request req_;
    Response res_;
    std::string peer_ip_;           // socket peer, or the PROXY header's source
    std::string client_ip_;         // resolved for the current request (trusted proxy headers)
    bool idle_ = true;              // waiting for the first byte of a next request
    bool drain_cancelled_ = false;  // the drain cancelled this idle connection's read
    bool first_request_ = true;
    // Per-request bookkeeping for metrics and the access log.
    std::chrono::steady_clock::time_point t0_;
    metrics::Endpoint endpoint_ = metrics::Endpoint::other;
    std::string_view reason_;
    std::string_view outcome_;
    std::size_t hits_ = 0;
    bool send_image_ = true;
    std::string queues_;            // queue ids of this request, for the access log
    std::vector<std::string> set_cookies_;
};

}  // namespace mgw::gateway
