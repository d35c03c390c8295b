// The session's request handling, written once for any stream (see session.hpp). Included by
// session.cpp, which instantiates it for TcpStream, and by the session fuzzer.
//
// It follows Beast's advanced server: do_x/on_x pairs, error_code on every path, end_of_stream as
// a normal close, one request at a time (pipelined requests wait in the buffer).
#pragma once

#include <type_traits>

#include "gateway/session.hpp"

#include "edge/edge.hpp"
#include "gateway/access_log.hpp"
#include "gateway/privacy.hpp"
#include "gateway/proxy_protocol.hpp"
#include "gateway/tracking.hpp"
#include "gateway/wire.hpp"
#include "metrics/metrics.hpp"
#include "queue/sink.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <atomic>
#include <ctime>

namespace mgw::gateway {
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

namespace session_detail {

using Clock = std::chrono::steady_clock;

enum class Route { tracking, js, not_found };

inline Route route(std::string_view target, boost::beast::http::verb method,
                   const std::vector<std::string>& extra_paths) {
    using boost::beast::http::verb;
    std::string_view path = target.substr(0, target.find('?'));
    const bool has_query = target.find('?') != std::string_view::npos && target.size() > path.size() + 1;
    if (path == "/matomo.php" || path == "/piwik.php") return Route::tracking;
    for (const auto& p : extra_paths)
        if (path == p) return Route::tracking;
    if (path == "/js/" || path == "/js/index.php" || path == "/js/tracker.php")
        return (method == verb::post || has_query) ? Route::tracking : Route::js;
    if (path == "/matomo.js" || path == "/piwik.js") return Route::js;
    return Route::not_found;
}

// Bytes asked for by the read that waits for the first byte of a keep-alive request.
inline constexpr std::size_t idle_read_bytes = 4096;

// Unparsed bytes a session may hold beyond --max-header-bytes: one read's worth (Beast reads at most
// 64 KiB at a time). Beast's parser limits the header and the body but not a chunk-size line's
// extensions nor the trailer fields; without this cap they would grow the buffer for as long as
// the read timeout lets a client send.
inline constexpr std::size_t read_slack_bytes = 64UL * 1024;

// True when the calling thread runs `ex`'s io_context. An executor that cannot tell (the tests'
// streams) says no, so the caller posts.
template <class Executor>
bool running_here(const Executor& ex) {
    if constexpr (requires { ex.running_in_this_thread(); }) return ex.running_in_this_thread();
    else return false;
}

}  // namespace session_detail

template <class Stream>
BasicSession<Stream>::BasicSession(Stream&& stream, ServerShared& shared)
    : stream_(std::move(stream)), read_timer_(stream_.get_executor()),
      buffer_(shared.opts.server.max_header_bytes + session_detail::read_slack_bytes), shared_(shared) {
    peer_ip_ = Ops::peer_ip(stream_);
    client_ip_ = peer_ip_;
    shared_.metrics.connection_opened();
}

template <class Stream>
BasicSession<Stream>::~BasicSession() {
    if (counted_) {
        // Ended without an answer (an exception escaped one of its handlers): keep the drain's count true.
        shared_.busy--;
        shared_.metrics.inflight_hits(-1);
    }
    // The watch belongs to the session's thread. A session is almost always destroyed there
    // (close() released its entry before). One destroyed elsewhere (the drain's reference was its
    // last, or the io_context is being destroyed) leaves its entry taken but idle: its descriptor
    // closes with the stream, which takes it out of the epoll set, and a shut-down watch is empty.
    // It cannot be waiting then: a waiting session's read timer holds it.
    if (watch_ != nullptr && session_detail::running_here(stream_.get_executor())) watch_->release(watch_slot_);
    shared_.metrics.connection_closed();
    shared_.connections--;
    std::lock_guard lock(shared_.mu);
    shared_.sessions.erase(this);
}

template <class Stream>
void BasicSession<Stream>::run() {
    {
        std::lock_guard lock(shared_.mu);
        shared_.sessions.emplace(this, this->weak_from_this());
    }
    const bool proxy_header = shared_.opts.edge.proxy_protocol && shared_.trusted.contains(peer_ip_);
    boost::asio::dispatch(
        stream_.get_executor(),
        boost::beast::bind_front_handler(proxy_header ? &BasicSession::read_proxy_header : &BasicSession::do_read,
                                         this->shared_from_this()));
}

// HAProxy's PROXY header (send-proxy / send-proxy-v2) precedes the first request of a connection
// from a trusted proxy; its source address then stands for the socket peer.
template <class Stream>
void BasicSession<Stream>::read_proxy_header() {
    auto data = buffer_.cdata();
    auto r = parse_proxy_header({static_cast<const char*>(data.data()), data.size()});
    if (r.status == ProxyParseStatus::ok) {
        buffer_.consume(r.consumed);
        if (!r.is_local && !r.source_address.empty()) peer_ip_ = r.source_address;
        return do_read();
    }
    if (r.status == ProxyParseStatus::invalid || buffer_.size() >= proxy_header_max_bytes) {
        const std::string_view reason = r.reason.empty() ? std::string_view("proxy_header_invalid") : r.reason;
        shared_.metrics.hit_rejected(reason);
        if (shared_.opts.server.access_log) {
            AccessRecord rec{"-", "-", 0, 0, 0.0, peer_ip_, "rejected", reason, ""};
            access_log(rec, shared_.opts.server.access_log_sample);
        }
        return close();
    }
    arm_stream_deadline();
    stream_.async_read_some(buffer_.prepare(proxy_header_max_bytes - buffer_.size()),
                            [self = this->shared_from_this()](boost::beast::error_code ec, std::size_t n) {
                                if (ec) return self->close();
                                self->buffer_.commit(n);
                                self->read_proxy_header();
                            });
}

template <class Stream>
void BasicSession<Stream>::close_if_idle() {
    boost::asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
        // A read may have completed with a whole request whose handler is queued behind us (its
        // bytes are neither in the socket nor yet in the buffer), so a reading connection is not
        // closed from here: its read is cancelled, and its handler closes if nothing came, or the
        // request is answered (with Connection: close) if it did. One waiting in the read watch has
        // no read in flight and is closed at once.
        const bool started = self->buffer_.size() > 0 || (self->parser_ && self->parser_->got_some());
        if (self->idle_ && !started) {
            self->drain_cancelled_ = true;
            if (self->close_if_watching()) return;
            Ops::cancel_reads(self->stream_);
        }
    });
}

