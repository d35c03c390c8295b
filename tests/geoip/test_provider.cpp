// GeoProvider: start-up errors, SIGHUP/file-change reload that keeps the old database on a broken
// file, and reloading under load fails no lookup; the new database answers.
#include "geoip/provider.hpp"
#include "support/mmdb_fixture.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

using namespace mgw::geoip;
using mgw::test::replace_file;
using mgw::test::replace_with_copy;
using mgw::test::scratch_dir;
using mgw::test::test_databases;

namespace {

std::string city_of(const GeoProvider& p, std::string_view ip) {
    auto r = p.lookup(ip);
    return r ? r->city : std::string("<none>");
}

}  // namespace

TEST_CASE("geo provider: a missing database at start-up is a clear error") {
    auto dir = scratch_dir("missing");
    GeoProvider p((dir / "nope.mmdb").string());
    auto error = p.open();
    REQUIRE(error);
    CHECK(error->find("nope.mmdb") != std::string::npos);
    CHECK_FALSE(p.loaded());
    CHECK_FALSE(p.lookup("203.0.113.5"));
}

TEST_CASE("geo provider: a corrupt database at start-up is a clear error") {
    auto dir = scratch_dir("corrupt");
    for (const std::string& junk : {std::string(), std::string("not a maxmind db\n"), std::string(4096, '\xAB')}) {
        replace_file(dir / "bad.mmdb", junk);
        GeoProvider p((dir / "bad.mmdb").string());
        auto error = p.open();
        REQUIRE(error);
        CHECK(error->find("bad.mmdb") != std::string::npos);
        CHECK_FALSE(p.loaded());
    }
    std::string error;
    CHECK_FALSE(GeoDatabase::open((dir / "bad.mmdb").string(), error));
    CHECK_FALSE(error.empty());
}

TEST_CASE("geo provider: reload keeps the old database when the new file is corrupt") {
    auto dir = scratch_dir("reload");
    const auto path = dir / "current.mmdb";
    replace_with_copy(path, test_databases().city());
    GeoProvider p(path.string());
    REQUIRE_FALSE(p.open());
    CHECK(city_of(p, "203.0.113.5") == "Munich");

    replace_file(path, "garbage");
    auto r = p.reload();
    CHECK(r.status == ReloadStatus::failed);
    CHECK(r.error.find("current.mmdb") != std::string::npos);
    CHECK(city_of(p, "203.0.113.5") == "Munich");

    replace_with_copy(path, test_databases().city_v2());
    CHECK(p.reload().status == ReloadStatus::reloaded);
    CHECK(city_of(p, "203.0.113.5") == "Wien");
}

TEST_CASE("geo provider: maybe_reload_if_changed reloads only a changed file and reports a broken one once") {
    auto dir = scratch_dir("watch");
    const auto path = dir / "current.mmdb";
    replace_with_copy(path, test_databases().city());
    GeoProvider p(path.string());
    REQUIRE_FALSE(p.open());
    CHECK(p.maybe_reload_if_changed().status == ReloadStatus::unchanged);

    replace_with_copy(path, test_databases().city_v2());
    CHECK(p.maybe_reload_if_changed().status == ReloadStatus::reloaded);
    CHECK(city_of(p, "2001:db8:1::1") == "Montréal");
    CHECK(p.maybe_reload_if_changed().status == ReloadStatus::unchanged);

    replace_file(path, std::string(100, 'x'));
    CHECK(p.maybe_reload_if_changed().status == ReloadStatus::failed);
    CHECK(p.maybe_reload_if_changed().status == ReloadStatus::unchanged);  // same broken file: said once
    CHECK(city_of(p, "2001:db8:1::1") == "Montréal");

    std::filesystem::remove(path);
    auto gone = p.maybe_reload_if_changed();
    CHECK(gone.status == ReloadStatus::failed);
    CHECK(gone.error.find("keeping") != std::string::npos);
    CHECK(p.maybe_reload_if_changed().status == ReloadStatus::unchanged);
    CHECK(city_of(p, "2001:db8:1::1") == "Montréal");  // still mapped after the unlink

    replace_with_copy(path, test_databases().city());
    CHECK(p.maybe_reload_if_changed().status == ReloadStatus::reloaded);
    CHECK(city_of(p, "2001:db8:1::1") == "Mountain View");
}

TEST_CASE("geo provider: a provider that never opened can still load later") {
    auto dir = scratch_dir("late");
    const auto path = dir / "current.mmdb";
    GeoProvider p(path.string());
    REQUIRE(p.open());
    CHECK(p.maybe_reload_if_changed().status == ReloadStatus::unchanged);  // still missing: already reported
    replace_with_copy(path, test_databases().city());
    CHECK(p.maybe_reload_if_changed().status == ReloadStatus::reloaded);
    CHECK(city_of(p, "203.0.113.5") == "Munich");
}

TEST_CASE("geo reload: reloading under load fails no lookup and the new database answers") {
    auto dir = scratch_dir("load");
    const auto path = dir / "current.mmdb";
    replace_with_copy(path, test_databases().city());
    GeoProvider p(path.string());
    REQUIRE_FALSE(p.open());

    std::atomic<bool> stop{false};
    std::atomic<long> lookups{0}, failures{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 4; ++t) {
        readers.emplace_back([&] {
            while (!stop.load(std::memory_order_relaxed)) {
                auto r = p.lookup("203.0.113.5");
                if (!r || (r->city != "Munich" && r->city != "Wien")) failures.fetch_add(1);
                lookups.fetch_add(1, std::memory_order_relaxed);
            }
        });
    }
    for (int round = 0; round < 20; ++round) {
        replace_with_copy(path, round % 2 ? test_databases().city() : test_databases().city_v2());
        CHECK(p.reload().status == ReloadStatus::reloaded);
        replace_file(path, "corrupt " + std::to_string(round));
        CHECK(p.maybe_reload_if_changed().status == ReloadStatus::failed);
    }
    replace_with_copy(path, test_databases().city_v2());
    CHECK(p.maybe_reload_if_changed().status == ReloadStatus::reloaded);
    const long before = lookups.load();
    while (lookups.load() < before + 1000) std::this_thread::yield();
    stop = true;
    for (auto& t : readers) t.join();

    CHECK(failures.load() == 0);
    CHECK(lookups.load() > 1000);
    CHECK(city_of(p, "203.0.113.5") == "Wien");
}
