// Fluentd's event routing for one label (or the top level): a batch passes through the
// `<filter>`s whose pattern matches its tag, in config order, up to the first `<match>` that
// matches, which receives it. Routes are cached per tag.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/metrics.h"
#include "core/plugin.h"
#include "router/tag_pattern.h"

namespace sluice {

class Router : public Emitter {
 public:
  Router(std::string label, Metrics& metrics);

  void add_filter(TagPattern pattern, Filter* filter);
  void add_match(TagPattern pattern, Output* output);

  void emit(Batch& batch) override;
  void emit_after(const Filter* filter, Batch& batch) override;

  const std::string& label() const { return label_; }
  size_t unmatched_records() const { return unmatched_; }

 private:
  struct Rule {
    TagPattern pattern;
    Filter* filter = nullptr;  // one of the two
    Output* output = nullptr;
  };
  struct Route {
    std::vector<Filter*> filters;
    Output* output = nullptr;
  };
  const Route& route_for(std::string_view tag);
  // The route's filters from `first_filter` on, then its output.
  void run(const Route& route, size_t first_filter, Batch& batch);

  std::string label_;
  std::vector<Rule> rules_;
  std::unordered_map<std::string, Route> cache_;
  Counter& unmatched_counter_;
  size_t unmatched_ = 0;
};

}  // namespace sluice