// One wait of the read timer serves many reads: arming only sets the current read's deadline, and
// a wait already in progress that ends no later re-arms itself for what is left when it fires. A
// keep-alive connection thus costs no timer operation per request. The handler acts only on the
// read in progress and only once its deadline has passed: a wait that fired just as a read
// completed (its handler queued behind the read's, where cancel() can no longer recall it) finds
// no read, or a later read with a later deadline, and does nothing to it.
template <class Stream>
void BasicSession<Stream>::arm_read_timer(std::chrono::milliseconds timeout) {
    timed_out_ = false;
    reading_ = true;
    if (stream_deadline_) {
        Ops::no_deadline(stream_);
        stream_deadline_ = false;
    }
    read_deadline_ = session_detail::Clock::now() + timeout;
    if (timer_waiting_ && read_timer_.expiry() <= read_deadline_) return;
    start_read_timer();
}

template <class Stream>
void BasicSession<Stream>::start_read_timer() {
    timer_waiting_ = true;
    const std::uint64_t gen = ++timer_gen_;
    read_timer_.expires_at(read_deadline_);  // cancels a wait in progress: its handler sees an old gen
    read_timer_.async_wait([self = this->shared_from_this(), gen](boost::beast::error_code ec) {
        if (gen != self->timer_gen_) return;  // replaced by a wait with an earlier expiry
        self->timer_waiting_ = false;
        if (ec || !self->reading_) return;
        if (session_detail::Clock::now() < self->read_deadline_) return self->start_read_timer();
        self->timed_out_ = true;
        if (self->close_if_watching()) return;
        Ops::cancel_reads(self->stream_);
    });
}

