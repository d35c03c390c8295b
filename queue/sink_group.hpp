// What a sink made of several sinks (RedisPool's connections, ThreadSinks' per-thread backends)
// does with all of them at once.
#pragma once

#include "queue/sink.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace mgw::queue::group {

template <class Sinks>
void start_all(Sinks& sinks) {
    for (auto& s : sinks) s->start();
}

// Any of `sinks` (pointers to QueueSinks) would take a set.
template <class Sinks>
bool any_ready(const Sinks& sinks) {
    return std::any_of(sinks.begin(), sinks.end(), [](const auto& s) { return s->ready(); });
}

// The first problem one of `sinks` reports, or empty.
template <class Sinks>
std::string first_problem(const Sinks& sinks) {
    for (const auto& s : sinks)
        if (auto p = s->problem(); !p.empty()) return p;
    return {};
}

// Stops every one of `sinks`; `done` runs once, where the last of them reports it stopped.
template <class Sinks>
void stop_all(Sinks& sinks, std::function<void()> done) {
    auto left = std::make_shared<std::atomic<std::size_t>>(sinks.size());
    auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
    for (auto& s : sinks) {
        s->stop([left, shared_done] {
            if (--*left == 0) (*shared_done)();
        });
    }
}

}  // namespace mgw::queue::group
