// Plugin parameter declarations and typed, validated access to them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"

namespace sluice {

enum class ParamType {
  String,
  Integer,
  Float,
  Size,      // bytes: 10, 2k, 8M, 1g (Fluentd's size type, binary multiples)
  Duration,  // seconds: 5, 5s, 1m, 1h, 1d, 0.5 (Fluentd's time type)
  Bool,      // true/false (also yes/no)
  Enum,      // one of ParamSpec::choices
  Array,     // comma separated, or a JSON array
  Hash,      // key:value,key:value, or a JSON object
  Regexp,    // /.../ or a bare pattern
};

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::String;
  std::string default_value;  // empty with has_default=false: no default (optional)
  std::string doc;
  std::vector<std::string> choices;  // for Enum
  bool has_default = true;
  bool required = false;
  bool secret = false;   // never echoed in errors or logs
  bool ignored = false;  // accepted for compatibility and ignored; `doc` says why
};

// A plugin's declaration: what `sluice plugins` lists and what check-config validates against.
struct PluginSpec {
  std::string kind;  // "input", "parser", "filter", "output", "buffer", "formatter"
  std::string type;  // the @type name
  std::string doc;
  std::vector<ParamSpec> params;
  // Subsections the plugin reads, e.g. {"parse"} for tail, {"buffer", "format"} for outputs.
  // Subsections not listed are errors.
  std::vector<std::string> sections;
};

// A Regexp parameter: `/pattern/flags` (flags i and m) or a bare pattern.
struct RegexpValue {
  std::string pattern;
  bool ignore_case = false;  // /.../i
  bool multiline = false;    // /.../m (Ruby's m: `.` matches newlines)
};

// Builders for PluginSpec parameter lists.
namespace spec {
ParamSpec with_default(std::string name, ParamType type, std::string default_value, std::string doc);
ParamSpec optional(std::string name, ParamType type, std::string doc);  // no default
ParamSpec secret(std::string name, ParamType type, std::string doc);    // optional, never echoed
ParamSpec ignored(std::string name, ParamType type, std::string doc);   // accepted, ignored
ParamSpec choice(std::string name, std::string default_value, std::vector<std::string> choices,
                 std::string doc);
}  // namespace spec

// Parameters every directive takes, handled by the core.
bool is_system_param(const std::string& key);

// Typed access to one section's parameters, validated against the plugin's spec.
// Getters throw ConfigException (file:line) for ill-typed values.
class Params {
 public:
  Params(const ConfigSection& section, const PluginSpec& spec);

  bool has(const std::string& name) const;  // given in the config (not only defaulted)
  std::string str(const std::string& name) const;
  int64_t integer(const std::string& name) const;
  double real(const std::string& name) const;
  uint64_t size(const std::string& name) const;
  double seconds(const std::string& name) const;
  bool flag(const std::string& name) const;
  std::vector<std::string> list(const std::string& name) const;
  std::vector<std::pair<std::string, std::string>> hash(const std::string& name) const;
  // The pattern without surrounding slashes.
  std::string regexp(const std::string& name) const;
  RegexpValue regexp_value(const std::string& name) const;  // pattern and flags

  const ConfigSection& section() const { return section_; }
  const PluginSpec& spec() const { return spec_; }
  SourcePos pos(const std::string& name) const;  // the param's position, else the section's

 private:
  const ParamSpec& find_spec(const std::string& name) const;
  std::string raw(const std::string& name) const;

  const ConfigSection& section_;
  const PluginSpec& spec_;
};

// Checks a section against a spec without building anything: unknown parameters (with a
// "did you mean" hint), ill-typed values, missing required ones, unknown subsections.
std::vector<ConfigError> validate_params(const ConfigSection& section, const PluginSpec& spec);

// Value parsers shared by Params and plugins. Return false on a malformed value.
bool parse_size(const std::string& text, uint64_t& out);
bool parse_duration(const std::string& text, double& out);
bool parse_bool(const std::string& text, bool& out);
bool parse_integer(const std::string& text, int64_t& out);
bool parse_float(const std::string& text, double& out);
bool parse_array(const std::string& text, std::vector<std::string>& out);
bool parse_hash(const std::string& text, std::vector<std::pair<std::string, std::string>>& out);
bool parse_regexp(const std::string& text, RegexpValue& out);

}  // namespace sluice
