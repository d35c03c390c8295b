// Redis Cluster backend (docs/wire-format.md, "Settings"): each queue key goes to the master owning its hash slot, one
// pipelined RedisWriter per master. The slot map comes from CLUSTER SLOTS (any node), is refreshed
// in the background, and is corrected at once by a MOVED reply; an ASK reply (slot being migrated)
// sends that set again to the importing node behind ASKING. No SELECT: a cluster has database 0 only.
#pragma once

#include "queue/redis_writer.hpp"

#include <array>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace mgw::queue {

// The cluster hash slot of a key: CRC16-XMODEM of the key, or of its {hash tag} when it has a
// non-empty one, modulo 16384.
unsigned key_slot(std::string_view key);

class RedisCluster final : public QueueSink {
public:
    RedisCluster(boost::asio::any_io_executor ex, const RedisOptions& opts, metrics::Metrics* metrics, WriterLog log);
    ~RedisCluster() override;

    void start() override;
    void submit(std::string key, std::string value, WriteAck ack) override;
    void stop(std::function<void()> done) override;
    // The slot map is complete and every master's connection is ready.
    bool ready() const override;
    std::string problem() const override;

private:
    static constexpr unsigned slots = 16384;
    void send(std::string key, std::string value, WriteAck ack, const std::string& node, bool asking, int hops);
    RedisWriter& writer_for(const std::string& node);
    void refresher();
    bool refresh_once(std::string& error);

    boost::asio::any_io_executor ex_;
    RedisOptions opts_;
    metrics::Metrics* metrics_;
    WriterLog log_;
    mutable std::mutex mu_;
    std::array<std::string, slots> owner_;                         // "host:port" per slot; empty: unknown
    std::map<std::string, std::unique_ptr<RedisWriter>> writers_;  // by node address
    bool map_complete_ = false;
    std::condition_variable cv_;
    bool refresh_wanted_ = false;
    bool stopping_ = false;
    std::thread refresh_thread_;
};

}  // namespace mgw::queue
