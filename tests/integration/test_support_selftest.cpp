// Self-tests of tests/support (no gateway involved): if these fail, the fixture tests' verdicts
// about the gateway cannot be trusted. Covers the php decoder against every recorded fixture
// value, RedisServer, Process, the raw HTTP client and the header comparison.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <csignal>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/base64.hpp"
#include "support/fixtures.hpp"
#include "support/free_port.hpp"
#include "support/header_compare.hpp"
#include "support/http.hpp"
#include "support/php.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

namespace {

using namespace mgw::test;
namespace json = boost::json;

// A one-connection HTTP server on 127.0.0.1: reads until it has seen `requests` request heads,
// answering each with the next canned response, then closes.
class CannedServer {
public:
    explicit CannedServer(std::vector<std::string> responses) : responses_(std::move(responses)) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(listen_fd_, 1) == 0);
        REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~CannedServer() {
        thread_.join();
        ::close(listen_fd_);
    }
    std::uint16_t port() const { return port_; }

private:
    void serve() {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) return;
        std::string received;
        for (const auto& response : responses_) {
            while (received.find("\r\n\r\n") == std::string::npos) {
                char chunk[4096];
                ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
                if (n <= 0) {
                    ::close(fd);
                    return;
                }
                received.append(chunk, static_cast<std::size_t>(n));
            }
            received.erase(0, received.find("\r\n\r\n") + 4);
            [[maybe_unused]] auto sent = ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
        }
        ::close(fd);
    }

    std::vector<std::string> responses_;
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

}  // namespace

TEST_CASE("support: php decodes every recorded fixture value to the recorded decoded object") {
    std::vector<std::string> raw;
    std::vector<json::value> expected;
    for (const auto& name : fixture_names()) {
        const Fixture fixture = load_fixture(name);
        for (const auto& entry : fixture.document.at("redis").at("new_entries").as_array()) {
            raw.push_back(base64_decode(entry.at("raw_base64").as_string()));
            expected.push_back(entry.at("decoded"));
        }
    }
    REQUIRE(raw.size() >= 20);
    const auto decoded = php_decode_queue_values(raw);
    REQUIRE(decoded.size() == expected.size());
    for (std::size_t i = 0; i < decoded.size(); ++i) {
        INFO("value " << i);
        CHECK(decoded[i] == expected[i]);
    }
}

TEST_CASE("support: php decoding falls back to raw JSON and yields null for undecodable values") {
    const std::string gzcompress_of_empty("\x78\x9c\x03\x00\x00\x00\x00\x01", 8);
    const auto decoded =
        php_decode_queue_values({R"({"requests":[{"idsite":"1"}],"env":{},"tokenAuth":false,"time":1})",
                                 std::string("\x1f\x8b\x08\x00garbage", 11), gzcompress_of_empty, "{\"a\":{}}"});
    REQUIRE(decoded.size() == 4);
    CHECK(decoded[0] == json::parse(R"({"requests":[{"idsite":"1"}],"env":[],"tokenAuth":false,"time":1})"));
    CHECK(decoded[1].is_null());
    CHECK(decoded[2].is_null());
    CHECK(decoded[3] == json::parse(R"({"a":[]})"));  // PHP decodes {} to an empty array
}

TEST_CASE("support: base64 round trip and fixture loading") {
    const std::string bytes("\x00\x01\xfe\xff GIF89a", 11);
    CHECK(base64_decode(base64_encode(bytes)) == bytes);
    CHECK(base64_encode("ab") == "YWI=");
    CHECK_THROWS(base64_decode("YW*="));

    const Fixture fixture = load_fixture("08");
    CHECK(fixture.name == "08_get_send_image_0");
    CHECK(fixture.status == 204);
    CHECK(fixture.reason == "No Response");
    CHECK(fixture.response_body.empty());
    CHECK(fixture.request_raw.rfind("GET /matomo.php?", 0) == 0);
    CHECK(fixture.request_raw.size() >= 4);
    CHECK(fixture.request_raw.substr(fixture.request_raw.size() - 4) == "\r\n\r\n");
    REQUIRE(fixture.new_entries.size() == 1);
    CHECK(fixture.new_entries[0].key == "trackingQueueV1_2");
    CHECK(load_fixture("01").response_body.size() == 43);
}

