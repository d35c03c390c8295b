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
    // MATOMO_GATEWAY_* variables that Kubernetes generated for a Service (service_links.hpp):
    // ignored, and named in one info log line at start.
    std::vector<std::string> ignored_env;
};

// Everything start-up verifies before it binds or connects: both listen addresses (an IP and a port,
// no host names), the files it opens (geo database, token file, JS tracker file), the spool
// directory's permissions and the option combinations. The error names the option. load() runs it
// for --check-config and for a start alike, so the two cannot disagree.
std::optional<std::string> check_startup(const gateway::Options& options);

// `env` maps variable names to values (main passes the process environment).
LoadResult load(const std::vector<std::string>& args, const std::map<std::string, std::string>& env);

// The option table as Markdown rows (flag, env, file key, default, meaning) for the README.
std::string markdown_table();

}  // namespace mgw::config
