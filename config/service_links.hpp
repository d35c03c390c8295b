// The environment variables Kubernetes injects for every Service in the namespace ("service links",
// on unless the pod sets enableServiceLinks: false). A Service named matomo-gateway, the natural
// release name, yields MATOMO_GATEWAY_SERVICE_HOST, MATOMO_GATEWAY_PORT=tcp://10.96.0.12:80 and more,
// which share the prefix of our option variables. They are recognised by name AND value shape, so
// a misspelt option variable (MATOMO_GATEWAY_QUEUS=4) is still refused.
#pragma once

#include <string_view>

namespace mgw::config {

// True when `name`=`value` is one of the variables Kubernetes generates for a Service:
//   <SVC>_SERVICE_HOST=<ip>          <SVC>_SERVICE_PORT=<port>   <SVC>_SERVICE_PORT_<NAME>=<port>
//   <SVC>_PORT=<proto>://<ip>:<port> <SVC>_PORT_<port>_<PROTO>=<proto>://<ip>:<port>
//   <SVC>_PORT_<port>_<PROTO>_PROTO=<proto>  _PORT=<port>  _ADDR=<ip>
// with PROTO one of TCP, UDP, SCTP. The caller checks option names first, so an option whose
// variable happens to end like these keeps its meaning.
bool is_kubernetes_service_variable(std::string_view name, std::string_view value);

}  // namespace mgw::config
