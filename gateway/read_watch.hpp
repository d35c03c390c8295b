// The read watch: waits for idle keep-alive connections to become readable without a read that
// fails first.
//
// After an answer, a keep-alive connection reads for its next request. Asio tries that read at
// once, and since the client has only just been sent the answer it fails with EAGAIN on nearly
// every hit: a system call per hit that finds nothing. Waiting for readability with Asio's
// async_wait instead costs an epoll_ctl per wait, the same price. The watch holds the idle
// connections of one io_context in an epoll set of its own, each registered once, edge-triggered,
// and waits on that set through one async_wait: a round of the loop in which several connections
// become readable costs one epoll_wait and one epoll_ctl for all of them, and each connection then
// reads once, successfully. nginx saves the same read by remembering that its last read drained
// the socket; Asio does not tell.
//
// Every arrival on a watched socket puts it in the set's ready list. The watch hands each report
// to the connection waiting for it, or, when the connection is not waiting (busy with a request),
// keeps it as a hint so the connection's next wait reads at once instead: no arrival is missed.
// A hint whose bytes a busy connection read meanwhile costs one read that finds nothing, as before.
//
// One watch per io_context (an Asio service), used only from the thread that runs it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/basic_stream_descriptor.hpp>

#include <cstdint>
#include <vector>

namespace mgw::gateway {

// What a watched connection is called back with when its wait ends.
class ReadWaiter {
public:
    virtual void on_readable() = 0;

protected:
    ReadWaiter() = default;
    ReadWaiter(const ReadWaiter&) = default;
    ReadWaiter& operator=(const ReadWaiter&) = default;
    ~ReadWaiter() = default;
};

class ReadWatch : public boost::asio::io_context::service {
public:
    static inline boost::asio::io_context::id id;

    // A connection's place in the watch; 0 before its first wait.
    using Slot = std::uint64_t;

    explicit ReadWatch(boost::asio::io_context& ioc);
    ~ReadWatch() override;
    ReadWatch(const ReadWatch&) = delete;
    ReadWatch& operator=(const ReadWatch&) = delete;

    // Waits until `fd` is readable, then calls waiter.on_readable() from the io_context (never
    // from inside wait). False when the caller should read at once instead: the socket had an
    // arrival since its last wait, or cannot be watched. The first wait registers `fd` in `slot`.
    bool wait(Slot& slot, int fd, ReadWaiter& waiter);
    // Ends the wait in progress without a callback; true when there was one.
    bool cancel(Slot slot);
    // Forgets the connection; call before its descriptor closes (which removes it from the set).
    void release(Slot& slot);

    // How many connections wait now (for tests).
    std::size_t waiting() const { return waiting_; }

private:
    struct Entry {
        ReadWaiter* waiter = nullptr;  // set while its connection waits
        std::uint32_t gen = 0;         // bumped when the entry is reused: stale reports are dropped
        bool hint = false;             // an arrival was reported while its connection did not wait
        bool unwatched = false;        // epoll refused the descriptor
        bool used = false;
    };

    void shutdown() override;
    // A new entry for `fd`, registered in the set (or marked unwatched); `slot` names it.
    Entry& add(Slot& slot, int fd);
    void arm();
    void on_ready(const boost::system::error_code& ec);
    Entry* find(Slot slot);

    boost::asio::posix::basic_stream_descriptor<boost::asio::io_context::executor_type> set_;
    std::vector<Entry> entries_;
    std::vector<std::uint32_t> free_;
    std::size_t waiting_ = 0;
    bool armed_ = false;
    bool usable_ = false;
};

}  // namespace mgw::gateway
