#include "format/record_inject.h"

#include <algorithm>

#include "config/params.h"
#include "core/hostname.h"

namespace sluice {

namespace {

const ConfigParam* given(const ConfigSection& s, const char* name) {
  const ConfigParam* p = s.param(name);
  return p && !p->value.empty() ? p : nullptr;
}

}  // namespace

void read_inject(const ConfigSection& section, InjectConfig& ic, std::vector<ConfigError>* errors) {
  auto text = [&](const char* name, std::string& out) {
    if (const ConfigParam* p = given(section, name)) out = p->value;
  };
  auto flag = [&](const char* name, bool def) {
    const ConfigParam* p = given(section, name);
    bool b = def;
    if (p && !parse_bool(p->value, b))
      throw ConfigException(p->pos, std::string("invalid value for parameter '") + name +
                                        "': expected true or false, got '" + p->value + "'");
    return b;
  };
  text("tag_key", ic.tag_key);
  text("time_key", ic.time_key);
  text("hostname_key", ic.hostname_key);
  text("worker_id_key", ic.worker_id_key);
  if (!ic.hostname_key.empty()) {
    ic.hostname = local_hostname();
    text("hostname", ic.hostname);
  }
  if (const ConfigParam* p = given(section, "time_type")) {
    const std::string& tt = p->value;
    if (tt == "float")
      ic.time_type = InjectConfig::TimeType::Float;
    else if (tt == "unixtime")
      ic.time_type = InjectConfig::TimeType::Unixtime;
    else if (tt == "unixtime_millis")
      ic.time_type = InjectConfig::TimeType::UnixtimeMillis;
    else if (tt == "string")
      ic.time_type = InjectConfig::TimeType::String;
    else
      throw ConfigException(p->pos, "time_type must be float, unixtime, unixtime_millis or string");
  }
  if (const ConfigParam* p = given(section, "time_format")) {
    ic.time_format = p->value;
    if (!given(section, "time_type")) ic.time_type = InjectConfig::TimeType::String;
  }
  ic.utc = flag("utc", false) || !flag("localtime", true);
  static const std::vector<std::string> known = {"tag_key",       "time_key",  "hostname_key", "hostname",
                                                 "worker_id_key", "time_type", "time_format",  "utc",
                                                 "localtime",     "timezone"};
  for (auto& p : section.params)
    if (!is_system_param(p.key) && std::find(known.begin(), known.end(), p.key) == known.end() && errors)
      errors->push_back({p.pos, "unknown parameter '" + p.key + "' in <inject>"});
}

RecordInjector::RecordInjector(InjectConfig config) : config_(std::move(config)) {
  if (config_.time_type == InjectConfig::TimeType::String)
    time_ = CachedTimeFormat(!config_.time_format.empty() ? config_.time_format
                             : config_.utc                ? "%Y-%m-%dT%H:%M:%SZ"
                                                          : "%Y-%m-%dT%H:%M:%S%:z",
                             config_.utc);
}

const Batch& RecordInjector::apply(const Batch& in) {
  out_.clear();
  out_.tag = in.tag;
  out_.claim = in.claim;
  out_.stream_id = in.stream_id;
  out_.source_path = in.source_path;
  out_.common_fields = in.common_fields;
  for (const Record& r : in.records) {
    out_.begin_record(r.time, r.offset);
    const size_t first = out_.fields.size();
    for (const Field* f = in.begin(r); f != in.end(r); ++f) out_.add_field(f->key, f->value);
    auto put = [&](std::string_view key, Value v) {
      for (size_t i = first; i < out_.fields.size(); ++i)
        if (out_.fields[i].key == key) {
          out_.fields[i].value = v;
          return;
        }
      out_.add_field(key, v);
    };
    const InjectConfig& c = config_;
    if (!c.hostname_key.empty()) put(c.hostname_key, Value::of_string(c.hostname));
    if (!c.worker_id_key.empty()) put(c.worker_id_key, Value::of_int(c.worker_id));
    if (!c.tag_key.empty()) put(c.tag_key, Value::of_string(in.tag));
    if (c.time_key.empty()) continue;
    const EventTime t = r.time;
    switch (c.time_type) {
      case InjectConfig::TimeType::Float:
        // time.to_r.truncate(6).to_f
        put(c.time_key, Value::of_float(double(t.sec) + double(t.nsec / 1000) / 1e6));
        break;
      case InjectConfig::TimeType::Unixtime:
        put(c.time_key, Value::of_int(t.sec));
        break;
      case InjectConfig::TimeType::UnixtimeMillis:
        put(c.time_key, Value::of_int(t.sec * 1000 + t.nsec / 1000000));
        break;
      case InjectConfig::TimeType::String:
        scratch_.clear();
        time_.append(scratch_, t);
        put(c.time_key, Value::of_string(out_.arena.copy(scratch_)));
        break;
    }
  }
  return out_;
}

}  // namespace sluice
