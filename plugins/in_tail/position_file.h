// Fluentd's pos_file: one line per file, `<path>\t<offset %016x>\t<inode %016x>\n`, so a
// Fluentd position file can be taken over on migration. Unlike Fluentd, which rewrites lines in
// place, the whole file is written to a temporary file and renamed over the old one, so a crash
// at any moment leaves either the old or the new file, both readable.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace sluice {

struct PositionEntry {
  uint64_t offset = 0;
  uint64_t inode = 0;
};

class PositionFile {
 public:
  explicit PositionFile(std::string path) : path_(std::move(path)) {}

  // Reads the file; lines that are malformed or mark a deleted file (offset ffffffffffffffff)
  // are dropped (compaction). A missing file is an empty table. Returns false with `error` set
  // when the file exists but cannot be read.
  bool load(std::string& error);
  // Writes the table if it changed since the last save. Returns false with `error` on failure
  // (the old file stays intact).
  bool save(std::string& error);
  // Takes the entries of another position file (another worker's) that `keep` accepts and that
  // this table does not have.
  template <typename Keep>
  void import_from(const std::string& other, Keep keep) {
    PositionFile o(other);
    std::string ignored;
    if (!o.load(ignored)) return;
    for (auto& [p, e] : o.entries_)
      if (!entries_.count(p) && keep(p)) {
        entries_[p] = e;
        dirty_ = true;
      }
  }

  const PositionEntry* find(const std::string& path) const;
  void update(const std::string& path, uint64_t offset, uint64_t inode);
  void remove(const std::string& path);
  const std::map<std::string, PositionEntry>& entries() const { return entries_; }
  const std::string& path() const { return path_; }
  bool dirty() const { return dirty_; }

  static bool parse_line(const std::string& line, std::string& path, PositionEntry& entry);

 private:
  std::string path_;
  std::map<std::string, PositionEntry> entries_;
  bool dirty_ = false;
};

}  // namespace sluice
