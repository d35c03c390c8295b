// One Redis backend per I/O thread. Each backend (a writer, a pool of them, Sentinel-led) runs on
// the io_context of one I/O thread, and a set is handed to the backend of the thread that submits
// it: a hit is read, queued, written to Redis, acknowledged and answered on one thread, with no
// hand-over between threads and no wake-up of another one (docs/architecture.md, "A hit, top to
// bottom").
//
// Order: a connection's sets all take its thread's backend, so one client's hits keep their
// order; sets from different connections were never ordered. A thread whose backend is down lends
// another thread's ready backend before its sets fall back to the spool.
#pragma once

#include "queue/sink_group.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>
#include <vector>

namespace mgw::queue {

class ThreadSinks final : public SinkGroup {
public:
    using Executor = boost::asio::io_context::executor_type;
    // `executors[i]` is the context `sinks[i]` runs on; the first is where `stop` calls `done`.
    ThreadSinks(std::vector<Executor> executors, std::vector<std::unique_ptr<QueueSink>> sinks);

    // The group is ready while any backend is: a thread whose own one is down uses another's.
    void submit(std::string key, std::string value, WriteAck ack) override;
    void submit_or_return(std::string key, std::string value, ReturnAck ack) override;
    // Stops every backend, then calls `done` on the first context.
    void stop(std::function<void()> done) override;

    // The backend a set submitted on this thread goes to: its own thread's when that is ready,
    // else the first ready one, else its own (which refuses it: unavailable).
    QueueSink& sink_here() const;

private:
    std::vector<Executor> executors_;
};

}  // namespace mgw::queue
