// A hit's parameter list (php/params.hpp) as a Boost.JSON object, the shape tests compare against.
#pragma once

#include "php/params.hpp"

#include <boost/json/object.hpp>

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

}  // namespace mgw::test
