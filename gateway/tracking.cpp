#include "gateway/tracking.hpp"

#include <vector>

namespace mgw::gateway {

TrackingResult build_tracking(const Request& req, const EdgeContext& edge, const TrackingOptions& opts,
                              std::int64_t now) {
    // Reused per thread: the view's field list costs no allocation per request.
    thread_local std::vector<tracking::Header> headers;
    headers.clear();
    for (const auto& f : req) headers.push_back({f.name_string(), f.value()});
    const tracking::RequestView view{req.method_string(), req.target(), headers, req.body()};
    return tracking::build_tracking(view, edge, opts, now);
}

}  // namespace mgw::gateway