// The first request of a connection has --read-timeout-ms from the accept. A keep-alive connection
// waits up to --idle-timeout-ms for the first byte of its next request, and that request then has
// --read-timeout-ms to arrive whole: the idle allowance never stretches a slow request.
template <class Stream>
void BasicSession<Stream>::do_read() {
    if (shared_.draining && !first_request_) return close();
    idle_ = true;
    if (first_request_ || buffer_.size() > 0) return read_request();
    parser_.reset();  // nothing of a next request yet (close_if_idle looks at the parser)
    arm_read_timer(shared_.opts.server.idle_timeout);
    if constexpr (std::is_same_v<Stream, TcpStream>) {
        // Wait in the thread's read watch rather than with a read that would fail (read_watch.hpp).
        if (watch_ == nullptr) watch_ = &net::use_service<ReadWatch>(stream_.get_executor().context());
        if (watch_->wait(watch_slot_, stream_.socket().native_handle(), *this)) return;
    }
    read_idle();
}

// For the idle timeout and the drain: a connection waiting in the read watch has no read to cancel
// and nothing of a next request, so its wait ends and it closes. False when it was not waiting.
template <class Stream>
bool BasicSession<Stream>::close_if_watching() {
    if (watch_ == nullptr || !watch_->cancel(watch_slot_)) return false;
    reading_ = false;
    close();
    return true;
}

template <class Stream>
void BasicSession<Stream>::read_idle() {
    stream_.async_read_some(buffer_.prepare(session_detail::idle_read_bytes),
                            [self = this->shared_from_this()](boost::beast::error_code ec, std::size_t n) {
                                self->reading_ = false;
                                // Timed out, closed or broken while idle: nothing was started, just close.
                                if (ec) return self->close();
                                self->buffer_.commit(n);
                                self->idle_ = false;
                                self->read_request();
                            });
}

template <class Stream>
void BasicSession<Stream>::read_request() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_.opts.server.max_header_bytes));
    parser_->body_limit(shared_.opts.server.max_body_bytes);
    if (parse_buffered()) return;
    arm_read_timer(shared_.opts.server.read_timeout);
    boost::beast::http::async_read(stream_, buffer_, *parser_,
                                   boost::beast::bind_front_handler(&BasicSession::on_read, this->shared_from_this()));
}

// The usual keep-alive request arrives whole in the read that waited for its first byte: parse it
// from the buffer at once, as Beast's read would, without a second asynchronous read and its
// deadline. False when more bytes are needed (the caller then reads them, with the deadline).
template <class Stream>
bool BasicSession<Stream>::parse_buffered() {
    beast::error_code ec;
    while (buffer_.size() > 0 && !parser_->is_done()) {
        const std::size_t used = parser_->put(buffer_.data(), ec);
        buffer_.consume(used);
        if (ec == http::error::need_more) return false;
        if (ec) break;
        if (used == 0) return false;
    }
    if (!ec && !parser_->is_done()) return false;
    reading_ = false;
    on_read(ec, 0);
    return true;
}

