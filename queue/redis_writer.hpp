// The queue writer: one pipelined Redis connection, shared by the client connections of one I/O
// thread (the gateway runs one per thread: queue/thread_sinks.hpp). Request sets handed in from any
// thread are collected while the previous write is on the wire (group commit: a batch waits at most
// one write), sent as back-to-back RPUSH commands (still one RPUSH per set, checklist item 4) and
// acknowledged one by one as their replies arrive in order.
// Memory held is bounded: past max_pending_bytes a set is refused at once (overloaded).
#pragma once

#include "queue/redis_options.hpp"
#include "queue/sink.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <string>

namespace mgw::metrics {
class Metrics;
}

namespace mgw::queue {

class RedisWriter final : public QueueSink {
public:
    // `ex` must be an io_context's executor, and that io_context run by one thread only: the writer
    // has no strand (the gateway runs one on each I/O thread's context).
    RedisWriter(const boost::asio::any_io_executor& ex, RedisOptions opts, metrics::Metrics* metrics = nullptr,
                WriterLog log = {});
    ~RedisWriter() override;
    RedisWriter(const RedisWriter&) = delete;
    RedisWriter& operator=(const RedisWriter&) = delete;

    void start() override;
    // Thread-safe. `value` is the finished (compressed) request set.
    void submit(std::string key, std::string value, WriteAck ack) override;
    // No copy: the writer keeps the set's bytes until Redis answers, and hands them back unless stored.
    void submit_or_return(std::string key, std::string value, ReturnAck ack) override;
    // For the cluster writer: when Redis answers the RPUSH with an error, its text (MOVED, ASK...)
    // is stored in *error before `ack` runs; `asking` sends ASKING in front of the RPUSH.
    void submit_routed(std::string key, std::string value, WriteAck ack, std::shared_ptr<std::string> error,
                       bool asking);
    // Stops taking sets, waits for the replies of those already sent (bounded by the reply
    // timeout), closes the connection, then calls `done` on the writer's io_context.
    void stop(std::function<void()> done) override;

    bool ready() const override;
    std::string problem() const override;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace mgw::queue
