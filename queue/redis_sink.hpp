// Builds the Redis side of the queue from the options: the backend (standalone, Sentinel), over one
// connection or a pool of them (--redis-connections), behind one QueueSink.
#pragma once

#include "queue/redis_options.hpp"
#include "queue/sink.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <memory>

namespace mgw::metrics {
class Metrics;
}

namespace mgw::queue {

std::unique_ptr<QueueSink> make_redis_sink(boost::asio::any_io_executor ex, const RedisOptions& opts,
                                           metrics::Metrics* metrics, WriterLog log);

}  // namespace mgw::queue
