// libmaxminddb wrapper: MMDB_MODE_MMAP, one lookup per hit, no cache (a lookup in a mapped file is a
// tree walk plus a few map-key scans; bench/ measures it before anyone adds a cache).
#include "geoip/geo.hpp"

#include <maxminddb.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

namespace mgw::geoip {

struct GeoDatabase::Handle {
    MMDB_s mmdb{};
    ~Handle() { MMDB_close(&mmdb); }
};

GeoDatabase::~GeoDatabase() = default;

std::shared_ptr<const GeoDatabase> GeoDatabase::open(const std::string& path, std::string& error) {
    auto h = std::make_unique<Handle>();
    errno = 0;
    int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &h->mmdb);
    if (status != MMDB_SUCCESS) {
        error = path + ": " + MMDB_strerror(status);
        if (status == MMDB_IO_ERROR && errno != 0) error += std::string(": ") + std::strerror(errno);
        return nullptr;
    }
    auto db = std::shared_ptr<GeoDatabase>(new GeoDatabase());
    db->type_ = h->mmdb.metadata.database_type ? h->mmdb.metadata.database_type : "";
    db->handle_ = std::move(h);
    return db;
}

namespace {

std::optional<std::string_view> get_string(MMDB_entry_s& entry, const char* const* path) {
    MMDB_entry_data_s data{};
    if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
        data.type != MMDB_DATA_TYPE_UTF8_STRING)
        return std::nullopt;
    return std::string_view(data.utf8_string, data.data_size);
}

// Coordinates are doubles in MaxMind's schema; other writers use floats, and a string costs nothing to accept.
std::optional<double> get_number(MMDB_entry_s& entry, const char* const* path) {
    MMDB_entry_data_s data{};
    if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data) return std::nullopt;
    if (data.type == MMDB_DATA_TYPE_DOUBLE) return data.double_value;
    if (data.type == MMDB_DATA_TYPE_FLOAT) return static_cast<double>(data.float_value);
    if (data.type == MMDB_DATA_TYPE_UTF8_STRING) {
        double v = 0;
        auto [end, ec] = std::from_chars(data.utf8_string, data.utf8_string + data.data_size, v);
        if (ec == std::errc() && end == data.utf8_string + data.data_size) return v;
    }
    return std::nullopt;
}

// The map or array at `path`, as an entry the next lookups can start from, so they do not walk the
// record's top level again. `size` is the element count.
std::optional<MMDB_entry_s> sub_entry(MMDB_entry_s& entry, const char* const* path, std::uint32_t type,
                                      std::uint32_t* size = nullptr) {
    MMDB_entry_data_s data{};
    if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data || data.type != type)
        return std::nullopt;
    if (size) *size = data.data_size;
    return MMDB_entry_s{entry.mmdb, data.offset};
}

bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_alnum(char c) { return is_alpha(c) || (c >= '0' && c <= '9'); }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

void set_country(GeoResult& out, std::optional<std::string_view> code) {
    if (code && code->size() == 2 && is_alpha((*code)[0]) && is_alpha((*code)[1]))
        out.country = {lower((*code)[0]), lower((*code)[1])};
}

// Matomo's Php provider: upper-case, drop a "<COUNTRY>-" prefix (AE-DU -> DU); our rule on top: only
// a code that fits location_region CHAR(3) and looks like one is sent, anything else is "unknown".
void set_region(GeoResult& out, std::string_view code) {
    std::string v;
    for (char c : code) v += upper(c);
    if (out.country.size() == 2 && v.size() > 3 && v[0] == upper(out.country[0]) && v[1] == upper(out.country[1]) &&
        v[2] == '-')
        v.erase(0, 3);
    if (!v.empty() && v.size() <= 3 && std::all_of(v.begin(), v.end(), is_alnum)) out.region = std::move(v);
}

void set_location(GeoResult& out, std::optional<double> lat, std::optional<double> lon) {
    if (!lat || !lon || !std::isfinite(*lat) || !std::isfinite(*lon) || std::fabs(*lat) > 90 || std::fabs(*lon) > 180)
        return;
    auto round3 = [](double v) { return std::round(v * 1000.0) / 1000.0 + 0.0; };  // + 0.0 turns -0 into 0
    out.latitude = round3(*lat);
    out.longitude = round3(*lon);
}

