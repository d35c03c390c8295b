#include "spool/durable_sink.hpp"

#include "metrics/metrics.hpp"
#include "spool/record.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <atomic>
#include <set>

namespace mgw::spool {

namespace net = boost::asio;
using queue::WriteStatus;
using Clock = std::chrono::steady_clock;

struct DurableSink::Impl : std::enable_shared_from_this<Impl> {
    Impl(const net::any_io_executor& ex, queue::QueueSink& r, Spool* s, DurableOptions o, metrics::Metrics* m,
         queue::WriterLog l)
        : strand(net::make_strand(ex)), timer(strand), redis(r), spool(s), opts(std::move(o)), metrics(m),
          log(std::move(l)) {}

    net::strand<net::any_io_executor> strand;
    net::steady_timer timer;
    queue::QueueSink& redis;
    Spool* spool;
    DurableOptions opts;
    metrics::Metrics* metrics;
    queue::WriterLog log;
    std::atomic<bool> stopping{false};

    // Replay state, strand only.
    struct Window {
        std::vector<Entry> entries;
        std::vector<WriteStatus> status;
        std::size_t remaining = 0;
        Clock::time_point started;
    };
    bool window_busy = false;
    bool paused = false;                       // last window failed: logged once until replay succeeds
    std::chrono::milliseconds retry_delay{0};  // doubles while windows keep failing
    std::set<Position> already_stored;         // record ends stored by a window that failed before them
    std::function<void()> after_window;        // stop() waiting for the window on the wire

    void acknowledged(metrics::AckedVia via) {
        if (metrics) metrics->set_acknowledged(via);
    }

    void to_spool(std::string_view key, std::string_view value, queue::WriteAck ack) {
        spool->append(key, value, [self = shared_from_this(), ack = std::move(ack)](bool stored) {
            if (stored) self->acknowledged(metrics::AckedVia::spool);
            ack(stored ? WriteStatus::ok : WriteStatus::overloaded);
        });
    }

    // Each acknowledgement holds the sink with one reference, taken where it is made: the count is
    // shared by every I/O thread, so every increment and decrement is a cache line they pass around.
    void submit(std::string key, std::string value, queue::WriteAck ack) {
        switch (opts.ack) {
            case AckMode::redis:
                redis.submit(std::move(key), std::move(value),
                             [self = shared_from_this(), ack = std::move(ack)](WriteStatus s) {
                                 if (s == WriteStatus::ok) self->acknowledged(metrics::AckedVia::redis);
                                 ack(s);
                             });
                return;
            case AckMode::spool: {
                if (!redis.ready()) return to_spool(key, value, std::move(ack));
                // The writer hands the set back if Redis does not take it: no copy is kept meanwhile.
                redis.submit_or_return(std::move(key), std::move(value),
                                       [self = shared_from_this(), ack = std::move(ack)](
                                           WriteStatus s, const std::string& k, const std::string& v) mutable {
                                           if (s == WriteStatus::ok) {
                                               self->acknowledged(metrics::AckedVia::redis);
                                               return ack(s);
                                           }
                                           if (s == WriteStatus::unconfirmed && self->metrics)
                                               self->metrics->spool_possible_duplicates(1);
                                           self->to_spool(k, v, std::move(ack));
                                       });
                return;
            }
            case AckMode::memory: {
                if (!redis.ready() && spool->full()) return ack(WriteStatus::overloaded);
                // A set the spool could not hold is acknowledged only once Redis has it: acknowledged
                // first, it would be lost if Redis then failed.
                if (!record_fits(key, value)) return redis.submit(std::move(key), std::move(value), std::move(ack));
                acknowledged(metrics::AckedVia::memory);
                ack(WriteStatus::ok);
                redis.submit_or_return(
                    std::move(key), std::move(value),
                    [self = shared_from_this()](WriteStatus s, const std::string& k, const std::string& v) {
                        if (s == WriteStatus::ok) return;
                        if (s == WriteStatus::unconfirmed && self->metrics) self->metrics->spool_possible_duplicates(1);
                        self->spool->append(k, v, [self](bool stored) {
                            // Acknowledged already and now neither in Redis nor on disk: say so
                            // loudly.
                            if (!stored && self->metrics) self->metrics->acknowledged_lost(1);
                            if (!stored && self->log)
                                self->log("error", "acknowledged_set_lost", "spool refused it (--ack=memory)");
                        });
                    });
                return;
            }
        }
    }

    // ---- Replay ----

    void schedule(Clock::time_point at) {
        if (stopping) return;
        auto self = shared_from_this();
        timer.expires_at(at);
        timer.async_wait([self](boost::system::error_code ec) {
            if (!ec) self->replay();
        });
    }

