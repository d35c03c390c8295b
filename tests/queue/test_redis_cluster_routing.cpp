// Redis Cluster routing pieces: the key slot (CRC16-XMODEM with hash tags, as the Redis Cluster
// specification defines it) and the redis-cluster:// URL.
#include <catch2/catch.hpp>

#include "queue/queue_choice.hpp"
#include "queue/redis_cluster.hpp"
#include "queue/redis_options.hpp"

using namespace mgw::queue;

TEST_CASE("cluster key slot: the specification's CRC16 check value and hash tags") {
    // CRC16-XMODEM("123456789") = 0x31C3 = 12739, below 16384.
    CHECK(key_slot("123456789") == 0x31C3);
    CHECK(key_slot("{user1000}.following") == key_slot("{user1000}.followers"));
    CHECK(key_slot("{user1000}.following") == key_slot("user1000"));
    CHECK(key_slot("foo{}{bar}") == key_slot("foo{}{bar}"));  // empty tag: the whole key is hashed
    CHECK(key_slot("foo{}{bar}") != key_slot("bar"));
    CHECK(key_slot("foo{{bar}}zap") == key_slot("{bar"));  // the tag runs to the first '}'
    // The queues land on several slots (and so, in a 3-master cluster, on several nodes).
    CHECK(key_slot(queue_key(0)) != key_slot(queue_key(1)));
    for (unsigned q = 0; q < 16; ++q) CHECK(key_slot(queue_key(q)) < 16384);
}

TEST_CASE("redis-cluster URL: seed nodes, credentials, database 0 only") {
    RedisOptions o;
    REQUIRE_FALSE(parse_redis_url("redis-cluster://app:s%40cret@10.0.0.1:7000,10.0.0.2:7001,10.0.0.3", o).has_value());
    CHECK(o.cluster);
    CHECK_FALSE(o.sentinel);
    CHECK(o.user == "app");
    CHECK(o.password == "s@cret");
    REQUIRE(o.cluster_seeds.size() == 3);
    CHECK(o.cluster_seeds[0] == std::pair<std::string, std::uint16_t>{"10.0.0.1", 7000});
    CHECK(o.cluster_seeds[2] == std::pair<std::string, std::uint16_t>{"10.0.0.3", 6379});
    CHECK(o.database == 0);
    RedisOptions bad;
    auto e = parse_redis_url("redis-cluster://10.0.0.1:7000/2", bad);
    REQUIRE(e.has_value());
    CHECK_THAT(*e, Catch::Contains("database 0"));
    CHECK(parse_redis_url("redis-cluster://", bad).has_value());
    CHECK(redact_redis_url("redis-cluster://app:secret@10.0.0.1:7000") == "redis-cluster://app:***@10.0.0.1:7000");
}

TEST_CASE("redis-cluster and redis-sentinel URLs: IPv6 nodes in brackets, with or without a port") {
    RedisOptions o;
    REQUIRE_FALSE(parse_redis_url("redis-cluster://[2001:db8::1]:7000,[::1],redis-a:7002", o).has_value());
    REQUIRE(o.cluster_seeds.size() == 3);
    CHECK(o.cluster_seeds[0] == std::pair<std::string, std::uint16_t>{"2001:db8::1", 7000});
    CHECK(o.cluster_seeds[1] == std::pair<std::string, std::uint16_t>{"::1", 6379});
    CHECK(o.cluster_seeds[2] == std::pair<std::string, std::uint16_t>{"redis-a", 7002});
    RedisOptions s;
    REQUIRE_FALSE(parse_redis_url("redis-sentinel://[fd00::7]:26380,[fd00::8]/1?master=m", s).has_value());
    REQUIRE(s.sentinels.size() == 2);
    CHECK(s.sentinels[0] == std::pair<std::string, std::uint16_t>{"fd00::7", 26380});
    CHECK(s.sentinels[1] == std::pair<std::string, std::uint16_t>{"fd00::8", 26379});
    CHECK(s.database == 1);
    for (const char* bad : {"redis-cluster://2001:db8::1:7000", "redis-cluster://[::1", "redis-cluster://[::1]x",
                            "redis-cluster://[::1]:", "redis-cluster://a:", "redis-cluster://a:0",
                            "redis-sentinel://[::1]:70000?master=m"}) {
        RedisOptions r;
        CHECK(parse_redis_url(bad, r).has_value());
    }
}
