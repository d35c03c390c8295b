// A sink made of several sinks (RedisPool's connections, ThreadSinks' per-thread backends): how it
// starts, stops and reports on all of them. Which one takes a set is the derived class's choice.
#pragma once

#include "queue/sink.hpp"

#include <memory>
#include <string>
#include <vector>

namespace mgw::queue {

class SinkGroup : public QueueSink {
public:
    void start() override;
    // Stops every sink; `done` runs once, where the last of them reports it stopped.
    void stop(std::function<void()> done) override;
    // Any of them would take a set.
    bool ready() const override;
    // The first problem one of them reports, or empty.
    std::string problem() const override;

protected:
    explicit SinkGroup(std::vector<std::unique_ptr<QueueSink>> sinks) : sinks_(std::move(sinks)) {}
    std::vector<std::unique_ptr<QueueSink>> sinks_;
};

}  // namespace mgw::queue
