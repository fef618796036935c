// The SQLite store fixture: a database file in a fresh temporary directory per fixture.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include <wakeplane/stores/sqlite.hpp>
#include <wakeplane/testing/temp_dir.hpp>

namespace wakeplane::testing {

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
        stores::sqlite_options o{file};
        // Background checkpoints every few commits, so every store test also runs beside them.
        o.checkpoint_pages = 16;
        auto backend = stores::sqlite_backend::open(o);
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
