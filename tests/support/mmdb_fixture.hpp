// Test databases for the geoip tests, written at test time by make_test_mmdb.pl (Debian's
// libmaxmind-db-writer-perl) into a fresh temporary directory: no binary .mmdb is committed.
#pragma once

#include <filesystem>
#include <string>

namespace mgw::test {

struct TestDatabases {
  std::filesystem::path dir;
  std::string city() const { return (dir / "city.mmdb").string(); }        // GeoIP2-City shape
  std::string city_v2() const { return (dir / "city-v2.mmdb").string(); }  // same shape, other answers
  std::string flat() const { return (dir / "flat.mmdb").string(); }        // @ip-location-db shape
};

// Runs the script once per test process; REQUIREs that it worked.
const TestDatabases& test_databases();

// A new empty directory under the test temp dir, for tests that rename files around.
std::filesystem::path scratch_dir(const std::string& name);

// Writes `content` to `path` (binary), then renames it over `target` so readers never see it half-written.
void replace_file(const std::filesystem::path& target, const std::string& content);
void replace_with_copy(const std::filesystem::path& target, const std::filesystem::path& source);

}  // namespace mgw::test
