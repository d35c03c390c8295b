// Builds the Redis side of the queue from the options: the backend (standalone, Sentinel), over one
// connection or a pool of them (--redis-connections), behind one QueueSink.
#pragma once

#include "queue/redis_options.hpp"
#include "queue/sink.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <vector>

namespace mgw::metrics {
class Metrics;
}

namespace mgw::queue {

std::unique_ptr<QueueSink> make_redis_sink(boost::asio::any_io_executor ex, const RedisOptions& opts,
                                           metrics::Metrics* metrics, WriterLog log);

// One backend per I/O thread's context (ThreadSinks), each with its share of the memory budget;
// Cluster keeps one backend on the first context (its slot map and refresher are shared).
std::unique_ptr<QueueSink> make_redis_sink(const std::vector<boost::asio::io_context*>& contexts,
                                           const RedisOptions& opts, metrics::Metrics* metrics, WriterLog log);

}  // namespace mgw::queue
