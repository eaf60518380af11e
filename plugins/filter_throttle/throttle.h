// `@type throttle`: fluent-plugin-throttle (rubrikinc). Rate-limits records per group: a group
// (the values at group_key's record paths) may pass group_bucket_limit records per
// group_bucket_period_s-long period (periods start at multiples of the period since the epoch);
// the records after that are dropped (or kept, with group_drop_logs false) until the next period
// in which the group's approximate rate per second is below group_reset_rate_s. The Ruby
// plugin's warnings ("rate exceeded", at most every group_warning_delay_s per group, and "rate
// back down") are logged with the group named.
#pragma once

#include <functional>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error_events.h"
#include "core/plugin.h"
#include "format/record_path.h"

namespace sluice::throttle {

struct Settings {
  std::vector<std::vector<std::string>> group_key_paths = {{"kubernetes", "container_name"}};
  int64_t bucket_period_s = 60;
  int64_t bucket_limit = 6000;
  bool drop_logs = true;
  int64_t reset_rate_s = 0;  // after validation: never nil
  int64_t warning_delay_s = 10;
  int64_t rate_limit() const { return bucket_limit / bucket_period_s; }
};

// Seconds since the epoch, with a fraction (Ruby's Time.now).
using Clock = std::function<double()>;
double wall_clock();

class ThrottleFilter : public Filter {
 public:
  ThrottleFilter(Settings s, std::string id, ErrorEvents::Labels labels, Clock clock = wall_clock);

  void filter(Batch& batch) override;
  void stop() override;

  size_t groups() const { return order_.size(); }

 private:
  struct Counter {
    std::string group;    // the group's key in counters_
    std::string inspect;  // the group as Ruby inspects it, for the warnings
    int64_t rate_count = 0;
    double rate_last_reset = 0;
    int64_t aprox_rate = 0;
    int64_t bucket_count = 0;
    double bucket_last_reset = 0;
    bool warned = false;
    double last_warning = 0;
  };

  // The group of a record: false with Ruby's error message when a path goes through a value that
  // is neither a map nor nil (Hash#dig raises).
  // `key` is the group's values as a JSON array.
  bool group_of(const Batch& b, const Record& r, std::string& key, std::string& error);
  bool admit(const std::string& key, double now);
  void rate_exceeded(double now, Counter& c);
  std::string items(double now, const Counter& c) const;

  Settings s_;
  std::string id_;
  ErrorEvents errors_;
  Clock clock_;
  std::list<Counter> order_;  // least recently used first
  std::unordered_map<std::string, std::list<Counter>::iterator> counters_;
  std::string key_, error_;
};

}  // namespace sluice::throttle
