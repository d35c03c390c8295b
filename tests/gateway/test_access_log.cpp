// gateway::access_log writes each line through a raw cursor into a per-thread buffer: the line must
// be one valid JSON object whatever its fields hold (empty ones, quotes, control characters, long
// paths), with the query string cut off and the client IP masked.
#include "gateway/access_log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

// Runs `f` with stdout sent into a pipe and returns what it wrote.
template <class F>
std::string capture_stdout(F f) {
    std::fflush(stdout);
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const int saved = ::dup(STDOUT_FILENO);
    REQUIRE(saved >= 0);
    REQUIRE(::dup2(fds[1], STDOUT_FILENO) == STDOUT_FILENO);
    ::close(fds[1]);
    f();
    std::fflush(stdout);
    ::dup2(saved, STDOUT_FILENO);
    ::close(saved);
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    return out;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    for (std::size_t start = 0; start < text.size();) {
        const std::size_t end = text.find('\n', start);
        REQUIRE(end != std::string::npos);  // every line is complete
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

// stdout as one end of a SOCK_SEQPACKET pair while it lives: each write(2) arrives as one message,
// so a test sees how the lines were grouped into writes.
class WritesToStdout {
public:
    WritesToStdout() {
        std::fflush(stdout);
        REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds_) == 0);
        saved_ = ::dup(STDOUT_FILENO);
        REQUIRE(::dup2(fds_[1], STDOUT_FILENO) == STDOUT_FILENO);
    }
    ~WritesToStdout() {
        ::dup2(saved_, STDOUT_FILENO);
        ::close(saved_);
        ::close(fds_[0]);
        ::close(fds_[1]);
    }
    // The writes made so far, each as it was written.
    std::vector<std::string> take() {
        std::vector<std::string> writes;
        int pending = 0;
        while (::ioctl(fds_[0], FIONREAD, &pending) == 0 && pending > 0) {
            std::string w(65536, '\0');
            const ssize_t n = ::recv(fds_[0], w.data(), w.size(), 0);
            REQUIRE(n > 0);
            w.resize(static_cast<std::size_t>(n));
            writes.push_back(std::move(w));
        }
        return writes;
    }

private:
    int fds_[2] = {-1, -1};
    int saved_ = -1;
};

void log_hit(int i) {
    const std::string path = "/matomo.php/" + std::to_string(i);
    mgw::gateway::access_log(mgw::gateway::AccessRecord{"GET", path, 200, 43, 0.0001, "203.0.113.7", "queued", "", "1"},
                             1.0);
}

}  // namespace

// Each case gathers what was written while stdout is redirected and checks it afterwards, so that a
// failure report is not written into the redirected stdout.
TEST_CASE(
    "access log: with a batch, a round's lines go out together after the round, and what is left when the "
    "batch ends") {
    std::vector<std::string> during, after_round, before_end, at_end, unbatched;
    {
        WritesToStdout out;
        boost::asio::io_context ioc(1);
        {
            mgw::gateway::AccessLogBatch batch(ioc.get_executor());
            boost::asio::post(ioc, [&] {
                for (int i = 0; i < 10; ++i) log_hit(i);
            });
            boost::asio::post(ioc, [&] { during = out.take(); });  // queued before the batch's flush
            ioc.run();
            after_round = out.take();
            // Logged outside a run: written when the batch ends.
            log_hit(10);
            log_hit(11);
            before_end = out.take();
        }
        at_end = out.take();
        // Without a batch every line is its own write.
        log_hit(12);
        log_hit(13);
        unbatched = out.take();
    }
    CHECK(during.empty());
    REQUIRE(after_round.size() == 1);
    CHECK(lines_of(after_round[0]).size() == 10);
    CHECK(before_end.empty());
    REQUIRE(at_end.size() == 1);
    CHECK(lines_of(at_end[0]).size() == 2);
    CHECK(at_end[0].find("/matomo.php/11") != std::string::npos);
    CHECK(unbatched.size() == 2);
}

TEST_CASE("access log: a batch is written in whole lines of at most 4096 bytes per write, in order") {
    std::vector<std::string> writes;
    {
        WritesToStdout out;
        boost::asio::io_context ioc(1);
        mgw::gateway::AccessLogBatch batch(ioc.get_executor());
        boost::asio::post(ioc, [&] {
            for (int i = 0; i < 60; ++i) log_hit(i);
        });
        ioc.run();
        writes = out.take();
    }
    CHECK(writes.size() >= 3);  // 60 lines of about 190 bytes
    CHECK(writes.size() < 10);
    std::vector<std::string> lines;
    for (const auto& w : writes) {
        CHECK(w.size() <= 4096);
        for (auto& l : lines_of(w)) lines.push_back(std::move(l));
    }
    REQUIRE(lines.size() == 60);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        INFO(lines[i]);
        CHECK(boost::json::parse(lines[i]).as_object().at("path").as_string() == "/matomo.php/" + std::to_string(i));
    }
}

TEST_CASE("access log: every line is one JSON object, escapes included, empty fields left out or empty") {
    const std::string long_path = "/" + std::string(5000, 'p');
    const std::string odd_method = std::string("GE\"T\\\x01\x7f", 7);
    const std::string text = capture_stdout([&] {
        using mgw::gateway::AccessRecord;
        mgw::gateway::access_log(AccessRecord{"GET", "/matomo.php?idsite=1&token_auth=secret", 200, 43, 0.000123,
                                              "203.0.113.77", "queued", "", "0"},
                                 1.0);
        mgw::gateway::access_log(
            AccessRecord{odd_method, long_path, 400, 0, 1.5, "2001:db8::1", "rejected", "bad \"reason\"", ""}, 1.0);
        mgw::gateway::access_log(AccessRecord{"", "", 0, 0, 0.0, "", "", "", ""}, 1.0);
        mgw::gateway::access_log(AccessRecord{"GET", "/never", 200, 0, 0.0, "192.0.2.1", "queued", "", ""}, 0.0);
    });
    const auto lines = lines_of(text);
    REQUIRE(lines.size() == 3);  // the last one was sampled out

    const auto first = boost::json::parse(lines[0]).as_object();
    CHECK(first.at("event") == "access");
    CHECK(first.at("method") == "GET");
    CHECK(first.at("path") == "/matomo.php");  // the query string (and its token) is not logged
    CHECK(first.at("status") == 200);
    CHECK(first.at("bytes") == 43);
    CHECK(first.at("duration").as_double() == Approx(0.000123));
    CHECK(first.at("client_ip") == "203.0.0.0");  // the last two bytes masked
    CHECK(first.at("outcome") == "queued");
    CHECK_FALSE(first.contains("reason"));
    CHECK(first.at("queues") == "0");
    CHECK(std::string(first.at("time").as_string()).size() == 24);  // 2026-12-06T21:42:11.123Z

    const auto second = boost::json::parse(lines[1]).as_object();
    CHECK(second.at("method").as_string() == odd_method);
    CHECK(second.at("path").as_string() == long_path);
    CHECK(second.at("reason") == "bad \"reason\"");
    CHECK(second.at("client_ip") == "2001:db8::");
    CHECK_FALSE(second.contains("queues"));
    CHECK(lines[1].find("\\u0001") != std::string::npos);
    CHECK(lines[1].find("\\u007f") != std::string::npos);

    const auto third = boost::json::parse(lines[2]).as_object();
    CHECK(third.at("method") == "");
    CHECK(third.at("path") == "");
    CHECK(third.at("outcome") == "");
}
