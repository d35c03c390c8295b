// Builds the test .mmdb files once per process and removes them at exit.
#include "support/mmdb_fixture.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#ifndef MGW_SOURCE_DIR
#error "MGW_SOURCE_DIR must name the source tree (tests/CMakeLists.txt defines it)"
#endif

namespace mgw::test {

namespace {

struct TempRoot {
  std::filesystem::path path;
  TempRoot() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mgw-geoip-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempRoot() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

TempRoot& root() {
  static TempRoot r;
  return r;
}

}  // namespace

const TestDatabases& test_databases() {
  static const TestDatabases dbs = [] {
    TestDatabases d{root().path / "databases"};
    std::filesystem::create_directories(d.dir);
    const std::string cmd =
        std::string("perl '") + MGW_SOURCE_DIR + "/tests/geoip/make_test_mmdb.pl' '" + d.dir.string() + "'";
    const int rc = std::system(cmd.c_str());
    if (rc != 0) throw std::runtime_error("make_test_mmdb.pl failed (is libmaxmind-db-writer-perl installed?)");
    return d;
  }();
  REQUIRE(std::filesystem::exists(dbs.city()));
  REQUIRE(std::filesystem::exists(dbs.city_v2()));
  REQUIRE(std::filesystem::exists(dbs.flat()));
  return dbs;
}

std::filesystem::path scratch_dir(const std::string& name) {
  auto p = root().path / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

void replace_file(const std::filesystem::path& target, const std::string& content) {
  auto tmp = target;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  }
  std::filesystem::rename(tmp, target);
}

void replace_with_copy(const std::filesystem::path& target, const std::filesystem::path& source) {
  std::ifstream in(source, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE_FALSE(content.empty());
  replace_file(target, content);
}

}  // namespace mgw::test
