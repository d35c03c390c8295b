// Compression of queue values: zlib streams (RFC 1950) as PHP's gzcompress writes them, or plain
// JSON at level 0 (the worker accepts both: docs/wire-format.md, "Value encoding", checklist item 42).
#pragma once

#include <string>
#include <string_view>

namespace mgw::queue {

// Compresses `json` at `level` (0..9; 0 returns the JSON unchanged). Level 1 (the default) uses the
// small encoder of small_deflate.hpp for values of up to small_deflate_max_input bytes, whose cost
// follows the value's size; larger values and levels 2..9 use one libdeflate compressor per thread
// and level, so a hit costs no compressor set-up (per-call zlib initialisation alone would cap two
// cores near 28,000 hits/s).
std::string compress_value(std::string_view json, int level);
// The same into `out` (replaced; its capacity is used).
void compress_value_into(std::string_view json, int level, std::string& out);

// gzip (RFC 1952) of `data`, for HTTP Content-Encoding; never for queue values (the worker cannot read gzip).
std::string gzip_compress(std::string_view data, int level);

}  // namespace mgw::queue
