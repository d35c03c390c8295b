// The small DEFLATE encoder (small_deflate.hpp), written from RFC 1951 and RFC 1950.
//
// 1. LZ77: a hash of the next 3 bytes indexes a table of the last position with that hash (uint16,
//    2^(floor(log2 n) + 2) entries, at least 256, at most 16384, so clearing it costs little), and
//    a chain array links each position to the previous one with the same hash. At most max_chain
//    candidates are compared per position and the longest match is taken (greedy parsing; every
//    position a match covers enters the chains too). Matches are 3..258 bytes at distances
//    1..32767: the input is at most 32 KiB, so no window bookkeeping is needed. The parse is kept as
//    the list of its matches; the bytes between them are literals.
// 2. One final block. Huffman code lengths are built only over the symbols the block uses: they
//    are sorted by frequency (counting sort) and the optimal lengths computed in place (the
//    Moffat-Katajainen method), then limited to 15 bits (7 for the code-length code) if ever
//    needed. The code lengths are sent run-length coded with codes 16/17/18 (runs may cross from
//    the literal/length lengths to the distance lengths, as RFC 1951 allows). A code with fewer
//    than two used symbols gets two codewords of length 1 (so a block without matches still
//    describes two distance codes), which every inflater accepts.
//    Building a code and its header costs about as much as the match finding, and the values of one
//    gateway look alike, so each thread keeps the last dynamic code it built, with its header bits,
//    and tries it on the next values: when every symbol a value uses has a codeword in it, the
//    value's length is within a factor of 2 of the one the code was built for and the code has
//    served fewer than 32 values, it takes the place of a new dynamic code. A new code also gives a
//    codeword to every symbol the values since the last one used, so that the next values rarely
//    lack one. The exact size of the block with the dynamic code (kept or new), with the fixed codes
//    and as a stored block is computed, and the smallest is written.
// 3. Bits go out LSB first through a 64-bit buffer, 8 bytes stored at a time; Huffman codes are kept
//    bit-reversed so they can be written the same way.
#include "queue/small_deflate.hpp"

