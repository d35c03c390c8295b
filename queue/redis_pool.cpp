#include "queue/redis_pool.hpp"

namespace mgw::queue {
namespace {

std::vector<std::unique_ptr<QueueSink>> make_writers(const boost::asio::any_io_executor& ex, const RedisOptions& opts,
                                                     std::size_t connections, metrics::Metrics* metrics,
                                                     const WriterLog& log) {
    const RedisOptions each = share_of(opts, connections);
    std::vector<std::unique_ptr<QueueSink>> writers;
    for (std::size_t i = 0; i < connections; ++i)
        writers.push_back(std::make_unique<RedisWriter>(ex, each, metrics, log));
    return writers;
}

}  // namespace

RedisPool::RedisPool(const boost::asio::any_io_executor& ex, const RedisOptions& opts, std::size_t connections,
                     metrics::Metrics* metrics, const WriterLog& log)
    : SinkGroup(make_writers(ex, opts, connections, metrics, log)) {}

std::size_t RedisPool::index_for(std::string_view key, std::size_t connections) {
    // FNV-1a: stable across runs and platforms, so a key's connection doesn't depend on the build.
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
    return static_cast<std::size_t>(h % connections);
}

void RedisPool::submit(std::string key, std::string value, WriteAck ack) {
    const std::size_t i = index_for(key, sinks_.size());
    sinks_[i]->submit(std::move(key), std::move(value), std::move(ack));
}

void RedisPool::submit_or_return(std::string key, std::string value, ReturnAck ack) {
    const std::size_t i = index_for(key, sinks_.size());
    sinks_[i]->submit_or_return(std::move(key), std::move(value), std::move(ack));
}

}  // namespace mgw::queue
