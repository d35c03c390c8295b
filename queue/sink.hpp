// Where finished request sets go. The Redis writers (one connection, several, Cluster) and the
// durable spool in front of them all take sets through this one interface, so the HTTP side never
// knows which backend or which acknowledgement mode is configured.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace mgw::queue {

enum class WriteStatus {
    ok,           // stored: Redis answered the RPUSH (or, through the spool, the set is fsync'ed)
    unavailable,  // no Redis connection, or it broke before the reply (the set may or may not be stored)
    overloaded,   // the writer already holds its memory budget (or the spool is full)
    rejected,     // Redis answered with an error (OOM, READONLY, LOADING, ...)
    unconfirmed,  // sent, but the connection broke before the reply: it may or may not be stored
};

// Called exactly once per submitted set: on the sink's own executor, or inline from submit() when
// the set is refused at once. Keep it short (post elsewhere).
using WriteAck = std::function<void(WriteStatus)>;

// Where a sink reports state changes: (level, event, detail). Never per hit.
using WriterLog = std::function<void(std::string_view, std::string_view, std::string_view)>;

class QueueSink {
public:
    virtual ~QueueSink() = default;
    virtual void start() = 0;
    // Thread-safe. `key` is the queue's list, `value` the finished (compressed) request set.
    virtual void submit(std::string key, std::string value, WriteAck ack) = 0;
    // Stops taking sets, finishes those already taken (bounded by the sink's timeouts), then calls
    // `done` on the sink's executor.
    virtual void stop(std::function<void()> done) = 0;
    // True when a submitted set would be taken (Redis connected, or room in the spool).
    virtual bool ready() const = 0;
    // Why the sink is not ready (e.g. "connect failed: Connection refused", "auth failed: WRONGPASS
    // ..."); empty when it is, or when it can't say. Thread-safe; for /readyz and the error log.
    virtual std::string problem() const { return {}; }
    virtual std::size_t pending_bytes() const = 0;
};

}  // namespace mgw::queue
