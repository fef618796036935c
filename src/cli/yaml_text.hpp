// JSON values written as YAML for `-o yaml`.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace wakeplane::cli {

/// `value` as a block-style YAML document ending in a newline, keys in the JSON's order.
/// Every scalar reads back with its JSON type: strings that YAML would take for a number, a
/// boolean or null (`"123"`, `"true"`, `"yes"`, `"~"`, `""`) are double-quoted; numbers keep
/// their shortest round-trip spelling; empty arrays and objects are `[]` and `{}`.
///
/// Example: {"id":"sch_1","enabled":true,"args":[]} becomes
///     id: sch_1
///     enabled: true
///     args: []
[[nodiscard]] std::string to_yaml_text(const nlohmann::ordered_json& value);

}  // namespace wakeplane::cli
