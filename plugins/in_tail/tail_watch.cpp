// Finding files, noticing appends, rotations, truncations and deletions.
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/log.h"
#include "core/uv_handle.h"
#include "shard_table.h"
#include "tail_input.h"

namespace sluice {

namespace {
// Files that inotify watches are also stat'ed every this many watch-timer ticks, as a safety net.
constexpr uint64_t kWatchedFileCheckEvery = 5;
// How much of a rotated file is read at once, before the new file at its path is opened.
constexpr int kMaxDrainBlocks = 256;

std::string dirname_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
}  // namespace

std::vector<std::string> TailInput::expand_paths() const {
  std::vector<std::string> out;
  for (auto& pattern : config_.paths) {
    glob_t g{};
    if (glob(pattern.c_str(), GLOB_BRACE | GLOB_NOSORT, nullptr, &g) == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
    globfree(&g);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool TailInput::excluded(const std::string& path) const {
  for (auto& ex : config_.exclude_paths)
    if (fnmatch(ex.c_str(), path.c_str(), 0) == 0) return true;
  return false;
}

void TailInput::discover() {
  bool at_startup = !discovered_;
  for (auto& path : expand_paths()) {
    if (files_.count(path) || excluded(path) || !owns(path)) continue;
    open_file(path, at_startup, nullptr);
  }
}

TailFile* TailInput::predecessor(const std::string& path) const {
  for (auto& f : detached_)
    if (f->path() == path) return f.get();
  return nullptr;
}

void TailInput::open_file(const std::string& path, bool at_startup,
                          std::unique_ptr<Parser> inherited) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  if (config_.limit_recently_modified > 0 &&
      difftime(time(nullptr), st.st_mtime) > config_.limit_recently_modified)
    return;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    log::warn_once("open:" + path, "cannot open " + path + ": " + std::strerror(errno));
    return;
  }
  // The identity of what was opened, not of what the path points at by now; for a symlink
  // (/var/log/containers -> /var/log/pods) that is the target.
  struct stat fst;
  fstat(fd, &fst);
  FileIdentity id{static_cast<uint64_t>(fst.st_dev), static_cast<uint64_t>(fst.st_ino)};
  uint64_t size = static_cast<uint64_t>(fst.st_size);
  uint64_t offset = 0;
  const PositionEntry* known = positions_ ? positions_->find(path) : nullptr;
  if (known && known->inode == id.ino) {
    offset = known->offset <= size ? known->offset : 0;
  } else if (known) {
    // Rotated while we were not running: finish the old file first, then all of the new one.
    if (at_startup) recover_rotated(path, *known);
    offset = 0;
  } else if (!config_.read_from_head && at_startup) {
    offset = size;  // Fluentd: without read_from_head, files present at start are followed from their end
  } else if (config_.fingerprint_identity && !at_startup) {
    std::string original;
    if (copy_offset(fd, size, offset, original))
      log::info(path + " is a copy of " + original + "; reading it from offset " +
                std::to_string(offset) + ", where the original was read to");
  }
  log::info("following tail of " + path);
  follow(path, fd, id, offset, inherited ? std::move(inherited) : parser_->open_stream(path));
}

void TailInput::follow(const std::string& path, int fd, FileIdentity id, uint64_t offset,
                       std::unique_ptr<Parser> parser) {
  auto file = std::make_unique<TailFile>(*this, path, fd, id, offset, std::move(parser));
  TailFile* f = file.get();
  files_[path] = std::move(file);
  uint64_t ignored_fp;
  if (config_.fingerprint_identity) f->fingerprint(ignored_fp);
  // While an older file of this path is still being delivered, the position entry stays its.
  if (positions_ && !predecessor(path)) positions_->update(path, offset, id.ino);
  watch(f);
  schedule(f);
}

bool TailInput::copy_offset(int fd, uint64_t size, uint64_t& offset, std::string& original) {
  if (size < TailFile::kFingerprintBytes) return false;
  char head[TailFile::kFingerprintBytes];
  if (::pread(fd, head, sizeof head, 0) != static_cast<ssize_t>(sizeof head)) return false;
  uint64_t fp = std::hash<std::string_view>{}(std::string_view(head, sizeof head));
  auto match = [&](TailFile* f) {
    uint64_t other;
    if (!f->fingerprint(other) || other != fp) return false;
    offset = std::min(size, f->fingerprint_read_offset());
    original = f->path();
    return true;
  };
  for (auto& [p, f] : files_)
    if (match(f.get())) return true;
  for (auto& f : detached_)
    if (match(f.get())) return true;
  return false;
}

void TailInput::recover_rotated(const std::string& path, const PositionEntry& entry) {
  std::string dir = dirname_of(path);
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  std::string found;
  while (dirent* e = readdir(d)) {
    if (e->d_ino != entry.inode) continue;
    found = dir + "/" + e->d_name;
    break;
  }
  closedir(d);
  if (found.empty()) {
    log::warn("rotated file of " + path + " (inode " + std::to_string(entry.inode) +
              ") is gone; lines after offset " + std::to_string(entry.offset) +
              " in it could not be read");
    return;
  }
  int fd = ::open(found.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat fst;
  fstat(fd, &fst);
  if (static_cast<uint64_t>(fst.st_size) <= entry.offset) {
    ::close(fd);
    return;
  }
  log::info("resuming rotated file " + found + " of " + path + " at offset " +
            std::to_string(entry.offset));
  FileIdentity id{static_cast<uint64_t>(fst.st_dev), static_cast<uint64_t>(fst.st_ino)};
  auto file = std::make_unique<TailFile>(*this, path, fd, id, entry.offset, parser_->open_stream(path));
  file->detached = true;
  file->detached_at_ms = uv_now(ctx_.loop);
  TailFile* f = file.get();
  detached_.push_back(std::move(file));
  drain_now(f);
  schedule(f);
}

void TailInput::watch(TailFile* file) {
  if (!config_.enable_stat_watcher) return;
  file->watcher = new_uv_handle<uv_fs_event_t>(file);
  uv_fs_event_init(ctx_.loop, file->watcher);
  if (uv_fs_event_start(file->watcher, on_fs_event, file->path().c_str(), 0) != 0) {
    // Out of inotify watches: the watch timer polls this file instead.
    log::warn_once("inotify-limit", "cannot watch more files with inotify; polling the rest every second");
    close_uv_handle(file->watcher);
  }
}

void TailInput::on_fs_event(uv_fs_event_t* h, const char*, int events, int) {
  auto* file = static_cast<TailFile*>(h->data);
  if (!file) return;
  TailInput& self = file->owner();
  if ((events & UV_RENAME) && !file->detached) {
    self.check_path(file);
    return;
  }
  self.schedule(file);
}

void TailInput::schedule(TailFile* file) {
  if (stopped_ || file->queued || file->leaving) return;
  if (file->closed() && !file->reopen()) {
    // Renamed or deleted while it had no descriptor.
    if (!file->detached) check_path(file);
    return;
  }
  file->check_truncated();
  file->last_active_ms = uv_now(ctx_.loop);
  file->queued = true;
  ready_.push_back(file);
  if (!ctx_.flow->blocked()) uv_idle_start(idle_, on_idle);
}

void TailInput::on_idle(uv_idle_t* h) { static_cast<TailInput*>(h->data)->drain(); }

void TailInput::drain() {
  if (ctx_.flow->blocked() || stopped_) {
    uv_idle_stop(idle_);
    return;
  }
  if (config_.read_bytes_limit_per_second > 0) {
    uint64_t now_ms = uv_now(ctx_.loop);
    if (now_ms - second_started_ms_ >= 1000) {
      second_started_ms_ = now_ms;
      bytes_this_second_ = 0;
    }
    if (bytes_this_second_ >= static_cast<uint64_t>(config_.read_bytes_limit_per_second)) {
      uv_idle_stop(idle_);  // the watch timer reschedules the files
      return;
    }
  }
  // One block per ready file per turn of the loop, so one busy file cannot starve the others.
  size_t n = ready_.size();
  for (size_t i = 0; i < n && !ready_.empty(); ++i) {
    TailFile* f = ready_.front();
    ready_.pop_front();
    uint64_t before = f->read_offset();
    auto r = f->read_block();
    bytes_this_second_ += f->read_offset() - before;
    if (r == TailFile::ReadResult::More && !stopped_) {
      ready_.push_back(f);
    } else {
      f->queued = false;
    }
    if (ctx_.flow->blocked()) break;
  }
  if (ready_.empty() || ctx_.flow->blocked()) uv_idle_stop(idle_);
  balance();
}

void TailInput::drain_now(TailFile* file) {
  for (int i = 0; i < kMaxDrainBlocks && !ctx_.flow->blocked(); ++i)
    if (file->read_block() != TailFile::ReadResult::More) break;
}

// New files are found at once by watching the directories of the globs (Fluentd only finds them
// every refresh_interval, which loses short-lived files); the refresh stays as the safety net.
void TailInput::watch_directories() {
  if (!config_.enable_stat_watcher) return;
  std::vector<std::string> dirs;
  for (auto& pattern : config_.paths) {
    std::string dir = dirname_of(pattern);
    if (dir.find_first_of("*?[{") != std::string::npos) continue;
    if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
  }
  for (auto& dir : dirs) {
    auto* h = new_uv_handle<uv_fs_event_t>(this);
    uv_fs_event_init(ctx_.loop, h);
    if (uv_fs_event_start(h, on_dir_event, dir.c_str(), 0) == 0) {
      dir_watchers_.push_back(h);
    } else {
      close_uv_handle(h);
    }
  }
}

void TailInput::on_dir_event(uv_fs_event_t* h, const char*, int events, int) {
  auto* self = static_cast<TailInput*>(h->data);
  // Appends to files in the directory arrive as UV_CHANGE; only names coming and going matter.
  if (!self || !(events & UV_RENAME) || self->stopped_) return;
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(self->discover_soon_)))
    uv_timer_start(self->discover_soon_, on_refresh, 20, 0);
}

void TailInput::on_refresh(uv_timer_t* h) { static_cast<TailInput*>(h->data)->discover(); }

void TailInput::on_watch_timer(uv_timer_t* h) {
  auto* self = static_cast<TailInput*>(h->data);
  self->watch_ticks_++;
  std::vector<TailFile*> current;
  current.reserve(self->files_.size());
  for (auto& [p, f] : self->files_) current.push_back(f.get());
  size_t i = 0;
  for (TailFile* f : current) {
    ++i;
    if (f->watcher && (self->watch_ticks_ + i) % kWatchedFileCheckEvery != 0) continue;
    self->check_path(f);
  }
  for (auto& f : self->detached_)
    if (f->has_unread_bytes()) self->schedule(f.get());
  self->flush_idle_parsers();
  self->close_detached();
  self->close_idle_descriptors();
  self->balance();
}

size_t TailInput::open_descriptors() const {
  size_t n = detached_.size();
  for (auto& [p, f] : files_) n += f->closed() ? 0 : 1;
  return n;
}

void TailInput::close_idle_descriptors() {
  if (config_.open_files_limit == 0) return;
  size_t open = open_descriptors();
  if (open <= config_.open_files_limit) return;
  std::vector<TailFile*> idle;
  for (auto& [p, f] : files_)
    if (!f->closed() && f->at_eof() && !f->queued && !f->holding() && f->delivered() &&
        !f->has_unread_bytes())
      idle.push_back(f.get());
  // Least recently active first.
  std::sort(idle.begin(), idle.end(),
            [](TailFile* a, TailFile* b) { return a->last_active_ms < b->last_active_ms; });
  for (TailFile* f : idle) {
    if (open <= config_.open_files_limit) break;
    f->close_fd();
    --open;
  }
}

void TailInput::flush_idle_parsers() {
  if (config_.multiline_flush_interval <= 0 || ctx_.flow->blocked()) return;
  uint64_t now_ms = uv_now(ctx_.loop);
  auto quiet_ms = static_cast<uint64_t>(config_.multiline_flush_interval * 1000);
  auto flush = [&](TailFile* f) {
    if (f->holding() && f->at_eof() && now_ms - f->last_data_ms >= quiet_ms) f->flush_parser();
  };
  for (auto& [p, f] : files_) flush(f.get());
  for (auto& f : detached_) flush(f.get());
}

void TailInput::check_path(TailFile* f) {
  struct stat st;
  bool gone = ::stat(f->path().c_str(), &st) != 0;
  bool moved = !gone && (static_cast<uint64_t>(st.st_ino) != f->identity().ino ||
                         static_cast<uint64_t>(st.st_dev) != f->identity().dev);
  if (!gone && !moved) {
    if (f->check_truncated() || f->has_unread_bytes()) schedule(f);
    return;
  }
  if (f->leaving) cancel_leaving(f);
  log::info(std::string(gone ? "detected deletion of " : "detected rotation of ") + f->path() +
            "; reading it to the end, then waiting " + std::to_string(config_.rotate_wait) +
            " seconds");
  bump(rotations_);
  auto it = files_.find(f->path());
  std::unique_ptr<TailFile> old = std::move(it->second);
  files_.erase(it);
  if (old->closed() && !old->reopen_renamed()) {
    // Rotated away while idle and already gone: it had been read and delivered up to where it
    // was closed; whatever came after cannot be read any more.
    log::warn("file " + old->path() + " was rotated and removed while idle; it is not read further");
    std::string path = old->path();
    close_file(std::move(old));
    hand_position_to_successor(path);
    if (!gone) open_file(path, false, nullptr);
    return;
  }
  // Read what the old file holds now, so the new file's lines follow it in order.
  drain_now(old.get());
  old->detached = true;
  old->detached_at_ms = uv_now(ctx_.loop);
  std::unique_ptr<Parser> handover;
  // A partial line at the end of the old file continues in the new one.
  if (!gone && old->at_eof()) handover = old->swap_parser(parser_->open_stream(old->path()));
  std::string path = old->path();
  detached_.push_back(std::move(old));
  if (!gone) open_file(path, false, std::move(handover));
}

void TailInput::close_detached() {
  uint64_t now_ms = uv_now(ctx_.loop);
  auto wait_ms = static_cast<uint64_t>(config_.rotate_wait * 1000);
  for (auto it = detached_.begin(); it != detached_.end();) {
    TailFile* f = it->get();
    if (f->at_eof() && !f->queued && !f->has_unread_bytes() && now_ms - f->detached_at_ms >= wait_ms) {
      f->flush_parser();
      if (f->delivered()) {
        std::string path = f->path();
        close_file(std::move(*it));
        it = detached_.erase(it);
        hand_position_to_successor(path);
        continue;
      }
    }
    ++it;
  }
}

void TailInput::hand_position_to_successor(const std::string& path) {
  if (predecessor(path)) return;
  auto cur = files_.find(path);
  if (cur == files_.end() && shards_) shards_->release(path);
  if (!positions_) return;
  if (cur == files_.end()) {
    positions_->remove(path);
  } else {
    positions_->update(path, cur->second->committed(), cur->second->identity().ino);
  }
}

void TailInput::close_file(std::unique_ptr<TailFile> file) {
  forget_leaving(file.get());
  close_uv_handle(file->watcher);
  auto it = std::find(ready_.begin(), ready_.end(), file.get());
  if (it != ready_.end()) ready_.erase(it);
}

void TailInput::on_commit(TailFile* file, uint64_t offset) {
  // Not from inside the file's own acknowledgement: handing over destroys it.
  if (file->leaving && hand_over_soon_ && file->delivered())
    uv_timer_start(hand_over_soon_, [](uv_timer_t* t) {
      if (t->data) static_cast<TailInput*>(t->data)->hand_over_delivered();
    }, 0, 0);
  if (!positions_) return;
  TailFile* first = predecessor(file->path());
  // The oldest undelivered file of a path owns its position entry.
  if (first ? first == file : !file->detached)
    positions_->update(file->path(), offset, file->identity().ino);
}

}  // namespace sluice