#include <libdeflate.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mgw::queue {
namespace {

static_assert(std::endian::native == std::endian::little, "the bit writer stores little-endian words");

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;

constexpr unsigned max_match = 258;
constexpr unsigned end_of_block = 256;
constexpr unsigned max_codeword_len = 15;
constexpr unsigned max_codelen_codeword_len = 7;

// Match finder: candidates compared per position, and the length that ends a search.
constexpr unsigned max_chain = 8;
constexpr unsigned nice_match = 64;
constexpr unsigned max_hash_bits = 14;
constexpr unsigned min_hash_bits = 8;
static_assert(max_hash_bits == 14 && min_hash_bits == 8, "parse() instantiates these sizes");

constexpr std::array<u16, 29> length_base = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                             31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr std::array<u8, 29> length_extra = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                             2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr std::array<u16, 30> dist_base = {1,    2,    3,    4,    5,    7,    9,    13,    17,    25,
                                           33,   49,   65,   97,   129,  193,  257,  385,   513,   769,
                                           1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr std::array<u8, 30> dist_extra = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                           6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
// The order in which the code-length code's lengths are sent (RFC 1951, 3.2.7).
constexpr std::array<u8, 19> codelen_order = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

// Match length (3..258) -> length slot (symbol - 257). 258 has a symbol of its own (285).
constexpr auto length_slot = [] {
    std::array<u8, max_match + 1> t{};
    for (unsigned s = 0; s < length_base.size(); ++s)
        for (unsigned len = length_base[s]; len < length_base[s] + (1u << length_extra[s]) && len <= max_match; ++len)
            t[len] = static_cast<u8>(s);
    return t;
}();

// Distance - 1 -> distance symbol: entries 0..255 for distances 1..256, then 256 + ((distance - 1) >> 7)
// (every symbol from 16 on covers whole multiples of 128).
constexpr auto dist_slot_table = [] {
    std::array<u8, 512> t{};
    for (unsigned s = 0; s < dist_base.size(); ++s)
        for (unsigned d = dist_base[s]; d < dist_base[s] + (1u << dist_extra[s]); ++d)
            t[d - 1 < 256 ? d - 1 : 256 + ((d - 1) >> 7)] = static_cast<u8>(s);
    return t;
}();

inline unsigned dist_slot(unsigned dist) {
    const unsigned d = dist - 1;
    return d < 256 ? dist_slot_table[d] : dist_slot_table[256 + (d >> 7)];
}

constexpr auto reversed_byte = [] {
    std::array<u8, 256> t{};
    for (unsigned i = 0; i < 256; ++i) {
        unsigned r = 0;
        for (unsigned b = 0; b < 8; ++b) r |= ((i >> b) & 1u) << (7 - b);
        t[i] = static_cast<u8>(r);
    }
    return t;
}();

// A Huffman code by symbol: codewords bit-reversed (the first bit sent lowest), and their lengths.
struct Code {
    std::array<u16, 288> bits;
    std::array<u8, 288> len;
};

// Canonical codewords (RFC 1951, 3.2.2) for the symbols used[0..m), in increasing order, whose
// lengths are in c.len; per_len[l] is the number of codewords of length l.
constexpr void assign_codewords(const u16* used, unsigned m, const u16* per_len, Code& c) {
    std::array<u16, max_codeword_len + 1> next{};
    unsigned code = 0;
    for (unsigned len = 1; len <= max_codeword_len; ++len) {
        code = (code + per_len[len - 1]) << 1;
        next[len] = static_cast<u16>(code);
    }
    for (unsigned i = 0; i < m; ++i) {
        const unsigned s = used[i], len = c.len[s], v = next[len]++;
        const unsigned reversed = (unsigned{reversed_byte[v & 0xff]} << 8) | reversed_byte[v >> 8];
        c.bits[s] = static_cast<u16>(reversed >> (16 - len));
    }
}

// The fixed Huffman codes (RFC 1951, 3.2.6).
struct FixedCodes {
    Code litlen{};
    Code dist{};
};
constexpr FixedCodes fixed_codes = [] {
    FixedCodes f;
    std::array<u16, 288> all{};
    std::array<u16, max_codeword_len + 1> per_len{};
    for (unsigned s = 0; s < 288; ++s) {
        all[s] = static_cast<u16>(s);
        f.litlen.len[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
        ++per_len[f.litlen.len[s]];
    }
    assign_codewords(all.data(), 288, per_len.data(), f.litlen);
    per_len = {};
    per_len[5] = 32;
    for (unsigned s = 0; s < 32; ++s) f.dist.len[s] = 5;
    assign_codewords(all.data(), 32, per_len.data(), f.dist);
    return f;
}();

// A match of the parse: where it starts, its length and distance and their symbols.
struct Match {
    u16 pos;
    u16 length;
    u16 dist;
    u8 length_slot;
    u8 dist_slot;
};

// The block: symbol frequencies (arrays padded with zeros to a multiple of 16 entries) and the
// number of matches. Cleared with memset by every call.
struct Block {
    std::array<u16, 288> litlen;
    std::array<u16, 32> dist;
    unsigned matches;
};

// One thread's work space.
struct Workspace {
    std::array<u16, std::size_t{1} << max_hash_bits> head;  // hash -> last position + 1 (0: none)
    std::array<u16, small_deflate_max_input> prev;          // position -> previous position + 1 with its hash
    Block block;
    std::array<Match, small_deflate_max_input / 3 + 1> matches;
};

// The calling thread's work space, allocated on its first use and not zeroed: every call clears
// what it reads.
Workspace& workspace() {
    struct Holder {
        std::unique_ptr<Workspace> ws{new Workspace};  // NOLINT(modernize-make-unique): no zeroing
    };
    thread_local const Holder holder;
    return *holder.ws;
}

inline u32 load32(const void* p) {
    u32 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

inline u64 load64(const void* p) {
    u64 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// A hash of the first 3 of `four_bytes` (little-endian), `32 - shift` bits wide.
inline u32 hash3(u32 four_bytes, unsigned shift) { return ((four_bytes << 8) * 0x9E3779B1u) >> shift; }

// How many bytes a[i] == b[i] from i = 0, at most `max`.
inline unsigned common_length(const u8* a, const u8* b, unsigned max) {
    unsigned len = 0;
    for (;;) {
        if (len + 8 > max) {
            while (len < max && a[len] == b[len]) ++len;
            return len;
        }
        const u64 x = load64(a + len) ^ load64(b + len);
        if (x != 0) return len + (static_cast<unsigned>(std::countr_zero(x)) >> 3);
        len += 8;
    }
}

// The greedy LZ77 parse of in[0..n) into ws.matches and the frequencies of ws.block, with a hash
// table of 1 << Bits entries, already cleared.
template <unsigned Bits>
void parse(const u8* const in, const std::size_t n, Workspace& ws) {
    constexpr unsigned shift = 32 - Bits;
    // Positions before `searchable` have 4 readable bytes, so they can be hashed and matched.
    const std::size_t searchable = n >= 4 ? n - 3 : 0;
    u16* const head = ws.head.data();
    u16* const prev = ws.prev.data();
    u16* const lit = ws.block.litlen.data();
    Match* match = ws.matches.data();
    std::size_t pos = 0;
    while (pos < searchable) {
        const u32 cur4 = load32(in + pos);
        const u32 h = hash3(cur4, shift);
        unsigned candidate = head[h];
        head[h] = static_cast<u16>(pos + 1);
        prev[pos] = static_cast<u16>(candidate);
        if (__builtin_expect(candidate == 0, 1)) {
            ++lit[cur4 & 0xFF];
            ++pos;
            continue;
        }
        // The longest match among the first max_chain candidates of the chain.
        const u8* const cur = in + pos;
        unsigned best = 0;
        const u8* best_at = cur;
        unsigned depth = max_chain;
        do {
            const u8* const m = in + candidate - 1;
            candidate = prev[candidate - 1];
            const u32 diff = load32(m) ^ cur4;
            if ((diff & 0xFFFFFFu) != 0) continue;
            const unsigned len =
                diff != 0 ? 3
                          : 4 + common_length(m + 4, cur + 4,
                                              static_cast<unsigned>(std::min<std::size_t>(max_match, n - pos)) - 4);
            if (len > best) {
                best = len;
                best_at = m;
                if (len >= nice_match) break;
            }
        } while (candidate != 0 && --depth != 0);
        if (best == 0) {
            ++lit[cur4 & 0xFF];
            ++pos;
            continue;
        }
        const unsigned dist = static_cast<unsigned>(cur - best_at);
        const unsigned ls = length_slot[best];
        const unsigned ds = dist_slot(dist);
        ++lit[257 + ls];
        ++ws.block.dist[ds];
        *match++ = Match{static_cast<u16>(pos), static_cast<u16>(best), static_cast<u16>(dist), static_cast<u8>(ls),
                         static_cast<u8>(ds)};
        // The positions the match covers enter the chains too.
        const std::size_t end = std::min(pos + best, searchable);
        for (std::size_t q = pos + 1; q < end; ++q) {
            const u32 hq = hash3(load32(in + q), shift);
            prev[q] = head[hq];
            head[hq] = static_cast<u16>(q + 1);
        }
        pos += best;
    }
    for (; pos < n; ++pos) ++lit[in[pos]];
    ws.block.matches = static_cast<unsigned>(match - ws.matches.data());
}

// parse<Bits> with Bits = ceil(log2(n + 1)) + 1 in [min_hash_bits, max_hash_bits].
void parse(const u8* in, unsigned n, Workspace& ws) {
    const unsigned bits = std::clamp(static_cast<unsigned>(std::bit_width(n)) + 1, min_hash_bits, max_hash_bits);
    std::memset(ws.head.data(), 0, sizeof(u16) << bits);
    std::memset(&ws.block, 0, sizeof ws.block);
    switch (bits) {
        case 8: return parse<8>(in, n, ws);
        case 9: return parse<9>(in, n, ws);
        case 10: return parse<10>(in, n, ws);
        case 11: return parse<11>(in, n, ws);
        case 12: return parse<12>(in, n, ws);
        case 13: return parse<13>(in, n, ws);
        default: return parse<14>(in, n, ws);
    }
}

// A Huffman code built over the symbols a block uses.
struct Tree {
    std::array<u16, 288> used;  // the symbols with a codeword, in increasing order
    unsigned m = 0;
    std::array<u16, max_codeword_len + 1> per_len{};
    Code code;  // for used symbols only; bits once the codewords are assigned
};

// Builds a Huffman code of at most max_len bits for freq[0..n) (n a multiple of 16, at most 288)
// into t (lengths, not yet codewords); returns the sum of frequency * length. With fewer than two
// symbols used, two symbols get length 1, so that every code is complete.
u32 build_tree(const u16* freq, unsigned n, unsigned max_len, Tree& t) {
    // The used symbols in increasing order, and how many there are of each frequency below `cap`.
    constexpr unsigned cap = 16;
    std::array<u16, cap + 1> start{};
    unsigned m = 0;
#if defined(__SSE2__)
    for (unsigned i = 0; i < n; i += 16) {
        const __m128i zero = _mm_setzero_si128();
        const __m128i lo = _mm_cmpeq_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(freq + i)), zero);
        const __m128i hi = _mm_cmpeq_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(freq + i + 8)), zero);
        for (unsigned mask = ~static_cast<unsigned>(_mm_movemask_epi8(_mm_packs_epi16(lo, hi))) & 0xFFFFu; mask != 0;
             mask &= mask - 1) {
            const unsigned s = i + static_cast<unsigned>(std::countr_zero(mask));
            t.used[m++] = static_cast<u16>(s);
            ++start[std::min<unsigned>(freq[s], cap)];
        }
    }
#else
    for (unsigned s = 0; s < n; ++s) {
        if (freq[s] != 0) {
            t.used[m++] = static_cast<u16>(s);
            ++start[std::min<unsigned>(freq[s], cap)];
        }
    }
#endif
    if (m < 2) {
        const unsigned a = m == 1 ? t.used[0] : 0, other = a == 0 ? 1 : 0;
        t.used[0] = static_cast<u16>(std::min(a, other));
        t.used[1] = static_cast<u16>(std::max(a, other));
        t.m = 2;
        t.code.len[a] = t.code.len[other] = 1;
        t.per_len[1] = 2;
        return freq[a];
    }
    t.m = m;

    // key[i] = frequency << 9 | symbol, sorted by frequency (counting sort; the symbols at or above
    // `cap` go last and are sorted by insertion, there are few of them), and w[i] its frequency,
    // with a sentinel above every weight at w[m].
    std::array<u32, 289> key;
    std::array<u32, 289> w;
    unsigned sum = 0;
    for (unsigned f = 0; f <= cap; ++f) {
        const unsigned c = start[f];
        start[f] = static_cast<u16>(sum);
        sum += c;
    }
    const unsigned frequent = start[cap];
    for (unsigned i = 0; i < m; ++i) {
        const unsigned s = t.used[i], f = freq[s];
        key[start[std::min(f, cap)]++] = f << 9 | s;
    }
    for (unsigned i = frequent + 1; i < m; ++i) {
        const u32 k = key[i];
        unsigned j = i;
        for (; j > frequent && key[j - 1] > k; --j) key[j] = key[j - 1];
        key[j] = k;
    }
    for (unsigned i = 0; i < m; ++i) w[i] = key[i] >> 9;
    w[m] = ~u32{0};

    // Optimal lengths in place (Moffat and Katajainen). Phase 1: w[k] for k < m - 1 becomes the k-th
    // internal node made (its weight, then the index of its parent once it is merged), the leaves
    // being taken from w[leaf..] in order. The sum of the internal nodes' weights is the sum of
    // frequency * depth over the leaves.
    u32 total = w[0] + w[1];
    w[0] = total;
    unsigned root = 0, leaf = 2;
    for (unsigned next = 1; next + 1 < m; ++next) {
        u32 weight;
        if (w[root] < w[leaf]) {
            weight = w[root];
            w[root++] = next;
        } else {
            weight = w[leaf++];
        }
        if (root < next && w[root] < w[leaf]) {
            weight += w[root];
            w[root++] = next;
        } else {
            weight += w[leaf++];
        }
        w[next] = weight;
        total += weight;
    }
    // Phase 2: depths of the internal nodes, from the root (w[m - 2]) down.
    w[m - 2] = 0;
    for (unsigned k = m - 2; k-- > 0;) w[k] = w[w[k]] + 1;
    // Phase 3: the leaves' depths, most frequent first: the nodes at depth d leave twice their
    // number of places at depth d + 1, taken by internal nodes first, then by leaves.
    // A tree of depth d needs a total weight of at least Fibonacci(d + 2); the weights here add up to
    // at most 32769, so no depth reaches 24.
    std::array<u16, 64> per_depth{};
    int inner = static_cast<int>(m) - 2;
    unsigned next_leaf = m, available = 1, depth = 0;
    while (available != 0) {
        unsigned internal = 0;
        while (inner >= 0 && w[static_cast<unsigned>(inner)] == depth) {
            ++internal;
            --inner;
        }
        per_depth[depth] = static_cast<u16>(available - internal);
        for (; available > internal; --available) t.code.len[key[--next_leaf] & 511u] = static_cast<u8>(depth);
        available = 2 * internal;
        ++depth;
    }
    const unsigned deepest = depth - 1;
    if (deepest <= max_len) {
        std::copy(per_depth.begin(), per_depth.begin() + max_codeword_len + 1, t.per_len.begin());
        return total;
    }
    // Too deep (rare): cut every length to max_len, then restore Kraft's equality one unit at a time,
    // a leaf leaving the deepest level and a shallower leaf moving one level down as its sibling. The
    // longest lengths go to the least frequent symbols.
    for (unsigned d = max_len + 1; d <= deepest; ++d)
        per_depth[max_len] = static_cast<u16>(per_depth[max_len] + per_depth[d]);
    u32 kraft = 0;
    for (unsigned len = 1; len <= max_len; ++len) kraft += u32{per_depth[len]} << (max_len - len);
    for (; kraft > (1u << max_len); --kraft) {
        --per_depth[max_len];
        for (unsigned len = max_len - 1; len > 0; --len) {
            if (per_depth[len] != 0) {
                --per_depth[len];
                per_depth[len + 1] = static_cast<u16>(per_depth[len + 1] + 2);
                break;
            }
        }
    }
    total = 0;
    unsigned i = 0;
    for (unsigned len = max_len; len > 0; --len) {
        t.per_len[len] = per_depth[len];
        for (unsigned c = per_depth[len]; c != 0; --c, ++i) {
            t.code.len[key[i] & 511u] = static_cast<u8>(len);
            total += (key[i] >> 9) * len;
        }
    }
    return total;
}

// LSB-first bit writer. At most 56 bits may be added between two flushes. It stores whole 64-bit
// words, so the buffer needs 8 bytes beyond the last byte written.
struct BitWriter {
    u8* out;
    u64 buf = 0;
    unsigned count = 0;

