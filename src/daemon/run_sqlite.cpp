// wakeplaned over SQLite: the scheduler, service and API instantiated for sqlite_store.
#include "run.hpp"

#include <wakeplane/stores/sqlite.hpp>

#include "serve.hpp"

namespace wakeplane::daemon {

template int serve<stores::sqlite_store>(const config&, stores::sqlite_store, const logger&, const std::string&);

int run_sqlite(const config& cfg, const logger& log, const std::string& version) {
    auto backend = stores::sqlite_backend::open(stores::sqlite_options{cfg.db_path});
    if (!backend) {
        emit(log, log_level::error, "opening the store failed",
             {{"store", "sqlite"}, {"path", cfg.db_path}, {"error", backend.error().message}});
        return 1;
    }
    return serve(cfg, stores::sqlite_store{std::move(*backend)}, log, version);
}

}  // namespace wakeplane::daemon
