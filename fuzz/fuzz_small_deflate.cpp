// The small DEFLATE encoder (queue/small_deflate.cpp) on arbitrary bytes: every input up to its
// limit is taken, the zlib header passes its check, no stream is longer than the input + 11 bytes,
// and zlib (the reference inflater, what PHP's gzuncompress uses) gives back exactly the input.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "queue/small_deflate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    std::string z;
    const bool taken = mgw::queue::small_zlib_compress(input, z);
    MGW_FUZZ_CHECK(taken == (size <= mgw::queue::small_deflate_max_input));
    if (!taken) return 0;
    MGW_FUZZ_CHECK(z.size() >= 2 && z.size() <= size + 11);
    MGW_FUZZ_CHECK((static_cast<unsigned char>(z[0]) * 256 + static_cast<unsigned char>(z[1])) % 31 == 0);
    std::string back(size + 1, '\0');
    uLongf back_size = static_cast<uLongf>(back.size());
    const int rc = uncompress(reinterpret_cast<Bytef*>(back.data()), &back_size,
                              reinterpret_cast<const Bytef*>(z.data()), static_cast<uLong>(z.size()));
    MGW_FUZZ_CHECK(rc == Z_OK);
    MGW_FUZZ_CHECK(back_size == size);
    MGW_FUZZ_CHECK(size == 0 || std::memcmp(back.data(), data, size) == 0);
    return 0;
}
