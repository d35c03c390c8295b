// The spool's on-disk record: one request set (queue key + finished value) with its length and a
// CRC32C, so a torn or damaged record is recognised and skipped instead of replayed as garbage.
//
//   magic   u32 LE  "MGWR"
//   length  u32 LE  payload bytes
//   crc     u32 LE  CRC32C of the length field's 4 bytes followed by the payload
//   payload         u64 LE spooled-at (Unix ms), u16 LE key length, key, value
//
// The magic lets a reader find the next record after a damaged one; the CRC covers the length so
// a flipped length is caught before it is trusted. Records never span segment files.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace mgw::spool {

inline constexpr std::uint32_t record_magic = 0x5257474D;  // "MGWR" little-endian
inline constexpr std::size_t record_header_bytes = 12;
inline constexpr std::size_t max_record_payload = 64u << 20;    // a set is at most a few MiB
inline constexpr std::string_view segment_magic = "MGWSPL1\n";  // first bytes of every segment file

std::uint32_t crc32c(std::span<const unsigned char> data, std::uint32_t crc = 0);

struct Record {
    std::uint64_t spooled_at_ms = 0;
    std::string key;
    std::string value;
};

// Appends the encoded record to `out`.
void encode_record(std::string& out, std::uint64_t spooled_at_ms, std::string_view key, std::string_view value);
std::size_t encoded_size(std::string_view key, std::string_view value);
// Whether decode_record would accept the record encode_record writes for this set (the key's length
// fits its 16-bit field and the payload is within max_record_payload). The spool refuses any other
// set before acknowledging it: a set it took must be one its replay can read back.
bool record_fits(std::string_view key, std::string_view value);

enum class DecodeStatus {
    ok,         // `record` holds the record, `consumed` bytes were used
    need_more,  // the buffer ends inside a record: read more (only when !at_end)
    corrupt,    // no valid record starts here (damaged, or torn at the end of the file): skip
                // `consumed` bytes, to where the next record may start
};

struct DecodeResult {
    DecodeStatus status = DecodeStatus::need_more;
    std::size_t consumed = 0;
};

// Decodes the record at the start of `data`. `at_end`: `data` runs to the end of the file, so an
// incomplete record is torn, not waiting for more bytes. Never reads outside `data`; any input is
// safe, and `consumed` is always > 0 unless the status is need_more.
DecodeResult decode_record(std::span<const unsigned char> data, Record& record, bool at_end);

}  // namespace mgw::spool
