// Output format selection and rendering.
#include "output.hpp"

#include "yaml_text.hpp"

namespace wakeplane::cli {

outcome<output_format> choose_format(const std::optional<std::string>& flag, bool stdout_is_terminal) {
    if (!flag) {
        return stdout_is_terminal ? output_format::table : output_format::json;
    }
    if (*flag == "table") {
        return output_format::table;
    }
    if (*flag == "json") {
        return output_format::json;
    }
    if (*flag == "yaml") {
        return output_format::yaml;
    }
    return usage_failure("--output: must be one of table, json, yaml (got \"" + *flag + "\")");
}

std::string to_json_text(const json& doc) {
    return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string to_json_line(const json& doc) {
    return doc.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string render(output_format format, view v, const json& doc) {
    switch (format) {
    case output_format::json: return to_json_text(doc);
    case output_format::yaml: return to_yaml_text(doc);
    case output_format::table: break;
    }
    return render_view(v, doc);
}

}  // namespace wakeplane::cli
