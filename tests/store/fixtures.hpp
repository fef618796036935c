// Store fixtures for the conformance suite: each opens a store over durable state that
// survives reopen() (a simulated crash and restart: every in-memory object is dropped).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <wakeplane/stores/memory.hpp>

#include "rocksdb_fixture.hpp"
#include "sqlite_fixture.hpp"

namespace wakeplane::testing {

/// The memory store; its "disk" is a shared memory_state.
struct memory_fixture {
    static constexpr const char* name = "memory";
    using store_type = stores::memory_store;

    std::shared_ptr<stores::memory_state> disk = std::make_shared<stores::memory_state>();
    std::unique_ptr<store_type> store = open();

    /// A backend on the same disk, for wrapping (fault injection); close() the store first.
    stores::memory_backend open_backend() { return stores::memory_backend{disk}; }
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

/// The fixtures every conformance case runs over; stores add theirs here.
#define WAKEPLANE_STORE_FIXTURES wakeplane::testing::memory_fixture, wakeplane::testing::sqlite_fixture, wakeplane::testing::rocksdb_fixture
