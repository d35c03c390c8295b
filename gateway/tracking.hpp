// The session's side of the tracking rules (tracking/): Beast's parsed request as the rules'
// transport-neutral view. Nothing else of HTTP reaches the rules.
#pragma once

#include "gateway/enrich.hpp"
#include "gateway/options.hpp"
#include "tracking/tracking.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdint>

namespace mgw::gateway {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using tracking::OutgoingSet;
using tracking::TrackingKind;
using tracking::TrackingResult;

// tracking::build_tracking over a view of `req` (its fields in order, its target and body).
TrackingResult build_tracking(const Request& req, const EdgeContext& edge, const TrackingOptions& opts,
                              std::int64_t now);

}  // namespace mgw::gateway
