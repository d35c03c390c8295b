// Pipelined RPUSH writer on Asio, using hiredis only for what it does best: parsing RESP replies
// (redisReader). Owning the socket ourselves keeps every wait asynchronous on our io_context and
// lets one connection carry many commands per system call.
#include "queue/redis_writer.hpp"

#include "metrics/metrics.hpp"
#include "queue/string_pool.hpp"

#include <hiredis/hiredis.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <deque>
#include <mutex>
#include <vector>

namespace mgw::queue {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

// "$<length>\r\n" or "*<count>\r\n".
void append_header(std::string& out, char kind, std::size_t n) {
    char head[24];
    head[0] = kind;
    char* p = std::to_chars(head + 1, head + 21, n).ptr;
    *p++ = '\r';
    *p++ = '\n';
    out.append(head, p);
}

void append_bulk(std::string& out, std::string_view s) {
    append_header(out, '$', s.size());
    out.append(s);
    out.append("\r\n", 2);
}

void append_command(std::string& out, std::initializer_list<std::string_view> args) {
    append_header(out, '*', args.size());
    for (auto a : args) append_bulk(out, a);
}

// "redis_connect_failed", "Connection refused" -> "connect failed: Connection refused"; a refused
// AUTH (or a server that wants one) -> "auth failed: ...", the case an operator must fix.
std::string describe_problem(std::string_view event, std::string_view detail) {
    if (event == "redis_handshake_refused" && (detail.starts_with("WRONGPASS") || detail.starts_with("NOAUTH") ||
                                               detail.find("password") != std::string_view::npos))
        return "auth failed: " + std::string(detail);
    std::string out(event.starts_with("redis_") ? event.substr(6) : event);
    for (char& c : out)
        if (c == '_') c = ' ';
    out += ": ";
    out += detail;
    return out;
}

}  // namespace

struct RedisWriter::Impl : std::enable_shared_from_this<Impl> {
    using Socket = net::basic_stream_socket<net::generic::stream_protocol, net::io_context::executor_type>;
    // How a set's submitter hears of its end: `ack` (submit), or `ret` (submit_or_return), which
    // also gets the set's bytes back unless it was stored.
    struct Done {
        WriteAck ack;
        ReturnAck ret;
        void operator()(WriteStatus s, std::string& key, std::string& value) {
            if (!ret) return ack(s);
            if (s == WriteStatus::ok) return ret(s, {}, {});
            ret(s, std::move(key), std::move(value));
        }
    };
    struct Item {
        std::string key;
        std::string value;
        Done done;
        Clock::time_point t0;
        std::shared_ptr<std::string> error;  // receives an error reply's text (cluster routing)
        bool asking = false;                 // send ASKING first (cluster ASK redirection)
    };
    enum class Kind { hit, handshake, last_handshake, wait, asking };
    struct Inflight {
        Kind kind = Kind::hit;
        Clock::time_point t0;
        Done done;
        std::size_t bytes = 0;
        std::shared_ptr<std::string> error;
        std::string key;  // with done.ret only: the set's bytes stay here until the outcome
        std::string value;
    };
    static Inflight step(Kind kind, Clock::time_point t0) {
        Inflight f;
        f.kind = kind;
        f.t0 = t0;
        return f;
    }

    Impl(const net::any_io_executor& ex, RedisOptions o, metrics::Metrics* m, WriterLog l)
        : executor(io_executor(ex)), opts(std::move(o)), metrics(m), log(std::move(l)), socket(executor),
          resolver(executor), reply_timer(executor), retry_timer(executor), connect_timer(executor),
          sentinel_timer(executor), backoff(opts.reconnect_min) {}

    ~Impl() {
        if (reader) redisReaderFree(reader);
    }

