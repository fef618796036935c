// The versioned schema of the SQLite store, embedded in the binary (private to the store).
#pragma once

#include <cstdint>

#include <wakeplane/result.hpp>

#include "connection.hpp"

namespace wakeplane::stores::sqlite_detail {

/// `PRAGMA application_id` of a wakeplane database: "WAKE" in ASCII, so that `file(1)` and the
/// store itself can tell our files from other SQLite databases.
inline constexpr std::int64_t application_id = 0x57414B45;

/// Brings the file behind `writer` to schema version `target` (1 to sqlite_schema_version), one
/// version per transaction, each re-reading the version under the write lock so that two
/// processes opening one file migrate it once. A file at a newer version than this build knows,
/// or one that is not a wakeplane database, is refused with errc::storage and left untouched.
[[nodiscard]] result<void> migrate(connection& writer, int target);

}  // namespace wakeplane::stores::sqlite_detail
