// The spool's record format and segment store, on a real directory: round trips, damage of every
// kind (torn tail, flipped bytes, garbage between records), the cursor across reopen, limits.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "spool/record.hpp"
#include "spool/spool.hpp"
#include "spool/spool_helpers.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace mgw::spool;
namespace fs = std::filesystem;

std::span<const unsigned char> bytes(const std::string& s) {
    return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

using mgw::spool::test::append_sync;
using mgw::spool::test::options_for;

std::vector<std::string> segment_files(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".spool") out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> values_of(const std::vector<Entry>& entries) {
    std::vector<std::string> out;
    for (const auto& e : entries) out.push_back(e.record.value);
    return out;
}

}  // namespace

TEST_CASE("CRC32C matches the Castagnoli check value and resumes across pieces") {
    const std::string check = "123456789";
    CHECK(crc32c(bytes(check)) == 0xE3069283u);
    CHECK(crc32c(bytes(check).subspan(4), crc32c(bytes(check).first(4))) == 0xE3069283u);
}

TEST_CASE("a spool record round-trips key, value and time, and says exactly how long it is") {
    std::string buf;
    const std::string value("x\0y\xff", 4);
    encode_record(buf, 1729766400843ull, "trackingQueueV1_3", value);
    CHECK(buf.size() == encoded_size("trackingQueueV1_3", value));
    Record r;
    auto d = decode_record(bytes(buf), r, true);
    REQUIRE(d.status == DecodeStatus::ok);
    CHECK(d.consumed == buf.size());
    CHECK(r.key == "trackingQueueV1_3");
    CHECK(r.value == value);
    CHECK(r.spooled_at_ms == 1729766400843ull);
}

TEST_CASE("a record cut short waits for more bytes mid-file and is torn at the end of the file") {
    std::string buf;
    encode_record(buf, 1, "k", "some value");
    for (std::size_t cut = 1; cut < buf.size(); ++cut) {
        INFO("cut at " << cut);
        Record r;
        const std::string part = buf.substr(0, cut);
        CHECK(decode_record(bytes(part), r, false).status == DecodeStatus::need_more);
        auto torn = decode_record(bytes(part), r, true);
        CHECK(torn.status == DecodeStatus::corrupt);
        CHECK(torn.consumed == cut);  // no later record: the rest of the file is the torn one
    }
}

TEST_CASE("every flipped byte of a record is caught, and decoding resumes at the next record") {
    std::string one, two;
    encode_record(one, 7, "trackingQueueV1", "first value");
    encode_record(two, 8, "trackingQueueV1", "second value");
    for (std::size_t i = 0; i < one.size(); ++i) {
        INFO("byte " << i);
        std::string damaged = one + two;
        damaged[i] = static_cast<char>(damaged[i] ^ 0x20);
        Record r;
        std::size_t pos = 0;
        std::vector<std::string> found;
        while (pos < damaged.size()) {
            auto d = decode_record(bytes(damaged).subspan(pos), r, true);
            REQUIRE(d.consumed > 0);
            if (d.status == DecodeStatus::ok) found.push_back(r.value);
            pos += d.consumed;
        }
        CHECK(found == std::vector<std::string>{"second value"});
    }
}

TEST_CASE("spool: appended sets come back in order, durable, and a consumed segment is deleted") {
    mgw::test::TempDir tmp("mgw-spool-unit");
    auto opts = options_for(tmp.path);
    opts.segment_bytes = 600;  // a few records per segment
    Spool spool(opts, nullptr, {});
    REQUIRE_FALSE(spool.open().has_value());
    std::vector<std::string> sent;
    for (int i = 0; i < 20; ++i) {
        sent.push_back("value-" + std::to_string(i) + std::string(40, 'v'));
        REQUIRE(append_sync(spool, "trackingQueueV1_" + std::to_string(i % 3), sent.back()));
    }
    CHECK(spool.records() == 20);
    CHECK(segment_files(opts.dir).size() > 2);
    std::vector<std::string> got;
    for (;;) {
        auto window = spool.read(7);
        if (window.empty()) break;
        for (const auto& e : window) {
            CHECK(e.record.key == "trackingQueueV1_" + std::to_string(got.size() % 3));
            got.push_back(e.record.value);
        }
        spool.consume(window.back().end, window.size());
    }
    CHECK(got == sent);
    CHECK(spool.records() == 0);
    spool.stop();
    // Only the segment that was active at the end remains (plus, at most, the one it rolled to).
    CHECK(segment_files(opts.dir).size() <= 2);
}

