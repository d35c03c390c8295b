// Level 1 values of up to 32 KiB go through our own small encoder (queue/small_deflate.cpp), which
// spends about 36,000 instructions on a 447-byte pageview compressed on its own (about 22,000 while
// it reuses its last Huffman code) where libdeflate level 1 spends 63,000, most of it on set-up sized
// for large inputs (docs/performance.md). Everything else uses libdeflate
// rather than zlib: several times faster than zlib's compress2() for our value sizes
// (docs/architecture.md). Both write the RFC 1950 format that PHP's gzuncompress reads.
#include "queue/compressor.hpp"

#include <libdeflate.h>

#include "queue/small_deflate.hpp"

#include <array>
#include <memory>
#include <stdexcept>

namespace mgw::queue {
namespace {

struct CompressorDeleter {
    void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
};
using CompressorPtr = std::unique_ptr<libdeflate_compressor, CompressorDeleter>;

libdeflate_compressor* compressor_for(int level) {
    thread_local std::array<CompressorPtr, 10> per_level;
    auto& slot = per_level.at(static_cast<std::size_t>(level));
    if (!slot) {
        slot.reset(libdeflate_alloc_compressor(level));
        if (!slot) throw std::bad_alloc();
    }
    return slot.get();
}

}  // namespace

std::string compress_value(std::string_view json, int level) {
    std::string out;
    compress_value_into(json, level, out);
    return out;
}

void compress_value_into(std::string_view json, int level, std::string& out) {
    if (level <= 0) {
        out.assign(json);
        return;
    }
    if (level == 1 && small_zlib_compress(json, out)) return;
    if (level > 9) level = 9;
    libdeflate_compressor* c = compressor_for(level);
    out.resize(libdeflate_zlib_compress_bound(c, json.size()));
    std::size_t n = libdeflate_zlib_compress(c, json.data(), json.size(), out.data(), out.size());
    if (n == 0) throw std::runtime_error("zlib compression failed");
    out.resize(n);
}

std::string gzip_compress(std::string_view data, int level) {
    libdeflate_compressor* c = compressor_for(level < 1 ? 1 : (level > 9 ? 9 : level));
    std::string out(libdeflate_gzip_compress_bound(c, data.size()), '\0');
    std::size_t n = libdeflate_gzip_compress(c, data.data(), data.size(), out.data(), out.size());
    if (n == 0) throw std::runtime_error("gzip compression failed");
    out.resize(n);
    return out;
}

}  // namespace mgw::queue