    void put(u64 bits, unsigned n) {
        buf |= bits << count;
        count += n;
    }
    void flush() {
        std::memcpy(out, &buf, sizeof buf);
        out += count >> 3;
        buf >>= count & ~7u;
        count &= 7;
    }
    // Writes the last partial byte; returns the end of the output.
    u8* finish() {
        flush();
        return out + (count != 0 ? 1 : 0);
    }
};

// Literals in[0..count) with `lit`, Group at a time between flushes (Group codewords of at most
// 56 / Group bits each).
template <unsigned Group>
inline void write_literals(BitWriter& bw, const u8* in, unsigned count, const Code& lit) {
    for (; count >= Group; count -= Group, in += Group) {
        for (unsigned i = 0; i < Group; ++i) bw.put(lit.bits[in[i]], lit.len[in[i]]);
        bw.flush();
    }
    if (count != 0) {
        for (unsigned i = 0; i < count; ++i) bw.put(lit.bits[in[i]], lit.len[in[i]]);
        bw.flush();
    }
}

// The parse (literals from `in`, matches from `matches`) with the given codes, then end of block.
template <unsigned Group>
void write_block_data(BitWriter& writer, const u8* in, unsigned n, const Match* matches, unsigned count,
                      const Code& lit, const Code& dist) {
    BitWriter bw = writer;
    const u8* p = in;
    for (const Match* m = matches; m != matches + count; ++m) {
        write_literals<Group>(bw, p, static_cast<unsigned>(in + m->pos - p), lit);
        p = in + m->pos + m->length;
        // Length codeword and extra bits (at most 20), distance codeword and extra bits (at most 28).
        const unsigned ls = 257 + m->length_slot, ds = m->dist_slot;
        bw.put(lit.bits[ls] | (u64{m->length} - length_base[m->length_slot]) << lit.len[ls],
               lit.len[ls] + length_extra[m->length_slot]);
        bw.put(dist.bits[ds] | (u64{m->dist} - dist_base[ds]) << dist.len[ds], dist.len[ds] + dist_extra[ds]);
        bw.flush();
    }
    write_literals<Group>(bw, p, static_cast<unsigned>(in + n - p), lit);
    bw.put(lit.bits[end_of_block], lit.len[end_of_block]);
    writer = bw;
}

// write_block_data with as many literals between flushes as the longest literal codeword allows.
void write_block_data(BitWriter& bw, const u8* in, unsigned n, const Match* matches, unsigned count, const Code& lit,
                      const Code& dist, unsigned longest_literal) {
    if (longest_literal <= 11) return write_block_data<5>(bw, in, n, matches, count, lit, dist);
    if (longest_literal <= 14) return write_block_data<4>(bw, in, n, matches, count, lit, dist);
    return write_block_data<3>(bw, in, n, matches, count, lit, dist);
}

// Extra bits after each code-length symbol (16: 2, 17: 3, 18: 7).
constexpr std::array<u8, 32> field_bits = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7};

