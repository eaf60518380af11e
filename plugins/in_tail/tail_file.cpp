#include "tail_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/log.h"
#include "line_split.h"
#include "tail_input.h"

namespace sluice {

TailFile::TailFile(TailInput& owner, std::string path, int fd, FileIdentity id, uint64_t offset,
                   std::unique_ptr<Parser> parser)
    : owner_(owner),
      path_(std::move(path)),
      stream_id_(std::to_string(id.dev) + ":" + std::to_string(id.ino)),
      tag_(owner.tag_for(path_)),
      fd_(fd),
      id_(id),
      parser_(std::move(parser)),
      tracker_(offset),
      file_offset_(offset) {
  block_size_ = owner.config().read_block_size;
  held_elsewhere_ = holding();  // a parser handed on from the rotated file
  tracker_.on_commit = [this](uint64_t committed) {
    owner_.on_commit(this, committed);
  };
}

TailFile::~TailFile() {
  if (fd_ >= 0) ::close(fd_);
}

bool TailFile::fingerprint(uint64_t& out) {
  if (!has_fp_) {
    if (fd_ < 0) return false;
    char head[kFingerprintBytes];
    ssize_t n = ::pread(fd_, head, sizeof head, 0);
    if (n != static_cast<ssize_t>(sizeof head)) return false;
    fp_ = std::hash<std::string_view>{}(std::string_view(head, sizeof head));
    has_fp_ = true;
  }
  out = fp_;
  return true;
}

void TailFile::restart_from_zero() {
  log::info("detected truncation of " + path_ + "; reading it again from the start");
  if (has_fp_ && !fp_stale_) {
    // A copy of the old content may still turn up (copytruncate): remember how far it was read,
    // to the start of the incomplete line (carry_, dropped here), which the copy then gives whole.
    fp_stale_ = true;
    fp_offset_ = file_offset_;
  }
  carry_.clear();
  file_offset_ = 0;
  skipping_long_line_ = false;
  held_elsewhere_ = holding();
  tracker_.reset(0);
  owner_.on_commit(this, 0);
}

void TailFile::close_fd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool TailFile::reopen() {
  if (fd_ >= 0) return true;
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  if (fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_ino) != id_.ino ||
      static_cast<uint64_t>(st.st_dev) != id_.dev) {
    ::close(fd);
    return false;
  }
  fd_ = fd;
  return true;
}

bool TailFile::reopen_renamed() {
  if (fd_ >= 0) return true;
  size_t slash = path_.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path_.substr(0, slash ? slash : 1);
  DIR* d = opendir(dir.c_str());
  if (!d) return false;
  std::string found;
  while (dirent* e = readdir(d))
    if (e->d_ino == id_.ino) {
      found = dir + "/" + e->d_name;
      break;
    }
  closedir(d);
  if (found.empty()) return false;
  int fd = ::open(found.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0) return false;
  if (fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_ino) != id_.ino) {
    ::close(fd);
    return false;
  }
  fd_ = fd;
  return true;
}

bool TailFile::check_truncated() {
  struct stat st;
  if (fd_ < 0 || fstat(fd_, &st) != 0) return false;
  if (static_cast<uint64_t>(st.st_size) >= file_offset_ + carry_.size()) return false;
  restart_from_zero();
  return true;
}

bool TailFile::has_unread_bytes() const {
  struct stat st;
  if (fd_ < 0) return ::stat(path_.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_ino) == id_.ino &&
                      static_cast<uint64_t>(st.st_size) > file_offset_ + carry_.size();
  return fstat(fd_, &st) == 0 && static_cast<uint64_t>(st.st_size) > file_offset_ + carry_.size();
}

Batch& TailFile::start_batch() {
  Batch& batch = owner_.scratch().batch;
  batch.clear();
  batch.tag = tag_;
  batch.stream_id = stream_id_;
  batch.source_path = path_;
  return batch;
}

