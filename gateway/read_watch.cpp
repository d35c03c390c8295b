#include "gateway/read_watch.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <exception>

namespace mgw::gateway {
namespace net = boost::asio;

namespace {

constexpr std::uint32_t index_of(ReadWatch::Slot slot) { return static_cast<std::uint32_t>(slot & 0xffffffffU); }
constexpr std::uint32_t gen_of(ReadWatch::Slot slot) { return static_cast<std::uint32_t>(slot >> 32U); }

}  // namespace

ReadWatch::ReadWatch(net::io_context& ioc) : net::io_context::service(ioc), set_(ioc.get_executor()) {
    const int fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) return;  // connections then read as Asio does (wait() says so)
    boost::system::error_code ec;
    set_.assign(fd, ec);
    if (ec) {
        ::close(fd);
        return;
    }
    usable_ = true;
}

ReadWatch::~ReadWatch() = default;

void ReadWatch::shutdown() {
    usable_ = false;
    entries_.clear();
    free_.clear();
    waiting_ = 0;
    boost::system::error_code ignored;
    set_.close(ignored);
}

ReadWatch::Entry* ReadWatch::find(Slot slot) {
    if (slot == 0) return nullptr;
    const std::uint32_t i = index_of(slot);
    if (i >= entries_.size()) return nullptr;
    Entry& e = entries_[i];
    return e.used && e.gen == gen_of(slot) ? &e : nullptr;
}

ReadWatch::Entry& ReadWatch::add(Slot& slot, int fd) {
    std::uint32_t i = 0;
    if (free_.empty()) {
        i = static_cast<std::uint32_t>(entries_.size());
        entries_.emplace_back();
    } else {
        i = free_.back();
        free_.pop_back();
    }
    Entry& e = entries_[i];
    const std::uint32_t gen = e.gen + 1 != 0 ? e.gen + 1 : 1;  // slot 0 means "none"
    e = Entry{.gen = gen, .used = true};
    slot = (static_cast<Slot>(gen) << 32U) | i;
    // Edge-triggered: each arrival reports once. A socket already readable reports at once.
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = slot;
    // Not watchable (not a socket epoll takes): this connection reads as Asio does from now on.
    e.unwatched = ::epoll_ctl(set_.native_handle(), EPOLL_CTL_ADD, fd, &ev) != 0;
    return e;
}

bool ReadWatch::wait(Slot& slot, int fd, ReadWaiter& waiter) {
    if (!usable_) return false;
    Entry* e = find(slot);
    if (e == nullptr) e = &add(slot, fd);
    if (e->unwatched) return false;
    if (e->hint) {
        e->hint = false;
        return false;
    }
    e->waiter = &waiter;
    ++waiting_;
    arm();
    return true;
}

bool ReadWatch::cancel(Slot slot) {
    Entry* e = find(slot);
    if (e == nullptr || e->waiter == nullptr) return false;
    e->waiter = nullptr;
    --waiting_;
    return true;
}

void ReadWatch::release(Slot& slot) {
    Entry* e = find(slot);
    const std::uint32_t i = index_of(slot);
    slot = 0;
    if (e == nullptr) return;
    if (e->waiter != nullptr) --waiting_;
    e->waiter = nullptr;
    e->used = false;
    free_.push_back(i);
}

void ReadWatch::arm() {
    if (armed_ || waiting_ == 0 || !usable_) return;
    armed_ = true;
    set_.async_wait(net::posix::descriptor_base::wait_read,
                    [this](const boost::system::error_code& ec) { on_ready(ec); });
}

void ReadWatch::on_ready(const boost::system::error_code& ec) {
    armed_ = false;
    if (ec || !usable_) return;
    std::array<epoll_event, 64> events;  // not zeroed: epoll_wait fills what is read
    // A callback that throws (it only starts a read) must not cost the reports after it, which
    // epoll has already handed over: they are delivered, and the first exception goes on to the
    // loop's barrier afterwards.
    std::exception_ptr error;
    int n = 0;
    do {
        n = ::epoll_wait(set_.native_handle(), events.data(), static_cast<int>(events.size()), 0);
        for (int k = 0; k < n; ++k) {
            Entry* e = find(events[static_cast<std::size_t>(k)].data.u64);
            if (e == nullptr) continue;  // released since (its socket closes or closed)
            if (e->waiter == nullptr) {
                e->hint = true;
                continue;
            }
            ReadWaiter* w = e->waiter;
            e->waiter = nullptr;
            --waiting_;
            try {
                w->on_readable();  // starts an asynchronous read: nothing re-enters the watch here
            } catch (...) {
                if (!error) error = std::current_exception();
            }
        }
    } while (n == static_cast<int>(events.size()));
    arm();
    if (error) std::rethrow_exception(error);
}

}  // namespace mgw::gateway
