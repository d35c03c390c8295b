// The session over Beast's in-memory test stream (used by the session fuzzer and the session unit
// tests): no socket, so no peer address or deadlines; cancelling reads closes the stream.
#pragma once

#include "gateway/session.hpp"

#include <boost/beast/_experimental/test/stream.hpp>

#include <chrono>
#include <string>

namespace mgw::gateway {

template <>
struct StreamOps<boost::beast::test::stream> {
    static std::string peer_ip(boost::beast::test::stream&) { return "127.0.0.1"; }
    static void write_deadline(boost::beast::test::stream&, std::chrono::milliseconds) {}
    static void no_deadline(boost::beast::test::stream&) {}
    static void cancel_reads(boost::beast::test::stream& s) { s.close(); }
    static void close(boost::beast::test::stream& s) { s.close(); }
};

}  // namespace mgw::gateway
