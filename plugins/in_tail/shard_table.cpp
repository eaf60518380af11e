#include "shard_table.h"

namespace sluice {

ShardTable& ShardTable::of(const std::string& source_id, int workers) {
  static std::mutex mutex;
  // Process-wide and never destroyed; held through a pointer, so that leak checkers still see
  // its tables as reachable at exit.
  static auto* tables = new std::unordered_map<std::string, ShardTable*>;
  std::lock_guard<std::mutex> lock(mutex);
  ShardTable*& t = (*tables)[source_id];
  if (!t) t = new ShardTable(workers);
  return *t;
}

int ShardTable::owner(const std::string& path, int preferred) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = owners_.find(path);
  if (it != owners_.end()) return it->second;
  int w = preferred;
  if (w < 0 || w >= workers_) {
    w = 0;
    for (int i = 1; i < workers_; ++i)
      if (load_[i] < load_[w]) w = i;
  }
  owners_.emplace(path, w);
  ++load_[w];
  return w;
}

void ShardTable::release(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = owners_.find(path);
  if (it == owners_.end() || it->second == kInTransit) return;
  --load_[it->second];
  owners_.erase(it);
}

bool ShardTable::same_pos_file(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!pos_file_seen_) {
    pos_file_seen_ = true;
    pos_file_ = path;
  }
  return path == pos_file_;
}

void ShardTable::join(int worker, uv_async_t* wake, size_t ready) {
  std::lock_guard<std::mutex> lock(mutex_);
  members_[worker].ready = ready;
  members_[worker].wake = wake;
}

std::vector<FileHandoff> ShardTable::leave(int worker) {
  std::lock_guard<std::mutex> lock(mutex_);
  Member& m = members_[worker];
  m.wake = nullptr;
  m.ready = 0;
  std::vector<FileHandoff> out;
  out.swap(m.inbox);
  return out;
}

bool ShardTable::others_have_backlog(int worker) const {
  for (int w = 0; w < workers_; ++w)
    if (w != worker && members_[w].wake && members_[w].ready.load(std::memory_order_relaxed) >= 2)
      return true;
  return false;
}

bool ShardTable::someone_idle(int except) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (int w = 0; w < workers_; ++w)
    if (w != except && members_[w].wake && members_[w].ready.load(std::memory_order_relaxed) == 0)
      return true;
  return false;
}

int ShardTable::reserve_idle(int from, size_t files) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (int w = 0; w < workers_; ++w) {
    Member& m = members_[w];
    if (w == from || !m.wake || m.ready.load(std::memory_order_relaxed) != 0) continue;
    m.ready = files;  // until it says otherwise: not idle, so no other worker sends it files too
    return w;
  }
  return -1;
}

bool ShardTable::give(int to, FileHandoff& h) {
  std::lock_guard<std::mutex> lock(mutex_);
  Member& m = members_[to];
  if (!m.wake) return false;
  auto it = owners_.find(h.path);
  if (it != owners_.end() && it->second >= 0) --load_[it->second];
  ++load_[to];
  owners_[h.path] = kInTransit;
  h.ticket = ++next_ticket_;
  m.inbox.push_back(h);
  uv_async_send(m.wake);
  return true;
}

std::vector<FileHandoff> ShardTable::take(int worker) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<FileHandoff> out;
  out.swap(members_[worker].inbox);
  for (auto& h : out) owners_[h.path] = worker;
  return out;
}

void ShardTable::confirm(const FileHandoff& h) {
  std::lock_guard<std::mutex> lock(mutex_);
  confirmed_.insert(h.ticket);
  if (h.from >= 0 && h.from < workers_ && members_[h.from].wake) uv_async_send(members_[h.from].wake);
}

bool ShardTable::take_confirmation(uint64_t ticket) {
  std::lock_guard<std::mutex> lock(mutex_);
  return confirmed_.erase(ticket) != 0;
}

bool ShardTable::may_receive(int worker) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!members_[worker].inbox.empty()) return true;
  return members_[worker].wake && members_[worker].ready.load(std::memory_order_relaxed) == 0 &&
         others_have_backlog(worker);
}

}  // namespace sluice
