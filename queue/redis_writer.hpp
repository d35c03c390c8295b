// The queue writer: one pipelined Redis connection that every client connection shares.
// Request sets handed in from any thread are collected while the previous write is on the wire
// (group commit: a batch waits at most one write), sent as back-to-back RPUSH commands (still one
// RPUSH per set, spec item 4) and acknowledged one by one as their replies arrive in order.
// Memory held is bounded: past max_pending_bytes a set is refused at once (overloaded).
#pragma once

#include "queue/redis_options.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace mgw::metrics { class Metrics; }

namespace mgw::queue {

enum class WriteStatus {
    ok,            // Redis answered the RPUSH: the set is stored
    unavailable,   // no Redis connection, or it broke before the reply (the set may or may not be stored)
    overloaded,    // the writer already holds max_pending_bytes
    rejected,      // Redis answered with an error (OOM, READONLY, LOADING, ...)
};

// Called exactly once per submitted set: on the writer's strand, or inline from submit() when the
// set is refused at once. Keep it short (post elsewhere).
using WriteAck = std::function<void(WriteStatus)>;

// Where the writer reports connection state changes: (level, event, detail).
using WriterLog = std::function<void(std::string_view, std::string_view, std::string_view)>;

class RedisWriter {
public:
    RedisWriter(boost::asio::any_io_executor ex, RedisOptions opts, metrics::Metrics* metrics = nullptr,
                WriterLog log = {});
    ~RedisWriter();
    RedisWriter(const RedisWriter&) = delete;
    RedisWriter& operator=(const RedisWriter&) = delete;

    void start();
    // Thread-safe. `value` is the finished (compressed) request set.
    void submit(std::string key, std::string value, WriteAck ack);
    // Stops taking sets, waits for the replies of those already sent (bounded by the reply
    // timeout), closes the connection, then calls `done` on the writer's strand.
    void stop(std::function<void()> done);

    bool ready() const;
    std::size_t pending_bytes() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace mgw::queue
