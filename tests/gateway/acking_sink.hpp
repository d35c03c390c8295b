// A queue sink for session tests: counts the sets and acknowledges each at once, as stored.
#pragma once

#include "queue/sink.hpp"

#include <functional>
#include <string>

namespace mgw::test {

class AckingSink : public mgw::queue::QueueSink {
public:
    std::size_t sets = 0;
    void start() override {}
    void submit(std::string, std::string, mgw::queue::WriteAck ack) override {
        ++sets;
        ack(mgw::queue::WriteStatus::ok);
    }
    void stop(std::function<void()> done) override { done(); }
    bool ready() const override { return true; }
};

}  // namespace mgw::test
