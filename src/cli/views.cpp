// Table renderings of API answers.
#include "views.hpp"

#include <algorithm>
#include <cstdio>

#include "table.hpp"
#include "text.hpp"

namespace wakeplane::cli {
namespace {

/// A scalar as a cell: strings as they are, null or absent as `-`, others as JSON.
std::string cell(const json& value) {
    if (value.is_null()) {
        return "-";
    }
    if (value.is_string()) {
        return value.get<std::string>();
    }
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// The member `key` of `item` as a cell, `-` when absent.
std::string field(const json& item, const char* key) {
    if (!item.is_object() || !item.contains(key)) {
        return "-";
    }
    return cell(item[key]);
}

/// `items` of a list answer; an absent or null list is empty (the original sent `null`).
const json& items_of(const json& doc) {
    static const json empty = json::array();
    if (doc.is_object() && doc.contains("items") && doc["items"].is_array()) {
        return doc["items"];
    }
    return empty;
}

/// The hint under a page that is not the last one.
std::string more_hint(const json& doc) {
    if (doc.is_object() && doc.contains("next_cursor") && doc["next_cursor"].is_string()) {
        return "(more rows: --cursor " + doc["next_cursor"].get<std::string>() + ", or --all)\n";
    }
    return "";
}

/// How a schedule fires, in one cell: `cron 0 3 * * *`, `every 300s`, `once 2026-03-12T10:00:00Z`.
std::string cadence(const json& spec) {
    const auto kind = field(spec, "kind");
    if (kind == "cron") {
        return "cron " + field(spec, "expr");
    }
    if (kind == "interval") {
        return "every " + field(spec, "every_seconds") + "s";
    }
    if (kind == "once") {
        return "once " + field(spec, "at");
    }
    return kind;
}

/// A list as a table: one row per item, each column read by `row_of`.
template <class RowOf>
std::string list_table(const json& doc, std::vector<std::string> headers, RowOf row_of) {
    text_table table{std::move(headers), {}};
    for (const auto& item : items_of(doc)) {
        table.rows.push_back(row_of(item));
    }
    return render_table(table) + more_hint(doc);
}

std::string schedules_table(const json& doc) {
    return list_table(doc, {"ID", "NAME", "ENABLED", "CADENCE", "TIMEZONE", "TARGET", "NEXT RUN", "LAST RUN"},
                      [](const json& s) {
                          const auto spec = s.is_object() ? s.value("schedule", json::object()) : json::object();
                          return std::vector<std::string>{field(s, "id"), field(s, "name"), field(s, "enabled"),
                                                          cadence(spec), field(s, "timezone"), field(s, "target_kind"),
                                                          field(s, "next_run_at"), field(s, "last_run_at")};
                      });
}

std::string runs_table(const json& doc) {
    return list_table(doc, {"ID", "SCHEDULE", "STATUS", "ATTEMPT", "STARTED", "FINISHED", "OCCURRENCE"},
                      [](const json& r) {
                          return std::vector<std::string>{field(r, "id"), field(r, "schedule_id"), field(r, "status"),
                                                          field(r, "attempt"), field(r, "started_at"),
                                                          field(r, "finished_at"), field(r, "occurrence_key")};
                      });
}

std::string dead_letters_table(const json& doc) {
    return list_table(doc, {"ID", "RUN", "SCHEDULE", "CREATED", "REASON"}, [](const json& d) {
        return std::vector<std::string>{field(d, "id"), field(d, "run_id"), field(d, "schedule_id"),
                                        field(d, "created_at"), field(d, "reason")};
    });
}

/// Each receipt as `== <kind> <content type>, <n> bytes (<id>)`, then its body indented. Bodies
/// are what an operator came for, so they are shown whole (the daemon bounds them).
std::string receipts_text(const json& doc) {
    std::string out;
    for (const auto& r : items_of(doc)) {
        const auto body = r.is_object() && r.contains("body") && r["body"].is_string() ? r["body"].get<std::string>()
                                                                                      : std::string{};
        out += "== " + field(r, "receipt_kind") + " " + field(r, "content_type") + ", " +
               std::to_string(body.size()) + " bytes";
        if (r.is_object() && r.contains("truncated") && r["truncated"] == true) {
            out += " (truncated)";
        }
        out += " (" + field(r, "id") + ")\n";
        std::size_t start = 0;
        while (start < body.size()) {
            auto end = body.find('\n', start);
            if (end == std::string::npos) {
                end = body.size();
            }
            out += "  " + escape_controls(std::string_view(body).substr(start, end - start)) + "\n";
            start = end + 1;
        }
    }
    return out;
}

/// One ledger entry: `seq  at  kind  schedule=… run=… attempt=… occurrence=…  data`.
std::string ledger_line(const json& e) {
    char head[80];
    std::snprintf(head, sizeof head, "%8s  %-27s  %-22s", field(e, "seq").c_str(), field(e, "at").c_str(),
                  field(e, "kind").c_str());
    std::string line = head;
    for (const char* key : {"schedule_id", "run_id", "attempt", "occurrence_key"}) {
        if (e.is_object() && e.contains(key) && !e[key].is_null()) {
            line += "  " + std::string(key) + "=" + cell(e[key]);
        }
    }
    if (e.is_object() && e.contains("data") && !e["data"].is_null()) {
        line += "  " + truncate_chars(cell(e["data"]), 100);
    }
    while (!line.empty() && line.back() == ' ') {
        line.pop_back();  // the header's padded KIND column
    }
    return escape_controls(line) + "\n";
}

/// Instants one per line, as the offline `preview` prints them.
std::string instants_text(const json& doc) {
    std::string out;
    for (const auto& t : items_of(doc)) {
        out += escape_controls(cell(t)) + "\n";
    }
    return out;
}

/// Collects `field  value` rows of a nested value: objects by dotted keys, arrays of scalars as
/// one comma-separated cell, arrays of objects by index (`receipts[0].body`).
void flatten(const std::string& path, const json& value, std::vector<std::vector<std::string>>& rows) {
    if (value.is_object() && !value.empty()) {
        for (const auto& [key, member] : value.items()) {
            flatten(path.empty() ? key : path + "." + key, member, rows);
        }
        return;
    }
    if (value.is_array() && !value.empty()) {
        const bool scalars = std::none_of(value.begin(), value.end(),
                                          [](const json& v) { return v.is_structured(); });
        if (scalars) {
            std::string joined;
            for (const auto& v : value) {
                joined += (joined.empty() ? "" : ", ") + cell(v);
            }
            rows.push_back({path, joined});
            return;
        }
        for (std::size_t i = 0; i < value.size(); ++i) {
            flatten(path + "[" + std::to_string(i) + "]", value[i], rows);
        }
        return;
    }
    if (value.is_structured()) {
        rows.push_back({path, value.is_array() ? "[]" : "{}"});
        return;
    }
    rows.push_back({path, cell(value)});
}

std::string object_text(const json& doc) {
    text_table table;
    table.max_cell_chars = 120;
    flatten("", doc, table.rows);
    return render_table(table);
}

}  // namespace

std::string render_view(view v, const json& doc) {
    switch (v) {
    case view::schedules: return schedules_table(doc);
    case view::runs: return runs_table(doc);
    case view::receipts: return receipts_text(doc);
    case view::dead_letters: return dead_letters_table(doc);
    case view::ledger: return ledger_header() + ledger_lines(items_of(doc));
    case view::instants: return instants_text(doc);
    case view::object: break;
    }
    return object_text(doc);
}

std::string ledger_header() {
    return ledger_line(json{{"seq", "SEQ"}, {"at", "AT"}, {"kind", "KIND"}});
}

std::string ledger_lines(const json& items) {
    std::string out;
    for (const auto& e : items) {
        out += ledger_line(e);
    }
    return out;
}

}  // namespace wakeplane::cli
