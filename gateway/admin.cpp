// Admin requests are few and small: a plain string_body session per connection is enough.
#include "gateway/admin.hpp"

#include "gateway/responses.hpp"
#include "gateway/run_barrier.hpp"
#include "gateway/server.hpp"
#include "metrics/metrics.hpp"

#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <memory>
#include <optional>

namespace mgw::gateway {
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

class AdminSession : public std::enable_shared_from_this<AdminSession> {
public:
    AdminSession(tcp::socket&& s, metrics::Metrics& m, const std::function<Readiness()>& r)
        : stream_(std::move(s)), metrics_(m), readiness_(r) {}

    void run() { do_read(); }

private:
    void do_read() {
        parser_.emplace();
        parser_->header_limit(8192);
        parser_->body_limit(0);
        stream_.expires_after(std::chrono::seconds(10));
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&AdminSession::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec) return close();
        auto req = parser_->release();
        auto start = std::chrono::steady_clock::now();
        res_ = {};
        res_.version(req.version());
        res_.keep_alive(req.keep_alive());
        res_.set(http::field::date, http_date());
        res_.set(http::field::cache_control, "no-store");
        std::string_view path = req.target().substr(0, req.target().find('?'));
        if (req.method() != http::verb::get && req.method() != http::verb::head) {
            reply(405, "text/plain; charset=utf-8", "method not allowed\n");
        } else if (path == "/livez") {
            reply(200, "text/plain; charset=utf-8", "ok\n");
        } else if (path == "/readyz") {
            Readiness r = readiness_();
            if (r.ready && r.detail.empty()) reply(200, "text/plain; charset=utf-8", "ready\n");
            else if (r.ready) reply(200, "text/plain; charset=utf-8", "ready: " + r.detail + "\n");
            else reply(503, "text/plain; charset=utf-8", "not ready: " + r.detail + "\n");
        } else if (path == "/metrics") {
            reply(200, "text/plain; version=0.0.4; charset=utf-8", metrics_.serialize());
        } else {
            reply(404, "text/plain; charset=utf-8", "not found\n");
        }
        if (req.method() == http::verb::head) res_.body().clear();
        metrics_.request(metrics::Endpoint::admin, res_.result_int(),
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        http::async_write(stream_, res_, beast::bind_front_handler(&AdminSession::on_write, shared_from_this()));
    }

    void reply(unsigned status, std::string_view type, std::string body) {
        res_.result(status);
        res_.set(http::field::content_type, type);
        res_.body() = std::move(body);
        res_.prepare_payload();
    }

    void on_write(beast::error_code ec, std::size_t) {
        if (ec || !res_.keep_alive()) return close();
        do_read();
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.close();
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    metrics::Metrics& metrics_;
    const std::function<Readiness()>& readiness_;
    std::optional<http::request_parser<http::empty_body>> parser_;
    http::response<http::string_body> res_;
};

}  // namespace

AdminServer::AdminServer(net::io_context& ioc, metrics::Metrics& metrics, std::function<Readiness()> readiness)
    : ioc_(ioc), metrics_(metrics), readiness_(std::move(readiness)), acceptor_(net::make_strand(ioc)),
      backoff_(acceptor_.get_executor(), metrics, "admin") {}

void AdminServer::listen(const std::string& host_port) { open_acceptor(acceptor_, host_port); }

tcp::endpoint AdminServer::local_endpoint() const { return acceptor_.local_endpoint(); }

void AdminServer::start() { do_accept(); }

void AdminServer::stop() {
    net::post(acceptor_.get_executor(), [this] {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        backoff_.cancel();
    });
}

void AdminServer::do_accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](boost::system::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
        if (ec) return backoff_.failed(ec, [this] { do_accept(); });
        backoff_.succeeded();
        try {
            std::make_shared<AdminSession>(std::move(socket), metrics_, readiness_)->run();
        } catch (...) { report_exception(metrics_, std::current_exception()); }
        do_accept();
    });
}

}  // namespace mgw::gateway
