// The daemon's entry points per store: each opens its store and serves it (serve.hpp), in its
// own translation unit so that the two scheduler instantiations compile in parallel.
#pragma once

#include <string>

#include <wakeplane/log.hpp>

#include "config.hpp"

namespace wakeplane::daemon {

/// Opens the SQLite file at cfg.db_path (created and migrated when missing) and serves it.
/// Returns the exit status; 1 when the store cannot be opened.
int run_sqlite(const config& cfg, const logger& log, const std::string& version);

/// Opens the RocksDB directory at cfg.db_path (created with its parents when missing) and
/// serves it. Returns the exit status; 1 when the store cannot be opened.
int run_rocksdb(const config& cfg, const logger& log, const std::string& version);

}  // namespace wakeplane::daemon