    void replay() {
        if (stopping || window_busy) return;
        const auto now = Clock::now();
        if (!spool || spool->records() == 0 || !redis.ready()) return schedule(now + std::chrono::milliseconds(50));
        // About 50 ms worth of the rate per window, so the rate holds without bursts.
        const auto per_window = static_cast<std::size_t>(std::max(1.0, opts.replay_rate / 20));
        auto w = std::make_shared<Window>();
        w->entries = spool->read(std::min(opts.replay_window, per_window));
        if (w->entries.empty()) return schedule(now + std::chrono::milliseconds(50));
        w->status.assign(w->entries.size(), WriteStatus::unavailable);
        w->remaining = w->entries.size();
        w->started = now;
        window_busy = true;
        spool->mark_inflight(w->entries.back().end);
        auto self = shared_from_this();
        std::size_t skipped = 0;
        for (std::size_t i = 0; i < w->entries.size(); ++i) {
            auto& e = w->entries[i];
            if (already_stored.erase(e.end)) {
                w->status[i] = WriteStatus::ok;
                ++skipped;
                continue;
            }
            redis.submit(std::move(e.record.key), std::move(e.record.value), [self, w, i](WriteStatus s) {
                net::post(self->strand, [self, w, i, s] {
                    w->status[i] = s;
                    if (--w->remaining == 0) self->window_done(*w);
                });
            });
        }
        if (skipped) {
            w->remaining -= skipped;
            if (w->remaining == 0) net::post(strand, [self, w] { self->window_done(*w); });
        }
    }

    void window_done(Window& w) {
        window_busy = false;
        const std::size_t n = w.entries.size();
        std::size_t bad = 0;
        while (bad < n && w.status[bad] == WriteStatus::ok) ++bad;
        if (bad > 0) {
            spool->consume(w.entries[bad - 1].end, bad);
            if (metrics) metrics->spool_replayed(bad);
        }
        if (bad == n) {
            if (paused && log) log("info", "spool_replay_resumed", std::to_string(spool->records()) + " sets waiting");
            paused = false;
            retry_delay = opts.replay_retry;
            if (after_window) return std::exchange(after_window, nullptr)();
            // The next window starts when the rate allows.
            const auto spacing = std::chrono::duration<double>(static_cast<double>(n) / opts.replay_rate);
            return schedule(w.started + std::chrono::duration_cast<Clock::duration>(spacing));
        }
        // Redis refused or lost a set: send from there again later. Sets behind it that were
        // stored are remembered so they are not sent twice; sets whose reply was lost may be.
        for (std::size_t j = bad; j < n; ++j) {
            if (w.status[j] == WriteStatus::ok) already_stored.insert(w.entries[j].end);
            if (w.status[j] == WriteStatus::unconfirmed && metrics) metrics->spool_possible_duplicates(1);
        }
        spool->rewind(w.entries[bad].start);
        if (metrics) metrics->spool_replay_failed();
        if (!paused && log) {
            static constexpr const char* names[] = {"ok", "unavailable", "overloaded", "rejected", "unconfirmed"};
            log("warn", "spool_replay_paused", std::string("redis answered ") + names[static_cast<int>(w.status[bad])]);
        }
        paused = true;
        if (after_window) return std::exchange(after_window, nullptr)();
        // Back off while Redis keeps refusing (or keeps losing replies, each retry of which may
        // store a set once more): 1x, 2x, 4x ... up to 16x the retry pause.
        retry_delay = std::clamp(retry_delay * 2, opts.replay_retry, opts.replay_retry * 16);
        schedule(Clock::now() + retry_delay);
    }

    void stop(std::function<void()> done) {
        auto self = shared_from_this();
        net::post(strand, [self, done = std::move(done)]() mutable {
            self->stopping = true;
            self->timer.cancel();
            auto finish = [self, done = std::move(done)]() mutable {
                self->redis.stop([self, done = std::move(done)]() mutable {
                    // Sets the writer gave back while stopping are in the spool's queue now.
                    if (self->spool) self->spool->stop();
                    done();
                });
            };
            if (self->window_busy) self->after_window = std::move(finish);
            else finish();
        });
    }
};

DurableSink::DurableSink(const net::any_io_executor& ex, queue::QueueSink& redis, Spool* spool, DurableOptions opts,
                         metrics::Metrics* metrics, queue::WriterLog log)
    : impl_(std::make_shared<Impl>(ex, redis, spool, std::move(opts), metrics, std::move(log))) {}

DurableSink::~DurableSink() = default;

void DurableSink::start() {
    impl_->redis.start();
    if (impl_->spool) {
        auto impl = impl_;
        net::post(impl->strand, [impl] { impl->replay(); });
    }
}

void DurableSink::submit(std::string key, std::string value, queue::WriteAck ack) {
    impl_->submit(std::move(key), std::move(value), std::move(ack));
}

void DurableSink::stop(std::function<void()> done) { impl_->stop(std::move(done)); }

bool DurableSink::ready() const { return impl_->redis.ready() || (impl_->spool && !impl_->spool->full()); }

bool DurableSink::spool_full() const { return impl_->spool && impl_->spool->full(); }

}  // namespace mgw::spool