TEST_CASE(
    "spool: a reopened spool resumes after the last consumed set and counts the window in flight as possible "
    "duplicates") {
    mgw::test::TempDir tmp("mgw-spool-unit");
    auto opts = options_for(tmp.path);
    {
        Spool spool(opts, nullptr, {});
        REQUIRE_FALSE(spool.open().has_value());
        for (int i = 0; i < 10; ++i) REQUIRE(append_sync(spool, "trackingQueueV1", "v" + std::to_string(i)));
        auto first = spool.read(4);
        REQUIRE(first.size() == 4);
        spool.consume(first.back().end, 4);
        auto second = spool.read(3);  // sent, never confirmed: the process "dies" here
        REQUIRE(second.size() == 3);
        spool.mark_inflight(second.back().end);
        spool.stop();
    }
    Spool again(opts, nullptr, {});
    Recovery rec;
    REQUIRE_FALSE(again.open(&rec).has_value());
    CHECK(rec.records == 6);
    CHECK(rec.possible_duplicates == 3);
    CHECK(rec.corrupt_regions == 0);
    CHECK(values_of(again.read(100)) == std::vector<std::string>{"v4", "v5", "v6", "v7", "v8", "v9"});
}

TEST_CASE("spool: a torn last record and a damaged one in the middle are skipped at start-up, the valid ones kept") {
    mgw::test::TempDir tmp("mgw-spool-unit");
    auto opts = options_for(tmp.path);
    {
        Spool spool(opts, nullptr, {});
        REQUIRE_FALSE(spool.open().has_value());
        for (int i = 0; i < 6; ++i) REQUIRE(append_sync(spool, "trackingQueueV1", "value number " + std::to_string(i)));
        spool.stop();
    }
    const auto files = segment_files(opts.dir);
    REQUIRE(!files.empty());
    const std::string& file = files.front();
    std::string content;
    {
        std::ifstream in(file, std::ios::binary);
        content.assign(std::istreambuf_iterator<char>(in), {});
    }
    std::string one;
    encode_record(one, 0, "trackingQueueV1", "value number 0");
    const std::size_t rec_size = one.size();
    const std::size_t header = segment_magic.size();
    content[header + 2 * rec_size + 20] ^= 0x55;  // damage record 2
    content.resize(content.size() - 5);           // tear record 5
    {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out << content;
    }
    Spool spool(opts, nullptr, {});
    Recovery rec;
    REQUIRE_FALSE(spool.open(&rec).has_value());
    CHECK(rec.records == 4);
    CHECK(rec.corrupt_regions == 2);
    CHECK(values_of(spool.read(100)) ==
          std::vector<std::string>{"value number 0", "value number 1", "value number 3", "value number 4"});
}

TEST_CASE("spool: beyond max bytes an append is refused at once and the spool reports full") {
    mgw::test::TempDir tmp("mgw-spool-unit");
    auto opts = options_for(tmp.path);
    opts.max_bytes = 4096;
    opts.segment_bytes = 1024;
    Spool spool(opts, nullptr, {});
    REQUIRE_FALSE(spool.open().has_value());
    int stored = 0;
    while (append_sync(spool, "trackingQueueV1", std::string(200, 'x'))) ++stored;
    CHECK(stored > 0);
    CHECK(spool.full());
    CHECK(spool.bytes() <= opts.max_bytes);
    // Replaying frees whole segments, and the spool takes sets again.
    for (auto w = spool.read(100); !w.empty(); w = spool.read(100)) spool.consume(w.back().end, w.size());
    CHECK(append_sync(spool, "trackingQueueV1", "after"));
    CHECK_FALSE(spool.full());
}

TEST_CASE("spool: a second process cannot open a directory in use") {
    mgw::test::TempDir tmp("mgw-spool-unit");
    auto opts = options_for(tmp.path);
    Spool first(opts, nullptr, {});
    REQUIRE_FALSE(first.open().has_value());
    Spool second(opts, nullptr, {});
    auto error = second.open();
    REQUIRE(error.has_value());
    CHECK_THAT(*error, Catch::Contains("in use"));
}
