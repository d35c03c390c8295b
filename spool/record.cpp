#include "spool/record.hpp"

#include <boost/crc.hpp>

#include <cstring>

namespace mgw::spool {

namespace {

// CRC32C (Castagnoli), reflected, as iSCSI and ext4 use it; Boost.CRC's table-driven engine.
using Crc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

void put_u16(std::string& out, std::uint16_t v) {
    out.push_back(static_cast<char>(v & 0xff));
    out.push_back(static_cast<char>(v >> 8));
}

void put_u32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_u64(std::string& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_le(const unsigned char* p, int bytes) {
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

constexpr std::size_t payload_fixed = 8 + 2;

// Where the next record could start: the next occurrence of the magic after position 0.
DecodeResult skip_to_next_magic(std::span<const unsigned char> data, bool at_end) {
    static constexpr unsigned char m[4] = {'M', 'G', 'W', 'R'};
    for (std::size_t i = 1; i + 4 <= data.size(); ++i)
        if (std::memcmp(data.data() + i, m, 4) == 0) return {DecodeStatus::corrupt, i};
    // Unless the file ends here, keep the last three bytes: they may begin a magic that the next
    // read completes.
    if (!at_end && data.size() > 3) return {DecodeStatus::corrupt, data.size() - 3};
    if (!at_end) return {DecodeStatus::need_more, 0};
    return {DecodeStatus::corrupt, data.size()};
}

std::uint32_t reflect32(std::uint32_t v) {
    std::uint32_t r = 0;
    for (int i = 0; i < 32; ++i, v >>= 1) r = (r << 1) | (v & 1);
    return r;
}

}  // namespace

std::uint32_t crc32c(std::span<const unsigned char> data, std::uint32_t crc) {
    // Resume from a finished value: undo the final XOR; Boost takes the initial remainder unreflected.
    Crc32c c(reflect32(crc ^ 0xFFFFFFFF));
    c.process_bytes(data.data(), data.size());
    return c.checksum();
}

std::size_t encoded_size(std::string_view key, std::string_view value) {
    return record_header_bytes + payload_fixed + key.size() + value.size();
}

bool record_fits(std::string_view key, std::string_view value) {
    return key.size() <= 0xFFFF && value.size() <= max_record_payload &&
           payload_fixed + key.size() + value.size() <= max_record_payload;
}

void encode_record(std::string& out, std::uint64_t spooled_at_ms, std::string_view key, std::string_view value) {
    const std::size_t start = out.size();
    const auto length = static_cast<std::uint32_t>(payload_fixed + key.size() + value.size());
    put_u32(out, record_magic);
    put_u32(out, length);
    put_u32(out, 0);  // CRC, filled in below
    put_u64(out, spooled_at_ms);
    put_u16(out, static_cast<std::uint16_t>(key.size()));
    out.append(key);
    out.append(value);
    const auto* base = reinterpret_cast<const unsigned char*>(out.data()) + start;
    std::uint32_t crc = crc32c({base + 4, 4});
    crc = crc32c({base + record_header_bytes, length}, crc);
    for (int i = 0; i < 4; ++i)
        out[start + 8 + static_cast<std::size_t>(i)] = static_cast<char>((crc >> (8 * i)) & 0xff);
}

DecodeResult decode_record(std::span<const unsigned char> data, Record& record, bool at_end) {
    if (data.empty()) return {DecodeStatus::need_more, 0};
    auto incomplete = [&]() -> DecodeResult {
        // A torn record at the end of the file, or a damaged length pointing past it.
        return at_end ? skip_to_next_magic(data, true) : DecodeResult{DecodeStatus::need_more, 0};
    };
    if (data.size() < 4) return incomplete();
    if (get_le(data.data(), 4) != record_magic) return skip_to_next_magic(data, at_end);
    if (data.size() < record_header_bytes) return incomplete();
    const std::uint64_t length = get_le(data.data() + 4, 4);
    if (length < payload_fixed || length > max_record_payload) return skip_to_next_magic(data, at_end);
    if (data.size() < record_header_bytes + length) return incomplete();
    const unsigned char* payload = data.data() + record_header_bytes;
    std::uint32_t crc = crc32c(data.subspan(4, 4));
    crc = crc32c({payload, static_cast<std::size_t>(length)}, crc);
    const std::uint16_t key_len = static_cast<std::uint16_t>(get_le(payload + 8, 2));
    if (crc != get_le(data.data() + 8, 4) || payload_fixed + key_len > length) return skip_to_next_magic(data, at_end);
    record.spooled_at_ms = get_le(payload, 8);
    record.key.assign(reinterpret_cast<const char*>(payload + payload_fixed), key_len);
    record.value.assign(reinterpret_cast<const char*>(payload + payload_fixed + key_len),
                        static_cast<std::size_t>(length) - payload_fixed - key_len);
    return {DecodeStatus::ok, record_header_bytes + static_cast<std::size_t>(length)};
}

}  // namespace mgw::spool