TailFile::ReadResult TailFile::read_block() {
  const size_t max_line =
      owner_.config().max_line_size ? owner_.config().max_line_size : TailInput::kHardMaxLine;
  if (carry_.size() >= block_size_) {
    // A line longer than the buffer: grow up to the line limit, then cut it.
    if (block_size_ < max_line) {
      block_size_ = std::min(block_size_ * 2, max_line);
    } else {
      log::warn_once("long-line:" + path_, "line longer than " + std::to_string(max_line) +
                                               " bytes in " + path_ + " at offset " +
                                               std::to_string(file_offset_) +
                                               "; shipping it truncated");
      owner_.count_truncated_line();
      std::vector<Line>& lines = owner_.scratch().lines;
      lines.clear();
      lines.push_back(Line{{carry_.data(), carry_.size()}, file_offset_});
      Batch& batch = start_batch();
      size_t before = batch.records.size();
      parser_->parse(lines, batch);
      // Only the record of this line (a multiline parser may have emitted an earlier group).
      if (batch.records.size() > before && batch.records.back().offset == file_offset_)
        batch.add_field("_truncated", Value::of_bool(true));
      file_offset_ += carry_.size();
      skipping_long_line_ = true;
      Claim* claim = tracker_.open(std::min(file_offset_, parser_->held_from()));
      batch.claim = claim;
      owner_.count_records(batch.records.size(), 0);
      owner_.emitter().emit(batch);
      claim->release();
      std::string().swap(carry_);
      block_size_ = owner_.config().read_block_size;
      return ReadResult::More;
    }
  }
  // The partial line first, then as much of the file as fits.
  char* buf = owner_.read_buffer(block_size_);
  size_t len = carry_.size();
  if (len) std::memcpy(buf, carry_.data(), len);
  ssize_t n;
  do {
    n = ::pread(fd_, buf + len, block_size_ - len, static_cast<off_t>(file_offset_ + len));
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    log::warn_once("read-error:" + path_, "cannot read " + path_ + ": " + std::strerror(errno));
    return ReadResult::Error;
  }
  if (n == 0) {
    at_eof_ = true;
    // A truncated file reads as empty at our offset (copytruncate, `> file`).
    if (!detached && check_truncated()) return ReadResult::More;
    return ReadResult::Eof;
  }
  at_eof_ = false;
  last_data_ms = uv_now(owner_.loop());
  last_active_ms = last_data_ms;
  size_t scan_from = len;
  len += static_cast<size_t>(n);
  if (!has_fp_ && file_offset_ == 0 && len >= kFingerprintBytes && owner_.config().fingerprint_identity) {
    // Taken before a truncation can replace the content it identifies.
    fp_ = std::hash<std::string_view>{}(std::string_view(buf, kFingerprintBytes));
    has_fp_ = true;
  }

  // Find the last newline: everything before it is complete lines.
  const char* last_nl = static_cast<const char*>(memrchr(buf + scan_from, '\n', len - scan_from));
  if (!last_nl) {
    carry_.assign(buf, len);
    return ReadResult::More;
  }
  size_t consumed_end = static_cast<size_t>(last_nl - buf) + 1;
  emit_lines(buf, consumed_end);
  // Keep the incomplete tail for the next read (the shared buffer is not ours after this call).
  carry_.assign(buf + consumed_end, len - consumed_end);
  file_offset_ += consumed_end;
  // A read size grown for one long line goes back to normal once the line is done; so does the
  // memory of a long partial line.
  if (block_size_ > owner_.config().read_block_size && carry_.size() <= owner_.config().read_block_size) {
    block_size_ = owner_.config().read_block_size;
    if (carry_.capacity() > 4 * carry_.size() + 4096) carry_.shrink_to_fit();
  }
  return ReadResult::More;
}

void TailFile::emit_lines(const char* base, size_t consumed_end) {
  const char* p = base;
  const char* end = base + consumed_end;
  std::vector<Line>& lines = owner_.scratch().lines;
  lines.clear();
  if (skipping_long_line_) {
    // The rest of a line that was already shipped truncated.
    const char* nl = static_cast<const char*>(memchr(p, '\n', static_cast<size_t>(end - p)));
    p = nl + 1;
    skipping_long_line_ = false;
  }
  split_lines(p, end, file_offset_ + static_cast<uint64_t>(p - base), lines);
  Batch& batch = start_batch();
  if (!owner_.config().path_key.empty())
    batch.common_fields.push_back({owner_.config().path_key, Value::of_string(path_)});
  if (!lines.empty()) parser_->parse(lines, batch);
  uint64_t end_offset = file_offset_ + consumed_end;
  if (held_elsewhere_ && !holding()) held_elsewhere_ = false;
  Claim* claim = tracker_.open(std::min(end_offset, parser_->held_from()));
  batch.claim = claim;
  owner_.count_records(batch.records.size(), consumed_end);
  owner_.emitter().emit(batch);
  claim->release();
}

void TailFile::flush_parser() {
  Batch& batch_ = start_batch();
  parser_->flush(batch_);
  held_elsewhere_ = false;
  if (batch_.records.empty()) return;
  Claim* claim = tracker_.open(file_offset_);
  batch_.claim = claim;
  owner_.count_records(batch_.records.size(), 0);
  owner_.emitter().emit(batch_);
  claim->release();
}

}  // namespace sluice
