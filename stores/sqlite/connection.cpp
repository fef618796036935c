// SQLite connections: opening with the store's pragmas, the statement cache, error translation.
#include "connection.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace wakeplane::stores::sqlite_detail {

namespace {

/// The start of a statement's text on one line, for error messages.
std::string describe(std::string_view sql) {
    constexpr std::size_t shown = 48;
    std::string out;
    bool space = false;
    for (char ch : sql) {
        if (out.size() == shown) {
            out += "…";
            break;
        }
        const bool blank = ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r';
        if (blank) {
            space = !out.empty();
            continue;
        }
        if (space) {
            out += ' ';
            space = false;
        }
        out += ch;
    }
    return out;
}

}  // namespace

// ---- statement -----------------------------------------------------------------------------

statement::statement(statement&& other) noexcept
    : owner_(other.owner_),
      handle_(std::exchange(other.handle_, nullptr)),
      bind_failure_(other.bind_failure_),
      bind_failure_index_(other.bind_failure_index_) {}

statement::~statement() {
    if (handle_ != nullptr) {
        sqlite3_reset(handle_);  // reports the last step's error again, which was handled already
        sqlite3_clear_bindings(handle_);
    }
}

int statement::parameter(const char* name) const noexcept { return sqlite3_bind_parameter_index(handle_, name); }

void statement::record_bind(int rc, int index) noexcept {
    if (rc != SQLITE_OK && bind_failure_ == SQLITE_OK) {
        bind_failure_ = rc;
        bind_failure_index_ = index;
    }
}

statement& statement::bind(int index, std::int64_t value) noexcept {
    record_bind(sqlite3_bind_int64(handle_, index, value), index);
    return *this;
}

statement& statement::bind(int index, std::optional<std::int64_t> value) noexcept {
    record_bind(value ? sqlite3_bind_int64(handle_, index, *value) : sqlite3_bind_null(handle_, index), index);
    return *this;
}

statement& statement::bind(int index, std::nullopt_t) noexcept {
    record_bind(sqlite3_bind_null(handle_, index), index);
    return *this;
}

statement& statement::bind(int index, std::string_view text) noexcept {
    // An empty view may have a null data(), which SQLite would bind as NULL, not as ''.
    const char* data = text.data() != nullptr ? text.data() : "";
    if (text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        record_bind(SQLITE_TOOBIG, index);
        return *this;
    }
    record_bind(sqlite3_bind_text(handle_, index, data, static_cast<int>(text.size()), SQLITE_STATIC), index);
    return *this;
}

statement& statement::bind(int index, const std::optional<std::string>& text) noexcept {
    return text ? bind(index, std::string_view{*text}) : bind(index, std::nullopt);
}

