// The RocksDB store fixture for the conformance suite: a real database in a fresh temporary
// directory, which reopen() closes completely and opens again.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include <wakeplane/stores/rocksdb.hpp>

namespace wakeplane::testing {

/// A fresh, empty directory under the system's temporary directory, removed with its contents
/// on destruction. Named <stem>-<pid>-<n>; a name that exists already (left by a crashed run
/// of the same pid) is skipped, so the directory is always new.
class temp_directory {
public:
    explicit temp_directory(std::string_view stem) {
        static std::atomic<unsigned> counter{0};
        const auto base = std::filesystem::temp_directory_path();
        for (;;) {
            path_ = base / (std::string(stem) + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
            if (std::filesystem::create_directory(path_)) {
                return;
            }
        }
    }
    temp_directory(const temp_directory&) = delete;
    temp_directory& operator=(const temp_directory&) = delete;
    ~temp_directory() {
        std::error_code ignored;  // a destructor must not throw; a leftover directory is harmless
        std::filesystem::remove_all(path_, ignored);
    }

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

/// The RocksDB store; its "disk" is a temporary directory.
struct rocksdb_fixture {
    static constexpr const char* name = "rocksdb";
    using store_type = stores::rocksdb_store;

    temp_directory dir{"wakeplane-rocksdb"};  // declared first: outlives the store
    std::unique_ptr<store_type> store = open();

    /// A backend on the same directory, for wrapping (fault injection); close() the store first,
    /// since RocksDB admits one open database per directory.
    stores::rocksdb_backend open_backend() {
        auto backend = stores::rocksdb_backend::open({.path = dir.path()});
        if (!backend) {
            throw std::runtime_error(backend.error().message);
        }
        return std::move(*backend);
    }
    std::unique_ptr<store_type> open() { return std::make_unique<store_type>(open_backend()); }
    void close() { store.reset(); }
    /// Closes the database (every object of the old store is dropped) and opens the directory again.
    store_type& reopen() {
        store.reset();
        store = open();
        return *store;
    }
    store_type& operator*() { return *store; }
    store_type* operator->() { return store.get(); }
};

}  // namespace wakeplane::testing
