// Shared set-up for the tracking-API tests: a real redis-server, the real gateway with the given
// options, and helpers to send requests and read back what landed, decoded by php.
#pragma once

#include "support/gateway_process.hpp"
#include "support/http.hpp"
#include "support/php.hpp"
#include "support/redis_server.hpp"

#include <boost/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace mgw::test {

struct Landed {
    std::string key;
    std::string raw;
    boost::json::object state;  // php-decoded request set
};

class TrackingEnv {
public:
    explicit TrackingEnv(std::vector<std::string> args = {}) : gateway(with_redis(std::move(args), redis)) {
        gateway.wait_until_ready();
    }

    HttpResponse send(std::string_view method, std::string_view target, HeaderList headers = {},
                      std::string_view body = {}) {
        headers.emplace_back("Host", "127.0.0.1");
        headers.emplace_back("Connection", "close");
        return send_request(gateway.tracking_port(), build_request(method, target, headers, body));
    }
    HttpResponse get(std::string_view target, HeaderList headers = {}) {
        return send("GET", target, std::move(headers));
    }
    HttpResponse send_admin(std::string_view target) {
        return send_request(gateway.admin_port(),
                            build_request("GET", target, {{"Host", "127.0.0.1"}, {"Connection", "close"}}));
    }

    // Every value in the trackingQueueV1* lists, in key order then list order, decoded.
    std::vector<Landed> landed() {
        std::vector<Landed> out;
        for (auto& [key, values] : redis.queue_contents()) {
            auto decoded = php_decode_queue_values(values);
            for (std::size_t i = 0; i < values.size(); ++i)
                out.push_back(
                    {key, values[i], decoded[i].is_object() ? decoded[i].as_object() : boost::json::object{}});
        }
        return out;
    }

    // Calls of a command since the last reset, from INFO commandstats.
    long long command_calls(const std::string& name) {
        auto info = redis.command({"INFO", "commandstats"}).str;
        auto pos = info.find("cmdstat_" + name + ":calls=");
        if (pos == std::string::npos) return 0;
        return std::stoll(info.substr(pos + name.size() + 15));
    }

    // One sample of the admin /metrics, e.g. metric("matomo_gateway_edge_cache_bytes") or
    // metric("matomo_gateway_edge_requests_total{kind=\"tracker\",outcome=\"hit\"}"); 0 when absent.
    double metric(const std::string& series) {
        const auto body = send_admin("/metrics").body;
        for (std::size_t pos = 0; (pos = body.find(series + " ", pos)) != std::string::npos; pos += series.size())
            if (pos == 0 || body[pos - 1] == '\n') return std::stod(body.substr(pos + series.size() + 1));
        return 0;
    }

    RedisServer redis;
    GatewayProcess gateway;

private:
    static std::vector<std::string> with_redis(std::vector<std::string> args, const RedisServer& r) {
        args.insert(args.begin(), {"--redis", r.url()});
        return args;
    }
};

}  // namespace mgw::test
