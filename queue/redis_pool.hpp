// Several pipelined Redis connections behind one QueueSink, for when one connection's round trips
// (not Redis itself) limit the write rate. Each queue key always uses the same connection, so the
// sets of one queue keep their order (checklist item 5); the memory budget is split between them.
#pragma once

#include "queue/redis_writer.hpp"
#include "queue/sink_group.hpp"

namespace mgw::queue {

class RedisPool final : public SinkGroup {
public:
    RedisPool(const boost::asio::any_io_executor& ex, const RedisOptions& opts, std::size_t connections,
              metrics::Metrics* metrics, const WriterLog& log);

    // A set goes to its queue's connection. The pool is ready while any connection is: a set whose
    // queue belongs to a connection that is down is refused at once (unavailable), so only those
    // queues go to the spool.
    void submit(std::string key, std::string value, WriteAck ack) override;
    // The connection's writer hands a set it did not store back itself (no copy kept here).
    void submit_or_return(std::string key, std::string value, ReturnAck ack) override;

    // The connection a key is written through.
    static std::size_t index_for(std::string_view key, std::size_t connections);
};

}  // namespace mgw::queue
