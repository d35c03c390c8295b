#include "queue/redis_sink.hpp"

#include "queue/redis_cluster.hpp"
#include "queue/redis_pool.hpp"
#include "queue/redis_writer.hpp"

namespace mgw::queue {

std::unique_ptr<QueueSink> make_redis_sink(boost::asio::any_io_executor ex, const RedisOptions& opts,
                                           metrics::Metrics* metrics, WriterLog log) {
    if (opts.cluster) return std::make_unique<RedisCluster>(std::move(ex), opts, metrics, std::move(log));
    if (opts.connections > 1)
        return std::make_unique<RedisPool>(std::move(ex), opts, opts.connections, metrics, std::move(log));
    return std::make_unique<RedisWriter>(std::move(ex), opts, metrics, std::move(log));
}

}  // namespace mgw::queue
