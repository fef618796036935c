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
#include <wakeplane/testing/temp_dir.hpp>

namespace wakeplane::testing {

/// The RocksDB store; its "disk" is a temporary directory.
struct rocksdb_fixture {
    static constexpr const char* name = "rocksdb";
    using store_type = stores::rocksdb_store;

    temp_dir dir{"wakeplane-rocksdb"};  // declared first: outlives the store
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