template <class Stream>
void BasicSession<Stream>::on_read(beast::error_code ec, std::size_t) {
    reading_ = false;
    if (timed_out_ && ec == net::error::operation_aborted) ec = beast::error::timeout;
    idle_ = false;
    first_request_ = false;
    t0_ = session_detail::Clock::now();
    endpoint_ = metrics::Endpoint::other;
    reason_ = {};
    outcome_ = {};
    hits_ = 0;
    queues_.clear();
    set_cookies_.clear();
    if (ec == http::error::end_of_stream) return close();
    if (drain_cancelled_ && ec == net::error::operation_aborted) {
        // Shutting down and this connection looked idle. Bytes that arrived just before the cancel
        // are a request cut short: say so rather than drop it silently.
        if (!parser_->got_some()) return close();
        return fail_request(503, "draining", "shutting down\n");
    }
    if (ec == beast::error::timeout) {
        // A request that started but didn't finish in time gets 408; an idle keep-alive just closes.
        if (parser_->got_some()) return fail_request(408, "read_timeout", "request not received in time\n");
        return close();
    }
    if (ec == http::error::header_limit) return fail_request(431, "header_too_large", "request header too large\n");
    if (ec == http::error::body_limit) return fail_request(413, "body_too_large", "request body too large\n");
    // The read buffer's cap: chunk extensions or trailer fields beyond what any client needs.
    if (ec == http::error::buffer_overflow)
        return fail_request(413, "chunk_metadata_too_large", "chunk extensions or trailers too large\n");
    if (ec) {
        if (!parser_->got_some()) return close();
        return fail_request(400, "malformed_http", "malformed HTTP request\n");
    }
    req_ = parser_->release();
    counted_ = true;
    shared_.busy++;
    shared_.metrics.inflight_hits(1);
    // busy is raised before closing is read, and the drain sets closing before it reads busy: a
    // request either counts for the drain or is answered 503 here, never neither.
    if (shared_.closing) return fail_request(503, "draining", "shutting down\n", true);
    handle_request();
}

template <class Stream>
void BasicSession<Stream>::fail_request(unsigned status, std::string_view reason, std::string_view text, bool counted) {
    // A broken request ends the connection: its framing can't be trusted for a next one.
    req_ = Request{};
    req_.version(11);
    req_.keep_alive(false);
    reason_ = reason;
    outcome_ = "rejected";
    if (!counted) {
        counted_ = true;
        shared_.busy++;
        shared_.metrics.inflight_hits(1);
    }
    shared_.metrics.hit_rejected(reason);
    ResponseContext ctx{req_, true, false, nullptr};
    respond_error(res_, ctx, status, text);
    if (status == 503) res_.set(http::field::retry_after, "1");
    res_.keep_alive(false);
    send();
}

template <class Stream>
void BasicSession<Stream>::handle_request() {
    const auto method = req_.method();
    ResponseContext ctx{req_, method == http::verb::get, method == http::verb::head,
                        &shared_.opts.tracking.cors_domains};
    switch (session_detail::route(req_.target(), method, shared_.opts.server.extra_tracking_paths)) {
        case session_detail::Route::tracking:
            endpoint_ = metrics::Endpoint::tracking;
            if (method != http::verb::get && method != http::verb::head && method != http::verb::post &&
                method != http::verb::options) {
                reason_ = "method_not_allowed";
                outcome_ = "rejected";
                shared_.metrics.hit_rejected(reason_);
                respond_error(res_, ctx, 405, "method not allowed\n");
                res_.set(http::field::allow, "GET, HEAD, POST, OPTIONS");
                return send();
            }
            return handle_tracking(ctx);
        case session_detail::Route::js: return handle_public(ctx, metrics::Endpoint::js);
        case session_detail::Route::not_found: return handle_public(ctx, metrics::Endpoint::edge);
    }
}

// Everything that is not tracking: the public edge's allow-list (edge/path.cpp) or 404. The edge
// may answer later, from another thread (an origin fetch): the answer comes back on our executor.
template <class Stream>
void BasicSession<Stream>::handle_public(const ResponseContext& ctx, metrics::Endpoint endpoint) {
    std::string_view why = "not_found";
    if (shared_.edge) {
        auto done = [self = this->shared_from_this()](edge::Reply r) {
            auto reply = std::make_shared<edge::Reply>(std::move(r));
            net::post(self->stream_.get_executor(), [self, reply] { self->finish_public(std::move(*reply)); });
        };
        endpoint_ = endpoint;
        if (shared_.edge->serve(req_, std::move(done), why)) return;
    }
    endpoint_ = metrics::Endpoint::other;
    outcome_ = "not_found";
    if (shared_.edge) reason_ = why;
    // Encoded, traversing or otherwise odd paths are probes: counted with their reason.
    if (why == "edge_path_refused") shared_.metrics.hit_rejected(why);
    respond_error(res_, ctx, 404, "not found\n");
    send();
}

