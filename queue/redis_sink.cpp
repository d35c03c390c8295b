#include "queue/redis_sink.hpp"

#include "queue/redis_cluster.hpp"
#include "queue/redis_pool.hpp"
#include "queue/redis_writer.hpp"
#include "queue/thread_sinks.hpp"

namespace mgw::queue {

std::unique_ptr<QueueSink> make_redis_sink(boost::asio::any_io_executor ex, const RedisOptions& opts,
                                           metrics::Metrics* metrics, WriterLog log) {
    if (opts.cluster) return std::make_unique<RedisCluster>(std::move(ex), opts, metrics, std::move(log));
    if (opts.connections > 1)
        return std::make_unique<RedisPool>(std::move(ex), opts, opts.connections, metrics, std::move(log));
    return std::make_unique<RedisWriter>(std::move(ex), opts, metrics, std::move(log));
}

std::unique_ptr<QueueSink> make_redis_sink(const std::vector<boost::asio::io_context*>& contexts,
                                           const RedisOptions& opts, metrics::Metrics* metrics, WriterLog log) {
    if (opts.cluster || contexts.size() == 1)
        return make_redis_sink(contexts.front()->get_executor(), opts, metrics, std::move(log));
    const RedisOptions each = share_of(opts, contexts.size());
    std::vector<ThreadSinks::Executor> executors;
    std::vector<std::unique_ptr<QueueSink>> sinks;
    for (auto* c : contexts) {
        executors.push_back(c->get_executor());
        sinks.push_back(make_redis_sink(c->get_executor(), each, metrics, log));
    }
    return std::make_unique<ThreadSinks>(std::move(executors), std::move(sinks));
}

}  // namespace mgw::queue
