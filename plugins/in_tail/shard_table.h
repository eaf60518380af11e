// Which worker follows which file, shared by the workers' copies of one <source>: a file goes to
// the worker with the fewest files when it is first seen, and stays there. (A hash of the path
// spreads a handful of files unevenly: 8 files split 3/5 caps two workers at 1.6x.)
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace sluice {

class ShardTable {
 public:
  // The table of the source `source_id` (its @id or generated id, the same in every worker).
  static ShardTable& of(const std::string& source_id, int workers);

  // The owner of `path`, assigning it to `preferred` (or else the least loaded worker) when new.
  int owner(const std::string& path, int preferred = -1) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = owners_.find(path);
    if (it != owners_.end()) return it->second;
    int w = preferred;
    if (w < 0 || w >= static_cast<int>(load_.size())) {
      w = 0;
      for (int i = 1; i < static_cast<int>(load_.size()); ++i)
        if (load_[i] < load_[w]) w = i;
    }
    owners_.emplace(path, w);
    ++load_[w];
    return w;
  }

  // The file is gone for good: a new file at its path may go to any worker.
  void release(const std::string& path) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = owners_.find(path);
    if (it == owners_.end()) return;
    --load_[it->second];
    owners_.erase(it);
  }

 private:
  explicit ShardTable(int workers) : load_(static_cast<size_t>(workers), 0) {}
  std::mutex mutex_;
  std::unordered_map<std::string, int> owners_;
  std::vector<size_t> load_;
};

inline ShardTable& ShardTable::of(const std::string& source_id, int workers) {
  static std::mutex mutex;
  // Process-wide and never destroyed; held through a pointer, so that leak checkers still see
  // its tables as reachable at exit.
  static auto* tables = new std::unordered_map<std::string, ShardTable*>;
  std::lock_guard<std::mutex> lock(mutex);
  ShardTable*& t = (*tables)[source_id];
  if (!t) t = new ShardTable(workers);
  return *t;
}

}  // namespace sluice
