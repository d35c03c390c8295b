// Spool record decoding (spool/record.cpp) on arbitrary bytes, as start-up and replay read a
// damaged segment: the decoder must never read outside its input, always make progress, and
// whatever it accepts must encode back to the very bytes it came from (so a valid record is never
// altered and a damaged one is never taken for valid).
#include "fuzz/fuzz_check.hpp"
#include "spool/record.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const unsigned char> input(data, size);
    for (bool at_end : {true, false}) {
        std::size_t pos = 0;
        while (pos < input.size()) {
            mgw::spool::Record r;
            const auto d = mgw::spool::decode_record(input.subspan(pos), r, at_end);
            if (d.status == mgw::spool::DecodeStatus::need_more) {
                MGW_FUZZ_CHECK(!at_end);
                break;
            }
            MGW_FUZZ_CHECK(d.consumed > 0 && d.consumed <= input.size() - pos);
            if (d.status == mgw::spool::DecodeStatus::ok) {
                std::string again;
                mgw::spool::encode_record(again, r.spooled_at_ms, r.key, r.value);
                MGW_FUZZ_CHECK(again.size() == d.consumed);
                MGW_FUZZ_CHECK(std::memcmp(again.data(), input.data() + pos, again.size()) == 0);
            }
            pos += d.consumed;
        }
    }
    return 0;
}
