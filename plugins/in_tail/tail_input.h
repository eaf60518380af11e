// `@type tail`: follows files matching `path` globs, as Fluentd's in_tail does.
#pragma once

#include <uv.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/plugin.h"
#include "position_file.h"
#include "tail_file.h"

namespace sluice {

struct TailConfig {
  std::vector<std::string> paths;
  std::vector<std::string> exclude_paths;
  std::string tag_prefix, tag_suffix;  // around the `*` of `tag`
  std::string fixed_tag;               // `tag` without `*`
  bool tag_expands = false;
  std::string pos_file;
  bool read_from_head = false;
  double refresh_interval = 60;
  double rotate_wait = 5;
  double pos_write_interval = 1;
  bool enable_watch_timer = true;
  bool enable_stat_watcher = true;
  std::string path_key;
  size_t read_block_size = 256 * 1024;
  size_t max_line_size = 0;  // 0: the hard cap
  int64_t read_bytes_limit_per_second = -1;
  double limit_recently_modified = 0;
  double multiline_flush_interval = 5;
  size_t open_files_limit = 0;  // 0: no limit
  bool fingerprint_identity = false;  // file_identity fingerprint
};

class ShardTable;

class TailInput : public Input {
 public:
  TailInput(PluginContext& ctx, const Params& params);
  ~TailInput() override;

  void start() override;
  void stop() override;
  void finish() override;
  bool at_eof() const override;

  // For TailFile.
  std::string tag_for(const std::string& path) const;
  Emitter& emitter() { return *ctx_.emitter; }
  const TailConfig& config() const { return config_; }
  const std::string& id() const { return ctx_.id; }
  uv_loop_t* loop() const { return ctx_.loop; }
  void on_commit(TailFile* file, uint64_t offset);
  void check_path(TailFile* file);
  void count_truncated_line() { bump(truncated_lines_); }
  void count_records(size_t n, size_t bytes) {
    bump(records_, n);
    bump(bytes_, bytes);
  }
  void schedule(TailFile* file);
  size_t open_descriptors() const;
  // Whether this worker follows `path` (files are sharded across workers by path).
  bool owns(const std::string& path) const;

  static constexpr size_t kHardMaxLine = 32 * 1024 * 1024;

  // Storage every file of this input reads and parses through, one file at a time on the loop:
  // the read buffer (grown for long lines, given back after), the line list and the batch.
  struct ReadScratch {
    std::vector<char> buf;
    std::vector<Line> lines;
    Batch batch;
  };
  ReadScratch& scratch() { return scratch_; }
  // The shared read buffer with at least `size` bytes (its contents are not kept).
  char* read_buffer(size_t size) {
    if (scratch_.buf.size() < size || scratch_.buf.size() > std::max(size, config_.read_block_size)) {
      std::vector<char>().swap(scratch_.buf);
      scratch_.buf.resize(size);
    }
    return scratch_.buf.data();
  }

 private:
  void discover();
  std::vector<std::string> expand_paths() const;
  bool excluded(const std::string& path) const;
  void open_file(const std::string& path, bool at_startup, std::unique_ptr<Parser> inherited);
  // Starts following an open file from `offset` (from open_file, or handed over by another worker).
  void follow(const std::string& path, int fd, FileIdentity id, uint64_t offset,
              std::unique_ptr<Parser> parser);
  void recover_rotated(const std::string& path, const PositionEntry& entry);
  TailFile* predecessor(const std::string& path) const;
  void hand_position_to_successor(const std::string& path);
  void watch(TailFile* file);
  void drain();
  void drain_now(TailFile* file);
  void close_detached();
  void flush_idle_parsers();
  void close_idle_descriptors();
  // For a new file that is a copy of one already followed (same first bytes): where the copy's
  // unread data starts; false when it is not a copy.
  bool copy_offset(int fd, uint64_t size, uint64_t& offset, std::string& original);
  bool save_positions();
  void close_file(std::unique_ptr<TailFile> file);

  // Moving files between workers (tail_handoff.cpp).
  void start_handoffs();
  void stop_handoffs();
  bool may_receive_file() const;
  void balance();
  void offer_files();
  void hand_over_delivered();
  void forget_leaving(TailFile* f);
  void cancel_leaving(TailFile* f);
  void adopt_files();
  void drop_handed_over_entries();

  static void on_idle(uv_idle_t* h);
  void watch_directories();
  static void on_dir_event(uv_fs_event_t* h, const char* name, int events, int status);
  static void on_refresh(uv_timer_t* h);
  static void on_watch_timer(uv_timer_t* h);
  static void on_pos_timer(uv_timer_t* h);
  static void on_fs_event(uv_fs_event_t* h, const char* name, int events, int status);

  PluginContext ctx_;
  TailConfig config_;
  std::unique_ptr<ParserPlugin> parser_;
  std::unique_ptr<PositionFile> positions_;

  // Files followed by their path; rotated or deleted files still being drained.
  std::map<std::string, std::unique_ptr<TailFile>> files_;
  std::vector<std::unique_ptr<TailFile>> detached_;
  std::deque<TailFile*> ready_;
  bool started_ = false;
  bool stopped_ = false;
  bool discovered_ = false;
  uint64_t bytes_this_second_ = 0;
  uint64_t second_started_ms_ = 0;
  uint64_t watch_ticks_ = 0;

  uv_idle_t* idle_ = nullptr;
  uv_timer_t* refresh_timer_ = nullptr;
  uv_timer_t* watch_timer_ = nullptr;
  uv_timer_t* pos_timer_ = nullptr;
  uv_timer_t* discover_soon_ = nullptr;  // coalesces bursts of directory events
  std::vector<uv_fs_event_t*> dir_watchers_;

  ShardTable* shards_ = nullptr;    // with several workers: which worker follows which file
  std::vector<TailFile*> leaving_;  // files being handed to worker leaving_to_
  int leaving_to_ = -1;
  uint64_t last_offer_ms_ = 0;
  // Files handed over, by path, with the ticket the receiver confirms: this worker's position
  // entry stays until then, so a crash in between reads again rather than loses.
  std::map<std::string, uint64_t> handed_over_;
  uv_async_t* inbox_ = nullptr;     // signalled when a file is handed to this worker
  uv_timer_t* hand_over_soon_ = nullptr;  // out of the acknowledgement callback

  Counter& records_;
  Counter& bytes_;
  Counter& truncated_lines_;
  Counter& rotations_;
  Counter& files_moved_;
  ReadScratch scratch_;
};

}  // namespace sluice
