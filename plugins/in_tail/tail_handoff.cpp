// Moving a file to another worker of the same <source> when that worker has nothing to read and
// this one has a backlog in two or more files (see shard_table.h). The file stops being read,
// waits until its outputs have acknowledged everything read from it, and goes, descriptor and
// acknowledged offset, to the other worker, which reads on from there with a parser of its own.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "core/log.h"
#include "core/uv_handle.h"
#include "shard_table.h"
#include "tail_input.h"

namespace sluice {

namespace {
// Less than this left to read is not worth a move (and a file read to its end has nothing to give).
constexpr uint64_t kMinMoveBytes = 1 << 20;
// How often a busy worker looks for a file to give while another is idle (a stat of each of its
// ready files).
constexpr uint64_t kOfferEveryMs = 100;
}  // namespace

void TailInput::start_handoffs() {
  if (!shards_) return;
  inbox_ = new_uv_handle<uv_async_t>(this);
  uv_async_init(ctx_.loop, inbox_, [](uv_async_t* h) {
    if (h->data) static_cast<TailInput*>(h->data)->adopt_files();
  });
  hand_over_soon_ = new_uv_handle<uv_timer_t>(this);
  uv_timer_init(ctx_.loop, hand_over_soon_);
  // After discovery: a worker that has not looked for its own files yet is not idle.
  shards_->join(ctx_.worker_id, inbox_, ready_.size());
}

void TailInput::stop_handoffs() {
  if (!inbox_) return;
  if (leaving_) leaving_->leaving = false;
  leaving_ = nullptr;
  // Files sent but not taken: their givers' position entries still hold them for the next run.
  for (auto& h : shards_->leave(ctx_.worker_id)) ::close(h.fd);
  close_uv_handle(inbox_);
  close_uv_handle(hand_over_soon_);
}

bool TailInput::may_receive_file() const {
  return inbox_ && shards_->may_receive(ctx_.worker_id);
}

void TailInput::balance() {
  if (!inbox_ || stopped_) return;
  shards_->publish_ready(ctx_.worker_id, ready_.size());
  if (leaving_ || ready_.size() < 2) return;
  uint64_t now_ms = uv_now(ctx_.loop);
  if (now_ms - last_offer_ms_ < kOfferEveryMs || !shards_->someone_idle(ctx_.worker_id)) return;
  last_offer_ms_ = now_ms;
  offer_file();
}

// The ready file with the most left to read, if it can move; this worker keeps the others.
void TailInput::offer_file() {
  TailFile* best = nullptr;
  uint64_t best_unread = 0;
  for (TailFile* f : ready_) {
    struct stat st;
    if (!f->movable() || fstat(f->fd(), &st) != 0) continue;
    auto size = static_cast<uint64_t>(st.st_size);
    uint64_t unread = size > f->committed() ? size - f->committed() : 0;
    if (unread >= kMinMoveBytes && unread > best_unread) {
      best = f;
      best_unread = unread;
    }
  }
  if (!best) return;
  ready_.erase(std::find(ready_.begin(), ready_.end(), best));
  best->queued = false;
  best->leaving = true;
  leaving_ = best;
  hand_over_when_delivered();
}

void TailInput::hand_over_when_delivered() {
  TailFile* f = leaving_;
  if (!f || !f->delivered()) return;  // on_commit calls again
  if (stopped_ || !f->movable()) {
    cancel_leaving();
    return;
  }
  FileHandoff h{f->path(), f->fd(), f->identity().dev, f->identity().ino, f->committed(), 0};
  int to = shards_->give(ctx_.worker_id, h);
  if (to < 0) {
    cancel_leaving();
    return;
  }
  // The descriptor is the receiver's now.
  f->release_fd();
  leaving_ = nullptr;
  bump(files_moved_);
  log::info("moving " + h.path + " to worker " + std::to_string(to) + " at offset " +
            std::to_string(h.offset));
  if (positions_) handed_over_[h.path] = h.ticket;
  auto it = files_.find(h.path);
  std::unique_ptr<TailFile> gone = std::move(it->second);
  files_.erase(it);
  close_file(std::move(gone));
}

void TailInput::cancel_leaving() {
  TailFile* f = leaving_;
  if (!f) return;
  leaving_ = nullptr;
  f->leaving = false;
  schedule(f);
}

void TailInput::adopt_files() {
  std::vector<uint64_t> tickets;
  for (FileHandoff& h : shards_->take(ctx_.worker_id)) {
    if (stopped_ || files_.count(h.path)) {
      ::close(h.fd);  // unconfirmed: the giver's position entry stays
      continue;
    }
    auto file = std::make_unique<TailFile>(*this, h.path, h.fd, FileIdentity{h.dev, h.ino}, h.offset,
                                           parser_->open_stream(h.path));
    TailFile* f = file.get();
    files_[h.path] = std::move(file);
    uint64_t ignored_fp;
    if (config_.fingerprint_identity) f->fingerprint(ignored_fp);
    if (positions_ && !predecessor(h.path)) positions_->update(h.path, h.offset, h.ino);
    log::info("following " + h.path + " from offset " + std::to_string(h.offset) +
              ", handed over by another worker");
    tickets.push_back(h.ticket);
    watch(f);
    schedule(f);
  }
  // The giver drops its entry only once this worker's position file holds the file.
  if (tickets.empty() || !positions_ || !save_positions()) return;
  for (uint64_t t : tickets) shards_->confirm(t);
}

void TailInput::drop_handed_over_entries() {
  if (handed_over_.empty()) return;
  for (auto it = handed_over_.begin(); it != handed_over_.end();) {
    if (!shards_->take_confirmation(it->second)) {
      ++it;
      continue;
    }
    // Unless the file came back meanwhile.
    if (!files_.count(it->first) && !predecessor(it->first)) positions_->remove(it->first);
    it = handed_over_.erase(it);
  }
}

}  // namespace sluice
