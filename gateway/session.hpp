// One client connection: read a request (fresh parser with limits and deadlines), run the hit
// path, wait for the writer's acknowledgement, answer, repeat while keep-alive lasts.
//
// The session is a template over its stream so the same request handling runs on a TCP socket in
// the server and on Beast's in-memory test stream in the session fuzzer. What differs between the
// two (peer address, deadlines, cancel, close) is the small StreamOps specialisation.
#pragma once

#include "edge/object.hpp"
#include "gateway/read_watch.hpp"
#include "gateway/request_parser.hpp"
#include "gateway/responses.hpp"
#include "gateway/server.hpp"
#include "metrics/metrics.hpp"
#include "queue/sink.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace mgw::gateway {

// What the server's registry and the drain need from any session.
class SessionBase {
public:
    virtual ~SessionBase() = default;
    // Called by the drain: closes the connection if it is waiting for a next request.
    virtual void close_if_idle() = 0;
};

// The server's stream: a TCP socket on one of the server's session io_contexts, each of which one
// thread runs (TrackingServer), so a session's handlers never run at the same time and need no
// strand. The executor's type is spelled out: Beast's tcp_stream type-erases it (any_io_executor),
// which costs a heap allocation and an indirect call each time an operation asks it for a property.
using SessionExecutor = boost::asio::io_context::executor_type;
using TcpStream = boost::beast::basic_stream<boost::asio::ip::tcp, SessionExecutor>;

// Per-stream operations; specialised for TcpStream in session.cpp.
//   static std::string peer_ip(Stream&);                      canonical text of the peer address
//   static void write_deadline(Stream&, milliseconds);       a write that takes longer fails
//   static void no_deadline(Stream&);
//   static void cancel_reads(Stream&);                        the pending read completes (aborted)
//   static void close(Stream&);
template <class Stream>
struct StreamOps;

template <>
struct StreamOps<TcpStream> {
    static std::string peer_ip(TcpStream& s);
    static void write_deadline(TcpStream& s, std::chrono::milliseconds d) { s.expires_after(d); }
    static void no_deadline(TcpStream& s) { s.expires_never(); }
    static void cancel_reads(TcpStream& s);
    static void close(TcpStream& s);
};

template <class Stream>
class BasicSession : public SessionBase, public ReadWaiter, public std::enable_shared_from_this<BasicSession<Stream>> {
public:
    BasicSession(Stream&& stream, ServerShared& shared);
    ~BasicSession() override;
    BasicSession(const BasicSession&) = delete;
    BasicSession& operator=(const BasicSession&) = delete;
    void run();
    void close_if_idle() override;

private:
    using Ops = StreamOps<Stream>;
    void read_proxy_header();
    void do_read();
    void read_idle();
    void on_readable() override { read_idle(); }
    bool close_if_watching();
    void read_request();
    bool parse_buffered();
    void arm_read_timer(std::chrono::milliseconds timeout);
    void start_read_timer();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void handle_request();
    void handle_tracking(const ResponseContext& ctx);
    void handle_public(const ResponseContext& ctx, metrics::Endpoint endpoint);
    void finish_public(edge::Reply reply);
    void on_set_stored(queue::WriteStatus s);
    void finish_tracking(bool ok, bool overloaded);
    void send();
    void arm_stream_deadline();
    void on_write(boost::beast::error_code ec, std::size_t bytes);
    // `counted`: the request is already in shared_.busy.
    void fail_request(unsigned status, std::string_view reason, std::string_view text, bool counted = false);
    void close();
    void linger_close(std::size_t drained);

    Stream stream_;
    // Reads use their own timer rather than the stream's expiry, which would close the socket:
    // a request that times out half-received still gets its 408.
    boost::asio::basic_waitable_timer<std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>,
                                      typename Stream::executor_type>
        read_timer_;
    bool timed_out_ = false;
    bool reading_ = false;                                 // a request read (or idle wait) is in progress
    std::chrono::steady_clock::time_point read_deadline_;  // of the read in progress
    bool timer_waiting_ = false;                           // the read timer has a wait in progress
    std::uint64_t timer_gen_ = 0;  // bumped per wait: the handler of a replaced wait does nothing
    bool counted_ = false;         // the current request is in shared_.busy
    boost::beast::flat_buffer buffer_;
    ServerShared& shared_;
    std::optional<RequestParser> parser_;
    Request req_;
    Response res_;
    std::string wire_;    // res_'s header bytes while they are written (reused: no allocation per hit)
    bool fixed_ = false;  // wire_ holds a whole fixed response (responses.hpp); res_ was not built
    unsigned status_ = 0;
    bool keep_alive_ = true;
    std::string peer_ip_;           // socket peer, or the PROXY header's source
    std::string client_ip_;         // resolved for the current request (trusted proxy headers)
    bool idle_ = true;              // waiting for the first byte of a next request
    bool drain_cancelled_ = false;  // the drain cancelled this idle connection's read
    bool first_request_ = true;
    ReadWatch* watch_ = nullptr;  // this thread's read watch (TCP only), from the first idle wait on
    ReadWatch::Slot watch_slot_ = 0;
    unsigned sync_depth_ = 0;       // answers written at once whose on_write is still on the stack
    bool stream_deadline_ = false;  // the stream's own deadline is set (an asynchronous write, the PROXY header)
    // Per-request bookkeeping for metrics and the access log.
    std::chrono::steady_clock::time_point t0_;
    metrics::Endpoint endpoint_ = metrics::Endpoint::other;
    std::string_view reason_;
    std::string_view outcome_;
    std::size_t hits_ = 0;
    bool send_image_ = true;
    std::string queues_;  // queue ids of this request, for the access log
    std::vector<std::string> set_cookies_;
    // Keeps a public-edge answer's body (a cached object) alive until it is written.
    std::shared_ptr<const void> body_owner_;
    // The sets of the current request on their way to the sink (see handle_tracking).
    std::atomic<std::size_t> sets_remaining_{0};
    std::atomic<bool> sets_failed_{false};
    std::atomic<bool> sets_overloaded_{false};
    std::shared_ptr<BasicSession> self_until_stored_;
    // True while handle_tracking hands the sets to the sink (our thread only): an acknowledgement
    // given inline from submit then waits for the loop to finish (on_set_stored).
    bool submitting_ = false;
};

using Session = BasicSession<TcpStream>;
extern template class BasicSession<TcpStream>;

}  // namespace mgw::gateway