template <class Stream>
void BasicSession<Stream>::finish_public(edge::Reply reply) {
    res_ = std::move(reply.res);
    body_owner_ = std::move(reply.owner);
    outcome_ = reply.outcome;
    reason_ = reply.reason;
    send();
}

template <class Stream>
void BasicSession<Stream>::handle_tracking(const ResponseContext& ctx) {
    auto header_values = [this](std::string_view name) {
        std::vector<std::string_view> v;
        for (auto [it, end] = req_.equal_range(name); it != end; ++it) v.push_back(it->value());
        return v;
    };
    // With no trusted proxy (the default) the peer is the client: skip the header walk per hit.
    const bool from_proxy = !shared_.trusted.empty() && shared_.trusted.contains(peer_ip_);
    client_ip_ =
        from_proxy ? resolve_client_ip(peer_ip_, header_values, shared_.trusted, shared_.client_ip).ip : peer_ip_;
    const auto& topts = shared_.opts.tracking;
    std::string remote_addr = (topts.anonymize_ipv4_bytes || topts.anonymize_ipv6_level)
                                  ? anonymize_ip(client_ip_, topts.anonymize_ipv4_bytes, topts.anonymize_ipv6_level)
                                  : client_ip_;
    std::optional<geoip::GeoResult> geo;
    if (shared_.geo) {
        geo = shared_.geo->lookup(client_ip_);
        shared_.metrics.geo_lookup(geo.has_value());
    }
    EdgeContext edge;
    edge.client_ip = client_ip_;
    edge.remote_addr = remote_addr;
    edge.https = from_proxy && beast::iequals(req_["X-Forwarded-Proto"], "https");
    edge.geo = geo ? &*geo : nullptr;
    edge.gateway_token = shared_.gateway_token ? &*shared_.gateway_token : nullptr;
    TrackingResult r = build_tracking(req_, edge, topts, std::time(nullptr));
    if (r.params_removed) shared_.metrics.privileged_params_removed(r.params_removed);
    reason_ = r.reason;
    switch (r.kind) {
        case TrackingKind::preflight:
            endpoint_ = metrics::Endpoint::preflight;
            outcome_ = "preflight";
            respond_preflight(res_, ctx);
            return send();
        case TrackingKind::no_hits:
            outcome_ = "no_hits";
            if (!reason_.empty()) shared_.metrics.hit_rejected(reason_);
            respond_no_hits(res_, ctx);
            return send();
        case TrackingKind::reject:
            outcome_ = "rejected";
            shared_.metrics.hit_rejected(reason_, r.rejected_hits ? r.rejected_hits : 1);
            if (r.status == 400 && reason_ == "cip_without_token") respond_gif(res_, ctx, 400);
            else respond_error(res_, ctx, r.status, reason_);
            return send();
        case TrackingKind::queue: break;
    }
    hits_ = r.hits;
    send_image_ = r.send_image;
    set_cookies_ = std::move(r.set_cookies);
    if (r.rejected_hits) shared_.metrics.hit_rejected(reason_, r.rejected_hits);
    if (r.sets.empty()) {
        // Do-Not-Track: answered as a queued hit would be, nothing stored.
        outcome_ = "dropped";
        shared_.metrics.hit_rejected(reason_);
        return finish_tracking(true, false);
    }
    for (auto& set : r.sets) {
        if (!queues_.empty()) queues_.push_back(',');
        queues_ += std::to_string(set.queue_id);
    }
    // One request at a time per session, so the acknowledgements' state lives in the session. The
    // sink calls every ack exactly once; until the last one the session holds itself alive, and the
    // ack captures only `this`, which std::function stores without a heap allocation.
    sets_remaining_ = r.sets.size();
    sets_failed_ = false;
    sets_overloaded_ = false;
    self_until_stored_ = this->shared_from_this();
    submitting_ = true;
    for (auto& set : r.sets)
        shared_.writer.submit(std::move(set.key), std::move(set.value),
                              [this](queue::WriteStatus s) { on_set_stored(s); });
    submitting_ = false;
}

