// A DEFLATE encoder for small values (RFC 1951 inside an RFC 1950 zlib stream, what PHP's
// gzuncompress reads), whose per-call cost follows the input's size: the match finder's hash table
// is sized to the value, only the symbols a value uses take part in building its Huffman codes, and
// a thread reuses the last dynamic code it built while it fits the values that follow.
// compress_value uses it at level 1 for values of up to small_deflate_max_input bytes; the method
// is described in small_deflate.cpp, its cost in docs/performance.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mgw::queue {

// The longest input small_zlib_compress takes: every match distance then fits DEFLATE's 32 KiB window.
inline constexpr std::size_t small_deflate_max_input = 32768;

// Replaces `out` with the zlib stream of `in` (header 78 01, one final DEFLATE block, Adler-32) and
// returns true. The block is the smallest of dynamic Huffman (the thread's kept code or a new one),
// fixed Huffman and stored, so the stream is never longer than in.size() + 11 bytes; the bytes
// written for a value depend on the values the thread compressed before it, not its inflated form. Returns false,
// leaving `out` alone, when `in` is longer than small_deflate_max_input. Thread-safe: the first call on a thread
// allocates that thread's work space (about 190 KiB); later calls allocate nothing but `out`'s buffer.
bool small_zlib_compress(std::string_view in, std::string& out);

namespace detail {

// The Huffman code lengths small_zlib_compress gives symbols with these frequencies (at most 288
// symbols, lengths of at most max_len bits, 0 for unused symbols). For tests.
std::vector<std::uint8_t> small_deflate_code_lengths(const std::vector<std::uint16_t>& freq, unsigned max_len);

// How many dynamic codes small_zlib_compress has built on the calling thread. For tests.
std::uint64_t small_deflate_codes_built();

}  // namespace detail
}  // namespace mgw::queue
