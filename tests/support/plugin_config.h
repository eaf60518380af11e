// A plugin built from configuration text the way the pipeline builds it: the section parsed
// (as t.conf), checked against the plugin's spec, and a context naming it. For plugin tests,
// which link every plugin.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/plugin.h"
#include "core/registry.h"
#include "format/json.h"

namespace sluice::testing {

struct PluginConfig {
  Registry registry;
  ConfigSection section;
  const PluginSpec* spec = nullptr;
  std::vector<ConfigError> errors;

  PluginConfig() { register_all_plugins(registry); }

  // `<directive **>  @type type  body </directive>`; the body's first line is t.conf:3.
  PluginContext parse(const std::string& directive, const std::string& kind, const std::string& type,
                      const std::string& body, const std::string& id) {
    auto parsed = parse_config_text("<" + directive + " **>\n  @type " + type + "\n" + body + "</" + directive + ">\n",
                                    "t.conf", ".");
    if (!parsed.errors.empty()) errors.push_back(parsed.errors[0]);
    section = parsed.root.children.at(0);
    spec = registry.spec(kind, type);
    for (auto& e : validate_params(section, *spec)) errors.push_back(e);
    PluginContext ctx;
    ctx.registry = &registry;
    ctx.id = id;
    ctx.errors = &errors;
    ctx.section = &section;
    return ctx;
  }
  Params params() const { return Params(section, *spec); }

  // What building reported: the ConfigException's message, else the first validation error, else "".
  std::string error_of(const std::function<void()>& build) {
    try {
      build();
    } catch (const ConfigException& e) {
      return e.error.to_string();
    }
    return errors.empty() ? "" : errors[0].to_string();
  }
};

// The batch's records as JSON lines (their own fields, then the batch's common ones).
inline std::vector<std::string> json_lines(const Batch& b) {
  std::vector<std::string> out;
  for (const Record& r : b.records) {
    std::string line;
    json::append_record(line, b, r);
    out.push_back(std::move(line));
  }
  return out;
}

// An emitter (e.g. the @ERROR label) that keeps the records it is sent as JSON lines.
struct JsonLinesEmitter : Emitter {
  std::vector<std::string> records;
  std::string tag;
  void emit(Batch& b) override {
    tag = std::string(b.tag);
    for (std::string& line : json_lines(b)) records.push_back(std::move(line));
  }
};

}  // namespace sluice::testing
