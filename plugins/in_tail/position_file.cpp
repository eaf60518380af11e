#include "position_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace sluice {

namespace {
bool parse_hex16(const std::string& s, uint64_t& out) {
  if (s.empty() || s.size() > 16) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return false;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  out = v;
  return true;
}
}  // namespace

bool PositionFile::parse_line(const std::string& line, std::string& path, PositionEntry& entry) {
  size_t t2 = line.rfind('\t');
  if (t2 == std::string::npos || t2 == 0) return false;
  size_t t1 = line.rfind('\t', t2 - 1);
  if (t1 == std::string::npos || t1 == 0) return false;
  path = line.substr(0, t1);
  return parse_hex16(line.substr(t1 + 1, t2 - t1 - 1), entry.offset) &&
         parse_hex16(line.substr(t2 + 1), entry.inode);
}

bool PositionFile::load(std::string& error) {
  std::ifstream in(path_);
  if (!in) {
    if (errno == ENOENT || access(path_.c_str(), F_OK) != 0) {
      dirty_ = true;  // Fluentd creates an empty pos_file even when nothing matches
      return true;
    }
    error = "cannot read pos_file " + path_ + ": " + std::strerror(errno);
    return false;
  }
  std::string line;
  while (std::getline(in, line)) {
    std::string p;
    PositionEntry e;
    if (!parse_line(line, p, e) || e.offset == UINT64_MAX) {
      dirty_ = true;  // compacted away on the next save
      continue;
    }
    entries_[p] = e;
  }
  return true;
}

bool PositionFile::save(std::string& error) {
  if (!dirty_) return true;
  std::string content;
  char buf[64];
  for (auto& [p, e] : entries_) {
    snprintf(buf, sizeof buf, "\t%016llx\t%016llx\n", static_cast<unsigned long long>(e.offset),
             static_cast<unsigned long long>(e.inode));
    content += p;
    content += buf;
  }
  std::string tmp = path_ + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot write pos_file " + tmp + ": " + std::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = "cannot write pos_file " + tmp + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  // The rename must not reach the disk before the data does.
  ::fdatasync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    error = "cannot replace pos_file " + path_ + ": " + std::strerror(errno);
    return false;
  }
  dirty_ = false;
  return true;
}

const PositionEntry* PositionFile::find(const std::string& path) const {
  auto it = entries_.find(path);
  return it == entries_.end() ? nullptr : &it->second;
}

void PositionFile::update(const std::string& path, uint64_t offset, uint64_t inode) {
  auto& e = entries_[path];
  if (e.offset == offset && e.inode == inode) return;
  e.offset = offset;
  e.inode = inode;
  dirty_ = true;
}

void PositionFile::remove(const std::string& path) {
  if (entries_.erase(path)) dirty_ = true;
}

}  // namespace sluice
