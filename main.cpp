// matomo-gateway: load the configuration, then run. Everything else lives in the libraries.
#include "config/config.hpp"
#include "gateway/app.hpp"

#include <cstdlib>
#include <iostream>
#include <map>

extern char** environ;

int main(int argc, char** argv) {
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
