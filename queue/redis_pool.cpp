#include "queue/redis_pool.hpp"

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

void RedisPool::start() {
    for (auto& w : writers_) w->start();
}

void RedisPool::submit(std::string key, std::string value, WriteAck ack) {
    const std::size_t i = index_for(key, writers_.size());
    writers_[i]->submit(std::move(key), std::move(value), std::move(ack));
}

void RedisPool::stop(std::function<void()> done) {
    auto left = std::make_shared<std::atomic<std::size_t>>(writers_.size());
    auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
    for (auto& w : writers_) {
        w->stop([left, shared_done] {
            if (--*left == 0) (*shared_done)();
        });
    }
}

bool RedisPool::ready() const {
    return std::any_of(writers_.begin(), writers_.end(), [](const auto& w) { return w->ready(); });
}

std::string RedisPool::problem() const {
    for (const auto& w : writers_)
        if (auto p = w->problem(); !p.empty()) return p;
    return {};
}

}  // namespace mgw::queue