TEST_CASE("support: header comparison ignores Date, Server, Connection, Content-Encoding: none, case and order") {
    const HeaderList recorded = {{"Date", "x"},
                                 {"Server", "Apache"},
                                 {"Cache-Control", "no-store"},
                                 {"Connection", "close"},
                                 {"Content-Encoding", "none"},
                                 {"Content-Length", "43"},
                                 {"Content-Type", "image/gif"}};
    CHECK(response_header_differences(recorded, {{"content-type", "image/gif"},
                                                 {"Content-Length", "43"},
                                                 {"cache-control", "no-store"},
                                                 {"Connection", "keep-alive"}})
              .empty());
    CHECK(response_header_differences(recorded, {{"Content-Type", "image/gif"},
                                                 {"Content-Length", "43"},
                                                 {"Cache-Control", "no-store"},
                                                 {"Content-Encoding", "gzip"}}) ==
          std::vector<std::string>{"unexpected: content-encoding: gzip"});
    CHECK(response_header_differences(recorded, {{"Content-Type", "image/gif"}}) ==
          std::vector<std::string>{"missing: cache-control: no-store", "missing: content-length: 43"});
}

TEST_CASE("support: Process exit statuses, run_command and a missing binary") {
    CHECK(run_command({"sh", "-c", "cat; echo err >&2; exit 3"}, "hello").out == "hello");
    const auto result = run_command({"sh", "-c", "echo err >&2; exit 3"}, "");
    CHECK(result.status == 3);
    CHECK(result.err == "err\n");

    Process sleeper({"sh", "-c", "exec cat"}, {.pipe_stdin = true});
    CHECK(sleeper.running());
    sleeper.signal(SIGTERM);
    CHECK(sleeper.wait(std::chrono::seconds(10)) == 128 + SIGTERM);

    CHECK_THROWS_WITH(Process({"mgw-no-such-binary-anywhere"}), Catch::Contains("No such file"));
}

TEST_CASE("support: RedisServer over TCP and a unix socket, helpers, stop") {
    RedisServer redis({.unix_socket = true});
    CHECK(redis.url() == "redis://127.0.0.1:" + std::to_string(redis.port()) + "/0");
    CHECK(redis.unix_url() == "unix://" + redis.unix_socket_path() + "?db=0");

    redis.command({"RPUSH", "trackingQueueV1_3", std::string("\x78\x9c\x00\xff", 4)});
    redis.command({"RPUSH", "trackingQueueV1", "b"});
    redis.command({"SET", "QueuedTrackingLock0", "x"});
    CHECK(redis.queue_keys() == std::vector<std::string>{"trackingQueueV1", "trackingQueueV1_3"});
    CHECK(redis.lrange_all("trackingQueueV1_3") == std::vector<std::string>{std::string("\x78\x9c\x00\xff", 4)});

    auto over_unix = RedisClient::connect_unix(redis.unix_socket_path());
    CHECK(over_unix.command({"LLEN", "trackingQueueV1"}).integer == 1);

    redis.flushall();
    CHECK(redis.queue_keys().empty());
    redis.stop();
    CHECK_FALSE(redis.running());
    CHECK_THROWS(redis.queue_keys());
    CHECK_THROWS_AS(RedisClient::connect_tcp("127.0.0.1", redis.port()), RedisConnectError);
}

TEST_CASE("support: raw HTTP client parses reason phrases, header order, keep-alive and HEAD") {
    CannedServer server({
        "HTTP/1.1 204 No Response\r\nCache-Control: no-store\r\nContent-Encoding: none\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\nContent-Length: 3\r\n\r\nGIF",
        "HTTP/1.1 200 OK\r\nContent-Length: 43\r\nConnection: close\r\n\r\n",
    });
    Connection connection(server.port());
    const auto first = connection.send(build_request("GET", "/a", {{"Host", "x"}}));
    CHECK(first.status == 204);
    CHECK(first.reason == "No Response");
    CHECK(first.headers == HeaderList{{"Cache-Control", "no-store"}, {"Content-Encoding", "none"}});
    CHECK(first.body.empty());
    CHECK(first.keep_alive);

    const auto second = connection.send(build_request("POST", "/b", {{"Host", "x"}}, "body"));
    CHECK(second.body == "GIF");
    CHECK(second.header("content-type") == std::optional<std::string>("image/gif"));

    const auto third = connection.send(build_request("HEAD", "/c", {{"Host", "x"}}));
    CHECK(third.status == 200);
    CHECK(third.body.empty());
    CHECK_FALSE(third.keep_alive);
    CHECK(connection.closed_by_peer());

    CHECK(build_request("POST", "/t", {{"Host", "h"}}, "ab") ==
          "POST /t HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab");
}

TEST_CASE("support: RefusingPort refuses connections and keeps the port taken") {
    const RefusingPort refusing;
    CHECK_THROWS_WITH(Connection(refusing.port()), Catch::Contains("Connection refused"));
    CHECK_THROWS(RefusingPort(refusing.port()));
}
