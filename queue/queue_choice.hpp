// Which QueuedTracking queue a hit goes to (docs/wire-format.md, "Queue choice"): the visitor id (uid, cid, third-party
// cookie, _id) or, without one, md5 of the client IP string; its first three hex digits modulo the
// number of queues. Pure functions; stock workers rely on this being exactly the plugin's mapping.
#pragma once

#include "php/params.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace mgw::queue {

struct QueueChoiceOptions {
    unsigned queues = 1;                      // QueuedTracking numQueueWorkers (1..4096)
    bool userid_overwrites_visitorid = true;  // [Tracker] enable_userid_overwrites_visitorid
    bool third_party_cookie = false;          // [Tracker] use_third_party_id_cookie
    bool force_cookieless = false;            // PrivacyManager forceCookielessTracking
};

// The 16 lower-case hex characters of the visitor id the edge derives for `hit` (step 1 of the queue choice), or
// nullopt when there is none (the queue then follows the IP). `third_party_cookie_value` is the
// raw value of the third-party id cookie (already URL-decoded), empty when absent.
std::optional<std::string> visitor_key(const php::Params& hit, std::string_view third_party_cookie_value,
                                       const QueueChoiceOptions& opts);

// Queue id from the key string (16 hex of a visitor id, or the 32 hex of an md5): first three
// characters as hex, modulo `queues` (including the never-reached non-hex branch).
unsigned queue_from_key(std::string_view key_str, unsigned queues);

// The whole choice for one hit: its visitor id's queue; without one, the queue of an authorised
// cip, else of `remote_addr` (exactly the text written to env.server.REMOTE_ADDR, hashed as is).
// nullopt when the hit has no visitor id and a non-empty cip but `has_token` is false (no token in
// the hit or its set): stock refuses such a request with 400 (docs/wire-format.md: "Queue choice"), whatever the queue
// count.
std::optional<unsigned> choose_queue(const php::Params& hit, std::string_view remote_addr,
                                     std::string_view third_party_cookie_value, bool has_token,
                                     const QueueChoiceOptions& opts);

// Redis list key of a queue: trackingQueueV1 for 0, trackingQueueV1_N otherwise (docs/wire-format.md, "Keys").
std::string queue_key(unsigned queue_id);
// The same into `out` (replaced; its capacity is used).
void queue_key_into(unsigned queue_id, std::string& out);

// The 16-character id inside a third-party cookie value "0=<base64 of the id>" (all-digit ids are
// stored without base64), or empty when the value holds no such id.
std::string third_party_cookie_id(std::string_view cookie_value);

std::string md5_hex(std::string_view data);
std::string sha1_hex(std::string_view data);

}  // namespace mgw::queue
