// matomo-gateway: load the configuration, then run. Everything else lives in the libraries.
#include "config/config.hpp"
#include "gateway/access_log.hpp"
#include "gateway/app.hpp"
#include "queue/value_decode.hpp"

#include <cstdlib>
#include <iostream>
#include <iterator>
#include <map>
#include <string_view>

extern char** environ;

namespace {

// `matomo-gateway --decode`: queue values from redis-cli on stdin, one JSON document per line on stdout.
// A mode of its own, before the configuration is read: it needs no Redis, no listener, no option.
int decode_stdin() {
    std::cin >> std::noskipws;
    const std::string input{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    std::string error;
    for (const auto& json : mgw::queue::decode_redis_cli_output(input, error)) std::cout << json << "\n";
    if (error.empty()) return 0;
    std::cerr << "matomo-gateway: --decode: " << error << "\n";
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && std::string_view(argv[1]) == "--decode") return decode_stdin();
    std::map<std::string, std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string kv(*e);
        auto eq = kv.find('=');
        if (eq != std::string::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
    }
    auto cfg = mgw::config::load(std::vector<std::string>(argv + 1, argv + argc), env);
    if (!cfg.error.empty()) {
        std::cerr << "matomo-gateway: configuration error: " << cfg.error << "\n";
        return 2;
    }
    if (!cfg.ignored_env.empty() && cfg.action == mgw::config::Action::run) {
        // Kubernetes service links (config/service_links.hpp): named once, never fatal.
        std::string fields = "\"variables\":[";
        for (std::size_t i = 0; i < cfg.ignored_env.size(); ++i) {
            if (i) fields.push_back(',');
            mgw::gateway::append_json_string(fields, cfg.ignored_env[i]);
        }
        fields +=
            "],\"detail\":\"Kubernetes service-link variables, not options (enableServiceLinks: false drops them)\"";
        mgw::gateway::set_log_level(cfg.options.log_level);
        mgw::gateway::log_event("info", "environment_ignored", fields);
    }
    if (!cfg.ignored_env.empty() && cfg.action == mgw::config::Action::check_config) {
        std::cerr << "matomo-gateway: ignored Kubernetes service-link variables:";
        for (const auto& name : cfg.ignored_env) std::cerr << ' ' << name;
        std::cerr << "\n";
    }
    if (cfg.action != mgw::config::Action::run) {
        std::cout << cfg.output;
        return 0;
    }
    try {
        return mgw::gateway::run(cfg.options);
    } catch (const std::exception& e) {
        std::cerr << "matomo-gateway: " << e.what() << "\n";
        return 1;
    }
}