void read_nested(MMDB_entry_s& e, GeoResult& out) {
    static const char* const country[] = {"country", "iso_code", nullptr};
    static const char* const subdivisions[] = {"subdivisions", nullptr};
    static const char* const city[] = {"city", "names", "en", nullptr};
    static const char* const location[] = {"location", nullptr};
    static const char* const iso_code[] = {"iso_code", nullptr};
    static const char* const name_en[] = {"names", "en", nullptr};
    static const char* const lat[] = {"latitude", nullptr};
    static const char* const lon[] = {"longitude", nullptr};
    set_country(out, get_string(e, country));
    std::uint32_t n = 0;
    if (auto subs = sub_entry(e, subdivisions, MMDB_DATA_TYPE_ARRAY, &n); subs && n > 0) {
        // Matomo's Php provider takes the last subdivision for GB (the district under England...).
        const std::string index = std::to_string(out.country == "gb" ? n - 1 : 0);
        const char* const at[] = {index.c_str(), nullptr};
        if (auto sub = sub_entry(*subs, at, MMDB_DATA_TYPE_MAP)) {
            if (auto c = get_string(*sub, iso_code); c && !c->empty()) {
                set_region(out, *c);
            } else if (auto nm = get_string(*sub, name_en)) {
                out.region_name = utf8_truncate(*nm, 255);
            }
        }
    }
    if (auto c = get_string(e, city)) out.city = utf8_truncate(*c, 255);
    if (auto loc = sub_entry(e, location, MMDB_DATA_TYPE_MAP))
        set_location(out, get_number(*loc, lat), get_number(*loc, lon));
}

void read_flat(MMDB_entry_s& e, std::string_view country_code, GeoResult& out) {
    static const char* const state1[] = {"state1", nullptr};
    static const char* const city[] = {"city", nullptr};
    static const char* const lat[] = {"latitude", nullptr};
    static const char* const lon[] = {"longitude", nullptr};
    set_country(out, country_code);
    if (auto s = get_string(e, state1)) out.region_name = utf8_truncate(*s, 255);
    if (auto c = get_string(e, city)) out.city = utf8_truncate(*c, 255);
    set_location(out, get_number(e, lat), get_number(e, lon));
}

}  // namespace

std::optional<GeoResult> GeoDatabase::lookup(std::string_view ip) const {
    // Parse ourselves and use the sockaddr entry point: MMDB_lookup_string goes through getaddrinfo.
    if (ip.empty() || ip.size() > 45 || ip.find('\0') != std::string_view::npos) return std::nullopt;
    char buf[46];
    std::memcpy(buf, ip.data(), ip.size());
    buf[ip.size()] = '\0';
    sockaddr_in v4{};
    sockaddr_in6 v6{};
    const sockaddr* sa = nullptr;
    if (inet_pton(AF_INET, buf, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        sa = reinterpret_cast<const sockaddr*>(&v4);
    } else if (inet_pton(AF_INET6, buf, &v6.sin6_addr) == 1) {
        if (IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr)) {  // the IPv4 record, as an IPv4-only database would answer
            v4.sin_family = AF_INET;
            std::memcpy(&v4.sin_addr, v6.sin6_addr.s6_addr + 12, 4);
            sa = reinterpret_cast<const sockaddr*>(&v4);
        } else {
            v6.sin6_family = AF_INET6;
            sa = reinterpret_cast<const sockaddr*>(&v6);
        }
    } else {
        return std::nullopt;
    }
    int mmdb_error = MMDB_SUCCESS;
    MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&handle_->mmdb, sa, &mmdb_error);
    if (mmdb_error != MMDB_SUCCESS || !r.found_entry) return std::nullopt;

    GeoResult out;
    static const char* const flat_country[] = {"country_code", nullptr};
    const int schema = schema_.load(std::memory_order_relaxed);
    if (schema == nested) {
        read_nested(r.entry, out);
    } else if (schema == flat) {
        read_flat(r.entry, get_string(r.entry, flat_country).value_or(std::string_view{}), out);
    } else if (auto cc = get_string(r.entry, flat_country)) {
        read_flat(r.entry, *cc, out);
        schema_.store(flat, std::memory_order_relaxed);
    } else {
        read_nested(r.entry, out);
        if (!out.country.empty()) schema_.store(nested, std::memory_order_relaxed);
    }
    if (out.country.empty() && out.city.empty() && !out.latitude) return std::nullopt;
    return out;
}

std::string utf8_truncate(std::string_view s, std::size_t max_bytes) {
    if (s.size() <= max_bytes) return std::string(s);
    std::size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    return std::string(s.substr(0, cut));
}

std::string format_coordinate(double v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, std::round(v * 1000.0) / 1000.0, std::chars_format::fixed, 3);
    if (ec != std::errc()) return "0";
    std::string s(buf, end);
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    if (s == "-0") s = "0";
    return s;
}

NameValues geo_override_params(const GeoResult& r) {
    NameValues out;
    if (!r.country.empty()) out.emplace_back("country", r.country);
    if (!r.region.empty()) out.emplace_back("region", r.region);
    if (!r.city.empty()) out.emplace_back("city", r.city);
    if (r.latitude && r.longitude) {
        out.emplace_back("lat", format_coordinate(*r.latitude));
        out.emplace_back("long", format_coordinate(*r.longitude));
    }
    return out;
}

}  // namespace mgw::geoip
