// SQLite connections with cached prepared statements and error translation (private to the store).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <sqlite3.h>

#include <wakeplane/result.hpp>
#include <wakeplane/time.hpp>

namespace wakeplane::stores::sqlite_detail {

/// Microseconds since the Unix epoch: how every instant is stored, so integer order is time
/// order (DECISIONS 7).
[[nodiscard]] inline std::int64_t to_us(time_point t) noexcept { return t.time_since_epoch().count(); }
[[nodiscard]] inline time_point from_us(std::int64_t us) noexcept { return time_point{duration{us}}; }
[[nodiscard]] inline std::optional<std::int64_t> to_us(const std::optional<time_point>& t) noexcept {
    return t ? std::optional<std::int64_t>{to_us(*t)} : std::nullopt;
}

/// What a connection is opened for. All get busy_timeout, journal_mode=WAL, synchronous=FULL and
/// foreign_keys=ON; a writer also keeps a large page cache; a reader is also `query_only`, so a
/// bug can never make it write outside the writer's transaction; a checkpointer only copies
/// committed WAL frames into the database file.
enum class connection_role { writer, reader, checkpointer };

/// Told the WAL's size after each commit of a connection that hands its checkpoints to it.
class wal_listener {
public:
    /// Called on the committing thread, with the connection's lock held, after each commit.
    /// True: the connection runs a passive checkpoint itself, now (the WAL is at its limit).
    virtual bool wal_grew(int pages) noexcept = 0;

protected:
    ~wal_listener() = default;
};

class connection;

/// A cached prepared statement in use. Bind, step, read columns; going out of scope resets the
/// statement and clears its bindings, so the connection can hand it out again and no read
/// transaction stays open behind a half-stepped statement (which would block checkpoints).
/// Text is bound without copying: the bound text must outlive the statement's use, which is why
/// binding a temporary std::string does not compile.
class statement {
public:
    statement(connection& owner, sqlite3_stmt* handle) noexcept : owner_(&owner), handle_(handle) {}
    statement(statement&& other) noexcept;
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;
    statement& operator=(statement&&) = delete;
    ~statement();

    /// The index of the named parameter `:name`; 0 (which every bind refuses) when absent.
    [[nodiscard]] int parameter(const char* name) const noexcept;

    statement& bind(int index, std::int64_t value) noexcept;
    statement& bind(int index, std::optional<std::int64_t> value) noexcept;
    statement& bind(int index, std::nullopt_t) noexcept;
    statement& bind(int index, std::string_view text) noexcept;
    statement& bind(int index, const char* text) noexcept { return bind(index, std::string_view{text}); }
    statement& bind(int index, const std::string& text) noexcept { return bind(index, std::string_view{text}); }
    statement& bind(int index, std::string&& text) = delete;  // would dangle before step()
    /// Text, or NULL when empty.
    statement& bind(int index, const std::optional<std::string>& text) noexcept;
    statement& bind(int index, std::optional<std::string>&& text) = delete;

    /// Advances: true when a row is available, false when the statement is done.
    [[nodiscard]] result<bool> step();
    /// Runs a statement that returns no rows.
    [[nodiscard]] result<void> run();

    [[nodiscard]] bool is_null(int column) const noexcept;
    [[nodiscard]] std::int64_t integer(int column) const noexcept;
    [[nodiscard]] std::optional<std::int64_t> optional_integer(int column) const noexcept;
    /// The column's text, valid until the next step() or the end of the statement's use.
    [[nodiscard]] std::string_view text(int column) const noexcept;
    [[nodiscard]] std::optional<std::string> optional_text(int column) const;

private:
    void record_bind(int rc, int index) noexcept;

    connection* owner_;
    sqlite3_stmt* handle_;
    int bind_failure_ = SQLITE_OK;  ///< the first failed bind, reported by the next step()
    int bind_failure_index_ = 0;
};

/// One open database connection and its prepared-statement cache. Not thread-safe: one thread
/// uses it at a time (the store hands connections out under its own locks).
class connection {
public:
    /// Opens `path` (a writer creates the file when missing) and applies the pragmas every
    /// connection gets: busy_timeout, journal_mode=WAL, synchronous=FULL, foreign_keys=ON; with
    /// `cache_kib` above 0, a page cache of that many KiB instead of SQLite's default.
    [[nodiscard]] static result<connection> open(const std::filesystem::path& path, connection_role role,
                                                 std::chrono::milliseconds busy_timeout, std::int64_t cache_kib = 0);

    connection(connection&& other) noexcept;
    connection& operator=(connection&& other) noexcept;
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection();

    /// The prepared statement for `sql`, compiled on first use and cached for the connection's
    /// lifetime (SQLite re-prepares it by itself after a schema change).
    [[nodiscard]] result<statement> prepare(std::string_view sql);
    /// Runs one cached statement that returns no rows (BEGIN, COMMIT, a pragma that sets).
    [[nodiscard]] result<void> execute(std::string_view sql);
    /// Runs a script of several statements, uncached (migrations).
    [[nodiscard]] result<void> execute_script(const std::string& sql);
    /// The first column of the first row of `sql` as an integer (a pragma, a count).
    [[nodiscard]] result<std::int64_t> query_integer(std::string_view sql);
    /// The first column of the first row of `sql` as text.
    [[nodiscard]] result<std::string> query_text(std::string_view sql);

    /// Reports the WAL's size to `listener` after each commit instead of checkpointing on the
    /// committing thread (SQLite's automatic checkpoint); nullptr restores the automatic one.
    void hand_checkpoints_to(wal_listener* listener) noexcept;
    /// A passive checkpoint: copies what committed WAL frames it can into the database file
    /// without blocking the writer or readers (another checkpoint in progress is no error).
    [[nodiscard]] result<void> checkpoint_passive();

    /// Rows written by the last INSERT or UPDATE.
    [[nodiscard]] std::int64_t changes() const noexcept;
    /// The extended result code of the last failed call, e.g. SQLITE_CONSTRAINT_PRIMARYKEY; read
    /// it before the failed statement goes out of scope.
    [[nodiscard]] int last_error() const noexcept;
    /// Whether a transaction is open (SQLite may end one by itself after some errors).
    [[nodiscard]] bool in_transaction() const noexcept;
    /// The errc::storage error for result code `rc` of the operation `what`, with SQLite's message.
    [[nodiscard]] tl::unexpected<error> failure(int rc, std::string_view what) const;
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    /// Heterogeneous lookup, so a cache hit needs no std::string.
    struct text_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };

    connection(sqlite3* db, std::filesystem::path path, std::chrono::milliseconds busy_timeout) noexcept
        : db_(db), path_(std::move(path)), busy_timeout_(busy_timeout) {}
    [[nodiscard]] result<void> apply_pragmas(connection_role role, std::int64_t cache_kib);
    void close() noexcept;

    sqlite3* db_ = nullptr;
    std::filesystem::path path_;
    std::chrono::milliseconds busy_timeout_{0};
    std::unordered_map<std::string, sqlite3_stmt*, text_hash, std::equal_to<>> cache_;
};

}  // namespace wakeplane::stores::sqlite_detail