    // The writer runs on an io_context that one thread runs (one of the gateway's I/O threads), so
    // its handlers never overlap and need no strand. The executor's type is spelled out, and so are
    // those of the socket and timers that use it: behind any_io_executor every operation's property
    // query costs an allocation (several per set).
    using Executor = net::io_context::executor_type;
    using Timer = net::basic_waitable_timer<Clock, net::wait_traits<Clock>, Executor>;
    static Executor io_executor(const net::any_io_executor& ex) {
        if (const auto* io = ex.target<net::io_context::executor_type>()) return *io;
        throw std::invalid_argument("RedisWriter needs an io_context executor");
    }
    Executor executor;
    RedisOptions opts;
    metrics::Metrics* metrics;
    WriterLog log;  // state changes only, never per hit
    Clock::time_point last_error_log{};
    std::uint64_t error_replies_unlogged = 0;
    Socket socket;
    net::ip::tcp::resolver resolver;
    Timer reply_timer, retry_timer, connect_timer, sentinel_timer;
    redisReader* reader = nullptr;
    // Sentinel mode: the master's address as the last sentinel reported it.
    std::string master_host;
    std::uint16_t master_port = 0;
    std::shared_ptr<net::ip::tcp::socket> sentinel_socket;

    mutable std::mutex problem_mu;  // guards `last_problem` (read by /readyz and the alarm timer)
    std::string last_problem;       // why the last connection attempt failed; empty once ready

    std::mutex mu;  // guards `pending` and `flush_scheduled`
    std::vector<Item> pending;
    std::vector<Item> batch_;  // writer thread only: the batch flush_batch() is sending
    bool flush_scheduled = false;
    std::atomic<std::size_t> pending_bytes{0};
    std::atomic<bool> is_ready{false};
    std::atomic<bool> stopping{false};

    // Strand-only state.
    std::deque<Inflight> inflight;
    // With wait_replicas: replies of the current batch, acknowledged when its WAIT answers.
    std::vector<std::pair<Inflight, bool>> held;
    std::string out;
    bool writing = false;
    bool connected = false;
    unsigned generation = 0;            // bumped on every disconnect; stale completions compare it
    Clock::time_point last_progress{};  // the last reply, or the first command sent with none outstanding
    bool reply_armed = false;           // the reply timer has a wait in progress
    std::uint64_t reply_seq = 0;        // bumped per wait and per disarm; a stale wait's handler does nothing
    std::array<char, std::size_t{64} * 1024> inbuf{};
    std::chrono::milliseconds backoff;
    std::function<void()> on_stopped;

    // The gauge is shared by every writer of a pool: each adds its own changes.
    void add_pending(std::size_t bytes, bool remove) {
        if (remove) pending_bytes -= bytes;
        else pending_bytes += bytes;
        if (metrics) metrics->redis_pending_add(remove ? -static_cast<double>(bytes) : static_cast<double>(bytes));
    }

    void connect() {
        if (stopping) {
            finish_stop_if_idle();
            return;
        }
        auto self = shared_from_this();
        unsigned gen = generation;
        connect_timer.expires_after(opts.connect_timeout);
        connect_timer.async_wait([self, gen](boost::system::error_code ec) {
            if (!ec && gen == self->generation && !self->connected) {
                self->resolver.cancel();
                boost::system::error_code ignored;
                self->socket.close(ignored);
            }
        });
        if (opts.sentinel) {
            ask_sentinel(0, gen, [self, gen](const std::string& host, std::uint16_t port) {
                if (host.empty()) return self->fail("redis_sentinel_no_master", self->opts.sentinel_master);
                if (host != self->master_host || port != self->master_port) {
                    if (self->log) self->log("info", "redis_sentinel_master", host + ":" + std::to_string(port));
                    self->master_host = host;
                    self->master_port = port;
                }
                self->connect_tcp(host, port, gen);
            });
            return;
        }
        if (opts.unix_socket) {
            net::local::stream_protocol::endpoint ep(opts.path);
            socket.async_connect(Socket::endpoint_type(ep),
                                 [self, gen](boost::system::error_code ec) { self->on_connect(ec, gen); });
            return;
        }
        connect_tcp(opts.host, opts.port, gen);
    }

    void connect_tcp(const std::string& host, std::uint16_t port, unsigned gen) {
        auto self = shared_from_this();
        resolver.async_resolve(
            host, std::to_string(port),
            [self, gen](boost::system::error_code ec, const net::ip::tcp::resolver::results_type& r) {
                if (gen != self->generation) return;
                if (ec || r.empty()) return self->fail("redis_resolve_failed", ec.message());
                self->socket.async_connect(Socket::endpoint_type(r.begin()->endpoint()),
                                           [self, gen](boost::system::error_code ec2) { self->on_connect(ec2, gen); });
            });
    }

    // QueuedTracking's Sentinel client: ask each sentinel in order (no AUTH, short timeout) for
    // the master's address; the first answer wins (docs/wire-format.md, "Settings").
    using MasterFound = std::function<void(const std::string& host, std::uint16_t port)>;

