// Geo lookups against databases written by make_test_mmdb.pl: checklist item 17 formatting, both
// record schemas, Option A parameters and Option B MM_* variables (docs/wire-format.md, "Geolocation").
#include "geoip/geo.hpp"
#include "support/mmdb_fixture.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace mgw::geoip;
using mgw::test::test_databases;

namespace {

std::shared_ptr<const GeoDatabase> open_db(const std::string& path) {
    std::string error;
    auto db = GeoDatabase::open(path, error);
    INFO(error);
    REQUIRE(db);
    return db;
}

std::map<std::string, std::string> as_map(const NameValues& v) { return {v.begin(), v.end()}; }

bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n;
    }
    return true;
}

// Item 17, checked on whatever the gateway would send.
void check_item17(const NameValues& params) {
    for (const auto& [name, value] : params) {
        INFO(name << "=" << value);
        if (name == "country") {
            CHECK(value.size() == 2);
            CHECK(std::all_of(value.begin(), value.end(), [](char c) { return c >= 'a' && c <= 'z'; }));
        } else if (name == "region") {
            CHECK((!value.empty() && value.size() <= 3));
            CHECK(std::all_of(value.begin(), value.end(),
                              [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }));
        } else if (name == "city") {
            CHECK(value.size() <= 255);
            CHECK(valid_utf8(value));
        } else if (name == "lat" || name == "long") {
            auto dot = value.find('.');
            CHECK((dot == std::string::npos || value.size() - dot - 1 <= 6));
            CHECK(value.find_first_not_of("-0123456789.") == std::string::npos);
        } else {
            FAIL("unexpected parameter " << name);
        }
    }
}

}  // namespace

TEST_CASE("issue 6 acceptance 2: a GeoIP2 City record becomes country, region, city, lat, long") {
    auto db = open_db(test_databases().city());
    CHECK(db->database_type() == "GeoIP2-City");
    auto r = db->lookup("203.0.114.9");
    REQUIRE(r);
    CHECK(as_map(geo_override_params(*r)) ==
          std::map<std::string, std::string>{
              {"country", "de"}, {"region", "BY"}, {"city", "München"}, {"lat", "48.137"}, {"long", "11.576"}});
    check_item17(geo_override_params(*r));
}

TEST_CASE("item 17: the city is the English name") {
    auto r = open_db(test_databases().city())->lookup("203.0.113.5");
    REQUIRE(r);
    CHECK(r->city == "Munich");
}

TEST_CASE("item 17: unicode city names pass through as UTF-8") {
    auto r = open_db(test_databases().city())->lookup("198.51.100.1");
    REQUIRE(r);
    CHECK(r->country == "jp");
    CHECK(r->region == "13");
    CHECK(r->city == "東京");
    CHECK(format_coordinate(*r->latitude) == "35.69");
    CHECK(format_coordinate(*r->longitude) == "139.692");
}

TEST_CASE("item 17: a record without subdivisions has no region") {
    auto r = open_db(test_databases().city())->lookup("192.0.2.200");
    REQUIRE(r);
    CHECK(r->country == "sg");
    CHECK(r->region.empty());
    auto params = as_map(geo_override_params(*r));
    CHECK(params.count("region") == 0);
    CHECK(params.at("city") == "Singapore");
    check_item17(geo_override_params(*r));
}

TEST_CASE("item 17: region codes follow Matomo's provider (GB last subdivision, prefix dropped, long omitted)") {
    auto db = open_db(test_databases().city());
    auto gb = db->lookup("198.18.0.1");
    REQUIRE(gb);
    CHECK(gb->region == "WSM");
    CHECK(format_coordinate(*gb->longitude) == "-0.128");
    auto ae = db->lookup("198.18.1.1");
    REQUIRE(ae);
    CHECK(ae->region == "DU");
    auto fr = db->lookup("198.18.2.1");
    REQUIRE(fr);
    CHECK(fr->region.empty());
    CHECK(fr->city == "Paris");
    auto au = db->lookup("198.18.5.1");  // DB-IP Lite style: a name, no code
    REQUIRE(au);
    CHECK(au->region.empty());
    CHECK(au->region_name == "Queensland");
}

