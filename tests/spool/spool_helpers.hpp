// What the spool's unit tests share: a synchronous append and the options of a spool in a test folder.
#pragma once

#include <chrono>
#include <future>
#include <string>

#include "spool/spool.hpp"

namespace mgw::spool::test {

// Appends and waits until the I/O thread reports the set durable (or refused).
inline bool append_sync(Spool& spool, const std::string& key, const std::string& value) {
    std::promise<bool> stored;
    spool.append(key, value, [&](bool ok) { stored.set_value(ok); });
    return stored.get_future().get();
}

// A spool in `dir`/spool that syncs every append at once.
inline SpoolOptions options_for(const std::string& dir) {
    SpoolOptions o;
    o.dir = dir + "/spool";
    o.sync_interval = std::chrono::milliseconds(0);
    return o;
}

}  // namespace mgw::spool::test
