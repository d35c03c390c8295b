#include "queue/redis_cluster.hpp"

#include "metrics/metrics.hpp"
#include "queue/redis_sync.hpp"

#include <hiredis/hiredis.h>
#include <boost/crc.hpp>

#include <algorithm>
#include <charconv>
#include <set>

namespace mgw::queue {

unsigned key_slot(std::string_view key) {
    if (auto open = key.find('{'); open != std::string_view::npos) {
        auto close = key.find('}', open + 1);
        if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
    }
    boost::crc_optimal<16, 0x1021, 0, 0, false, false> crc;  // CRC-16/XMODEM, as Redis Cluster uses
    crc.process_bytes(key.data(), key.size());
    return crc.checksum() % 16384;
}

namespace {

constexpr int max_redirects = 5;

// "MOVED 3999 127.0.0.1:6381" or "ASK 3999 127.0.0.1:6381" -> kind, slot, node.
bool parse_redirect(std::string_view err, std::string_view& kind, unsigned& slot, std::string& node) {
    auto sp1 = err.find(' ');
    if (sp1 == std::string_view::npos) return false;
    kind = err.substr(0, sp1);
    if (kind != "MOVED" && kind != "ASK") return false;
    auto sp2 = err.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return false;
    auto num = err.substr(sp1 + 1, sp2 - sp1 - 1);
    if (std::from_chars(num.data(), num.data() + num.size(), slot).ec != std::errc() || slot >= 16384) return false;
    node = std::string(err.substr(sp2 + 1));
    return !node.empty();
}

std::pair<std::string, std::uint16_t> split_node(const std::string& node) {
    auto colon = node.rfind(':');
    std::uint16_t port = 6379;
    if (colon == std::string::npos) return {node, port};
    std::from_chars(node.data() + colon + 1, node.data() + node.size(), port);
    return {node.substr(0, colon), port};
}

}  // namespace

RedisCluster::RedisCluster(boost::asio::any_io_executor ex, const RedisOptions& opts, metrics::Metrics* metrics,
                           WriterLog log)
    : ex_(std::move(ex)), opts_(opts), metrics_(metrics), log_(std::move(log)) {}

RedisCluster::~RedisCluster() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
        cv_.notify_all();
    }
    if (refresh_thread_.joinable()) refresh_thread_.join();
}

void RedisCluster::start() {
    refresh_thread_ = std::thread([this] { refresher(); });
}

// The slot map is read with blocking hiredis calls on a thread of its own, so a slow or dead seed
// node never holds up the I/O threads.
void RedisCluster::refresher() {
    std::unique_lock lock(mu_);
    bool complete_before = false;
    while (!stopping_) {
        lock.unlock();
        std::string error;
        const bool ok = refresh_once(error);
        lock.lock();
        if (!ok && log_ && (complete_before || !map_complete_)) {
            lock.unlock();
            log_("warn", "redis_cluster_slots_failed", error);
            lock.lock();
        }
        complete_before = map_complete_;
        // Until the map is complete retry soon; afterwards every 10 s, or at once after a MOVED.
        cv_.wait_for(lock, map_complete_ ? std::chrono::seconds(10) : std::chrono::milliseconds(200),
                     [&] { return stopping_ || refresh_wanted_; });
        refresh_wanted_ = false;
    }
}

bool RedisCluster::refresh_once(std::string& error) {
    std::vector<std::pair<std::string, std::uint16_t>> candidates = opts_.cluster_seeds;
    {
        std::lock_guard lock(mu_);
        for (const auto& [node, w] : writers_) candidates.push_back(split_node(node));
    }
    const timeval tv{static_cast<time_t>(opts_.connect_timeout.count() / 1000),
                     static_cast<suseconds_t>((opts_.connect_timeout.count() % 1000) * 1000)};
    for (const auto& [host, port] : candidates) {
        redisContext* c = redisConnectWithTimeout(host.c_str(), port, tv);
        if (!c || c->err) {
            error = host + ":" + std::to_string(port) + ": " + (c ? c->errstr : "cannot connect");
            if (c) redisFree(c);
            continue;
        }
        redisSetTimeout(c, tv);
        if (!opts_.password.empty()) {
            auto* r = static_cast<redisReply*>(
                opts_.user.empty() ? redisCommand(c, "AUTH %b", opts_.password.data(), opts_.password.size())
                                   : redisCommand(c, "AUTH %b %b", opts_.user.data(), opts_.user.size(),
                                                  opts_.password.data(), opts_.password.size()));
            const bool refused = !r || r->type == REDIS_REPLY_ERROR;
            if (r) freeReplyObject(r);
            if (refused) {
                error = host + ":" + std::to_string(port) + ": AUTH refused";
                redisFree(c);
                continue;
            }
        }
        auto* r = static_cast<redisReply*>(redisCommand(c, "CLUSTER SLOTS"));
        std::array<std::string, slots> owner;
        std::size_t covered = 0;
        if (r && r->type == REDIS_REPLY_ARRAY) {
            covered = read_cluster_slots(r, host, owner);
        } else {
            error = host + ":" + std::to_string(port) + ": CLUSTER SLOTS answered " +
                    (r && r->type == REDIS_REPLY_ERROR ? std::string(r->str, r->len) : std::string("nothing"));
        }
        if (r) freeReplyObject(r);
        redisFree(c);
        if (covered == 0) continue;
        std::set<std::string> masters(owner.begin(), owner.end());
        masters.erase(std::string());
        {
            std::lock_guard lock(mu_);
            owner_ = owner;
            map_complete_ = covered == slots;
        }
        for (const auto& m : masters) writer_for(m);
        if (covered != slots) error = std::to_string(slots - covered) + " slots have no master";
        return covered == slots;
    }
    return false;
}

