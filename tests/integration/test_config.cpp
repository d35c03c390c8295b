// Configuration from flags, MATOMO_GATEWAY_* variables and a TOML file: precedence, --check-config
// with secrets redacted, and invalid input failing at start-up with one line naming the key.
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>
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
