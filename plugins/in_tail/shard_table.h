// Which worker follows which file, shared by the workers' copies of one <source>: a file goes to
// the worker with the fewest files when it is first seen. (A hash of the path spreads a handful
// of files unevenly: 8 files split 3/5 caps two workers at 1.6x.) It stays there unless a worker
// has nothing to read while another has a backlog in two or more files: then the busy worker
// hands up to half of them over (reserve_idle, give, take), so that a core that runs slower, or
// files that grow unevenly, do not leave the other worker idle.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace sluice {

// A file on its way from one worker to another. The descriptor travels with it, so a rotation
// meanwhile cannot lose the old file; `offset` is where the giver's outputs acknowledged it to.
struct FileHandoff {
  std::string path;
  int fd = -1;
  uint64_t dev = 0, ino = 0;
  uint64_t offset = 0;
  uint64_t ticket = 0;  // set by give(); the receiver confirms it once its position file has it
  int from = -1;        // the giver, woken by the confirmation
};

class ShardTable {
 public:
  // The table of the source `source_id` (its @id or generated id, the same in every worker).
  static ShardTable& of(const std::string& source_id, int workers);

  // The owner of `path`, assigning it to `preferred` (or else the least loaded worker) when new;
  // kInTransit while it moves between workers.
  int owner(const std::string& path, int preferred = -1);
  static constexpr int kInTransit = -2;
  // The file is gone for good: a new file at its path may go to any worker.
  void release(const std::string& path);
  // Whether every worker's copy of the source names the same pos_file (the first one given is
  // kept): the workers' files are found from it (pos_file, pos_file.worker1, ...).
  bool same_pos_file(const std::string& path);

  // A running worker that can receive files, with `ready` files to read; `wake` is signalled
  // when one arrives.
  void join(int worker, uv_async_t* wake, size_t ready);
  // The worker stops: it receives no more files. Returns those sent but not taken (the caller
  // closes their descriptors; their givers' position files still hold them).
  std::vector<FileHandoff> leave(int worker);
  // How many of the worker's files have more to read (cheap: called on every turn of its loop).
  // A worker with none is idle: it can receive a file.
  void publish_ready(int worker, size_t files) { members_[worker].ready.store(files, std::memory_order_relaxed); }
  bool someone_idle(int except) const;
  // An idle worker to send `files` files to (it counts as busy from now on), or -1.
  int reserve_idle(int from, size_t files);
  // Sends `h` to worker `to`; false when it has stopped.
  bool give(int to, FileHandoff& h);
  // The files sent to `worker`, now its own.
  std::vector<FileHandoff> take(int worker);
  // The receiver's position file holds the file: the giver is woken to drop its entry at once
  // (until it does, a crash makes both read the file from their own offsets).
  void confirm(const FileHandoff& h);
  bool take_confirmation(uint64_t ticket);
  // Whether `worker` should not count as finished yet: a file is on its way to it, or another
  // worker may still give it one.
  bool may_receive(int worker) const;

 private:
  struct Member {
    uv_async_t* wake = nullptr;
    std::atomic<size_t> ready{0};
    std::vector<FileHandoff> inbox;
  };
  explicit ShardTable(int workers)
      : load_(static_cast<size_t>(workers), 0), members_(new Member[static_cast<size_t>(workers)]),
        workers_(workers) {}
  bool others_have_backlog(int worker) const;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, int> owners_;
  std::vector<size_t> load_;
  std::unique_ptr<Member[]> members_;
  int workers_;
  uint64_t next_ticket_ = 0;
  std::string pos_file_;
  bool pos_file_seen_ = false;
  std::set<uint64_t> confirmed_;
};

}  // namespace sluice
