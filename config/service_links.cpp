// Kubernetes service-link variables: see service_links.hpp. The shapes follow the Docker-links
// convention Kubernetes keeps (pkg/kubelet/envvars): the Service name upper-cased with '-' as '_'.
#include "config/service_links.hpp"

#include <boost/asio/ip/address.hpp>

#include <string>

namespace mgw::config {
namespace {

bool is_port(std::string_view v) {
    if (v.empty() || v.size() > 5) return false;
    unsigned n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + static_cast<unsigned>(c - '0');
    }
    return n >= 1 && n <= 65535 && v.front() != '0';
}

bool is_ip(std::string_view v) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(std::string(v), ec);
    return !ec;
}

std::string lower(std::string_view v) {
    std::string s(v);
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

bool is_proto(std::string_view upper) { return upper == "TCP" || upper == "UDP" || upper == "SCTP"; }

// "<proto>://<ip>:<port>" (IPv6 as [ip]); proto and port must match when given.
bool is_service_url(std::string_view v, std::string_view proto_upper, std::string_view port) {
    const auto sep = v.find("://");
    if (sep == std::string_view::npos) return false;
    const std::string proto = lower(v.substr(0, sep));
    if (proto != "tcp" && proto != "udp" && proto != "sctp") return false;
    if (!proto_upper.empty() && proto != lower(proto_upper)) return false;
    std::string_view rest = v.substr(sep + 3);
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return false;
    std::string_view host = rest.substr(0, colon);
    const std::string_view p = rest.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    return is_ip(host) && is_port(p) && (port.empty() || p == port);
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Service and port names: upper-case letters, digits and '_' (Kubernetes' '-' turned into '_').
bool is_name(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

}  // namespace

bool is_kubernetes_service_variable(std::string_view name, std::string_view value) {
    if (!is_name(name)) return false;
    if (ends_with(name, "_SERVICE_HOST")) return is_ip(value);
    if (ends_with(name, "_SERVICE_PORT")) return is_port(value);
    // <SVC>_SERVICE_PORT_<NAME>: a named port of the Service.
    if (const auto at = name.rfind("_SERVICE_PORT_"); at != std::string_view::npos && at > 0)
        return is_name(name.substr(at + 14)) && is_port(value);
    if (ends_with(name, "_PORT") && value.find("://") != std::string_view::npos) return is_service_url(value, {}, {});
    // <SVC>_PORT_<port>_<PROTO>[_PROTO|_PORT|_ADDR]: find the last "_PORT_<digits>_<PROTO>".
    for (auto at = name.rfind("_PORT_"); at != std::string_view::npos && at > 0;
         at = at == 0 ? std::string_view::npos : name.rfind("_PORT_", at - 1)) {
        std::string_view rest = name.substr(at + 6);
        const auto us = rest.find('_');
        if (us == std::string_view::npos) continue;
        const std::string_view port = rest.substr(0, us);
        if (!is_port(port)) continue;
        rest = rest.substr(us + 1);
        const auto us2 = rest.find('_');
        const std::string_view proto = rest.substr(0, us2);
        if (!is_proto(proto)) continue;
        if (us2 == std::string_view::npos) return is_service_url(value, proto, port);
        const std::string_view field = rest.substr(us2 + 1);
        if (field == "PROTO") return value == lower(proto);
        if (field == "PORT") return value == port;
        if (field == "ADDR") return is_ip(value);
        return false;
    }
    return false;
}

}  // namespace mgw::config
