// Strings whose memory a thread reuses: the key and the compressed value of every set are taken
// from here when the set is built, and given back when the Redis writer is done with them, so a hit
// allocates neither. Each thread keeps its own strings (no lock); a string given back on another
// thread than the one that took it simply joins that thread's strings.
#pragma once

#include <cstddef>
#include <string>

namespace mgw::queue {

// An empty string, with the memory of one given back earlier on this thread when there is one of
// the right kind: short (keys) when `expected` bytes are few, long (values) otherwise.
std::string take_string(std::size_t expected);
// Keeps `s`'s memory for a later take_string() on this thread: at most 256 strings of each kind,
// none above 4 KiB (bulk sets may be larger: not worth keeping), none that holds no heap memory.
void give_string(std::string&& s);

}  // namespace mgw::queue
