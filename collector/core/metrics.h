// Named counters and gauges, shared by plugins and served by the metrics endpoint.
// Counters have stable addresses: look one up once, then increment it on the hot path.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sluice {

using Counter = std::atomic<uint64_t>;

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
  uint64_t value(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = counters_.find(name);
    return it == counters_.end() ? 0 : it->second->load(std::memory_order_relaxed);
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Counter>> counters_;
};

inline void bump(Counter& c, uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }

}  // namespace sluice
