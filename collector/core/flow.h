// Backpressure: outputs that cannot take more raise a hold; sources stop reading while any
// hold is up and resume when the last one drops. Log files on disk are the first buffer.
#pragma once

#include <algorithm>
#include <functional>
#include <vector>

namespace sluice {

class FlowControl {
 public:
  bool blocked() const { return !holders_.empty(); }

  // Idempotent per holder.
  void hold(const void* holder) {
    if (std::find(holders_.begin(), holders_.end(), holder) == holders_.end())
      holders_.push_back(holder);
  }
  void release(const void* holder) {
    auto it = std::find(holders_.begin(), holders_.end(), holder);
    if (it == holders_.end()) return;
    holders_.erase(it);
    if (holders_.empty())
      for (auto& cb : on_resume_) cb();
  }
  // Sources register to be told when they may read again.
  void on_resume(std::function<void()> cb) { on_resume_.push_back(std::move(cb)); }

 private:
  std::vector<const void*> holders_;
  std::vector<std::function<void()>> on_resume_;
};

}  // namespace sluice
