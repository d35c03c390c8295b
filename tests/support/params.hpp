// A hit's parameter list (php/params.hpp) as a Boost.JSON object, the shape tests compare against.
#pragma once

#include "php/params.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <utility>
#include <vector>

namespace mgw::test {

inline boost::json::object to_object(const php::Params& hit) {
  boost::json::object o;
  for (const auto& p : hit) {
    if (p.is_string())
      o[p.name] = p.text;
    else
      o[p.name] = *p.json;
  }
  return o;
}

// The names and string values in order (env.server and env.cookie hold only strings).
inline std::vector<std::pair<std::string, std::string>> pairs(const php::Params& list) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : list) out.emplace_back(p.name, p.is_string() ? std::string(p.text) : "<not a string>");
  return out;
}

}  // namespace mgw::test
