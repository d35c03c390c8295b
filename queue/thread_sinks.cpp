#include "queue/thread_sinks.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <cassert>

namespace mgw::queue {

ThreadSinks::ThreadSinks(std::vector<Executor> executors, std::vector<std::unique_ptr<QueueSink>> sinks)
    : executors_(std::move(executors)), sinks_(std::move(sinks)) {
    assert(!sinks_.empty() && executors_.size() == sinks_.size());
}

void ThreadSinks::start() {
    for (auto& s : sinks_) s->start();
}

QueueSink& ThreadSinks::sink_here() const {
    std::size_t own = 0;  // a thread that runs none of the contexts (a test's) uses the first
    for (std::size_t i = 0; i < executors_.size(); ++i) {
        if (executors_[i].running_in_this_thread()) {
            own = i;
            break;
        }
    }
    if (sinks_[own]->ready()) return *sinks_[own];
    for (const auto& s : sinks_)
        if (s->ready()) return *s;
    return *sinks_[own];
}

void ThreadSinks::submit(std::string key, std::string value, WriteAck ack) {
    sink_here().submit(std::move(key), std::move(value), std::move(ack));
}

void ThreadSinks::submit_or_return(std::string key, std::string value, ReturnAck ack) {
    sink_here().submit_or_return(std::move(key), std::move(value), std::move(ack));
}

void ThreadSinks::stop(std::function<void()> done) {
    auto left = std::make_shared<std::atomic<std::size_t>>(sinks_.size());
    auto finish = [left, home = executors_.front(), done = std::move(done)]() mutable {
        if (--*left == 0) boost::asio::post(home, std::move(done));
    };
    auto shared = std::make_shared<decltype(finish)>(std::move(finish));
    for (auto& s : sinks_) s->stop([shared] { (*shared)(); });
}

bool ThreadSinks::ready() const {
    return std::any_of(sinks_.begin(), sinks_.end(), [](const auto& s) { return s->ready(); });
}

std::string ThreadSinks::problem() const {
    for (const auto& s : sinks_)
        if (auto p = s->problem(); !p.empty()) return p;
    return {};
}

}  // namespace mgw::queue
