// Waiting for observable state in integration tests: pred is called until it returns true or the
// deadline passes (then false). The pause between calls is only the poll interval; the deadline
// bounds the wait.
#pragma once

#include <chrono>
#include <thread>

#include "support/process.hpp"

namespace mgw::test {

template <class Pred>
bool poll_until(Clock::time_point deadline, Pred pred) {
  for (;;) {
    if (pred()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace mgw::test