// On the sink's executor (or inline from submit); the last acknowledgement answers on ours. Most
// often the sink is our own thread's Redis writer, reading its replies: then the answer goes out
// at once, without a round through the context's queue. Given inline from submit, or on another
// thread (a lent writer, the spool), it is posted.
template <class Stream>
void BasicSession<Stream>::on_set_stored(queue::WriteStatus s) {
    if (s == queue::WriteStatus::overloaded) sets_overloaded_ = true;
    if (s != queue::WriteStatus::ok) sets_failed_ = true;
    if (--sets_remaining_ != 0) return;
    auto self = std::move(self_until_stored_);
    if (session_detail::running_here(stream_.get_executor()) && !submitting_)
        return finish_tracking(!sets_failed_, sets_overloaded_);
    net::post(stream_.get_executor(),
              [self = std::move(self)] { self->finish_tracking(!self->sets_failed_, self->sets_overloaded_); });
}

template <class Stream>
void BasicSession<Stream>::finish_tracking(bool ok, bool overloaded) {
    const auto method = req_.method();
    ResponseContext ctx{req_, method == http::verb::get, method == http::verb::head,
                        &shared_.opts.tracking.cors_domains};
    if (ok) {
        if (outcome_.empty()) outcome_ = "queued";
        shared_.metrics.hits_queued(hits_);
        if (method == http::verb::get && req_.version() == 11 && req_.keep_alive() && set_cookies_.empty() &&
            shared_.opts.tracking.cors_domains.empty() && !shared_.draining) {
            // The usual answer, its bytes ready (responses.hpp); res_ is not built.
            wire_.assign(fixed_tracking_response(send_image_));
            status_ = send_image_ ? 200 : 204;
            keep_alive_ = true;
            fixed_ = true;
            return send();
        }
        if (send_image_) respond_gif(res_, ctx);
        else respond_no_content(res_, ctx);
        for (const auto& c : set_cookies_) res_.insert(http::field::set_cookie, c);
        if (!set_cookies_.empty()) res_.set("P3P", "CP='OTI DSP COR NID STP UNI OTPa OUR'");
    } else {
        // Never a 2xx for a hit Redis did not take (stock answers 500 or even 204 here).
        outcome_ = "failed";
        // With a spool, only a full (or failing) spool refuses a set; without one, the writer's
        // memory budget does.
        const bool ack_redis = shared_.opts.durability.ack == spool::AckMode::redis;
        reason_ = !overloaded                                                           ? "redis_unavailable"
                  : ack_redis && shared_.memory_guard && shared_.memory_guard->paused() ? "redis_memory_high_water"
                  : ack_redis                                                           ? "writer_overloaded"
                                                                                        : "spool_full";
        shared_.metrics.hits_failed(hits_);
        respond_tracking_failure(res_, ctx, 503, send_image_, 1);
    }
    send();
}

template <class Stream>
void BasicSession<Stream>::send() {
    if (!fixed_) {
        if (shared_.draining) res_.keep_alive(false);
        status_ = res_.result_int();
        keep_alive_ = res_.keep_alive();
        // Our own header bytes (gateway/wire.hpp), then the body as it is: no copy of a JS file.
        serialize_header(res_, wire_);
    }
    // Counted before the write, so a client that has its answer also finds it in /metrics.
    shared_.metrics.request(endpoint_, status_,
                            std::chrono::duration<double>(session_detail::Clock::now() - t0_).count());
    const auto body = fixed_ ? Response::body_type::value_type{} : res_.body();
    const std::array<net::const_buffer, 2> bufs{net::buffer(wire_), net::buffer(body.data(), body.size())};
    if constexpr (std::is_same_v<Stream, TcpStream>) {
        // An answer usually fits the socket's buffer: written at once (the socket is non-blocking),
        // without an asynchronous write, its deadline and its completion. What does not fit goes
        // the asynchronous way. The depth bound keeps a run of pipelined answers off the stack.
        constexpr unsigned max_sync_depth = 8;
        if (sync_depth_ < max_sync_depth && stream_.socket().non_blocking()) {
            beast::error_code ec;
            std::size_t n = stream_.socket().write_some(bufs, ec);
            if (ec == net::error::would_block || ec == net::error::try_again) {
                ec = {};
                n = 0;
            }
            if (ec || n == net::buffer_size(bufs)) {
                ++sync_depth_;
                on_write(ec, n);
                --sync_depth_;
                return;
            }
            beast::buffers_suffix<std::array<net::const_buffer, 2>> rest(bufs);
            rest.consume(n);
            arm_stream_deadline();
            net::async_write(stream_, rest,
                             [self = this->shared_from_this(), n](beast::error_code ec, std::size_t more) {
                                 self->on_write(ec, n + more);
                             });
            return;
        }
    }
    arm_stream_deadline();
    net::async_write(stream_, bufs, beast::bind_front_handler(&BasicSession::on_write, this->shared_from_this()));
}

