// Typed parameter access and validation against a PluginSpec (value parsers: values.cpp).
#include <algorithm>

#include "config/params.h"

namespace sluice {
namespace {

const char* type_desc(ParamType t) {
  switch (t) {
    case ParamType::String: return "a string";
    case ParamType::Integer: return "an integer";
    case ParamType::Float: return "a number";
    case ParamType::Size: return "a size (like 10, 2k, 8M, 1g)";
    case ParamType::Duration: return "a duration";
    case ParamType::Bool: return "a boolean (true, false, yes, no)";
    case ParamType::Enum: return "one of the choices";
    case ParamType::Array: return "an array (a,b,c or a JSON array)";
    case ParamType::Hash: return "a hash (k1:v1,k2:v2 or a JSON object)";
    case ParamType::Regexp: return "a regexp (/.../ with flags i, m)";
  }
  return "valid";
}

std::string join(const std::vector<std::string>& v) {
  std::string r;
  for (auto& s : v) r += (r.empty() ? "" : ", ") + s;
  return r;
}

// Empty when `value` is a valid value for the spec, else why not (never echoing secrets).
std::string check_value(const ParamSpec& sp, const std::string& value) {
  bool ok = true;
  bool numeric_empty = value.empty() && sp.type != ParamType::Enum;  // `|| nil`: default
  if (!numeric_empty) {
    uint64_t u;
    int64_t i;
    double d;
    bool b;
    std::vector<std::string> a;
    std::vector<std::pair<std::string, std::string>> h;
    RegexpValue re;
    switch (sp.type) {
      case ParamType::String: break;
      case ParamType::Integer: ok = parse_integer(value, i); break;
      case ParamType::Float: ok = parse_float(value, d); break;
      case ParamType::Size: ok = parse_size(value, u); break;
      case ParamType::Duration: ok = parse_duration(value, d); break;
      case ParamType::Bool: ok = parse_bool(value, b); break;
      case ParamType::Enum:
        ok = std::find(sp.choices.begin(), sp.choices.end(), value) != sp.choices.end();
        break;
      case ParamType::Array: ok = parse_array(value, a); break;
      case ParamType::Hash: ok = parse_hash(value, h); break;
      case ParamType::Regexp: ok = parse_regexp(value, re); break;
    }
  }
  if (ok) return {};
  std::string msg = "invalid value for parameter '" + sp.name + "': ";
  std::string what = sp.type == ParamType::Enum ? "one of: " + join(sp.choices)
                                                : std::string(type_desc(sp.type));
  if (sp.secret) return msg + "the value (hidden) is not " + what;
  std::string shown = value.size() > 200 ? value.substr(0, 200) + "..." : value;
  return msg + "\"" + shown + "\" is not " + what;
}

// check_value for a getter that reads the parameter as type t (keeps the secret flag).
std::string check_as(ParamSpec sp, ParamType t, const std::string& v) {
  sp.type = t;
  return check_value(sp, v);
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string suggest(const std::string& word, const std::vector<std::string>& candidates) {
  if (word.size() > 200) return {};
  size_t allowed = word.size() <= 4 ? 1 : word.size() <= 8 ? 2 : 3;
  std::string best;
  size_t best_d = allowed + 1;
  for (auto& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

std::string describe(const ConfigSection& s, const PluginSpec& spec) {
  std::string r = "<" + s.name + (s.arg.empty() ? "" : " " + s.arg) + ">";
  std::string type = spec.type.empty() ? s.get("@type") : spec.type;
  if (!type.empty()) r += " @type " + type;
  return r;
}

}  // namespace

bool is_system_param(const std::string& key) {
  return key == "@type" || key == "@id" || key == "@label" || key == "@log_level";
}

// ---- Params ----

Params::Params(const ConfigSection& section, const PluginSpec& spec)
    : section_(section), spec_(spec) {}

const ParamSpec& Params::find_spec(const std::string& name) const {
  for (auto& p : spec_.params)
    if (p.name == name) return p;
  throw ConfigException(section_.pos, "internal error: @type " + spec_.type +
                                          " reads the undeclared parameter '" + name + "'");
}

bool Params::has(const std::string& name) const { return section_.param(name) != nullptr; }

SourcePos Params::pos(const std::string& name) const {
  auto* p = section_.param(name);
  return p ? p->pos : section_.pos;
}

std::string Params::raw(const std::string& name) const {
  const ParamSpec& sp = find_spec(name);
  if (auto* p = section_.param(name)) {
    std::string err = check_value(sp, p->value);
    if (!err.empty()) throw ConfigException(p->pos, err);
    // An empty numeric value (from `|| nil`) reads as the default.
    if (p->value.empty() && sp.type != ParamType::String && sp.type != ParamType::Bool &&
        sp.type != ParamType::Enum && sp.type != ParamType::Regexp)
      return sp.has_default ? sp.default_value : "";
    return p->value;
  }
  if (sp.required)
    throw ConfigException(section_.pos, "missing required parameter '" + name + "' in " +
                                            describe(section_, spec_));
  return sp.has_default ? sp.default_value : "";
}

std::string Params::str(const std::string& name) const { return raw(name); }

int64_t Params::integer(const std::string& name) const {
  std::string v = raw(name);
  int64_t r = 0;
  if (!v.empty() && !parse_integer(v, r))
    throw ConfigException(pos(name), check_as(find_spec(name), ParamType::Integer, v));
  return r;
}

double Params::real(const std::string& name) const {
  std::string v = raw(name);
  double r = 0;
  if (!v.empty() && !parse_float(v, r))
    throw ConfigException(pos(name), check_as(find_spec(name), ParamType::Float, v));
  return r;
}

uint64_t Params::size(const std::string& name) const {
  std::string v = raw(name);
  uint64_t r = 0;
  if (!v.empty() && !parse_size(v, r))
    throw ConfigException(pos(name), check_as(find_spec(name), ParamType::Size, v));
  return r;
}

double Params::seconds(const std::string& name) const {
  std::string v = raw(name);
  double r = 0;
  if (!v.empty() && !parse_duration(v, r))
    throw ConfigException(pos(name), check_as(find_spec(name), ParamType::Duration, v));
  return r;
}

bool Params::flag(const std::string& name) const {
  const ParamSpec& sp = find_spec(name);
  if (!has(name) && !sp.required && (!sp.has_default || sp.default_value.empty())) return false;
  std::string v = raw(name);
  bool r = false;
  if (!parse_bool(v, r))
    throw ConfigException(pos(name), check_as(find_spec(name), ParamType::Bool, v));
  return r;
}

std::vector<std::string> Params::list(const std::string& name) const {
  std::vector<std::string> r;
  std::string v = raw(name);
  if (!parse_array(v, r)) throw ConfigException(pos(name), check_as(find_spec(name), ParamType::Array, v));
  return r;
}

std::vector<std::pair<std::string, std::string>> Params::hash(const std::string& name) const {
  std::vector<std::pair<std::string, std::string>> r;
  std::string v = raw(name);
  if (!parse_hash(v, r)) throw ConfigException(pos(name), check_as(find_spec(name), ParamType::Hash, v));
  return r;
}

std::string Params::regexp(const std::string& name) const { return regexp_value(name).pattern; }

RegexpValue Params::regexp_value(const std::string& name) const {
  RegexpValue r;
  std::string v = raw(name);
  if (!parse_regexp(v, r))
    throw ConfigException(pos(name), check_as(find_spec(name), ParamType::Regexp, v));
  return r;
}

// ---- validation ----

std::vector<ConfigError> validate_params(const ConfigSection& section, const PluginSpec& spec) {
  std::vector<ConfigError> errors;
  std::vector<std::string> names;
  for (auto& p : spec.params) names.push_back(p.name);
  for (auto& p : section.params) {
    if (is_system_param(p.key)) continue;
    auto it = std::find_if(spec.params.begin(), spec.params.end(),
                           [&](const ParamSpec& s) { return s.name == p.key; });
    if (it == spec.params.end()) {
      errors.push_back({p.pos, "unknown parameter '" + p.key + "' in " + describe(section, spec) +
                                   suggest(p.key, names)});
      continue;
    }
    if (it->ignored || p.is_nil) continue;
    std::string err = check_value(*it, p.value);
    if (!err.empty()) errors.push_back({p.pos, err});
  }
  for (auto& sp : spec.params)
    if (sp.required && !section.param(sp.name))
      errors.push_back({section.pos, "missing required parameter '" + sp.name + "' in " +
                                         describe(section, spec)});
  for (auto& c : section.children)
    if (std::find(spec.sections.begin(), spec.sections.end(), c.name) == spec.sections.end())
      errors.push_back({c.pos, "unknown section <" + c.name + "> in " + describe(section, spec) +
                                   suggest(c.name, spec.sections)});
  return errors;
}

}  // namespace sluice
