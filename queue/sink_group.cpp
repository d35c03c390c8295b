#include "queue/sink_group.hpp"

#include <algorithm>
#include <atomic>

namespace mgw::queue {

void SinkGroup::start() {
    for (auto& s : sinks_) s->start();
}

void SinkGroup::stop(std::function<void()> done) {
    auto left = std::make_shared<std::atomic<std::size_t>>(sinks_.size());
    auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
    for (auto& s : sinks_) {
        s->stop([left, shared_done] {
            if (--*left == 0) (*shared_done)();
        });
    }
}

bool SinkGroup::ready() const {
    return std::any_of(sinks_.begin(), sinks_.end(), [](const auto& s) { return s->ready(); });
}

std::string SinkGroup::problem() const {
    for (const auto& s : sinks_)
        if (auto p = s->problem(); !p.empty()) return p;
    return {};
}

}  // namespace mgw::queue
