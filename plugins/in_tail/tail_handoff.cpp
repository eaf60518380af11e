// Moving files to another worker of the same <source> when that worker has nothing to read and
// this one has a backlog in two or more files: up to half of them go (see shard_table.h). Each
// stops being read, waits until its outputs have acknowledged everything read from it, and goes,
// descriptor and acknowledged offset, to the other worker, which reads on from there with a
// parser of its own. Lines the giver's parser held back (a CRI partial line, an open multiline
// group) lie after that offset: the receiver reads them again, as after a restart.
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
  // Woken when files arrive, and when a receiver confirms a file this worker handed over.
  uv_async_init(ctx_.loop, inbox_, [](uv_async_t* h) {
    if (!h->data) return;
    auto* self = static_cast<TailInput*>(h->data);
    self->adopt_files();
    if (!self->handed_over_.empty()) self->save_positions();
  });
  hand_over_soon_ = new_uv_handle<uv_timer_t>(this);
  uv_timer_init(ctx_.loop, hand_over_soon_);
  // After discovery: a worker that has not looked for its own files yet is not idle.
  shards_->join(ctx_.worker_id, inbox_, ready_.size());
}

void TailInput::stop_handoffs() {
  if (!inbox_) return;
  for (TailFile* f : leaving_) f->leaving = false;
  leaving_.clear();
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
  if (!leaving_.empty() || ready_.size() < 2) return;
  uint64_t now_ms = uv_now(ctx_.loop);
  if (now_ms - last_offer_ms_ < kOfferEveryMs || !shards_->someone_idle(ctx_.worker_id)) return;
  last_offer_ms_ = now_ms;
  offer_files();
}

// Half of the ready files, those with the most left to read among the ones that can move, go to
// one idle worker; this worker keeps the others. A file whose rotated predecessor is still being
// read here stays: the predecessor holds the path's position entry until it closes.
void TailInput::offer_files() {
  std::vector<std::pair<uint64_t, TailFile*>> movable;
  for (TailFile* f : ready_) {
    struct stat st;
    if (!f->movable() || predecessor(f->path()) || fstat(f->fd(), &st) != 0) continue;
    auto size = static_cast<uint64_t>(st.st_size);
    uint64_t unread = size > f->committed() ? size - f->committed() : 0;
    if (unread >= kMinMoveBytes) movable.emplace_back(unread, f);
  }
  size_t n = std::min(movable.size(), ready_.size() / 2);
  if (n == 0) return;
  leaving_to_ = shards_->reserve_idle(ctx_.worker_id, n);
  if (leaving_to_ < 0) return;
  std::partial_sort(movable.begin(), movable.begin() + static_cast<std::ptrdiff_t>(n), movable.end(),
                    [](auto& a, auto& b) { return a.first > b.first; });
  for (size_t i = 0; i < n; ++i) {
    TailFile* f = movable[i].second;
    ready_.erase(std::find(ready_.begin(), ready_.end(), f));
    f->queued = false;
    f->leaving = true;
    leaving_.push_back(f);
  }
  hand_over_delivered();
}

// Hands over the leaving files whose outputs have acknowledged all that was read from them (the
// others call again from on_commit).
void TailInput::hand_over_delivered() {
  for (TailFile* f : std::vector<TailFile*>(leaving_)) {
    if (!f->delivered()) continue;
    FileHandoff h{f->path(), f->fd(), f->identity().dev, f->identity().ino, f->committed(), 0,
                  ctx_.worker_id};
    if (stopped_ || !f->movable() || !shards_->give(leaving_to_, h)) {
      cancel_leaving(f);
      continue;
    }
    // The descriptor is the receiver's now.
    f->release_fd();
    bump(files_moved_);
    log::info("moving " + h.path + " to worker " + std::to_string(leaving_to_) + " at offset " +
              std::to_string(h.offset));
    if (positions_) handed_over_[h.path] = h.ticket;
    auto it = files_.find(h.path);
    std::unique_ptr<TailFile> gone = std::move(it->second);
    files_.erase(it);
    close_file(std::move(gone));
  }
}

void TailInput::forget_leaving(TailFile* f) {
  if (!f->leaving) return;
  f->leaving = false;
  leaving_.erase(std::find(leaving_.begin(), leaving_.end(), f));
}

void TailInput::cancel_leaving(TailFile* f) {
  forget_leaving(f);
  schedule(f);
}

void TailInput::adopt_files() {
  std::vector<FileHandoff> adopted;
  for (FileHandoff& h : shards_->take(ctx_.worker_id)) {
    if (stopped_ || files_.count(h.path)) {
      ::close(h.fd);  // unconfirmed: the giver's position entry stays
      continue;
    }
    log::info("following " + h.path + " from offset " + std::to_string(h.offset) +
              ", handed over by another worker");
    follow(h.path, h.fd, FileIdentity{h.dev, h.ino}, h.offset, parser_->open_stream(h.path));
    adopted.push_back(h);
  }
  // The giver drops its entry only once this worker's position file holds the file.
  if (adopted.empty() || !positions_ || !save_positions()) return;
  for (auto& h : adopted) shards_->confirm(h);
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