    void ask_sentinel(std::size_t index, unsigned gen, const MasterFound& done) {
        if (gen != generation) return;
        if (index >= opts.sentinels.size()) return done({}, 0);
        auto self = shared_from_this();
        auto sock = std::make_shared<net::ip::tcp::socket>(executor);
        sentinel_socket = sock;
        auto timer = std::make_shared<net::steady_timer>(executor, opts.sentinel_timeout);
        timer->async_wait([sock](boost::system::error_code ec) {
            if (!ec) {
                boost::system::error_code ignored;
                sock->close(ignored);
            }
        });
        auto next = [self, index, gen, timer, done] {
            timer->cancel();
            self->ask_sentinel(index + 1, gen, done);
        };
        const auto& [host, port] = opts.sentinels[index];
        auto res = std::make_shared<net::ip::tcp::resolver>(executor);
        res->async_resolve(
            host, std::to_string(port),
            [self, sock, res, timer, next, gen, done](boost::system::error_code ec,
                                                      const net::ip::tcp::resolver::results_type& r) {
                if (ec || r.empty()) return next();
                sock->async_connect(*r.begin(), [self, sock, timer, next, gen, done](boost::system::error_code ec2) {
                    if (ec2) return next();
                    auto request = std::make_shared<std::string>();
                    append_command(*request, {"SENTINEL", "get-master-addr-by-name", self->opts.sentinel_master});
                    net::async_write(
                        *sock, net::buffer(*request),
                        [self, sock, timer, next, request, gen, done](boost::system::error_code ec3, std::size_t) {
                            if (ec3) return next();
                            self->read_sentinel_reply(
                                sock, timer, next, done, gen, std::make_shared<std::array<char, 512>>(),
                                std::shared_ptr<redisReader>(redisReaderCreate(), redisReaderFree));
                        });
                });
            });
    }