// The run-length coded sequence of code lengths (RFC 1951, 3.2.7): code-length symbols with their
// repeat fields, and how often each symbol occurs.
struct LengthsHeader {
    std::array<u16, 288 + 32> tokens;  // code-length symbol | repeat field << 5
    unsigned count = 0;
    std::array<u16, 32> freq{};
    // Where the sequence is: the position after the last length added, that length, and how many
    // times it has been repeated since.
    unsigned next = 0;
    unsigned len = 0;
    unsigned repeated = 0;
};

inline u16* add_token(u16* tok, u16* freq, unsigned sym, unsigned field = 0) {
    *tok = static_cast<u16>(sym | field << 5);
    ++freq[sym];
    return tok + 1;
}

[[gnu::noinline]] u16* add_zeros(u16* tok, u16* freq, unsigned run) {
    for (; run >= 11;) {
        const unsigned r = std::min(run, 138u);
        tok = add_token(tok, freq, 18, r - 11);
        run -= r;
    }
    if (run >= 3) return add_token(tok, freq, 17, run - 3);
    for (; run != 0; --run) tok = add_token(tok, freq, 0);
    return tok;
}

// `run` more of the length `len` just added.
[[gnu::noinline]] u16* add_repeats(u16* tok, u16* freq, unsigned len, unsigned run) {
    for (; run >= 3;) {
        const unsigned r = std::min(run, 6u);
        tok = add_token(tok, freq, 16, r - 3);
        run -= r;
    }
    for (; run != 0; --run) tok = add_token(tok, freq, len);
    return tok;
}