RedisWriter& RedisCluster::writer_for(const std::string& node) {
    std::lock_guard lock(mu_);
    auto it = writers_.find(node);
    if (it != writers_.end()) return *it->second;
    RedisOptions o = opts_;
    o.cluster = false;
    o.database = 0;
    auto [host, port] = split_node(node);
    o.host = host;
    o.port = port;
    auto w = std::make_unique<RedisWriter>(ex_, o, metrics_, log_);
    w->start();
    return *writers_.emplace(node, std::move(w)).first->second;
}

void RedisCluster::submit(std::string key, std::string value, WriteAck ack) {
    std::string node;
    {
        std::lock_guard lock(mu_);
        node = owner_[key_slot(key)];
    }
    if (node.empty()) {
        if (metrics_) metrics_->redis_write(metrics::WriteOutcome::unavailable, 0);
        return ack(WriteStatus::unavailable);
    }
    send(std::move(key), std::move(value), std::move(ack), node, false, 0);
}

void RedisCluster::send(std::string key, std::string value, WriteAck ack, const std::string& node, bool asking,
                        int hops) {
    auto error = std::make_shared<std::string>();
    // Kept for a resend after MOVED or ASK (the writer consumes its own copies).
    auto held = std::make_shared<std::pair<std::string, std::string>>(key, value);
    writer_for(node).submit_routed(
        std::move(key), std::move(value),
        [this, error, held, ack = std::move(ack), hops](WriteStatus s) mutable {
            std::string_view kind;
            unsigned slot = 0;
            std::string target;
            if (s != WriteStatus::rejected || hops >= max_redirects || !parse_redirect(*error, kind, slot, target))
                return ack(s);
            if (metrics_) metrics_->redis_redirect(kind == "MOVED");
            if (kind == "MOVED") {
                // The slot has a new owner for good: route there from now on, and re-read the map.
                std::lock_guard lock(mu_);
                owner_[slot] = target;
                refresh_wanted_ = true;
                cv_.notify_all();
            }
            send(std::move(held->first), std::move(held->second), std::move(ack), target, kind == "ASK", hops + 1);
        },
        error, asking);
}

void RedisCluster::stop(std::function<void()> done) {
    std::vector<RedisWriter*> all;
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
        cv_.notify_all();
        for (auto& [node, w] : writers_) all.push_back(w.get());
    }
    if (all.empty()) return done();
    auto left = std::make_shared<std::atomic<std::size_t>>(all.size());
    auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
    for (auto* w : all) {
        w->stop([left, shared_done] {
            if (--*left == 0) (*shared_done)();
        });
    }
}

bool RedisCluster::ready() const {
    std::lock_guard lock(mu_);
    if (!map_complete_) return false;
    std::set<std::string> masters(owner_.begin(), owner_.end());
    for (const auto& m : masters) {
        auto it = writers_.find(m);
        if (it == writers_.end() || !it->second->ready()) return false;
    }
    return true;
}

std::string RedisCluster::problem() const {
    std::lock_guard lock(mu_);
    for (const auto& [node, w] : writers_)
        if (auto p = w->problem(); !p.empty()) {
            std::string out = node;
            out += ": ";
            out += p;
            return out;
        }
    return map_complete_ ? std::string{} : std::string("no complete slot map yet");
}

}  // namespace mgw::queue
