// One followed file: reads blocks, splits lines, parses them as a batch, emits it, and tracks
// which offsets the outputs have acknowledged.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/delivery.h"
#include "core/event.h"
#include "core/plugin.h"

namespace sluice {

class TailInput;

struct FileIdentity {
  uint64_t dev = 0;
  uint64_t ino = 0;
  friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

class TailFile {
 public:
  TailFile(TailInput& owner, std::string path, int fd, FileIdentity id, uint64_t offset,
           std::unique_ptr<Parser> parser);
  ~TailFile();
  TailFile(const TailFile&) = delete;
  TailFile& operator=(const TailFile&) = delete;

  enum class ReadResult { Eof, More, Error };
  // Reads one block (or less) and emits the complete lines in it.
  ReadResult read_block();
  // Emits whatever the parser holds (end of input, shutdown, rotation).
  void flush_parser();
  // The file was truncated below the read position: start over from 0.
  void restart_from_zero();
  // Restarts from 0 if the file is now shorter than what was read; returns whether it did.
  bool check_truncated();
  bool has_unread_bytes() const;
  // The parser holds lines back (a partial or multiline group still open).
  bool holding() const { return parser_->held_from() != UINT64_MAX; }
  uint64_t last_data_ms = 0;  // loop time of the last read that returned bytes
  std::unique_ptr<Parser> swap_parser(std::unique_ptr<Parser> parser) {
    std::swap(parser, parser_);
    return parser;
  }

  const std::string& path() const { return path_; }
  FileIdentity identity() const { return id_; }
  uint64_t read_offset() const { return file_offset_; }
  uint64_t committed() const { return tracker_.committed(); }
  bool delivered() const { return tracker_.idle(); }
  bool at_eof() const { return at_eof_; }
  int fd() const { return fd_; }
  // Idle files can give their descriptor back (open_files_limit); the inotify watch stays.
  bool closed() const { return fd_ < 0; }
  void close_fd();
  // Opens `path` again; false (and stays closed) when the path is now another file or gone.
  bool reopen();
  // Opens the file by its identity among the files of `path`'s directory (it was renamed while
  // closed); false when no such file exists any more.
  bool reopen_renamed();
  uint64_t last_active_ms = 0;

  // Content identity for copy-based rotation (file_identity fingerprint): a hash of the first
  // kFingerprintBytes, computed once the file has that many bytes. After a truncation it still
  // describes the old content, with the offset that content was read to.
  static constexpr size_t kFingerprintBytes = 1024;
  bool fingerprint(uint64_t& out);
  uint64_t fingerprint_read_offset() const { return fp_stale_ ? fp_offset_ : file_offset_; }
  TailInput& owner() { return owner_; }

  // Set once the path points elsewhere (rotated) or is gone (deleted): read to the end, wait for
  // acknowledgements, then close.
  bool detached = false;
  uint64_t detached_at_ms = 0;
  bool queued = false;  // on the owner's ready list
  // Chosen to move to another worker: not read further until its outputs have acknowledged it.
  bool leaving = false;
  // Whether another worker can go on from committed() with a fresh parser, reading again the lines
  // this one holds back: not rotated away, no held lines from other content (a rotated
  // predecessor, the content before a truncation), not inside an overlong line, no truncated
  // content remembered for a copy to match.
  bool movable() const {
    return !detached && fd_ >= 0 && !held_elsewhere_ && !skipping_long_line_ && !fp_stale_;
  }
  // Gives the open descriptor away (to the worker the file moves to).
  int release_fd() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  uv_fs_event_t* watcher = nullptr;

 private:
  void emit_lines(const char* base, size_t consumed_end);
  Batch& start_batch();

  TailInput& owner_;
  std::string path_;
  std::string stream_id_;
  std::string tag_;
  int fd_;
  FileIdentity id_;
  std::unique_ptr<Parser> parser_;
  DeliveryTracker tracker_;

  // The incomplete last line of the previous read (the bytes from file_offset_). Blocks are read
  // into the input's shared read buffer and batches built in its shared batch, so a file costs
  // its partial line, not a block-sized buffer and a batch's capacity (10,000 idle files).
  std::string carry_;
  size_t block_size_ = 0;  // bytes per read; doubled while one line is longer
  uint64_t file_offset_;
  bool has_fp_ = false;
  bool fp_stale_ = false;
  uint64_t fp_ = 0;
  uint64_t fp_offset_ = 0;   // offset of carry_[0]
  bool skipping_long_line_ = false;
  // The parser holds lines whose offsets are not this content's: begun in a rotated predecessor
  // or before a truncation. Cleared once it holds nothing.
  bool held_elsewhere_ = false;
  bool at_eof_ = false;
};

}  // namespace sluice