// Assigns the canonical codewords (RFC 1951, 3.2.2) of `t`, whose lengths are set, and appends its
// lengths to `h` as positions base + symbol of the sequence, walking the used symbols only: the
// gaps between them are runs of zeros.
void code_and_lengths(Tree& t, unsigned base, LengthsHeader& h) {
    std::array<u16, max_codeword_len + 1> next{};
    unsigned code = 0;
    for (unsigned len = 1; len <= max_codeword_len; ++len) {
        code = (code + t.per_len[len - 1]) << 1;
        next[len] = static_cast<u16>(code);
    }
    u16* tok = h.tokens.data() + h.count;
    u16* const freq = h.freq.data();
    unsigned at_next = h.next, run_len = h.len, repeated = h.repeated;
    const u16* const used = t.used.data();
    u8* const lens = t.code.len.data();
    u16* const bits = t.code.bits.data();
    for (unsigned i = 0, m = t.m; i < m; ++i) {
        const unsigned s = used[i], len = lens[s], v = next[len]++;
        const unsigned reversed = (unsigned{reversed_byte[v & 0xff]} << 8) | reversed_byte[v >> 8];
        bits[s] = static_cast<u16>(reversed >> (16 - len));
        const unsigned at = base + s;
        if (at == at_next && len == run_len) {
            ++repeated;
        } else {
            if (repeated != 0) tok = add_repeats(tok, freq, run_len, repeated);
            if (at != at_next) tok = add_zeros(tok, freq, at - at_next);
            tok = add_token(tok, freq, len);
            run_len = len;
            repeated = 0;
        }
        at_next = at + 1;
    }
    h.count = static_cast<unsigned>(tok - h.tokens.data());
    h.next = at_next;
    h.len = run_len;
    h.repeated = repeated;
}

