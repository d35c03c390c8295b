// The per-thread reuse of set keys' and values' memory.
#include "queue/string_pool.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

using mgw::queue::give_string;
using mgw::queue::take_string;

namespace {

// Empties this thread's pools of both kinds.
void drain() {
    while (take_string(512).capacity() > std::string().capacity()) {}
    while (take_string(32).capacity() > std::string().capacity()) {}
}

}  // namespace

TEST_CASE("string pool: a value's memory given back is taken again, empty, by the next value") {
    drain();
    std::string value(400, 'x');
    const char* const memory = value.data();
    give_string(std::move(value));
    std::string again = take_string(512);
    CHECK(again.empty());
    CHECK(again.data() == memory);
    CHECK(again.capacity() >= 400);
    CHECK(take_string(512).capacity() == std::string().capacity());  // there was only one
}

TEST_CASE("string pool: keys and values are kept apart, and what holds no memory or too much is not kept") {
    drain();
    give_string(std::string(20, 'k'));        // a key
    give_string(std::string(300, 'v'));       // a value
    give_string(std::string("short"));        // inline: nothing to keep
    give_string(std::string(8192, 'b'));      // a large bulk set: freed
    CHECK(take_string(32).capacity() >= 20);  // the key's memory
    CHECK(take_string(32).capacity() == std::string().capacity());
    const std::string v = take_string(512);
    CHECK(v.capacity() >= 300);
    CHECK(v.capacity() < 8192);
    CHECK(take_string(512).capacity() == std::string().capacity());
}

TEST_CASE("string pool: at most 256 strings of a kind, and each thread has its own") {
    drain();
    for (int i = 0; i < 300; ++i) give_string(std::string(100, 'x'));
    std::size_t kept = 0;
    while (take_string(512).capacity() >= 100) ++kept;
    CHECK(kept == 256);

    give_string(std::string(100, 'y'));
    std::size_t other_thread_found = 1;
    std::thread([&] { other_thread_found = take_string(512).capacity() >= 100 ? 1 : 0; }).join();
    CHECK(other_thread_found == 0);
    CHECK(take_string(512).capacity() >= 100);  // still here, on this thread
}
