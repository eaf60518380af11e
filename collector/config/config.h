// The configuration tree: Fluentd's syntax parsed into sections with file:line positions.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace sluice {

struct SourcePos {
  std::string file;
  int line = 0;
  std::string where() const { return file + ":" + std::to_string(line) + ": "; }  // message prefix
};

struct ConfigParam {
  std::string key;
  std::string value;  // after quoting and embedded-Ruby evaluation
  SourcePos pos;
  bool is_nil = false;  // `use_nil` (the parameter counts as not given)
};

// One `<name arg>` ... `</name>` section, or the root (name empty).
struct ConfigSection {
  std::string name;  // "source", "match", "filter", "label", "parse", "buffer", ...
  std::string arg;   // the match pattern, label name, or buffer chunk keys
  SourcePos pos;
  std::vector<ConfigParam> params;
  std::vector<ConfigSection> children;

  const ConfigParam* param(std::string_view key) const {
    for (auto& p : params)
      if (p.key == key && !p.is_nil) return &p;
    return nullptr;
  }
  std::string get(std::string_view key, std::string fallback = {}) const {
    auto* p = param(key);
    return p ? p->value : fallback;
  }
  const ConfigSection* child(std::string_view n) const {
    for (auto& c : children)
      if (c.name == n) return &c;
    return nullptr;
  }
};

// An error in the configuration, reported as `file:line: message`.
struct ConfigError {
  SourcePos pos;
  std::string message;
  std::string to_string() const {
    if (pos.file.empty()) return message;
    return pos.file + ":" + std::to_string(pos.line) + ": " + message;
  }
};

// Thrown by plugin constructors for semantic errors found while building the pipeline.
class ConfigException : public std::runtime_error {
 public:
  ConfigException(SourcePos pos, const std::string& msg)
      : std::runtime_error(msg), error{std::move(pos), msg} {}
  ConfigError error;
};

struct ParseConfigResult {
  ConfigSection root;
  std::vector<ConfigError> errors;
};

// Parses a Fluentd configuration file (following @include) or text.
// Embedded Ruby in double-quoted strings is evaluated for the forms Fluentd configs use
// (ENV lookups with defaults, File.join, ...); anything else is an error.
ParseConfigResult parse_config_file(const std::string& path);
ParseConfigResult parse_config_text(const std::string& text, const std::string& name,
                                    const std::string& base_dir);

}  // namespace sluice