// A kept code serves at most this many values before a new one is built, and only values of half
// to twice the length of the one it was built for (bulk request sets differ from single hits).
constexpr unsigned reuse_limit = 32;

// The dynamic code last built on this thread, kept to be tried on the values that follow: request
// sets from one site use nearly the same symbols with nearly the same frequencies, so the code
// built for one value usually fits the next one well and building a new one (about a third of a
// value's cost) can be skipped. `header` is the block's header as written (BFINAL, BTYPE, HLIT,
// HDIST, HCLEN and the code lengths), so a reused code costs a copy of those bits.
struct Reuse {
    Tree lit;
    Tree dist;
    std::array<u8, 1024> header;  // at most 17 + 19 * 3 + 320 * 14 bits, padded for whole-word stores
    unsigned header_bits = 0;
    unsigned longest_literal = 0;
    unsigned since_built = 0;  // values written with this code since it was built
    unsigned built_for = 0;    // the length of the value it was built for
    std::uint64_t built = 0;   // codes built on this thread
    // 1 for the symbols the values written since the code was built used (the next code gets
    // them too, so that the values after it are less likely to need a symbol it lacks).
    std::array<u16, 288> seen_lit{};
    std::array<u16, 32> seen_dist{};

    // Whether the kept code may serve a value of `n` bytes (every symbol having a codeword is
    // checked apart, with the costs).
    bool may_serve(unsigned n) const {
        return built != 0 && since_built < reuse_limit && n <= 2 * built_for && 2 * n >= built_for;
    }
};

Reuse& reuse() {
    struct Holder {
        std::unique_ptr<Reuse> r{new Reuse};  // NOLINT(modernize-make-unique)
    };
    thread_local const Holder holder;
    return *holder.r;
}

// Fixed code lengths by literal/length symbol, and extra bits by length and distance symbol.
constexpr auto fixed_len_table = [] {
    std::array<u8, 288> t{};
    for (unsigned s = 0; s < 288; ++s) t[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
    return t;
}();
constexpr auto length_extra_table = [] {  // symbols 256..287
    std::array<u8, 32> t{};
    for (unsigned s = 0; s < length_extra.size(); ++s) t[1 + s] = length_extra[s];
    return t;
}();
constexpr auto dist_extra_table = [] {
    std::array<u8, 32> t{};
    for (unsigned s = 0; s < dist_extra.size(); ++s) t[s] = dist_extra[s];
    return t;
}();

// What the block costs with each code: the sums over symbols of frequency * length.
struct Costs {
    u32 fixed = 0;          // fixed literal/length codewords
    u32 kept_lit = 0;       // the kept code's literal/length codewords
    u32 kept_dist = 0;      // the kept code's distance codewords
    u32 extra = 0;          // extra bits of lengths and distances
    bool kept_fits = true;  // every symbol used has a codeword in the kept code
};

// Sum of freq[i] * len[i] for i < n (n a multiple of 16), and whether a used symbol has length 0.
// Frequencies stay below 32768 (the input is at most 32 KiB, and a byte repeated throughout it
// becomes matches), so the signed 16-bit products of SSE2's madd are exact.
inline u32 weighted_sum(const u16* freq, const u8* len, unsigned n, bool& all_coded) {
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    __m128i acc = zero, missing = zero;
    for (unsigned i = 0; i < n; i += 16) {
        const __m128i f0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(freq + i));
        const __m128i f1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(freq + i + 8));
        const __m128i l = _mm_loadu_si128(reinterpret_cast<const __m128i*>(len + i));
        const __m128i l0 = _mm_unpacklo_epi8(l, zero), l1 = _mm_unpackhi_epi8(l, zero);
        acc = _mm_add_epi32(acc, _mm_add_epi32(_mm_madd_epi16(f0, l0), _mm_madd_epi16(f1, l1)));
        missing = _mm_or_si128(missing, _mm_andnot_si128(_mm_cmpeq_epi16(f0, zero), _mm_cmpeq_epi16(l0, zero)));
        missing = _mm_or_si128(missing, _mm_andnot_si128(_mm_cmpeq_epi16(f1, zero), _mm_cmpeq_epi16(l1, zero)));
    }
    if (_mm_movemask_epi8(missing) != 0) all_coded = false;
    acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0x4E));
    acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0xB1));
    return static_cast<u32>(_mm_cvtsi128_si32(acc));
#else
    u32 sum = 0;
    for (unsigned i = 0; i < n; ++i) {
        sum += u32{freq[i]} * len[i];
        if (freq[i] != 0 && len[i] == 0) all_coded = false;
    }
    return sum;
