// Log lines are assembled in a thread-local buffer and written with one fwrite, so concurrent
// threads never interleave within a line.
#include "gateway/access_log.hpp"

#include <boost/asio/ip/address.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>
#include <string>

namespace mgw::gateway {
namespace {

int level_rank(std::string_view level) {
    if (level == "debug") return 0;
    if (level == "info") return 1;
    if (level == "warn") return 2;
    return 3;
}

std::atomic<int> min_level{1};

void append_time(std::string& out) {
    auto now = std::chrono::system_clock::now();
    auto secs = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    n += static_cast<std::size_t>(std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms)));
    out.append(buf, n);
}

bool sampled(double rate) {
    if (rate >= 1.0) return true;
    if (rate <= 0.0) return false;
    thread_local std::minstd_rand rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng) < rate;
}

void emit(std::string& line) {
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
    out.push_back('"');
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    out.push_back('"');
}

std::string mask_ip_for_log(std::string_view ip) {
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address(std::string(ip), ec);
    if (ec) return "invalid";
    if (a.is_v4()) {
        auto b = a.to_v4().to_bytes();
        b[2] = b[3] = 0;
        return boost::asio::ip::address_v4(b).to_string();
    }
    auto b = a.to_v6().to_bytes();
    for (std::size_t i = 6; i < b.size(); ++i) b[i] = 0;
    return boost::asio::ip::address_v6(b).to_string();
}

void access_log(const AccessRecord& r, double sample_rate) {
    if (!sampled(sample_rate)) return;
    thread_local std::string line;
    line.clear();
    line += "{\"time\":\"";
    append_time(line);
    line += "\",\"event\":\"access\",\"method\":";
    append_json_string(line, r.method);
    line += ",\"path\":";
    append_json_string(line, r.target.substr(0, r.target.find('?')));
    line += ",\"status\":" + std::to_string(r.status);
    line += ",\"bytes\":" + std::to_string(r.bytes);
    char dur[32];
    std::snprintf(dur, sizeof dur, "%.6f", r.seconds);
    line += ",\"duration\":";
    line += dur;
    line += ",\"client_ip\":";
    append_json_string(line, mask_ip_for_log(r.client_ip));
    line += ",\"outcome\":";
    append_json_string(line, r.outcome);
    if (!r.reason.empty()) {
        line += ",\"reason\":";
        append_json_string(line, r.reason);
    }
    if (!r.queues.empty()) {
        line += ",\"queues\":";
        append_json_string(line, r.queues);
    }
    line.push_back('}');
    emit(line);
}

void set_log_level(std::string_view level) { min_level = level_rank(level); }

void log_event(std::string_view level, std::string_view event, std::string_view fields_json) {
    if (level_rank(level) < min_level) return;
    std::string line = "{\"time\":\"";
    append_time(line);
    line += "\",\"level\":";
    append_json_string(line, level);
    line += ",\"event\":";
    append_json_string(line, event);
    if (!fields_json.empty()) {
        line.push_back(',');
        line.append(fields_json);
    }
    line.push_back('}');
    emit(line);
}

}  // namespace mgw::gateway