// The stream's own deadline, --read-timeout-ms, for what is not covered by the read timer: the PROXY
// header, and an answer written asynchronously (one written at once needs no deadline and costs no
// timer update). The next request's read clears it.
template <class Stream>
void BasicSession<Stream>::arm_stream_deadline() {
    Ops::write_deadline(stream_, shared_.opts.server.read_timeout);
    stream_deadline_ = true;
}

template <class Stream>
void BasicSession<Stream>::on_write(beast::error_code ec, std::size_t bytes) {
    shared_.metrics.inflight_hits(-1);
    shared_.busy--;
    counted_ = false;
    if (ec == beast::error::timeout) {
        // The client stopped taking answers (a pipelining flood that never reads, a stalled reader).
        reason_ = "write_timeout";
        shared_.metrics.write_timeout();
    }
    if (shared_.opts.server.access_log) {
        const double secs = std::chrono::duration<double>(session_detail::Clock::now() - t0_).count();
        AccessRecord rec{req_.method_string(), req_.target(), status_, bytes,  secs,
                         client_ip_,           outcome_,      reason_, queues_};
        access_log(rec, shared_.opts.server.access_log_sample);
    }
    body_owner_.reset();
    if (ec) return close();
    fixed_ = false;
    if (!keep_alive_) {
        // An answer to a request we stopped reading (431, 413, 408, a parse error): the client may
        // still be sending it, and closing with its bytes unread would reset the connection before
        // it reads the answer. Drain it for a moment first, as web servers do.
        if (parser_ && !parser_->is_done()) return linger_close(0);
        return close();
    }
    req_ = Request{};
    do_read();
}

template <class Stream>
void BasicSession<Stream>::close() {
    if (watch_ != nullptr) watch_->release(watch_slot_);  // before the descriptor closes
    // The read timer's wait holds the session: end it now rather than at its expiry.
    read_timer_.cancel();
    ++timer_gen_;
    timer_waiting_ = false;
    Ops::close(stream_);
}

// Half-closes, then reads and discards what the client still sends, for at most a second and
// 4 MiB, and closes: the client reads our answer instead of a reset.
template <class Stream>
void BasicSession<Stream>::linger_close(std::size_t drained) {
    constexpr std::size_t max_drain = 4u << 20;
    if constexpr (std::is_same_v<Stream, TcpStream>) {
        if (drained == 0) {
            beast::error_code ec;
            stream_.socket().shutdown(net::socket_base::shutdown_send, ec);
            if (ec) return close();
            stream_.expires_after(std::chrono::seconds(1));
            stream_deadline_ = true;
            buffer_.clear();
        }
        if (drained > max_drain) return close();
        stream_.async_read_some(buffer_.prepare(16384),
                                [self = this->shared_from_this(), drained](beast::error_code ec, std::size_t n) {
                                    self->buffer_.clear();
                                    if (ec) return self->close();
                                    self->linger_close(drained + n + 1);
                                });
    } else {
        (void)drained;
        close();
    }
}

}  // namespace mgw::gateway
