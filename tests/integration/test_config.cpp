// Configuration from flags, MATOMO_GATEWAY_* variables and a TOML file: precedence, --check-config
// with secrets redacted, and invalid input failing at start-up with one line naming the key.
#include "support/gateway_process.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <fstream>

using namespace mgw::test;

namespace {

CommandResult gateway(std::vector<std::string> args, std::vector<std::string> env = {}) {
    std::vector<std::string> argv = {"env", "-i"};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.emplace_back(MGW_GATEWAY_BINARY);
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, "", std::chrono::seconds(30));
}

std::string temp_file(const std::string& name, const std::string& content) {
    std::string path = "/tmp/mgw-config-test-" + std::to_string(::getpid()) + "-" + name;
    std::ofstream(path) << content;
    return path;
}

// One line on stderr, naming `key`, and a non-zero exit: the start-up failure contract.
void fails_naming(const CommandResult& r, const std::string& key) {
    INFO("stderr: " << r.err);
    CHECK(r.status != 0);
    CHECK(r.err.find(key) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

}  // namespace

TEST_CASE("config: flags override environment, environment overrides the file, --check-config redacts secrets") {
    auto file = temp_file("a.toml", "queues = 8\nthreads = 3\nredis = \"redis://:filesecret@10.0.0.1:6379/2\"\n");
    auto r = gateway({"--config", file, "--check-config", "--queues", "16"}, {"MATOMO_GATEWAY_THREADS=5"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("queues = \"16\"") != std::string::npos);  // flag wins over file
    CHECK(r.out.find("threads = \"5\"") != std::string::npos);  // env wins over file
    CHECK(r.out.find("redis = \"redis://:***@10.0.0.1:6379/2\"") != std::string::npos);
    CHECK(r.out.find("filesecret") == std::string::npos);
    ::unlink(file.c_str());
}

TEST_CASE("config: invalid settings fail at start-up with one line naming the key") {
    fails_naming(gateway({"--no-such-option", "1"}), "no-such-option");
    fails_naming(gateway({"--check-config"}, {"MATOMO_GATEWAY_QUEUS=4"}), "MATOMO_GATEWAY_QUEUS");
    auto bad_key = temp_file("b.toml", "queus = 4\n");
    fails_naming(gateway({"--config", bad_key, "--check-config"}), "queus");
    fails_naming(gateway({"--redis", "http://localhost:6379", "--check-config"}), "redis");
    fails_naming(gateway({"--redis", "redis://127.0.0.1:99999/0", "--check-config"}), "redis");
    fails_naming(gateway({"--queues", "0", "--check-config"}), "queues");
    fails_naming(gateway({"--queues", "4097", "--check-config"}), "queues");
    fails_naming(gateway({"--validation", "lenient", "--check-config"}), "validation");
    fails_naming(gateway({"--js-tracker-file", "/nonexistent/matomo.js", "--check-config"}), "js-tracker-file");
    fails_naming(gateway({"--trusted-proxies", "10.0.0.0/33", "--check-config"}), "trusted-proxies");
    fails_naming(gateway({"--trusted-proxies", "not-an-ip", "--check-config"}), "trusted-proxies");
    fails_naming(gateway({"--proxy-headers", "x-forwarded-host", "--check-config"}), "proxy-headers");
    fails_naming(
        gateway({"--geoip-database", "/x.mmdb", "--matomo-token-file", "/nonexistent/token", "--check-config"}),
        "matomo-token-file");
    auto empty_token = temp_file("t", "\n");
    fails_naming(gateway({"--geoip-database", "/x.mmdb", "--matomo-token-file", empty_token, "--check-config"}),
                 "matomo-token-file");
    ::unlink(empty_token.c_str());
    auto broken = temp_file("c.toml", "queues = [\n");
    fails_naming(gateway({"--config", broken, "--check-config"}), broken);
    // A listener that cannot bind is a start-up error too (not a configuration one).
    auto busy = gateway({"--listen", "256.0.0.1:80", "--redis", "redis://127.0.0.1:1/0"});
    CHECK(busy.status != 0);
    CHECK(busy.err.find("256.0.0.1") != std::string::npos);
    ::unlink(bad_key.c_str());
    ::unlink(broken.c_str());
}

TEST_CASE("config: Kubernetes service-link variables are ignored, a misspelt option variable is still refused") {
    // What Kubernetes injects for Services named matomo-gateway and matomo-gateway-metrics.
    const std::vector<std::string> links = {
        "MATOMO_GATEWAY_SERVICE_HOST=10.96.0.12",
        "MATOMO_GATEWAY_SERVICE_PORT=80",
        "MATOMO_GATEWAY_SERVICE_PORT_HTTP=80",
        "MATOMO_GATEWAY_PORT=tcp://10.96.0.12:80",
        "MATOMO_GATEWAY_PORT_80_TCP=tcp://10.96.0.12:80",
        "MATOMO_GATEWAY_PORT_80_TCP_PROTO=tcp",
        "MATOMO_GATEWAY_PORT_80_TCP_PORT=80",
        "MATOMO_GATEWAY_PORT_80_TCP_ADDR=10.96.0.12",
        "MATOMO_GATEWAY_METRICS_SERVICE_HOST=fd00::12",
        "MATOMO_GATEWAY_METRICS_PORT=tcp://[fd00::12]:9090",
        "MATOMO_GATEWAY_METRICS_PORT_9090_TCP=tcp://[fd00::12]:9090",
    };
    auto ok = gateway({"--check-config"}, links);
    INFO(ok.err);
    CHECK(ok.status == 0);
    CHECK(ok.out.find("queues = \"1\"") != std::string::npos);
    for (const auto& kv : links) CHECK(ok.err.find(kv.substr(0, kv.find('='))) != std::string::npos);

    // Next to them, a misspelt option is refused as before; so are look-alikes whose value has
    // another shape (a port variable holding a bare number, a host that is not an address).
    auto with = [&](const std::string& extra) {
        auto env = links;
        env.push_back(extra);
        return gateway({"--check-config"}, env);
    };
    for (const char* bad : {"MATOMO_GATEWAY_QUEUS=4", "MATOMO_GATEWAY_PORT=8080", "MATOMO_GATEWAY_SERVICE_HOST=redis",
                            "MATOMO_GATEWAY_PORT_80_TCP=tcp://10.96.0.12:81", "MATOMO_GATEWAY_PORT_80_TCP_PROTO=udp",
                            "MATOMO_GATEWAY_PORT_80_HTTP=tcp://10.96.0.12:80"}) {
        auto r = with(bad);
        INFO(bad);
        CHECK(r.status == 2);
        std::string name(bad);
        CHECK(r.err.find("unknown variable " + name.substr(0, name.find('='))) != std::string::npos);
    }
}

TEST_CASE("config: a gateway started among Kubernetes service-link variables runs and names them in one info line") {
    RedisServer redis;
    ::setenv("MATOMO_GATEWAY_SERVICE_HOST", "10.96.0.12", 1);
    ::setenv("MATOMO_GATEWAY_PORT", "tcp://10.96.0.12:80", 1);
    ::setenv("MATOMO_GATEWAY_PORT_80_TCP_PROTO", "tcp", 1);
    GatewayProcess gw({"--redis", redis.url()});
    ::unsetenv("MATOMO_GATEWAY_SERVICE_HOST");
    ::unsetenv("MATOMO_GATEWAY_PORT");
    ::unsetenv("MATOMO_GATEWAY_PORT_80_TCP_PROTO");
    gw.wait_until_ready();
    std::size_t lines = 0;
    for (const auto& line : gw.output_lines()) {
        if (line.find("\"environment_ignored\"") == std::string::npos) continue;
        ++lines;
        CHECK(line.find("\"level\":\"info\"") != std::string::npos);
        CHECK(line.find("MATOMO_GATEWAY_PORT_80_TCP_PROTO") != std::string::npos);
        CHECK(line.find("MATOMO_GATEWAY_SERVICE_HOST") != std::string::npos);
    }
    CHECK(lines == 1);
    CHECK(gw.terminate() == 0);
}

TEST_CASE("config: --check-config and a start give the same verdict, naming the option") {
    // Each case fails both ways with exit 2 and the same one line naming the option. A start that
    // got past validation would run (Redis down, hits spooled) until run_command's deadline.
    struct Case {
        std::vector<std::string> args;
        std::string option;
    };
    auto token = temp_file("token", "0123456789abcdef0123456789abcdef\n");
    auto spool_file = temp_file("not-a-dir", "x");
    const std::vector<Case> cases = {
        {{"--listen", "127.0.0.1:99999"}, "listen"},
        {{"--listen", "127.0.0.1"}, "listen"},
        {{"--listen", "localhost:8080"}, "listen"},
        {{"--admin-listen", "127.0.0.1:65536"}, "admin-listen"},
        {{"--admin-listen", "metrics.internal:9090"}, "admin-listen"},
        {{"--geoip-database", "/nonexistent.mmdb"}, "geoip-database"},
        {{"--geoip-database", token}, "geoip-database"},  // a file, but not a database
        {{"--matomo-token-file", "/nonexistent/token", "--geoip-database", "/nonexistent.mmdb"}, "matomo-token-file"},
        {{"--js-tracker-file", "/nonexistent/matomo.js"}, "js-tracker-file"},
        {{"--spool-dir", spool_file}, "spool-dir"},
        {{"--spool-dir", "/nonexistent/parent/spool"}, "spool-dir"},
    };
    for (const auto& c : cases) {
        std::vector<std::string> args = {"--redis",     "redis://127.0.0.1:1/0", "--listen",
                                         "127.0.0.1:0", "--admin-listen",        "127.0.0.1:0"};
        args.insert(args.end(), c.args.begin(), c.args.end());  // later flags win
        auto check = args;
        check.emplace_back("--check-config");
        auto checked = gateway(check);
        auto started = gateway(args);
        INFO("args: " << c.args[0] << " " << c.args[1] << "\ncheck-config: " << checked.err
                      << "start: " << started.err);
        CHECK(checked.status == 2);
        CHECK(started.status == 2);
        CHECK(checked.err.find(c.option + ": ") != std::string::npos);
        CHECK(started.err == checked.err);
    }
    CHECK(cases.size() == 11);
    ::unlink(token.c_str());
    ::unlink(spool_file.c_str());
}
