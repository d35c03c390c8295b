// The spool under the conditions that must never stop the gateway or lose an acknowledged set:
// restarts that leave empty segments behind, a set at the record-format limit, a disk that does not
// keep up (the memory budget), and a spool directory that is a source folder.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <future>

#include "metrics/metrics.hpp"
#include "spool/record.hpp"
#include "spool/spool.hpp"
#include "spool/spool_helpers.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace mgw::spool;
namespace fs = std::filesystem;

using mgw::spool::test::append_sync;
using mgw::spool::test::options_for;

std::size_t segment_count(const std::string& dir) {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".spool") ++n;
    return n;
}

// One sample of the text exposition ("name{labels}"); 0 when absent.
double sample(mgw::metrics::Metrics& m, const std::string& name) {
    const std::string text = m.serialize();
    const auto at = text.find("\n" + name + " ");
    return at == std::string::npos ? 0 : std::stod(text.substr(at + name.size() + 2));
}

}  // namespace

TEST_CASE("spool hygiene: 100 opens and closes of one directory leave at most one segment file") {
    mgw::test::TempDir tmp("mgw-spool-nd");
    const auto opts = options_for(tmp.path);
    std::uint64_t removed = 0;
    for (int i = 0; i < 100; ++i) {
        Spool spool(opts, nullptr, {});
        Recovery rec;
        REQUIRE_FALSE(spool.open(&rec).has_value());
        removed += rec.removed_segments;
        REQUIRE(segment_count(opts.dir) <= 1);
    }
    CHECK(segment_count(opts.dir) == 1);
    CHECK(removed == 99);  // each start removed the empty segment the one before left
}

TEST_CASE("spool hygiene: a replayed segment is removed at start, one still waiting is kept whole") {
    mgw::test::TempDir tmp("mgw-spool-nd");
    const auto opts = options_for(tmp.path);
    {
        Spool spool(opts, nullptr, {});
        REQUIRE_FALSE(spool.open().has_value());
        for (int i = 0; i < 5; ++i) REQUIRE(append_sync(spool, "trackingQueueV1", "a" + std::to_string(i)));
        auto all = spool.read(100);
        REQUIRE(all.size() == 5);
        spool.consume(all.back().end, all.size());
        spool.stop();
    }
    {
        Spool spool(opts, nullptr, {});
        Recovery rec;
        REQUIRE_FALSE(spool.open(&rec).has_value());
        CHECK(rec.records == 0);
        CHECK(segment_count(opts.dir) == 1);
        for (int i = 0; i < 3; ++i) REQUIRE(append_sync(spool, "trackingQueueV1", "b" + std::to_string(i)));
        spool.stop();
    }
    for (int restart = 0; restart < 3; ++restart) {
        Spool spool(opts, nullptr, {});
        Recovery rec;
        REQUIRE_FALSE(spool.open(&rec).has_value());
        CHECK(rec.records == 3);
        // The segment holding the three sets and the new active one.
        CHECK(segment_count(opts.dir) == 2);
    }
    Spool spool(opts, nullptr, {});
    REQUIRE_FALSE(spool.open().has_value());
    auto left = spool.read(100);
    REQUIRE(left.size() == 3);
    CHECK(left[0].record.value == "b0");
    CHECK(left[2].record.value == "b2");
}

TEST_CASE("spool: a set at the record limit is taken and read back whole, one byte more is refused before any ack") {
    const std::string key = "trackingQueueV1_3";
    const std::size_t fixed = 8 + 2;  // spooled-at and key length in the payload
    std::string value(max_record_payload - fixed - key.size(), 'v');
    value.front() = 'A';
    value.back() = 'Z';
    REQUIRE(record_fits(key, value));
    REQUIRE_FALSE(record_fits(key, value + "x"));
    REQUIRE_FALSE(record_fits(std::string(70000, 'k'), "v"));  // the key's length field is 16 bits
    {
        // What the spool writes for it, replay reads back.
        std::string encoded;
        encode_record(encoded, 1, key, value);
        Record r;
        const auto d = decode_record({reinterpret_cast<const unsigned char*>(encoded.data()), encoded.size()}, r, true);
        REQUIRE(d.status == DecodeStatus::ok);
        CHECK(d.consumed == encoded.size());
        CHECK(r.value.size() == value.size());
    }

    mgw::test::TempDir tmp("mgw-spool-nd", true);
    auto opts = options_for(tmp.path);
    opts.segment_bytes = 128ull << 20;
    mgw::metrics::Metrics metrics;
    Spool spool(opts, &metrics, {});
    REQUIRE_FALSE(spool.open().has_value());
    // Refused at once (the callback runs inside append), never written.
    bool called = false;
    bool stored = true;
    spool.append(key, value + "x", [&](bool ok) {
        called = true;
        stored = ok;
    });
    CHECK(called);
    CHECK_FALSE(stored);
    CHECK(sample(metrics, "matomo_gateway_spool_appends_total{outcome=\"too_large\"}") == 1);
    CHECK(spool.records() == 0);

    REQUIRE(append_sync(spool, key, value));
    auto back = spool.read(10);
    REQUIRE(back.size() == 1);
    CHECK(back[0].record.key == key);
    CHECK(back[0].record.value.size() == value.size());
    CHECK(back[0].record.value == value);
}

TEST_CASE("spool: sets waiting for a slow disk are bounded by max_pending_bytes, over it appends are refused") {
    mgw::test::TempDir tmp("mgw-spool-nd");
    auto opts = options_for(tmp.path);
    opts.max_pending_bytes = std::uint64_t{64} * 1024;
    // A long group-commit window holds the first set in memory until stop(): a disk that stalls.
    opts.sync_interval = std::chrono::hours(1);
    mgw::metrics::Metrics metrics;
    Spool spool(opts, &metrics, {});
    REQUIRE_FALSE(spool.open().has_value());
    std::promise<bool> first;
    spool.append("trackingQueueV1", std::string(std::size_t{40} * 1024, 'a'), [&](bool ok) { first.set_value(ok); });
    CHECK(spool.pending_bytes() > std::uint64_t{40} * 1024);
    CHECK(sample(metrics, "matomo_gateway_spool_pending_bytes") == static_cast<double>(spool.pending_bytes()));
    bool called = false;
    bool stored = true;
    spool.append("trackingQueueV1", std::string(std::size_t{40} * 1024, 'b'), [&](bool ok) {
        called = true;
        stored = ok;
    });
    CHECK(called);  // refused at once: the memory stays within the budget
    CHECK_FALSE(stored);
    CHECK(spool.pending_bytes() <= opts.max_pending_bytes);
    CHECK(sample(metrics, "matomo_gateway_spool_appends_total{outcome=\"memory_full\"}") == 1);
    CHECK_FALSE(spool.full());  // the disk has room: /readyz stays 200
    spool.stop();
    CHECK(first.get_future().get());
    CHECK(spool.records() == 1);
    CHECK(spool.pending_bytes() == 0);
}

TEST_CASE("spool: a directory holding source files is refused, the default directory is absolute") {
    mgw::test::TempDir tmp("mgw-spool-nd");
    auto opts = options_for(tmp.path);
    fs::create_directories(opts.dir);
    std::ofstream(opts.dir + "/CMakeLists.txt") << "add_library(x x.cpp)\n";
    Spool spool(opts, nullptr, {});
    auto error = spool.open();
    REQUIRE(error.has_value());
    CHECK_THAT(*error, Catch::Contains("source files"));
    CHECK(segment_count(opts.dir) == 0);
    CHECK(SpoolOptions{}.dir.front() == '/');
}
