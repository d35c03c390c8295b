// A whole HTTP connection through the real session code (gateway::BasicSession) over Beast's
// in-memory test stream: the PROXY header, request framing, limits, pipelining and keep-alive,
// routing, the tracking path and the responses. The queue sink acknowledges every set at once.
//
// Input: one mode byte, then the bytes the client sends before closing its side.
//   bit 0  the peer is a trusted proxy that must send a PROXY header first
//   bit 1  the peer is a trusted proxy whose X-Forwarded-For / Forwarded / X-Real-IP are honoured
//   bit 2  strict validation
//   bit 3-4  bytes per read: everything, 1, 7 or 61 (partial reads reach every parser state)
//   bit 5  the sink answers "overloaded" instead of "ok"
//   bit 6  large limits: --max-header-bytes 1 MiB, above what Beast's fields hold per field (a longer
//          field must be answered 431, never thrown)
// MGW_FUZZ_VERBOSE=1 in the environment prints what the client received (for triage).
#include "fuzz/fuzz_check.hpp"
#include "fuzz/test_stream_ops.hpp"
#include "gateway/session_impl.hpp"
#include "queue/sink.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

namespace beast = boost::beast;
using FuzzSession = mgw::gateway::BasicSession<beast::test::stream>;

class AckingSink : public mgw::queue::QueueSink {
public:
    mgw::queue::WriteStatus status = mgw::queue::WriteStatus::ok;
    std::size_t sets = 0;
    void start() override {}
    void submit(std::string key, std::string value, mgw::queue::WriteAck ack) override {
        MGW_FUZZ_CHECK(!key.empty() && !value.empty());
        ++sets;
        ack(status);
    }
    void stop(std::function<void()> done) override { done(); }
    bool ready() const override { return true; }
};

mgw::gateway::Options make_options(bool proxy_protocol, bool strict, bool large) {
    mgw::gateway::Options o;
    o.server.max_header_bytes = large ? 1U << 20 : 2048;
    o.server.max_body_bytes = large ? 1U << 20 : 8192;
    o.server.read_timeout = std::chrono::seconds(20);
    o.server.idle_timeout = std::chrono::seconds(20);
    o.server.access_log = false;
    o.server.extra_tracking_paths = {"/t"};
    o.edge.proxy_protocol = proxy_protocol;
    o.tracking.compression_level = 0;
    o.tracking.max_bulk_hits = 50;
    o.tracking.parse_limits.max_vars = 100;
    o.tracking.cors_domains = {"https://example.test"};
    if (strict) o.tracking.validation = mgw::gateway::Validation::strict;
    return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const unsigned mode = data[0];
    const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

    static mgw::metrics::Metrics metrics;
    static boost::asio::io_context ioc;
    static const std::array<mgw::gateway::Options, 8> options = {
        make_options(false, false, false), make_options(false, true, false), make_options(true, false, false),
        make_options(true, true, false),   make_options(false, false, true), make_options(false, true, true),
        make_options(true, false, true),   make_options(true, true, true)};
    const bool proxy_protocol = (mode & 1U) != 0;
    const bool trusted = proxy_protocol || (mode & 2U) != 0;
    const auto& opts =
        options[((mode & 64U) != 0 ? 4U : 0U) + (proxy_protocol ? 2U : 0U) + ((mode & 4U) != 0 ? 1U : 0U)];

    AckingSink sink;
    if ((mode & 32U) != 0) sink.status = mgw::queue::WriteStatus::overloaded;
    mgw::gateway::ServerShared shared(opts, sink, metrics);
    if (trusted) {
        std::string error;
        shared.trusted = *mgw::gateway::TrustedProxies::parse("127.0.0.0/8, ::1", error);
    }

    beast::test::stream client(ioc);
    beast::test::stream server(ioc);
    server.connect(client);
    static constexpr std::array<std::size_t, 4> read_sizes = {0, 1, 7, 61};
    if (const std::size_t n = read_sizes[(mode >> 3U) & 3U]; n != 0) server.read_size(n);
    server.append(bytes);
    server.close_remote();

    shared.connections++;
    std::make_shared<FuzzSession>(std::move(server), shared)->run();
    ioc.restart();
    ioc.run();

    if (std::getenv("MGW_FUZZ_VERBOSE") != nullptr)
        std::fprintf(stderr, "--- %zu sets queued, answer:\n%.*s\n", sink.sets, static_cast<int>(client.str().size()),
                     client.str().data());
    // Every session ended and unregistered itself; nothing is left in flight.
    MGW_FUZZ_CHECK(shared.connections == 0);
    MGW_FUZZ_CHECK(shared.sessions.empty());
    MGW_FUZZ_CHECK(shared.busy == 0);
    return 0;
}
