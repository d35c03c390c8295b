// The origin client: one short HTTP/1.1 connection per fetch, fully asynchronous on the gateway's
// io_context (Beast's basic_stream with expires_after for the connect and for the exchange), so an
// origin that accepts and never answers costs a socket until the deadline, never a thread.
// Fetches are rare (one per object per freshness period, single-flight in front), so connections
// are not pooled. The stream runs on a strand: its deadline timer and its operations never race.
#include "edge/origin.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace mgw::edge {
namespace {
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
// The stream's executor is spelled out (a strand over an io_context's executor), not type-erased.
using OriginExecutor = net::strand<net::io_context::executor_type>;
using OriginStream = beast::basic_stream<tcp, OriginExecutor>;

struct Settings {
    std::vector<tcp::endpoint> endpoints;
    std::string host_header;
    std::string base;  // path prefix of the Matomo installation, without a trailing '/'
    std::chrono::milliseconds connect_timeout;
    std::chrono::milliseconds response_timeout;
    std::size_t max_bytes;
};

class Exchange : public std::enable_shared_from_this<Exchange> {
public:
    Exchange(const net::io_context::executor_type& ex, std::shared_ptr<const Settings> s, const FetchRequest& r,
             FetchCallback done)
        : stream_(net::make_strand(ex)), keep_(std::move(s)), s_(*keep_), done_(std::move(done)) {
        req_.method(http::verb::get);
        req_.target(s_.base + r.target->origin_target);
        req_.version(11);
        req_.set(http::field::host, s_.host_header);
        req_.set(http::field::user_agent, "matomo-gateway/" MGW_VERSION);
        // Plain bytes: the edge keeps the origin's body byte for byte and prepares its own gzip.
        req_.set(http::field::accept_encoding, "identity");
        req_.set(http::field::connection, "close");
        if (!r.if_modified_since.empty()) req_.set(http::field::if_modified_since, r.if_modified_since);
        if (!r.if_none_match.empty()) req_.set(http::field::if_none_match, r.if_none_match);
        if (!r.accept_language.empty()) req_.set(http::field::accept_language, r.accept_language);
    }

    void start() {
        stream_.expires_after(s_.connect_timeout);
        stream_.async_connect(s_.endpoints, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
            self->on_connect(ec);
        });
    }

private:
    void on_connect(beast::error_code ec) {
        if (ec) return finish(ec == beast::error::timeout ? FetchError::timeout : FetchError::refused);
        stream_.expires_after(s_.response_timeout);
        http::async_write(stream_, req_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
    }

    void on_write(beast::error_code ec) {
        if (ec) return finish(ec == beast::error::timeout ? FetchError::timeout : FetchError::refused);
        parser_.header_limit(64 * 1024);
        parser_.body_limit(s_.max_bytes);
        http::async_read(stream_, buffer_, parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec == beast::error::timeout) return finish(FetchError::timeout);
        if (ec == http::error::body_limit) return finish(FetchError::too_large);
        if (ec) return finish(FetchError::malformed);
        FetchResult r;
        auto& res = parser_.get();
        r.status = res.result_int();
        for (const auto& f : res)
            if (kept_header(f.name_string())) r.headers.emplace_back(f.name_string(), f.value());
        r.body = std::move(res.body());
        finish(FetchError::none, std::move(r));
    }

    void finish(FetchError e, FetchResult r = {}) {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
        r.error = e;
        auto done = std::move(done_);
        done(std::move(r));
    }

    OriginStream stream_;
    std::shared_ptr<const Settings> keep_;
    const Settings& s_;
    FetchCallback done_;
    http::request<http::empty_body> req_;
    beast::flat_buffer buffer_;
    http::response_parser<http::string_body> parser_;
};

class HttpOrigin : public Origin {
public:
    HttpOrigin(const net::io_context::executor_type& ex, Settings s)
        : ex_(ex), s_(std::make_shared<const Settings>(std::move(s))) {}
    void fetch(const FetchRequest& req, FetchCallback done) override {
        std::make_shared<Exchange>(ex_, s_, req, std::move(done))->start();
    }
    bool serves(Kind) const override { return true; }

private:
    net::io_context::executor_type ex_;
    std::shared_ptr<const Settings> s_;
};

// http://host[:port][/path]: IPv6 hosts in brackets; no user, query or fragment.
bool split_url(std::string_view url, std::string& host, std::string& port, std::string& host_header,
               std::string& path) {
    constexpr std::string_view scheme = "http://";
    if (url.substr(0, scheme.size()) != scheme) return false;
    url.remove_prefix(scheme.size());
    const std::size_t slash = url.find('/');
    const std::string_view authority = url.substr(0, slash);
    path = slash == std::string_view::npos ? std::string() : std::string(url.substr(slash));
    if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
    if (path.find_first_of("?#%") != std::string::npos) return false;
    host_header = std::string(authority);
    std::string_view port_text;
    if (authority[0] == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) return false;
        host = std::string(authority.substr(1, close - 1));
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') return false;
            port_text = authority.substr(close + 2);
        }
    } else {
        const std::size_t colon = authority.find(':');
        host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    }
    if (host.empty()) return false;
    if (port_text.empty()) port_text = "80";
    for (char c : port_text)
        if (c < '0' || c > '9') return false;
    port = std::string(port_text);
    return true;
}

}  // namespace

std::unique_ptr<Origin> make_http_origin(net::any_io_executor ex, const std::string& url,
                                         std::chrono::milliseconds connect_timeout,
                                         std::chrono::milliseconds response_timeout, std::size_t max_bytes,
                                         std::string& error) {
    std::string host, port;
    Settings s;
    if (!split_url(url, host, port, s.host_header, s.base)) {
        error = "matomo-origin: expected http://host[:port][/path], got '" + url + "'";
        return nullptr;
    }
    s.connect_timeout = connect_timeout;
    s.response_timeout = response_timeout;
    s.max_bytes = max_bytes;
    while (!s.base.empty() && s.base.back() == '/') s.base.pop_back();
    // Resolved once: the origin is a fixed internal address (a Kubernetes Service, a private host).
    net::io_context resolve_ctx;
    tcp::resolver resolver(resolve_ctx);
    beast::error_code ec;
    auto results = resolver.resolve(host, port, ec);
    if (ec || results.empty()) {
        error = "matomo-origin: cannot resolve '" + host + "': " + ec.message();
        return nullptr;
    }
    for (const auto& r : results) s.endpoints.push_back(r.endpoint());
    const auto* io = ex.target<net::io_context::executor_type>();
    if (io == nullptr) {
        error = "matomo-origin: the gateway's executor is not an io_context's";
        return nullptr;
    }
    return std::make_unique<HttpOrigin>(*io, std::move(s));
}

}  // namespace mgw::edge
