// Queue choice against the worked examples Q1-Q12 and checklist items 1-3, 18-23 of docs/wire-format.md.
#include "queue/queue_choice.hpp"

#include <catch2/catch.hpp>

using mgw::queue::choose_queue;
using mgw::queue::queue_key;
using mgw::queue::QueueChoiceOptions;

namespace {

boost::json::object hit(std::initializer_list<std::pair<const char*, const char*>> kv) {
    boost::json::object o;
    o["idsite"] = "1";
    o["rec"] = "1";
    for (auto& [k, v] : kv) o[k] = v;
    return o;
}

unsigned q(const boost::json::object& h, unsigned queues, std::string_view ip = "127.0.0.1",
           std::string_view cookie = {}, bool third_party = false) {
    QueueChoiceOptions opts;
    opts.queues = queues;
    opts.third_party_cookie = third_party;
    return choose_queue(mgw::php::Params(h), ip, cookie, true, opts).value();
}

}  // namespace

TEST_CASE("item 1: with one queue every hit goes to trackingQueueV1") {
    for (const auto& h : {hit({{"_id", "a1b2c3d4e5f60718"}}), hit({{"uid", "someone"}}), hit({})}) {
        CHECK(queue_key(q(h, 1, "203.0.113.5")) == "trackingQueueV1");
    }
}

TEST_CASE("item 2: _id=a1b2c3d4e5f60718 maps to queue 3 of 4 and 11 of 16") {
    auto h = hit({{"_id", "a1b2c3d4e5f60718"}});
    CHECK(queue_key(q(h, 4)) == "trackingQueueV1_3");
    CHECK(queue_key(q(h, 16)) == "trackingQueueV1_11");
}

TEST_CASE("item 3: queue 0 has no suffix, queue N >= 1 a decimal suffix") {
    CHECK(queue_key(0) == "trackingQueueV1");
    CHECK(queue_key(1) == "trackingQueueV1_1");
    CHECK(queue_key(10) == "trackingQueueV1_10");
    CHECK(queue_key(4095) == "trackingQueueV1_4095");
}

TEST_CASE("item 18: uid=user@example.com maps to queue 2 of 4 and 10 of 16 whatever _id") {
    auto h = hit({{"uid", "user@example.com"}, {"_id", "ffffffffffffffff"}});
    CHECK(q(h, 4) == 2);
    CHECK(q(h, 16) == 10);
}

TEST_CASE("item 19: cid=0123456789abcdef maps to queue 2 of 4 and of 16 whatever _id") {
    auto h = hit({{"cid", "0123456789abcdef"}, {"_id", "ffffffffffffffff"}});
    CHECK(q(h, 4) == 2);
    CHECK(q(h, 16) == 2);
}

TEST_CASE("item 20: no visitor id, IP 203.0.113.5 maps to queue 0 of 4 and 12 of 16") {
    auto h = hit({});
    CHECK(q(h, 4, "203.0.113.5") == 0);
    CHECK(q(h, 16, "203.0.113.5") == 12);
    CHECK(mgw::queue::md5_hex("203.0.113.5") == "7ec96ef71b1987db3c2e47cd7ea3d187");
}

TEST_CASE("item 21: a cid whose length is not 16 falls back to md5 of the IP, ignoring _id") {
    auto h = hit({{"cid", "abc"}, {"_id", "ffffffffffffffff"}});
    CHECK(q(h, 4, "127.0.0.1") == 2);  // md5("127.0.0.1") starts f52 = 3922
    CHECK(q(h, 16, "127.0.0.1") == 2);
    // The same hit from another IP follows that IP, proving _id is not used.
    CHECK(q(h, 16, "203.0.113.5") == 12);
}

TEST_CASE("item 22: uid=0 is ignored and uid a&b is hashed in its HTML-escaped form") {
    auto zero = hit({{"uid", "0"}, {"_id", "1111111111111111"}});
    CHECK(q(zero, 4) == 1);
    CHECK(q(zero, 16) == 1);
    auto amp = hit({{"uid", "a&b"}});
    CHECK(mgw::queue::sha1_hex("a&amp;b").substr(0, 3) == "c65");
    CHECK(q(amp, 4) == 1);
    CHECK(q(amp, 16) == 5);
}

