#include "queue/thread_sinks.hpp"

#include <boost/asio/post.hpp>

#include <cassert>

namespace mgw::queue {

ThreadSinks::ThreadSinks(std::vector<Executor> executors, std::vector<std::unique_ptr<QueueSink>> sinks)
    : SinkGroup(std::move(sinks)), executors_(std::move(executors)) {
    assert(!sinks_.empty() && executors_.size() == sinks_.size());
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
    SinkGroup::stop(
        [home = executors_.front(), done = std::move(done)]() mutable { boost::asio::post(home, std::move(done)); });
}

}  // namespace mgw::queue
