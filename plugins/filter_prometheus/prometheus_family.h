// One fluent-plugin-prometheus metric family (counter, gauge, summary or histogram) with its
// series, shared by every worker's plugin instance through Metrics::family, rendered as the
// Ruby client's text exposition renders it.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/metrics.h"

namespace sluice::prometheus {

enum class Kind { Counter, Gauge, Summary, Histogram };

struct Bucket {
  double bound;
  std::string le;  // as Ruby prints the bound the configuration gave: 1 for an integer, 0.5
};

// The Ruby client's default histogram buckets.
std::vector<Bucket> default_buckets();

class Family : public MetricFamily {
 public:
  // Series beyond this many per family are not made (label values from records could otherwise
  // grow memory without bound); the first one refused is warned about.
  static constexpr size_t kMaxSeries = 10000;

  Family(std::string name, Kind kind, std::string help, std::vector<std::string> label_names,
         std::vector<Bucket> buckets);

  // Counter: adds `value`; gauge: sets it; summary and histogram: observe it. `labels` is the
  // series' label block as rendered (`{a="x",b="y"}`, or empty without labels). False when the
  // series could not be made (kMaxSeries).
  bool update(std::string_view labels, double value);
  void render(std::string& out) const override;

  const std::string& name() const { return name_; }
  Kind kind() const { return kind_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  const std::vector<Bucket>& buckets() const { return buckets_; }

 private:
  struct Series {
    double value = 0;  // counter, gauge; the sum of summaries and histograms
    uint64_t count = 0;
    std::vector<uint64_t> in_bucket;  // histogram: observations <= buckets_[i] (not cumulative)
  };

  const std::string name_;
  const Kind kind_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::vector<Bucket> buckets_;
  mutable std::mutex mutex_;
  std::map<std::string, Series, std::less<>> series_;
};

// Appends `value` as Ruby prints a Float (1.0, 0.25, 1.0e-05, Inf).
void append_float(std::string& out, double value);
// Appends a label value between quotes, escaped as the exposition format wants.
void append_label_value(std::string& out, std::string_view value);
const char* kind_name(Kind kind);

}  // namespace sluice::prometheus