TEST_CASE("item 17: a city longer than 255 bytes is cut at a character boundary") {
    auto r = open_db(test_databases().city())->lookup("2001:db8:2::1");
    REQUIRE(r);
    CHECK(r->country == "fi");
    CHECK(r->city.size() == 254);  // 127 two-byte characters; 255 would split the 128th
    CHECK(valid_utf8(r->city));
    check_item17(geo_override_params(*r));
}

TEST_CASE("item 17: IPv6 networks are looked up") {
    auto r = open_db(test_databases().city())->lookup("2001:DB8:1:0::5");
    REQUIRE(r);
    CHECK(as_map(geo_override_params(*r)) ==
          std::map<std::string, std::string>{
              {"country", "us"}, {"region", "CA"}, {"city", "Mountain View"}, {"lat", "37.386"}, {"long", "-122.084"}});
}

TEST_CASE("item 17: coordinates are rounded to 3 decimals and never -0") {
    auto r = open_db(test_databases().city())->lookup("198.18.6.1");
    REQUIRE(r);
    auto params = as_map(geo_override_params(*r));
    CHECK(params.at("lat") == "0");
    CHECK(params.at("long") == "0");
    CHECK(format_coordinate(48.1371549) == "48.137");
    CHECK(format_coordinate(0.5) == "0.5");
    CHECK(format_coordinate(-122.0838) == "-122.084");
    CHECK(format_coordinate(180) == "180");
    CHECK(format_coordinate(-0.0004) == "0");
}

TEST_CASE("issue 6 acceptance 2: an unknown IP gives no geo result") {
    auto db = open_db(test_databases().city());
    for (std::string_view ip : {"8.8.8.8", "2001:db8:9::1", "10.0.0.1", "::1"}) {
        INFO(ip);
        CHECK_FALSE(db->lookup(ip));
    }
    CHECK_FALSE(db->lookup("198.18.4.1"));  // a record with nothing Matomo stores
    auto country_only = db->lookup("198.18.3.1");
    REQUIRE(country_only);
    CHECK(as_map(geo_override_params(*country_only)) == std::map<std::string, std::string>{{"country", "nl"}});
}

TEST_CASE("geo: text that is not an address finds nothing") {
    auto db = open_db(test_databases().city());
    for (std::string_view bad : std::initializer_list<std::string_view>{
             "", "garbage", "203.0.113", "203.0.113.5:80", "[2001:db8:1::5]", std::string_view("203.0.113.5\0", 12)}) {
        CHECK_FALSE(db->lookup(bad));
    }
}

TEST_CASE("geo: IPv4-mapped IPv6 is looked up as IPv4") {
    auto db = open_db(test_databases().city());
    auto mapped = db->lookup("::ffff:203.0.114.9");
    REQUIRE(mapped);
    CHECK(*mapped == *db->lookup("203.0.114.9"));
}

TEST_CASE("geo: the @ip-location-db flat schema is read") {
    auto db = open_db(test_databases().flat());
    auto at = db->lookup("203.0.113.1");
    REQUIRE(at);
    CHECK(
        as_map(geo_override_params(*at)) ==
        std::map<std::string, std::string>{{"country", "at"}, {"city", "Wien"}, {"lat", "48.208"}, {"long", "16.374"}});
    CHECK(at->region_name == "Vienna");  // state1 is a name, never sent as a region code
    auto jp = db->lookup("2001:db8:3::1");
    REQUIRE(jp);
    CHECK(jp->city == "東京");
    auto nz = db->lookup("198.51.100.1");
    REQUIRE(nz);
    CHECK(as_map(geo_override_params(*nz)) == std::map<std::string, std::string>{{"country", "nz"}});
    CHECK_FALSE(db->lookup("8.8.8.8"));
}

TEST_CASE("geo Option A: override parameters only for the fields a result has") {
    CHECK(geo_override_params(GeoResult{}).empty());
    GeoResult half;
    half.latitude = 1.0;  // one coordinate alone is never sent
    CHECK(geo_override_params(half).empty());
    half.country = "de";
    CHECK(as_map(geo_override_params(half)) == std::map<std::string, std::string>{{"country", "de"}});
}

TEST_CASE("geo: utf8_truncate never splits a character") {
    CHECK(utf8_truncate("abc", 2) == "ab");
    CHECK(utf8_truncate("aé", 2) == "a");
    CHECK(utf8_truncate("東京", 5) == "東");
    CHECK(utf8_truncate("東京", 6) == "東京");
    CHECK(utf8_truncate("😀x", 3).empty());
}