#endif
}

// seen[i] = 1 where freq[i] != 0 (n a multiple of 8).
inline void note_used(const u16* freq, u16* seen, unsigned n) {
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128(), one = _mm_set1_epi16(1);
    for (unsigned i = 0; i < n; i += 8) {
        const __m128i f = _mm_loadu_si128(reinterpret_cast<const __m128i*>(freq + i));
        const __m128i used = _mm_andnot_si128(_mm_cmpeq_epi16(f, zero), one);
        auto* const at = reinterpret_cast<__m128i*>(seen + i);
        _mm_storeu_si128(at, _mm_or_si128(_mm_loadu_si128(at), used));
    }
#else
    for (unsigned i = 0; i < n; ++i) seen[i] = static_cast<u16>(seen[i] | (freq[i] != 0 ? 1 : 0));
#endif
}

// Marks the symbols block `b` uses as seen since the kept code was built.
inline void note_seen(const Block& b, Reuse& r) {
    note_used(b.litlen.data(), r.seen_lit.data(), 288);
    note_used(b.dist.data(), r.seen_dist.data(), 32);
}

// The costs of block `b`; those of the kept code only when `kept` (else kept_fits is false).
Costs block_costs(const Block& b, const Reuse& r, bool kept) {
    Costs c;
    bool ignored = true;
    c.fixed = weighted_sum(b.litlen.data(), fixed_len_table.data(), 288, ignored);
    c.extra = weighted_sum(b.litlen.data() + 256, length_extra_table.data(), 32, ignored) +
              weighted_sum(b.dist.data(), dist_extra_table.data(), 32, ignored);
    if (kept) {
        c.kept_lit = weighted_sum(b.litlen.data(), r.lit.code.len.data(), 288, c.kept_fits);
        c.kept_dist = weighted_sum(b.dist.data(), r.dist.code.len.data(), 32, c.kept_fits);
    } else {
        c.kept_fits = false;
    }
    return c;
}

// Builds the dynamic codes of block `b` (of a value of `n` bytes) into `r`, with their header; returns
// the header's and the codewords' bits (without extra bits).
u64 build_dynamic(const Block& b, unsigned n, Reuse& r) {
    std::memset(r.lit.code.len.data(), 0, sizeof r.lit.code.len);
    std::memset(r.dist.code.len.data(), 0, sizeof r.dist.code.len);
    r.lit.per_len = {};
    r.dist.per_len = {};
    // The block's frequencies, and 1 for the symbols seen since the last code was built.
    note_seen(b, r);
    std::array<u16, 288> lit_freq;
    std::array<u16, 32> dist_freq;
    for (unsigned i = 0; i < 288; ++i) lit_freq[i] = std::max(b.litlen[i], r.seen_lit[i]);
    for (unsigned i = 0; i < 32; ++i) dist_freq[i] = std::max(b.dist[i], r.seen_dist[i]);
    r.seen_lit = {};
    r.seen_dist = {};
    build_tree(lit_freq.data(), 288, max_codeword_len, r.lit);
    build_tree(dist_freq.data(), 32, max_codeword_len, r.dist);
    bool all_coded = true;
    const u32 lit_bits = weighted_sum(b.litlen.data(), r.lit.code.len.data(), 288, all_coded);
    const u32 dist_bits = weighted_sum(b.dist.data(), r.dist.code.len.data(), 32, all_coded);
    const unsigned hlit = r.lit.used[r.lit.m - 1] + 1u;
    const unsigned hdist = r.dist.used[r.dist.m - 1] + 1u;

    // Codewords for both codes, and their lengths (literal/length symbols 0..hlit, then distance
    // symbols 0..hdist) as one run-length coded sequence.
    LengthsHeader h;
    code_and_lengths(r.lit, 0, h);
    code_and_lengths(r.dist, hlit, h);
    if (h.repeated != 0)
        h.count = static_cast<unsigned>(add_repeats(h.tokens.data() + h.count, h.freq.data(), h.len, h.repeated) -
                                        h.tokens.data());
    Tree cl;
    cl.per_len = {};
    build_tree(h.freq.data(), 32, max_codelen_codeword_len, cl);
    assign_codewords(cl.used.data(), cl.m, cl.per_len.data(), cl.code);
    std::array<u8, 19> cl_lens{};
    for (unsigned i = 0; i < cl.m; ++i) cl_lens[cl.used[i]] = cl.code.len[cl.used[i]];
    unsigned hclen = 19;
    while (hclen > 4 && cl_lens[codelen_order[hclen - 1]] == 0) --hclen;

    BitWriter bw{r.header.data()};
    bw.put(1 | (2 << 1) | (hlit - 257) << 3 | (hdist - 1) << 8 | (hclen - 4) << 13, 17);  // BFINAL 1, BTYPE 10
    bw.flush();
    for (unsigned i = 0; i < hclen; ++i) bw.put(cl_lens[codelen_order[i]], 3);  // 1 + at most 57 bits
    bw.flush();
    // Each token is at most 7 + 7 bits: four between flushes.
    auto token = [&](unsigned t) {
        const unsigned sym = t & 31u, len = cl.code.len[sym];
        bw.put(cl.code.bits[sym] | u64{t >> 5} << len, len + field_bits[sym]);
    };
    unsigned i = 0;
    for (; i + 4 <= h.count; i += 4) {
        token(h.tokens[i]);
        token(h.tokens[i + 1]);
        token(h.tokens[i + 2]);
        token(h.tokens[i + 3]);
        bw.flush();
    }
    for (; i < h.count; ++i) token(h.tokens[i]);
    bw.flush();
    r.header_bits = static_cast<unsigned>(bw.out - r.header.data()) * 8 + bw.count;
    if (bw.count != 0) *bw.out = static_cast<u8>(bw.buf);
    r.longest_literal = 0;
    for (unsigned len = 1; len <= max_codeword_len; ++len)
        if (r.lit.per_len[len] != 0) r.longest_literal = len;
    r.since_built = 0;
    r.built_for = n;
    ++r.built;
    return u64{r.header_bits} + lit_bits + dist_bits;
}

}  // namespace

