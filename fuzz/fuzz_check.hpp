// The fuzz targets' own assertions: a broken invariant aborts with a message, in the libFuzzer build
// and in the corpus replay alike (assert() would vanish with NDEBUG).
#pragma once

#include <cstdio>
#include <cstdlib>

#define MGW_FUZZ_CHECK(cond)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)
