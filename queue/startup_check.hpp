// Start-up check against the queues already in Redis: lists trackingQueueV1_N with
// N >= --queues, a sign that the workers' numQueueWorkers differs from ours. Reads only; it never
// touches any key, and never the workers' QueuedTrackingLock keys (checklist item 45).
#pragma once

#include "queue/redis_options.hpp"

#include <optional>
#include <string>
#include <vector>

namespace mgw::queue {

// The keys out of range, or an error message when Redis can't be asked (the writer reports that).
std::vector<std::string> queues_beyond(const RedisOptions& opts, unsigned queues, std::string& error);

}  // namespace mgw::queue
