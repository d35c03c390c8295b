// The request set: the unit one RPUSH stores (docs/wire-format.md): the hits of one HTTP request that share a
// queue, the environment the worker restores, the token and the enqueue time. The hit path encodes a set's
// parts where they are (SetParts); RequestSet owns them, for a set built by hand (tests, the micro-benchmark).
#pragma once

#include "php/params.hpp"

#include <boost/container/small_vector.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mgw::queue {

// The hits of a request or a set: nearly always one, so held inline.
using Hits = boost::container::small_vector<php::Params, 1>;

struct RequestSet {
    Hits requests;                          // hit parameter maps, in arrival order
    php::Params server;                     // env.server, in this order
    php::Params cookies;                    // env.cookie; written as [] when empty
    std::optional<std::string> token_auth;  // nullopt is JSON false
    std::int64_t time = 0;                  // UNIX seconds at enqueue
};

// The JSON document of docs/wire-format.md: exactly requests, env {server, cookie}, tokenAuth and time.
// Strings must already be valid UTF-8 (the parsers scrub them); the output is always valid JSON.
std::string encode_json(const RequestSet& set);
// The same into `out` (replaced; its capacity is reused, so a buffer kept by the caller saves an
// allocation per set).
void encode_json_into(const RequestSet& set, std::string& out);

// A request set's parts where they are: what the hit path encodes.
struct SetParts {
    const Hits& requests;
    const php::Params& server;
    const php::Params& cookies;
    const std::string* token_auth;  // null is JSON false
    std::int64_t time;
};
void encode_json_into(const SetParts& set, std::string& out);

// Writes "u00xx" (the escape of control character `c` after its backslash, lower-case hex as
// Boost.JSON writes it) at `d`; returns the end. Also used by the access log.
inline char* write_u00xx(char* d, unsigned char c) {
    static constexpr char hex[] = "0123456789abcdef";
    d[0] = 'u';
    d[1] = '0';
    d[2] = '0';
    d[3] = hex[c >> 4];
    d[4] = hex[c & 0xF];
    return d + 5;
}

}  // namespace mgw::queue
