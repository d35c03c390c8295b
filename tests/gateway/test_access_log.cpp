// gateway::access_log writes each line through a raw cursor into a per-thread buffer: the line must
// be one valid JSON object whatever its fields hold (empty ones, quotes, control characters, long
// paths), with the query string cut off and the client IP masked.
#include "gateway/access_log.hpp"

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <vector>

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

}  // namespace

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
