// The SQLite store fixture: a database file in a fresh temporary directory per fixture.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include <wakeplane/stores/sqlite.hpp>

namespace wakeplane::testing {

/// A directory made for one test (mkdtemp, so parallel test programs never share one) and
/// removed with everything in it when the object goes.
class temp_dir {
public:
    temp_dir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "wakeplane-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("cannot create a temporary directory from " + pattern);
        }
        path_ = pattern;
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ignored;  // a leftover directory must not fail the test that made it
        std::filesystem::remove_all(path_, ignored);
    }

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

/// The SQLite store over a file of its own; reopen() closes every connection and opens the
/// file again, as a restarted process would.
struct sqlite_fixture {
    static constexpr const char* name = "sqlite";
    using store_type = stores::sqlite_store;

    temp_dir dir;  // declared first: it outlives the store and its connections
    std::filesystem::path file = dir.path() / "wakeplane.db";
    std::unique_ptr<store_type> store = open();

    /// A backend on the same file, for wrapping (fault injection); close() the store first, as
    /// another process would find it.
    stores::sqlite_backend open_backend() {
        auto backend = stores::sqlite_backend::open(stores::sqlite_options{file});
        if (!backend) {
            throw std::runtime_error(backend.error().message);
        }
        return std::move(*backend);
    }
    std::unique_ptr<store_type> open() { return std::make_unique<store_type>(open_backend()); }
    void close() { store.reset(); }
    store_type& reopen() {
        store.reset();
        store = open();
        return *store;
    }
    store_type& operator*() { return *store; }
    store_type* operator->() { return store.get(); }
};

}  // namespace wakeplane::testing
