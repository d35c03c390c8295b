// The queue as the HTTP side sees it: Redis first, the local spool when Redis can't take a set,
// and a replay loop that moves spooled sets back into Redis once it can.
//
// --ack decides when a client hears 200/204:
//   redis   only once Redis stored the set; Redis unavailable or full: 503 (no disk involved)
//   spool   once Redis stored it, or once it is fsync'ed in the spool (the default: nothing
//           acknowledged is lost across Redis outages, Redis OOM, gateway restarts or crashes)
//   memory  as soon as the set is accepted; it reaches Redis or the spool afterwards. Fastest
//           answer; a gateway crash loses what was not yet written.
#pragma once

#include "queue/sink.hpp"
#include "spool/spool.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <memory>

namespace mgw::spool {

enum class AckMode { redis, spool, memory };

struct DurableOptions {
    AckMode ack = AckMode::spool;
    SpoolOptions spool;
    double replay_rate = 5000;                    // request sets per second into Redis
    std::size_t replay_window = 256;              // sets sent before waiting for their replies
    std::chrono::milliseconds replay_retry{250};  // pause after Redis refused a replayed set
    // /readyz turns 503 when Redis is unavailable and the spool's oldest hit is older than this, so
    // a load balancer prefers replicas that reach Redis (0: never; the spool keeps /readyz 200).
    std::chrono::milliseconds ready_max_spool_age{0};
};

class DurableSink final : public queue::QueueSink {
public:
    // `spool` is null with AckMode::redis. Both references outlive the sink.
    DurableSink(const boost::asio::any_io_executor& ex, queue::QueueSink& redis, Spool* spool, DurableOptions opts,
                metrics::Metrics* metrics, queue::WriterLog log);
    ~DurableSink() override;

    void start() override;
    void submit(std::string key, std::string value, queue::WriteAck ack) override;
    // Stops replay, lets the Redis writer finish (what it can't store goes to the spool), then
    // syncs and closes the spool.
    void stop(std::function<void()> done) override;
    // Redis connected, or room in the spool.
    bool ready() const override;
    bool spool_full() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace mgw::spool
