// The human (table) rendering of each kind of API answer.
#pragma once

#include <string>

#include "api_client.hpp"

namespace wakeplane::cli {

/// What an answer holds, which decides its table columns.
enum class view {
    schedules,     ///< `{items: [ScheduleSummary], next_cursor}`
    runs,          ///< `{items: [RunSummary], next_cursor}`
    receipts,      ///< `{items: [Receipt], …}`: each receipt's header line, then its body
    dead_letters,  ///< `{items: [DeadLetter], next_cursor}`
    ledger,        ///< `{items: [LedgerEntry], …}`: fixed-width lines, so batches line up
    instants,      ///< `{items: ["<RFC 3339>", …]}`: one per line
    object,        ///< any single object: `field  value` lines, nested fields dotted
};

/// The human text for `doc`. List views print a header even when empty, and a last line
/// `(more rows: --cursor <c>, or --all)` when the page has a next_cursor. Long cells are
/// shortened; `-o json` shows everything.
[[nodiscard]] std::string render_view(view v, const json& doc);

/// The header line of the ledger view, printed once before the first batch of entries.
[[nodiscard]] std::string ledger_header();

/// Ledger entries as lines without the header (for `ledger tail --follow`).
[[nodiscard]] std::string ledger_lines(const json& items);

}  // namespace wakeplane::cli