    template <class Next>
    void read_sentinel_reply(std::shared_ptr<net::ip::tcp::socket> sock, std::shared_ptr<net::steady_timer> timer,
                             Next next, MasterFound done, unsigned gen, std::shared_ptr<std::array<char, 512>> buf,
                             std::shared_ptr<redisReader> rd) {
        auto self = shared_from_this();
        sock->async_read_some(net::buffer(*buf), [self, sock, timer, next, done, gen, buf, rd](
                                                     boost::system::error_code ec, std::size_t n) {
            if (ec || redisReaderFeed(rd.get(), buf->data(), n) != REDIS_OK) return next();
            void* r = nullptr;
            if (redisReaderGetReply(rd.get(), &r) != REDIS_OK) return next();
            if (!r) return self->read_sentinel_reply(sock, timer, next, done, gen, buf, rd);
            auto* reply = static_cast<redisReply*>(r);
            std::string host;
            std::uint16_t port = 0;
            if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
                reply->element[0]->type == REDIS_REPLY_STRING && reply->element[1]->type == REDIS_REPLY_STRING) {
                host.assign(reply->element[0]->str, reply->element[0]->len);
                // A port that is not a number in 1..65535 leaves port 0: ask the next sentinel.
                const char* first = reply->element[1]->str;
                const char* last = first + reply->element[1]->len;
                std::uint16_t parsed = 0;
                auto [end, err] = std::from_chars(first, last, parsed);
                if (err == std::errc{} && end == last) port = parsed;
            }
            freeReplyObject(reply);
            boost::system::error_code ignored;
            sock->close(ignored);
            timer->cancel();
            if (host.empty() || port == 0) return next();
            if (gen != self->generation) return;
            done(host, port);
        });
    }

    // While connected, keep asking the sentinels: after a failover the old master may accept (and
    // later discard) writes for seconds before it is demoted, so don't wait for READONLY.
    void watch_sentinels(unsigned gen) {
        if (!opts.sentinel || gen != generation) return;
        auto self = shared_from_this();
        sentinel_timer.expires_after(opts.sentinel_check_interval);
        sentinel_timer.async_wait([self, gen](boost::system::error_code ec) {
            if (ec || gen != self->generation) return;
            self->ask_sentinel(0, gen, [self, gen](const std::string& host, std::uint16_t port) {
                if (gen != self->generation) return;
                if (!host.empty() && (host != self->master_host || port != self->master_port))
                    return self->fail("redis_master_changed", host + ":" + std::to_string(port));
                self->watch_sentinels(gen);
            });
        });
    }

    void on_connect(boost::system::error_code ec, unsigned gen) {
        if (gen != generation) return;
        if (ec) return fail("redis_connect_failed", ec.message());
        connected = true;
        connect_timer.cancel();
        if (reader) redisReaderFree(reader);
        reader = redisReaderCreate();
        if (socket.local_endpoint().protocol().family() != AF_UNIX) {
            boost::system::error_code ignored;
            socket.set_option(net::ip::tcp::no_delay(true), ignored);
        }
        // send() writes what fits at once and leaves the rest to an asynchronous write: never a
        // blocking write.
        if (socket.non_blocking(true, ec); ec) return fail("redis_connect_failed", ec.message());
        read_loop(gen);
        out.clear();
        std::vector<Kind> steps;
        if (!opts.password.empty()) {
            if (opts.user.empty()) append_command(out, {"AUTH", opts.password});
            else append_command(out, {"AUTH", opts.user, opts.password});
            steps.push_back(Kind::handshake);
        }
        if (opts.database != 0) {
            append_command(out, {"SELECT", std::to_string(opts.database)});
            steps.push_back(Kind::handshake);
        }
        // No AUTH or SELECT: a PING still finds out now whether the server wants a password
        // (NOAUTH), instead of refusing every set once the gateway calls itself connected.
        if (steps.empty()) {
            append_command(out, {"PING"});
            steps.push_back(Kind::handshake);
        }
        steps.back() = Kind::last_handshake;
        for (Kind k : steps) inflight.push_back(step(k, Clock::now()));
        // The handshake has the reply deadline too: a server that accepted the connection and then
        // stalls (stopped, overloaded, not Redis at all) must not hold the writer forever.
        note_progress(gen);
        if (send(gen)) flush();
    }

    void mark_ready() {
        backoff = opts.reconnect_min;
        is_ready = true;
        {
            std::lock_guard lock(problem_mu);
            last_problem.clear();
        }
        watch_sentinels(generation);
        if (log) {
            std::string where = opts.unix_socket ? opts.path
                                : opts.sentinel  ? master_host + ":" + std::to_string(master_port)
                                                 : opts.host + ":" + std::to_string(opts.port);
            log("info", "redis_connected", where);
        }
        if (metrics) metrics->redis_connected(true);
        flush();
    }

    void read_loop(unsigned gen) {
        auto self = shared_from_this();
        socket.async_read_some(net::buffer(inbuf), [self, gen](boost::system::error_code ec, std::size_t n) {
            if (gen != self->generation) return;
            if (ec) return self->fail("redis_connection_lost", ec.message());
            if (redisReaderFeed(self->reader, self->inbuf.data(), n) != REDIS_OK)
                return self->fail("redis_protocol_error", "feed");
            for (;;) {
                void* r = nullptr;
                if (redisReaderGetReply(self->reader, &r) != REDIS_OK)
                    return self->fail("redis_protocol_error", self->reader->errstr);
                if (!r) break;
                auto* reply = static_cast<redisReply*>(r);
                bool ok = self->on_reply(reply);
                freeReplyObject(reply);
                if (!ok || gen != self->generation) return;
            }
            self->note_progress(gen);
            if (self->stopping && self->finish_stop_if_idle()) return;
            self->read_loop(gen);
        });
    }

    // False when the reply ended the connection (handshake refused, or a reply nobody waits for).
    bool on_reply(redisReply* reply) {
        if (inflight.empty()) {
            fail("redis_protocol_error", "unexpected reply");
            return false;
        }
        Inflight f = std::move(inflight.front());
        inflight.pop_front();
        const bool is_error = reply->type == REDIS_REPLY_ERROR;
        if (f.kind == Kind::wait) {
            // Stored on enough replicas: acknowledge the batch. Otherwise the sets are on this
            // node only, which a failover may discard: the clients get 503 and may send them again.
            const bool replicated = reply->type == REDIS_REPLY_INTEGER && reply->integer >= opts.wait_replicas;
            if (!replicated && log)
                log("warn", "redis_wait_short",
                    std::to_string(reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1));
            auto batch = std::move(held);
            held.clear();
            for (auto& [h, ok] : batch)
                finish_hit(
                    h, ok && replicated ? WriteStatus::ok : (ok ? WriteStatus::unconfirmed : WriteStatus::rejected));
            return true;
        }
        if (f.kind == Kind::asking) return true;  // its RPUSH's reply tells whether it worked
        if (f.kind != Kind::hit) {
            if (is_error) {
                fail("redis_handshake_refused", std::string(reply->str, reply->len));
                return false;
            }
            if (f.kind == Kind::last_handshake) mark_ready();
            return true;
        }
        if (is_error) {
            std::string_view err(reply->str, reply->len);
            if (f.error) f.error->assign(err);
            finish_hit(f, WriteStatus::rejected);
            if (err.starts_with("READONLY") || err.starts_with("MASTERDOWN")) {
                // A replica now: after a failover the master is elsewhere; reconnect (and, with
                // Sentinel, ask again) instead of sending more writes here.
                fail("redis_not_master", err);
                return false;
            }
            log_error_reply(err);
        } else if (opts.wait_replicas > 0) {
            held.emplace_back(std::move(f), true);
        } else {
            finish_hit(f, WriteStatus::ok);
        }
        return true;
    }

    // Redis refused a set (OOM, WRONGTYPE, ...): say what it answered, at most once a second, with
    // the number of refusals since the last such line.
    void log_error_reply(std::string_view err) {
        ++error_replies_unlogged;
        const auto now = Clock::now();
        if (!log || (last_error_log != Clock::time_point{} && now - last_error_log < std::chrono::seconds(1))) return;
        last_error_log = now;
        log("warn", "redis_error_reply",
            std::string(err) + " (" + std::to_string(error_replies_unlogged) + " refused since the last such line)");
        error_replies_unlogged = 0;
    }

    void finish_hit(Inflight& f, WriteStatus status) {
        add_pending(f.bytes, true);
        const double secs = std::chrono::duration<double>(Clock::now() - f.t0).count();
        if (metrics) {
            metrics->redis_write(status == WriteStatus::ok         ? metrics::WriteOutcome::ok
                                 : status == WriteStatus::rejected ? metrics::WriteOutcome::error_reply
                                                                   : metrics::WriteOutcome::unavailable,
                                 secs);
        }
        f.done(status, f.key, f.value);
        // What the outcome left here (all of it when Redis stored the set) is memory for later sets.
        give_string(std::move(f.key));
        give_string(std::move(f.value));
    }

    // The reply deadline: the connection fails once Redis has owed a reply for --redis-reply-timeout
    // (plus the WAIT timeout while a WAIT is on the wire) with none arriving. One wait covers many
    // sets: a reply only moves `last_progress`, and the timer, when it fires, either waits again for
    // what is left or fails the connection. No timer operation per set.
    std::chrono::milliseconds reply_allowance() const {
        // A WAIT on the wire may legitimately take its own timeout before Redis answers it.
        const bool waiting =
            std::any_of(inflight.begin(), inflight.end(), [](const Inflight& f) { return f.kind == Kind::wait; });
        return opts.reply_timeout + (waiting ? opts.wait_timeout : std::chrono::milliseconds(0));
    }

    // Called when a reply arrived, or when the first outstanding command was sent.
    void note_progress(unsigned gen) {
        last_progress = Clock::now();
        if (!inflight.empty() && !reply_armed) arm_reply_timer(gen, last_progress + reply_allowance());
    }

    void arm_reply_timer(unsigned gen, Clock::time_point at) {
        reply_armed = true;
        const std::uint64_t seq = ++reply_seq;
        auto self = shared_from_this();
        reply_timer.expires_at(at);
        reply_timer.async_wait([self, gen, seq](boost::system::error_code ec) {
            if (seq != self->reply_seq) return;  // disarmed by a disconnect or a stop
            self->reply_armed = false;
            if (ec || gen != self->generation || self->inflight.empty()) return;
            const auto deadline = self->last_progress + self->reply_allowance();
            if (Clock::now() < deadline) return self->arm_reply_timer(gen, deadline);
            const Kind k = self->inflight.front().kind;
            const bool handshake = k == Kind::handshake || k == Kind::last_handshake;
            self->fail(handshake ? "redis_handshake_timeout" : "redis_reply_timeout", "");
        });
    }

    void disarm_reply_timer() {
        reply_timer.cancel();
        reply_armed = false;
        ++reply_seq;
    }

    void flush() {
        while (flush_batch()) {}
    }

    // Sends one batch of pending sets; true when it was written at once and more may be pending.
    bool flush_batch() {
        // The batch vector is kept between batches (writer thread only), so taking one allocates nothing.
        std::vector<Item>& batch = batch_;
        batch.clear();
        {
            std::lock_guard lock(mu);
            flush_scheduled = false;
            if (writing) return false;
            if (is_ready) {
                const std::size_t n = std::min(pending.size(), opts.max_batch_commands);
                batch.reserve(n);
                std::move(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(n), std::back_inserter(batch));
                pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(n));
            } else {
                batch.swap(pending);
            }
        }
        if (batch.empty()) return false;
        if (!is_ready) {
            for (auto& it : batch) refuse(it, WriteStatus::unavailable);
            batch.clear();
            return false;
        }
        out.clear();
        std::size_t extra = 0;
        for (auto& it : batch) {
            if (it.asking) {
                append_command(out, {"ASKING"});
                inflight.push_back(step(Kind::asking, it.t0));
                ++extra;
            }
            append_command(out, {"RPUSH", it.key, it.value});
            Inflight& f = inflight.emplace_back(step(Kind::hit, it.t0));
            f.bytes = it.key.size() + it.value.size();
            f.error = std::move(it.error);
            if (it.done.ret) {
                f.key = std::move(it.key);
                f.value = std::move(it.value);
            } else {
                // The bytes are in the batch now: their memory goes to later sets.
                give_string(std::move(it.key));
                give_string(std::move(it.value));
            }
            f.done = std::move(it.done);
        }
        if (opts.wait_replicas > 0) {
            append_command(out,
                           {"WAIT", std::to_string(opts.wait_replicas), std::to_string(opts.wait_timeout.count())});
            inflight.push_back(step(Kind::wait, Clock::now()));
        }
        const std::size_t taken = batch.size();
        batch.clear();
        if (metrics) metrics->redis_batch(taken);
        const unsigned gen = generation;
        if (inflight.size() == taken + extra + (opts.wait_replicas > 0 ? 1 : 0)) note_progress(gen);
        return send(gen);
    }

    // Writes `out`. Most batches fit the socket's buffer and are written at once, without an
    // asynchronous write and its completion (the socket is non-blocking): true then. Otherwise the
    // rest goes out asynchronously, and its completion flushes again.
    bool send(unsigned gen) {
        writing = true;
        boost::system::error_code ec;
        std::size_t n = socket.write_some(net::buffer(out), ec);
        if (ec == net::error::would_block || ec == net::error::try_again) {
            ec = {};
            n = 0;
        }
        if (ec) {
            fail("redis_write_failed", ec.message());
            return false;
        }
        if (n == out.size()) {
            writing = false;
            return true;
        }
        auto self = shared_from_this();
        net::async_write(socket, net::buffer(out.data() + n, out.size() - n),
                         [self, gen](boost::system::error_code ec, std::size_t) {
                             if (gen != self->generation) return;
                             self->writing = false;
                             if (ec) return self->fail("redis_write_failed", ec.message());
                             self->flush();
                         });
        return false;
    }

    // Takes a set from any thread (submit, submit_routed, submit_or_return).
    void enqueue(Item&& item) {
        if (stopping || !is_ready) {
            if (metrics) metrics->redis_write(metrics::WriteOutcome::unavailable, 0);
            item.done(WriteStatus::unavailable, item.key, item.value);
            return;
        }
        const std::size_t bytes = item.key.size() + item.value.size();
        if (pending_bytes.fetch_add(bytes) + bytes > opts.max_pending_bytes) {
            pending_bytes -= bytes;
            if (metrics) metrics->redis_write(metrics::WriteOutcome::overloaded, 0);
            item.done(WriteStatus::overloaded, item.key, item.value);
            return;
        }
        if (metrics) metrics->redis_pending_add(static_cast<double>(bytes));
        item.t0 = Clock::now();
        bool schedule = false;
        {
            std::lock_guard lock(mu);
            pending.push_back(std::move(item));
            schedule = !flush_scheduled;
            flush_scheduled = true;
        }
        if (schedule) {
            net::post(executor, [impl = shared_from_this()] { impl->flush(); });
        }
    }

    void refuse(Item& it, WriteStatus s) {
        add_pending(it.key.size() + it.value.size(), true);
        if (metrics) metrics->redis_write(metrics::WriteOutcome::unavailable, 0);
        it.done(s, it.key, it.value);
    }

    void fail(std::string_view event, std::string_view detail) {
        ++generation;
        const bool was_ready = is_ready.exchange(false);
        connected = false;
        writing = false;
        boost::system::error_code ignored;
        socket.close(ignored);
        if (sentinel_socket) sentinel_socket->close(ignored);
        sentinel_timer.cancel();
        resolver.cancel();
        disarm_reply_timer();
        connect_timer.cancel();
        if (metrics) {
            if (was_ready) metrics->redis_connected(false);
            metrics->redis_reconnect();
        }
        if (log && (was_ready || backoff == opts.reconnect_min)) log("warn", event, detail);
        {
            std::lock_guard lock(problem_mu);
            last_problem = describe_problem(event, detail);
        }
        // Sets already sent may have been stored: unconfirmed. Without a spool the client is told
        // 503 and may send them again; with one they are spooled (at least once).
        for (auto& [h, ok] : held) finish_hit(h, WriteStatus::unconfirmed);
        held.clear();
        while (!inflight.empty()) {
            Inflight f = std::move(inflight.front());
            inflight.pop_front();
            if (f.kind != Kind::hit) continue;
            add_pending(f.bytes, true);
            if (metrics) metrics->redis_write(metrics::WriteOutcome::unavailable, 0);
            f.done(WriteStatus::unconfirmed, f.key, f.value);
        }
        std::vector<Item> waiting;
        {
            std::lock_guard lock(mu);
            waiting.swap(pending);
        }
        for (auto& it : waiting) refuse(it, WriteStatus::unavailable);
        if (stopping) {
            finish_stop_if_idle();
            return;
        }
        auto self = shared_from_this();
        retry_timer.expires_after(backoff);
        backoff = std::min(backoff * 2, opts.reconnect_max);
        retry_timer.async_wait([self](boost::system::error_code ec) {
            if (!ec) self->connect();
        });
    }

    bool finish_stop_if_idle() {
        {
            std::lock_guard lock(mu);
            if (!pending.empty()) return false;
        }
        if (!inflight.empty() || writing) return false;
        ++generation;
        if (is_ready.exchange(false) && metrics) metrics->redis_connected(false);
        boost::system::error_code ignored;
        socket.close(ignored);
        resolver.cancel();
        disarm_reply_timer();
        retry_timer.cancel();
        connect_timer.cancel();
        sentinel_timer.cancel();
        if (auto done = std::move(on_stopped)) {
            on_stopped = nullptr;
            done();
        }
        return true;
    }
};

