// A scratch directory for a test, removed with everything in it when the object goes.
#pragma once

#include "support/redis_server.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace mgw::test {

class TempDir {
 public:
  // <temp>/<prefix>-XXXXXX. With `in_memory`, under /dev/shm where the machine has it: for tests
  // that write a lot and are not about the disk.
  explicit TempDir(const std::string& prefix, bool in_memory = false) : path(make(prefix, in_memory)) {}
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `text` to path + `rel`, creating the directories on the way.
  void write(const std::string& rel, const std::string& text) const {
    std::filesystem::create_directories(std::filesystem::path(path + rel).parent_path());
    std::ofstream(path + rel) << text;
  }

  const std::string path;

 private:
  static std::string make(const std::string& prefix, bool in_memory) {
    if (in_memory && std::filesystem::is_directory("/dev/shm")) {
      std::string t = "/dev/shm/" + prefix + "-XXXXXX";
      if (::mkdtemp(t.data()) != nullptr) return t;
    }
    return make_temp_dir(prefix);
  }
};

}  // namespace mgw::test