bool small_zlib_compress(std::string_view input, std::string& out) {
    if (input.size() > small_deflate_max_input) return false;
    const auto* in = reinterpret_cast<const u8*>(input.data());
    const auto n = static_cast<unsigned>(input.size());
    Workspace& ws = workspace();
    Reuse& r = reuse();

    parse(in, n, ws);
    Block& b = ws.block;
    b.litlen[end_of_block] = 1;

    const Costs c = block_costs(b, r, r.may_serve(n));
    const u64 fixed_bits = 3 + u64{c.fixed} + 5 * u64{b.matches} + c.extra;
    u64 dyn_bits;
    if (c.kept_fits) {
        dyn_bits = u64{r.header_bits} + c.kept_lit + c.kept_dist + c.extra;
        ++r.since_built;
        note_seen(b, r);
    } else {
        dyn_bits = build_dynamic(b, n, r) + c.extra;
    }
    const u64 stored_bytes = 5 + u64{n};  // 3 header bits padded to a byte, LEN, NLEN, the data

    // Header 78 01: deflate with a 32 KiB window, FLEVEL 0 (fastest), no dictionary; 0x7801 % 31 == 0.
    out.resize(2 + std::max<u64>(stored_bytes, r.header_bits / 8 + 1) + 4 + 8);
    auto* const begin = reinterpret_cast<u8*>(out.data());
    begin[0] = 0x78;
    begin[1] = 0x01;
    u8* end;
    if (std::min(dyn_bits, fixed_bits) >= stored_bytes * 8) {
        u8* p = begin + 2;
        *p++ = 0x01;  // BFINAL 1, BTYPE 00
        *p++ = static_cast<u8>(n);
        *p++ = static_cast<u8>(n >> 8);
        *p++ = static_cast<u8>(~n);
        *p++ = static_cast<u8>(~n >> 8);
        if (n != 0) std::memcpy(p, in, n);
        end = p + n;
    } else if (fixed_bits <= dyn_bits) {
        BitWriter bw{begin + 2};
        bw.put(1 | (1 << 1), 3);  // BFINAL 1, BTYPE 01
        write_block_data(bw, in, n, ws.matches.data(), b.matches, fixed_codes.litlen, fixed_codes.dist, 9);
        end = bw.finish();
    } else {
        const unsigned whole = r.header_bits / 8, rest = r.header_bits % 8;
        std::memcpy(begin + 2, r.header.data(), whole);
        BitWriter bw{begin + 2 + whole, rest != 0 ? u64{r.header[whole]} & ((1u << rest) - 1) : 0, rest};
        write_block_data(bw, in, n, ws.matches.data(), b.matches, r.lit.code, r.dist.code, r.longest_literal);
        end = bw.finish();
    }
    const u32 adler = libdeflate_adler32(1, in, n);
    end[0] = static_cast<u8>(adler >> 24);
    end[1] = static_cast<u8>(adler >> 16);
    end[2] = static_cast<u8>(adler >> 8);
    end[3] = static_cast<u8>(adler);
    out.resize(static_cast<std::size_t>(end + 4 - begin));
    return true;
}

namespace detail {

std::vector<std::uint8_t> small_deflate_code_lengths(const std::vector<std::uint16_t>& freq, unsigned max_len) {
    std::array<u16, 288> padded{};
    const std::size_t n = std::min(freq.size(), padded.size());
    std::copy(freq.begin(), freq.begin() + static_cast<std::ptrdiff_t>(n), padded.begin());
    Tree t;
    build_tree(padded.data(), 288, max_len, t);
    std::vector<std::uint8_t> lens(n, 0);
    for (unsigned i = 0; i < t.m; ++i)
        if (t.used[i] < n) lens[t.used[i]] = t.code.len[t.used[i]];
    return lens;
}

std::uint64_t small_deflate_codes_built() { return reuse().built; }

}  // namespace detail
}  // namespace mgw::queue