TEST_CASE("item 23: cid=zzzzzzzzzzzzzzzz maps to queue 0") {
    auto h = hit({{"cid", "zzzzzzzzzzzzzzzz"}});
    CHECK(q(h, 4, "203.0.113.77") == 0);
    CHECK(q(h, 16, "203.0.113.77") == 0);
}

TEST_CASE("queue examples Q2, Q6, Q7: long upper-case _id is cut and lowered, IPv6 text is hashed as written") {
    CHECK(q(hit({{"_id", "7D8E9F0A1B2C3D4E5F"}}), 4) == 0);
    CHECK(q(hit({{"_id", "7D8E9F0A1B2C3D4E5F"}}), 16) == 8);
    CHECK(q(hit({}), 4, "2001:db8::1") == 2);
    CHECK(q(hit({}), 16, "2001:db8::1") == 6);
    CHECK(q(hit({}), 4, "2001:DB8::1") == 0);
    CHECK(q(hit({}), 16, "2001:DB8::1") == 12);
}

TEST_CASE("queue example Q12: in third-party mode the _pk_uid cookie wins over _id") {
    auto h = hit({{"_id", "0123456789abcdef"}});
    const char* cookie = "0=ZmVkY2JhOTg3NjU0MzIxMA==";
    CHECK(q(h, 4, "127.0.0.1", cookie, true) == 1);
    CHECK(q(h, 16, "127.0.0.1", cookie, true) == 13);
    // Without third-party mode the cookie is not consulted.
    CHECK(q(h, 16, "127.0.0.1", cookie, false) == q(h, 16));
}

TEST_CASE("queue choice: a short _id is not a visitor id and numbers in bulk objects count as strings") {
    boost::json::object short_id = hit({{"_id", "abc"}});
    CHECK(q(short_id, 16, "203.0.113.5") == 12);
    boost::json::object typed;
    typed["idsite"] = 1;
    typed["uid"] = 42;
    CHECK(q(typed, 16) == q(hit({{"uid", "42"}}), 16));
}

TEST_CASE("queue choice: the never-reached non-hex branch sums the character codes") {
    CHECK(mgw::queue::queue_from_key("xyz0000000000000", 4) == 3);
    CHECK(mgw::queue::queue_from_key("xyz0000000000000", 16) == 11);
}

TEST_CASE(
    "a cip decides the queue only with a token and without one the request is refused (docs/wire-format.md, queue "
    "choice)") {
    const mgw::php::Params h(hit({{"cip", "198.51.100.7"}}));
    QueueChoiceOptions opts;
    opts.queues = 16;
    const auto with_token = choose_queue(h, "127.0.0.1", {}, true, opts);
    REQUIRE(with_token);
    CHECK(*with_token == mgw::queue::queue_from_key(mgw::queue::md5_hex("198.51.100.7"), 16));
    CHECK_FALSE(choose_queue(h, "127.0.0.1", {}, false, opts));
    // Refused whatever the number of queues, as stock authenticates before it counts them.
    opts.queues = 1;
    CHECK_FALSE(choose_queue(h, "127.0.0.1", {}, false, opts));
    CHECK(choose_queue(h, "127.0.0.1", {}, true, opts) == 0u);
    // A visitor id decides first: the cip is not looked at.
    const mgw::php::Params with_id(hit({{"cip", "198.51.100.7"}, {"_id", "a1b2c3d4e5f60718"}}));
    opts.queues = 4;
    CHECK(choose_queue(with_id, "127.0.0.1", {}, false, opts) == 3u);
    // An empty cip is no cip.
    CHECK(choose_queue(mgw::php::Params(hit({{"cip", ""}})), "127.0.0.1", {}, false, opts) ==
          mgw::queue::queue_from_key(mgw::queue::md5_hex("127.0.0.1"), 4));
}
