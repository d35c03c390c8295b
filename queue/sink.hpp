// Where finished request sets go. The Redis writers (one connection, several, Cluster) and the
// durable spool in front of them all take sets through this one interface, so the HTTP side never
// knows which backend or which acknowledgement mode is configured.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

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

// Like WriteAck, for submit_or_return: a set that was not stored comes back with its status, its key
// and its value (both empty when the status is ok), so the caller can keep it elsewhere without
// holding a copy while the sink has it.
using ReturnAck = std::function<void(WriteStatus, std::string key, std::string value)>;

// Where a sink reports state changes: (level, event, detail). Never per hit.
using WriterLog = std::function<void(std::string_view, std::string_view, std::string_view)>;

class QueueSink {
public:
    virtual ~QueueSink() = default;
    virtual void start() = 0;
    // Thread-safe. `key` is the queue's list, `value` the finished (compressed) request set.
    virtual void submit(std::string key, std::string value, WriteAck ack) = 0;
    // Like submit, but a set that is not stored is handed back through `ack`. This default keeps a
    // copy of it; a sink that holds the bytes until the outcome anyway hands back its own.
    virtual void submit_or_return(std::string key, std::string value, ReturnAck ack) {
        auto held = std::make_shared<std::pair<std::string, std::string>>(key, value);
        submit(std::move(key), std::move(value), [held, ack = std::move(ack)](WriteStatus s) {
            if (s == WriteStatus::ok) return ack(s, {}, {});
            ack(s, std::move(held->first), std::move(held->second));
        });
    }
    // Stops taking sets, finishes those already taken (bounded by the sink's timeouts), then calls
    // `done` on the sink's executor.
    virtual void stop(std::function<void()> done) = 0;
    // True when a submitted set would be taken (Redis connected, or room in the spool).
    virtual bool ready() const = 0;
    // Why the sink is not ready (e.g. "connect failed: Connection refused", "auth failed: WRONGPASS
    // ..."); empty when it is, or when it can't say. Thread-safe; for /readyz and the error log.
    virtual std::string problem() const { return {}; }
};

}  // namespace mgw::queue
