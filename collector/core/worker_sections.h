// Fluentd's `<worker N>` and `<worker N-M>` directives: the sources, filters, matches and labels
// in one apply only to the workers it names, after the top-level directives (Fluentd's order).
#pragma once

#include <map>
#include <vector>

#include "config/config.h"

namespace sluice {

// The workers a <worker> section names, first to last.
struct WorkerScope {
  int first = 0;
  int last = 0;
  int size() const { return last - first + 1; }
};

struct WorkerConfig {
  // The top-level directives, then those of every <worker> section that names the worker.
  ConfigSection root;
  // Which of root.children came from a <worker> section, by index, with its scope.
  std::map<size_t, WorkerScope> scoped;
};

// The configuration worker `worker` of `workers` runs. Reports a section without an id, with an id
// out of range or named twice, or holding another directive than source, filter, match or label.
WorkerConfig config_for_worker(const ConfigSection& root, int worker, int workers,
                               std::vector<ConfigError>& errors);

}  // namespace sluice
