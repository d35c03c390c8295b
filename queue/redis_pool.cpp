#include "queue/redis_pool.hpp"

#include "queue/sink_group.hpp"

#include <algorithm>

namespace mgw::queue {

RedisPool::RedisPool(const boost::asio::any_io_executor& ex, const RedisOptions& opts, std::size_t connections,
                     metrics::Metrics* metrics, const WriterLog& log) {
    RedisOptions each = opts;
    each.max_pending_bytes = std::max<std::size_t>(opts.max_pending_bytes / connections, 4096);
    for (std::size_t i = 0; i < connections; ++i)
        writers_.push_back(std::make_unique<RedisWriter>(ex, each, metrics, log));
}

std::size_t RedisPool::index_for(std::string_view key, std::size_t connections) {
    // FNV-1a: stable across runs and platforms, so a key's connection doesn't depend on the build.
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
    return static_cast<std::size_t>(h % connections);
}

void RedisPool::start() { group::start_all(writers_); }

void RedisPool::submit(std::string key, std::string value, WriteAck ack) {
    const std::size_t i = index_for(key, writers_.size());
    writers_[i]->submit(std::move(key), std::move(value), std::move(ack));
}

void RedisPool::submit_or_return(std::string key, std::string value, ReturnAck ack) {
    const std::size_t i = index_for(key, writers_.size());
    writers_[i]->submit_or_return(std::move(key), std::move(value), std::move(ack));
}

void RedisPool::stop(std::function<void()> done) { group::stop_all(writers_, std::move(done)); }

bool RedisPool::ready() const { return group::any_ready(writers_); }

std::string RedisPool::problem() const { return group::first_problem(writers_); }

}  // namespace mgw::queue
