// Queue values back to JSON: see value_decode.hpp. libdeflate again (already linked for writing);
// its _ex decompressor reports how many input bytes one stream used, which is what splits
// redis-cli's raw output, where a binary value may itself contain newline bytes.
#include "queue/value_decode.hpp"

#include <libdeflate.h>

#include <memory>

namespace mgw::queue {
namespace {

struct DecompressorDeleter {
    void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
};

// A request set is at most --max-body-bytes of parameters plus env: 256 MiB is far above any value
// the gateway or stock writes, and bounds what a damaged length could make us allocate.
constexpr std::size_t max_json_bytes = std::size_t{256} << 20;

// Inflates the zlib stream at the start of `in`; `used` is set to its length in bytes.
bool inflate_stream(std::string_view in, std::string& out, std::size_t& used, std::string& error) {
    std::unique_ptr<libdeflate_decompressor, DecompressorDeleter> d(libdeflate_alloc_decompressor());
    if (!d) {
        error = "out of memory";
        return false;
    }
    for (std::size_t size = in.size() * 4 + 256;; size *= 2) {
        if (size > max_json_bytes) size = max_json_bytes;
        out.resize(size);
        std::size_t in_used = 0, out_used = 0;
        const auto r =
            libdeflate_zlib_decompress_ex(d.get(), in.data(), in.size(), out.data(), out.size(), &in_used, &out_used);
        if (r == LIBDEFLATE_SUCCESS) {
            out.resize(out_used);
            used = in_used;
            return true;
        }
        if (r != LIBDEFLATE_INSUFFICIENT_SPACE || size == max_json_bytes) {
            error = r == LIBDEFLATE_INSUFFICIENT_SPACE ? "value inflates to more than 256 MiB"
                                                       : "not a complete zlib stream (damaged or cut short)";
            return false;
        }
    }
}

bool is_zlib_header(std::string_view v) {
    if (v.size() < 2) return false;
    const auto cmf = static_cast<unsigned char>(v[0]), flg = static_cast<unsigned char>(v[1]);
    return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// One line of redis-cli's quoted output, `"..."` or `N) "..."`, unescaped; false if it is not one.
bool unquote_line(std::string_view line, std::string& out) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto paren = line.find(") ");
    if (paren != std::string_view::npos && paren > 0 && line.find('"') > paren) line.remove_prefix(paren + 2);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (line.size() < 2 || line.front() != '"' || line.back() != '"') return false;
    line = line.substr(1, line.size() - 2);
    out.clear();
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] != '\\' || i + 1 == line.size()) {
            out += line[i];
            continue;
        }
        const char e = line[++i];
        switch (e) {
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'a': out += '\a'; break;
            case 'b': out += '\b'; break;
            case 'x':
                if (i + 2 < line.size() && hex_digit(line[i + 1]) >= 0 && hex_digit(line[i + 2]) >= 0) {
                    out += static_cast<char>(hex_digit(line[i + 1]) * 16 + hex_digit(line[i + 2]));
                    i += 2;
                    break;
                }
                return false;
            default: out += e;  // \" and \\ (redis-cli escapes nothing else)
        }
    }
    return true;
}

// redis-cli's quoted output starts with `"` (one value) or with `1) "` (a list, the index right-aligned
// with spaces once there are 10 values or more); its raw output with a zlib header byte or `{`.
bool quoted_form(std::string_view output) {
    if (output.starts_with("\"")) return true;
    while (output.starts_with(" ")) output.remove_prefix(1);
    std::size_t i = 0;
    while (i < output.size() && output[i] >= '0' && output[i] <= '9') ++i;
    return i > 0 && output.substr(i).starts_with(") \"");
}

}  // namespace

std::string decode_value(std::string_view value, std::string& error) {
    if (!value.empty() && value.front() == '{') return std::string(value);
    if (!is_zlib_header(value)) {
        error = "neither a zlib stream nor plain JSON";
        return {};
    }
    std::string json;
    std::size_t used = 0;
    if (!inflate_stream(value, json, used, error)) return {};
    return json;
}

std::vector<std::string> decode_redis_cli_output(std::string_view output, std::string& error) {
    std::vector<std::string> values;
    if (output.starts_with("(nil)") || output.starts_with("(empty")) output = {};
    if (quoted_form(output)) {
        // Quoted form: one value per line.
        std::size_t start = 0;
        while (start < output.size()) {
            auto end = output.find('\n', start);
            if (end == std::string_view::npos) end = output.size();
            const auto line = output.substr(start, end - start);
            start = end + 1;
            if (line.empty() || line == "\r") continue;
            std::string bytes;
            if (!unquote_line(line, bytes)) {
                error = "value " + std::to_string(values.size() + 1) + ": not a quoted redis-cli string";
                return values;
            }
            auto json = decode_value(bytes, error);
            if (!error.empty()) {
                error.insert(0, "value " + std::to_string(values.size() + 1) + ": ");
                return values;
            }
            values.push_back(std::move(json));
        }
        return values;
    }
    // Raw form: value bytes, then the newline redis-cli adds.
    while (!output.empty()) {
        if (output.front() == '\n' || output.front() == '\r') {
            output.remove_prefix(1);
            continue;
        }
        const std::string where = "value " + std::to_string(values.size() + 1) + ": ";
        if (output.front() == '{') {
            // Plain JSON never holds a raw newline (JSON escapes control characters).
            const auto end = output.find('\n');
            values.emplace_back(output.substr(0, end));
            output.remove_prefix(end == std::string_view::npos ? output.size() : end);
            continue;
        }
        if (!is_zlib_header(output)) {
            error = where + "neither a zlib stream nor plain JSON";
            return values;
        }
        std::string json;
        std::size_t used = 0;
        if (!inflate_stream(output, json, used, error)) {
            error.insert(0, where);
            return values;
        }
        values.push_back(std::move(json));
        output.remove_prefix(used);
    }
    if (values.empty()) error = "no value on the input (an empty list, or a key that does not exist?)";
    return values;
}

}  // namespace mgw::queue
