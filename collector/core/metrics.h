// Named counters and gauges, shared by plugins and served by the metrics endpoint.
// Counters have stable addresses: look one up once, then increment it on the hot path.
// Families that need more (float values, HELP text, histograms: fluent-plugin-prometheus's
// <metric>s) are kept and rendered by their plugin and listed here, one per name.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sluice {

using Counter = std::atomic<uint64_t>;

// A metric family a plugin keeps itself. render() may run on any thread, concurrently with
// updates from the workers' threads: implementations lock.
class MetricFamily {
 public:
  virtual ~MetricFamily() = default;
  // Appends the family in the text exposition format: `# HELP`, `# TYPE`, then its samples.
  virtual void render(std::string& out) const = 0;
};

class Metrics {
 public:
  // `name` is prometheus style with labels, e.g. `sluice_records_total{plugin="in_tail_0"}`.
  Counter& counter(const std::string& name) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& slot = counters_[name];
    if (!slot) slot = std::make_unique<Counter>(0);
    return *slot;
  }
  std::vector<std::pair<std::string, uint64_t>> snapshot() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::pair<std::string, uint64_t>> out;
    for (auto& [k, v] : counters_) out.emplace_back(k, v->load(std::memory_order_relaxed));
    return out;
  }
  // The family registered under `name`, made by `make` the first time, so that every worker's
  // instance of a plugin updates the same one.
  std::shared_ptr<MetricFamily> family(const std::string& name,
                                       const std::function<std::shared_ptr<MetricFamily>()>& make) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& slot = families_[name];
    if (!slot) slot = make();
    return slot;
  }
  // Every family's exposition, in name order.
  std::string render_families() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    for (auto& [name, family] : families_) family->render(out);
    return out;
  }
  uint64_t value(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = counters_.find(name);
    return it == counters_.end() ? 0 : it->second->load(std::memory_order_relaxed);
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Counter>> counters_;
  std::map<std::string, std::shared_ptr<MetricFamily>> families_;
};

inline void bump(Counter& c, uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }

}  // namespace sluice
