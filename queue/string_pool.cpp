#include "queue/string_pool.hpp"

#include <array>
#include <utility>
#include <vector>

namespace mgw::queue {
namespace {

constexpr std::size_t max_strings = 256;
constexpr std::size_t max_capacity = 4096;
constexpr std::size_t long_from = 64;  // capacity from which a string is of the long kind
// std::string keeps short text in the object itself (libstdc++: 15 bytes); such a string holds no
// memory worth keeping.
const std::size_t inline_capacity = std::string().capacity();

std::vector<std::string>& pool(bool long_kind) {
    thread_local std::array<std::vector<std::string>, 2> pools;
    return pools[long_kind ? 1 : 0];
}

}  // namespace

std::string take_string(std::size_t expected) {
    auto& p = pool(expected >= long_from);
    if (p.empty()) return {};
    std::string s = std::move(p.back());
    p.pop_back();
    return s;
}

void give_string(std::string&& s) {
    const std::size_t capacity = s.capacity();
    if (capacity <= inline_capacity || capacity > max_capacity) return;
    auto& p = pool(capacity >= long_from);
    if (p.size() >= max_strings) return;
    if (p.capacity() == 0) p.reserve(max_strings);
    s.clear();
    p.push_back(std::move(s));
}

}  // namespace mgw::queue
