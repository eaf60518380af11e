// End-to-end acknowledgement: a source's checkpoint advances only past records that every output
// holding them has acknowledged.
//
// A source opens one Claim per emitted batch (with the stream offset just past the batch). The
// claim starts with one reference, the source's own, released once the batch has been routed.
// Every output that keeps the batch's records beyond write() retains the claim and releases it
// when those records are delivered (or dead-lettered). The tracker's committed offset is the end
// offset of the longest prefix of claims that are fully released.
//
// All of this runs on one event-loop thread; outputs with threads of their own (librdkafka) post
// their releases back to the loop.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>

namespace sluice {

class DeliveryTracker;

class Claim {
 public:
  void retain() { ++refs_; }
  void release();
  uint64_t end_offset() const { return end_offset_; }

 private:
  friend class DeliveryTracker;
  DeliveryTracker* tracker_ = nullptr;
  uint64_t end_offset_ = 0;
  uint32_t refs_ = 0;
};

class DeliveryTracker {
 public:
  explicit DeliveryTracker(uint64_t committed = 0) : committed_(committed) {}
  DeliveryTracker(const DeliveryTracker&) = delete;
  DeliveryTracker& operator=(const DeliveryTracker&) = delete;

  // A new claim covering records up to end_offset, holding one reference for the caller.
  Claim* open(uint64_t end_offset) {
    Claim& c = pending_.emplace_back();
    c.tracker_ = this;
    c.end_offset_ = end_offset;
    c.refs_ = 1;
    return &c;
  }

  uint64_t committed() const { return committed_; }
  bool idle() const { return pending_.empty(); }
  size_t in_flight() const { return pending_.size(); }

  // Restarts counting at `offset` (truncation, rotation to a new file). Claims still in flight
  // for the old content keep their memory but no longer move the checkpoint.
  void reset(uint64_t offset) {
    committed_ = offset;
    stale_ = pending_.size();
  }

  // Called when the committed offset moves; the source persists it.
  std::function<void(uint64_t)> on_commit;

 private:
  friend class Claim;
  void released() {
    bool moved = false;
    while (!pending_.empty() && pending_.front().refs_ == 0) {
      if (stale_ > 0) {
        --stale_;
      } else {
        committed_ = pending_.front().end_offset_;
        moved = true;
      }
      pending_.pop_front();
    }
    if (moved && on_commit) on_commit(committed_);
  }

  // std::deque keeps element addresses stable under push_back/pop_front.
  std::deque<Claim> pending_;
  uint64_t committed_;
  size_t stale_ = 0;
};

inline void Claim::release() {
  if (--refs_ == 0) tracker_->released();
}

}  // namespace sluice
