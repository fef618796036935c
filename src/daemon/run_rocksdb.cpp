// wakeplaned over RocksDB: the scheduler, service and API instantiated for rocksdb_store.
#include "run.hpp"

#include <wakeplane/stores/rocksdb.hpp>

#include "serve.hpp"

namespace wakeplane::daemon {

template int serve<stores::rocksdb_store>(const config&, stores::rocksdb_store, const logger&, const std::string&);

int run_rocksdb(const config& cfg, const logger& log, const std::string& version) {
    auto store = stores::open_rocksdb_store(stores::rocksdb_options{cfg.db_path});
    if (!store) {
        emit(log, log_level::error, "opening the store failed",
             {{"store", "rocksdb"}, {"path", cfg.db_path}, {"error", store.error().message}});
        return 1;
    }
    return serve(cfg, std::move(*store), log, version);
}

}  // namespace wakeplane::daemon
