// Configuration: every option as a --flag, a MATOMO_GATEWAY_* environment variable and a key of the
// optional TOML config file, from one table. Precedence: flags > environment > file > defaults.
#pragma once

#include "gateway/options.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mgw::config {

enum class Action { run, help, version, check_config, options_table };

struct LoadResult {
    Action action = Action::run;
    gateway::Options options;
    std::string error;   // one line naming the offending option; empty when valid
    std::string output;  // text to print for help / version / check-config
};

// `env` maps variable names to values (main passes the process environment).
LoadResult load(const std::vector<std::string>& args, const std::map<std::string, std::string>& env);

// The option table as Markdown rows (flag, env, file key, default, meaning) for the README.
std::string markdown_table();

}  // namespace mgw::config