RedisWriter::RedisWriter(const net::any_io_executor& ex, RedisOptions opts, metrics::Metrics* metrics, WriterLog log)
    : impl_(std::make_shared<Impl>(ex, std::move(opts), metrics, std::move(log))) {}

RedisWriter::~RedisWriter() = default;

void RedisWriter::start() {
    auto impl = impl_;
    net::post(impl->executor, [impl] { impl->connect(); });
}

void RedisWriter::submit(std::string key, std::string value, WriteAck ack) {
    submit_routed(std::move(key), std::move(value), std::move(ack), nullptr, false);
}

void RedisWriter::submit_or_return(std::string key, std::string value, ReturnAck ack) {
    impl_->enqueue(Impl::Item{std::move(key), std::move(value), {{}, std::move(ack)}, {}, nullptr, false});
}

void RedisWriter::submit_routed(std::string key, std::string value, WriteAck ack, std::shared_ptr<std::string> error,
                                bool asking) {
    impl_->enqueue(Impl::Item{std::move(key), std::move(value), {std::move(ack), {}}, {}, std::move(error), asking});
}

void RedisWriter::stop(std::function<void()> done) {
    auto impl = impl_;
    net::post(impl->executor, [impl, done = std::move(done)]() mutable {
        impl->stopping = true;
        impl->on_stopped = std::move(done);
        impl->flush();
        impl->finish_stop_if_idle();
    });
}

bool RedisWriter::ready() const { return impl_->is_ready; }
std::string RedisWriter::problem() const {
    std::lock_guard lock(impl_->problem_mu);
    return impl_->last_problem;
}

}  // namespace mgw::queue
