// Wires the gateway together and runs it until SIGTERM/SIGINT have drained it.
#pragma once

#include "gateway/options.hpp"

namespace mgw::gateway {

// Returns the process exit status. Throws std::runtime_error for start-up failures (bind errors).
int run(const Options& opts);

}  // namespace mgw::gateway
