// The exception barrier around the I/O loop: a handler that throws is reported with a bounded
// reason, and the loop goes on with every other handler.
#include "gateway/run_barrier.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/post.hpp>

#include <stdexcept>
#include <vector>

TEST_CASE("a handler that throws is reported and the I/O loop runs the others") {
    boost::asio::io_context ioc;
    int ran = 0;
    boost::asio::post(ioc, [&] { ++ran; });
    boost::asio::post(ioc, [] { throw std::length_error("field value too large"); });
    boost::asio::post(ioc, [&] { ++ran; });
    boost::asio::post(ioc, [] { throw 42; });
    boost::asio::post(ioc, [&] { ++ran; });
    std::vector<std::string> reasons;
    std::vector<std::string> texts;
    mgw::gateway::run_with_barrier(ioc, [&](const std::exception_ptr& e) {
        reasons.emplace_back(mgw::gateway::exception_reason(e));
        texts.push_back(mgw::gateway::exception_text(e));
    });
    CHECK(ran == 3);
    CHECK(reasons == std::vector<std::string>{"length_error", "other"});
    CHECK(texts == std::vector<std::string>{"field value too large", "unknown exception"});
}

TEST_CASE("exception reasons are a bounded set of type names") {
    using mgw::gateway::exception_reason;
    CHECK(exception_reason(std::make_exception_ptr(std::bad_alloc())) == "bad_alloc");
    CHECK(exception_reason(std::make_exception_ptr(std::runtime_error("x"))) == "runtime_error");
    CHECK(exception_reason(std::make_exception_ptr(std::invalid_argument("x"))) == "logic_error");
    CHECK(exception_reason(std::make_exception_ptr(
              std::system_error(std::make_error_code(std::errc::too_many_files_open)))) == "system_error");
}