result<bool> statement::step() {
    if (bind_failure_ != SQLITE_OK) {
        return owner_->failure(bind_failure_, "cannot bind parameter " + std::to_string(bind_failure_index_) +
                                                  " of `" + describe(sqlite3_sql(handle_)) + "`");
    }
    const int rc = sqlite3_step(handle_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    return owner_->failure(rc, "`" + describe(sqlite3_sql(handle_)) + "` failed");
}

result<void> statement::run() {
    for (;;) {
        auto row = step();
        if (!row) {
            return tl::unexpected(row.error());
        }
        if (!*row) {
            return {};
        }
    }
}

bool statement::is_null(int column) const noexcept { return sqlite3_column_type(handle_, column) == SQLITE_NULL; }

std::int64_t statement::integer(int column) const noexcept { return sqlite3_column_int64(handle_, column); }

std::optional<std::int64_t> statement::optional_integer(int column) const noexcept {
    return is_null(column) ? std::nullopt : std::optional<std::int64_t>{integer(column)};
}

std::string_view statement::text(int column) const noexcept {
    const auto* data = sqlite3_column_text(handle_, column);  // before bytes(): it may convert
    if (data == nullptr) {
        return {};
    }
    return {reinterpret_cast<const char*>(data), static_cast<std::size_t>(sqlite3_column_bytes(handle_, column))};
}

std::optional<std::string> statement::optional_text(int column) const {
    return is_null(column) ? std::nullopt : std::optional<std::string>{std::string(text(column))};
}

// ---- connection ----------------------------------------------------------------------------

result<connection> connection::open(const std::filesystem::path& path, connection_role role,
                                    std::chrono::milliseconds busy_timeout, std::int64_t cache_kib) {
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (role == connection_role::writer) {
        flags |= SQLITE_OPEN_CREATE;
    }
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    connection c{db, path, busy_timeout};  // owns the handle, which SQLite allocates even on failure
    if (rc != SQLITE_OK) {
        return c.failure(rc, "cannot open the database");
    }
    if (auto pragmas = c.apply_pragmas(role, cache_kib); !pragmas) {
        return tl::unexpected(pragmas.error());
    }
    return c;
}

result<void> connection::apply_pragmas(connection_role role, std::int64_t cache_kib) {
    const auto ms = std::clamp<std::chrono::milliseconds::rep>(busy_timeout_.count(), 0,
                                                               std::numeric_limits<int>::max());
    sqlite3_busy_timeout(db_, static_cast<int>(ms));
    // journal_mode answers with the mode in force: a file that cannot use WAL says something else.
    std::string mode;
    int rc = sqlite3_exec(
        db_, "PRAGMA journal_mode=WAL",
        [](void* out, int, char** values, char**) {
            *static_cast<std::string*>(out) = values[0] != nullptr ? values[0] : "";
            return 0;
        },
        &mode, nullptr);
    if (rc != SQLITE_OK) {
        return failure(rc, "cannot open the database");
    }
    if (mode != "wal") {
        return fail(errc::storage, "sqlite " + path_.string() + ": cannot switch to WAL mode (journal_mode is \"" +
                                       mode + "\")");
    }
    // FULL: a WAL commit is synced before it returns, so a committed claim or result survives a
    // power loss (DECISIONS 23); every write of this store is such a ledger write.
    // A checkpointer's synchronous=FULL syncs the database file after copying frames into it.
    // secure_delete=OFF is SQLite's own default, which Debian's build turns on: every index
    // entry a write moves (a pass's next_run_at, a run's status) was zeroed in place, 2,250
    // instructions an occurrence of a planner pass. Nothing the store deletes is secret: the
    // ledger keeps every value a row ever held.
    const char* settings = role == connection_role::reader
                               ? "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA query_only=ON;"
                           : role == connection_role::writer
                               ? "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=OFF;"
                               : "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;";
    rc = sqlite3_exec(db_, settings, nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK && cache_kib > 0) {
        rc = sqlite3_exec(db_, ("PRAGMA cache_size=-" + std::to_string(cache_kib)).c_str(), nullptr, nullptr, nullptr);
    }
    if (rc != SQLITE_OK) {
        return failure(rc, "cannot configure the connection");
    }
    return {};
}

connection::connection(connection&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      path_(std::move(other.path_)),
      busy_timeout_(other.busy_timeout_),
      cache_(std::move(other.cache_)) {
    other.cache_.clear();
}

connection& connection::operator=(connection&& other) noexcept {
    if (this != &other) {
        close();
        db_ = std::exchange(other.db_, nullptr);
        path_ = std::move(other.path_);
        busy_timeout_ = other.busy_timeout_;
        cache_ = std::move(other.cache_);
        other.cache_.clear();
    }
    return *this;
}

connection::~connection() { close(); }

void connection::hand_checkpoints_to(wal_listener* listener) noexcept {
    if (listener == nullptr) {
        sqlite3_wal_autocheckpoint(db_, 1000);  // SQLite's default threshold, in pages
        return;
    }
    // A WAL hook replaces the automatic checkpoint, which is itself a WAL hook.
    sqlite3_wal_hook(
        db_,
        [](void* arg, sqlite3* db, const char* name, int pages) {
            if (static_cast<wal_listener*>(arg)->wal_grew(pages)) {
                // No other writer adds frames meanwhile, so this copies them all (unless a
                // reader's snapshot holds some back) and the next write transaction starts the
                // WAL over. A failure leaves the frames where they are as durable; the next
                // commit tries again. SQLite's own automatic checkpoint is a WAL hook that
                // checkpoints the same way.
                (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
            }
            return SQLITE_OK;
        },
        listener);
}

result<void> connection::checkpoint_passive() {
    const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        return failure(rc, "checkpoint");
    }
    return {};
}

void connection::close() noexcept {
    for (auto& [sql, handle] : cache_) {
        sqlite3_finalize(handle);
    }
    cache_.clear();
    if (db_ != nullptr) {
        sqlite3_close_v2(db_);
        db_ = nullptr;
    }
}

result<statement> connection::prepare(std::string_view sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) {
        return statement{*this, it->second};
    }
    if (sql.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        return failure(SQLITE_TOOBIG, "cannot prepare `" + describe(sql) + "`");
    }
    sqlite3_stmt* handle = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                      &handle, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(handle);
        return failure(rc, "cannot prepare `" + describe(sql) + "`");
    }
    cache_.emplace(std::string(sql), handle);
    return statement{*this, handle};
}

result<void> connection::execute(std::string_view sql) {
    auto st = prepare(sql);
    if (!st) {
        return tl::unexpected(st.error());
    }
    return st->run();
}

result<void> connection::execute_script(const std::string& sql) {
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
        return failure(rc, "`" + describe(sql) + "` failed");
    }
    return {};
}

result<std::int64_t> connection::query_integer(std::string_view sql) {
    auto st = prepare(sql);
    if (!st) {
        return tl::unexpected(st.error());
    }
    auto row = st->step();
    if (!row) {
        return tl::unexpected(row.error());
    }
    return *row ? st->integer(0) : 0;
}

result<std::string> connection::query_text(std::string_view sql) {
    auto st = prepare(sql);
    if (!st) {
        return tl::unexpected(st.error());
    }
    auto row = st->step();
    if (!row) {
        return tl::unexpected(row.error());
    }
    return *row ? std::string(st->text(0)) : std::string{};
}

std::int64_t connection::changes() const noexcept { return sqlite3_changes64(db_); }

int connection::last_error() const noexcept { return sqlite3_extended_errcode(db_); }

bool connection::in_transaction() const noexcept { return db_ != nullptr && sqlite3_get_autocommit(db_) == 0; }

tl::unexpected<error> connection::failure(int rc, std::string_view what) const {
    std::string message = "sqlite " + path_.string() + ": " + std::string(what) + ": ";
    message += db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    const int primary = rc & 0xff;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
        message += " (still locked after the busy timeout of " + std::to_string(busy_timeout_.count()) + " ms)";
    }
    return fail(errc::storage, std::move(message));
}

}  // namespace wakeplane::stores::sqlite_detail
