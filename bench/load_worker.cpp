// Connections and schedule of one load-generator thread (see load_worker.hpp). A Connection owns itself
// (shared_from_this) and loops: take a slot, wait for its time (open loop), connect if needed, write the
// request, read the response, record. Transport errors are counted by phase and the connection starts
// over with a fresh socket.
#include "bench/load_worker.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cmath>
#include <memory>

namespace mgw::bench {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

void WorkerStats::merge(const WorkerStats& o) {
    latency.merge(o.latency);
    sent += o.sent;
    completed += o.completed;
    ok += o.ok;
    hits_sent += o.hits_sent;
    hits_acknowledged += o.hits_acknowledged;
    connects += o.connects;
    scheduled += o.scheduled;
    for (const auto& [k, v] : o.status) status[k] += v;
    for (const auto& [k, v] : o.transport_errors) transport_errors[k] += v;
    for (std::size_t i = 0; i < kKinds; ++i) kinds[i] += o.kinds[i];
    last_completion = std::max(last_completion, o.last_completion);
}

class Connection : public std::enable_shared_from_this<Connection> {
public:
    explicit Connection(Worker& w) : w_(w), stream_(w.ioc_), timer_(w.ioc_) {}

    void next() {
        auto slot = w_.claim();
        if (!slot) return stop();
        if (slot->intended) {
            origin_ = *slot->intended;
            if (origin_ > Clock::now()) {
                timer_.expires_at(origin_);
                timer_.async_wait([self = shared_from_this()](beast::error_code) { self->send(); });
                return;
            }
        }
        send();
    }

private:
    bool open_loop() const { return w_.cfg_.rate > 0; }

    void send() {
        built_ = w_.builder_.next(request_);
        ++w_.stats_.sent;
        w_.stats_.hits_sent += built_.hits;
        ++w_.stats_.kinds[static_cast<std::size_t>(built_.kind)];
        if (!open_loop()) origin_ = Clock::now();
        stream_.expires_after(w_.cfg_.timeout);
        if (connected_) return write();
        ++w_.stats_.connects;
        stream_.async_connect(w_.cfg_.endpoint, beast::bind_front_handler(&Connection::on_connect, shared_from_this()));
    }

    void on_connect(beast::error_code ec) {
        if (ec) return fail(ec, "connect");
        connected_ = true;
        beast::error_code ignored;
        stream_.socket().set_option(tcp::no_delay(true), ignored);
        write();
    }

    void write() {
        net::async_write(stream_, net::buffer(request_),
                         beast::bind_front_handler(&Connection::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        if (ec) return fail(ec, "write");
        parser_.emplace();
        parser_->body_limit(16u << 20);
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&Connection::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec) return fail(ec, "read");
        const auto now = Clock::now();
        auto& s = w_.stats_;
        s.latency.record(
            static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - origin_).count()));
        s.last_completion = now;
        ++s.completed;
        const unsigned status = parser_->get().result_int();
        ++s.status[status];
        if (status >= 200 && status < 300) {
            ++s.ok;
            s.hits_acknowledged += built_.hits;
        }
        if (w_.cfg_.keep_alive && parser_->get().keep_alive()) return next();
        if (!parser_->get().keep_alive()) return await_close();
        // The server did not close although we asked it to: close ourselves.
        reset();
        next();
    }

    // With Connection: close the server closes first; wait for its FIN so TIME_WAIT stays on the
    // server side and the client's ephemeral ports are not used up by a keep-alive-off run.
    void await_close() {
        stream_.expires_after(std::chrono::seconds(1));
        stream_.async_read_some(net::buffer(drain_), [self = shared_from_this()](beast::error_code, std::size_t) {
            self->reset();
            self->next();
        });
    }

    void fail(beast::error_code ec, const char* phase) {
        std::string key = phase;
        key += ": ";
        key += ec == beast::error::timeout ? std::string("timeout") : ec.message();
        ++w_.stats_.transport_errors[key];
        reset();
        if (std::string_view(phase) == "connect") {
            // Avoid a hot loop against a port that refuses connections.
            timer_.expires_after(std::chrono::milliseconds(10));
            timer_.async_wait([self = shared_from_this()](beast::error_code) { self->next(); });
            return;
        }
        next();
    }

    void reset() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
        buffer_.clear();
        connected_ = false;
    }

    void stop() {
        if (connected_) reset();
    }

    Worker& w_;
    beast::tcp_stream stream_;
    net::steady_timer timer_;
    beast::flat_buffer buffer_;
    std::string request_;
    std::optional<http::response_parser<http::string_body>> parser_;
    BuiltRequest built_;
    Clock::time_point origin_;
    bool connected_ = false;
    char drain_[512];
};

namespace {

// A per-worker seed, so that threads send different visitor ids.
std::uint64_t worker_seed(std::uint64_t seed, unsigned index) { return seed * 0x9e3779b97f4a7c15ull + index + 1; }

}  // namespace

Worker::Worker(const RunConfig& cfg, RunControl& ctl, unsigned index, unsigned connections)
    : cfg_(cfg), ctl_(ctl), index_(index), connections_(connections),
      builder_(cfg.mix, cfg.host_header, cfg.path, cfg.keep_alive, worker_seed(cfg.seed, index)) {
    if (cfg.rate > 0 && cfg.requests > 0) {
        // Slots index, index + threads, ...: this worker's share of the run's requests.
        slot_budget_ = cfg.requests / cfg.threads + (index < cfg.requests % cfg.threads ? 1 : 0);
    }
}

std::optional<Worker::Slot> Worker::claim() {
    if (ctl_.interrupted && ctl_.interrupted->load(std::memory_order_relaxed)) return std::nullopt;
    const auto now = Clock::now();
    if (now >= ctl_.deadline) return std::nullopt;
    if (cfg_.rate <= 0) {
        if (cfg_.requests > 0 && ctl_.claimed.fetch_add(1, std::memory_order_relaxed) >= cfg_.requests)
            return std::nullopt;
        return Slot{};
    }
    if (slot_budget_ > 0 && next_slot_ >= slot_budget_) return std::nullopt;
    const double at_s = static_cast<double>(next_slot_ * cfg_.threads + index_) / cfg_.rate;
    const auto intended = ctl_.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(at_s));
    if (intended >= ctl_.deadline) return std::nullopt;
    ++next_slot_;
    return Slot{intended};
}

// Open loop: how many of this worker's slots were due before the deadline (or the interruption).
void Worker::finish_schedule() {
    if (cfg_.rate <= 0) return;
    const auto end = std::min(ctl_.deadline, std::max(ctl_.start, Clock::now()));
    const double window_s = std::chrono::duration<double>(end - ctl_.start).count();
    const double due = window_s * cfg_.rate - static_cast<double>(index_);
    std::uint64_t slots = due > 0 ? static_cast<std::uint64_t>(std::ceil(due / cfg_.threads)) : 0;
    if (slot_budget_ > 0) slots = std::min(slots, slot_budget_);
    stats_.scheduled = std::max(slots, next_slot_);
}

void Worker::run() {
    for (unsigned i = 0; i < connections_; ++i) {
        auto c = std::make_shared<Connection>(*this);
        net::post(ioc_, [c] { c->next(); });
    }
    ioc_.run();
    finish_schedule();
}

}  // namespace mgw::bench
