// City lookups in a MaxMind DB file through libmaxminddb, memory-mapped, and the two ways the result
// reaches Matomo (Option A override parameters, Option B MM_* server variables: docs/wire-format.md,
// "Geolocation"). Results are already in the form Matomo stores (checklist item 17).
//
// Two record schemas are read:
//  * nested, as GeoIP2/GeoLite2 City and DB-IP City (Lite) write it: country.iso_code,
//    subdivisions[i].iso_code, city.names.en, location.latitude/longitude;
//  * flat, as the npm @ip-location-db/*-city-mmdb packages write it: country_code, state1, state2,
//    city, postcode, latitude, longitude, timezone. Their state1 is a subdivision NAME, so those
//    databases never yield a region code.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mgw::geoip {

struct GeoResult {
    std::string country;             // ISO 3166-1 alpha-2, lower case; empty when unknown
    std::string region;              // ISO 3166-2 subdivision suffix, upper case, <= 3 chars; empty when unknown
    std::string city;                // English name, <= 255 bytes cut at a character boundary
    std::optional<double> latitude;  // rounded to 3 decimals as Matomo's own providers do; both or neither
    std::optional<double> longitude;
    // English subdivision name when the record has no code (DB-IP Lite, ip-location-db). Matomo's PHP
    // provider maps such names to codes with its own table; we send no region then. Not sent anywhere.
    std::string region_name;
    friend bool operator==(const GeoResult&, const GeoResult&) = default;
};

class GeoDatabase {
public:
    // Opens and maps the file; returns nullptr and sets `error` when it is missing or not a MaxMind DB.
    static std::shared_ptr<const GeoDatabase> open(const std::string& path, std::string& error);
    ~GeoDatabase();
    GeoDatabase(const GeoDatabase&) = delete;
    GeoDatabase& operator=(const GeoDatabase&) = delete;

    // nullopt when the address is not an IP address, is not in the database, or its record holds none
    // of country, city and coordinates. IPv4-mapped IPv6 is looked up as IPv4.
    std::optional<GeoResult> lookup(std::string_view ip) const;

    const std::string& database_type() const { return type_; }

private:
    GeoDatabase() = default;
    struct Handle;
    std::unique_ptr<Handle> handle_;
    // Which record schema this file uses, learnt from the first record that shows it: probing for the
    // flat schema's key on every lookup would scan all top-level keys of every nested record.
    enum Schema : int { unknown, nested, flat };
    mutable std::atomic<int> schema_{unknown};
    std::string type_;
};

// Cuts `s` to at most `max_bytes` without splitting a UTF-8 character.
std::string utf8_truncate(std::string_view s, std::size_t max_bytes);

// A coordinate as text: at most 3 decimals, no trailing zeros, never "-0" ("48.137", "-0.128", "0").
std::string format_coordinate(double v);

using NameValues = std::vector<std::pair<std::string, std::string>>;

// Option A (docs/wire-format.md), in Matomo's normalised form: country, region, city, lat, long hit parameters.
// Only the fields the result has.
NameValues geo_override_params(const GeoResult& r);

}  // namespace mgw::geoip
