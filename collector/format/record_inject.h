// Fluentd's `<inject>` (plugin_helper/inject.rb): the host name, worker id, tag and time put into
// each record before an output formats it, as `record.merge(...)` does: a key the record has
// keeps its place and takes the new value, the others are appended, in the order hostname,
// worker_id, tag, time.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "core/event.h"
#include "format/line_format.h"

namespace sluice {

struct InjectConfig {
  std::string tag_key, time_key, hostname_key, worker_id_key;
  std::string hostname;
  int worker_id = 0;
  enum class TimeType { Float, Unixtime, UnixtimeMillis, String } time_type = TimeType::Float;
  std::string time_format;  // empty: the injector's default
  bool utc = false;

  bool empty() const {
    return tag_key.empty() && time_key.empty() && hostname_key.empty() && worker_id_key.empty();
  }
};

// Reads an `<inject>` section into `config` (what is not given keeps its value). Ill-typed values
// throw ConfigException; unknown parameters go to `errors` when given.
void read_inject(const ConfigSection& section, InjectConfig& config, std::vector<ConfigError>* errors);

// Applies an InjectConfig to whole batches (outputs that format records with LineFormat).
class RecordInjector {
 public:
  RecordInjector() = default;
  // A String time without time_format is Ruby's Time#iso8601, as Fluentd's TimeFormatter.
  explicit RecordInjector(InjectConfig config);
  bool active() const { return !config_.empty(); }
  // `batch` with the values injected into each record. Valid until the next call, and while
  // `batch` is (the fields refer to its bytes).
  const Batch& apply(const Batch& batch);

 private:
  InjectConfig config_;
  CachedTimeFormat time_;
  Batch out_;
  std::string scratch_;
};

}  // namespace sluice
