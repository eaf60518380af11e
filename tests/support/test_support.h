// Small helpers for GoogleTest tests: temporary directories and whole-file I/O.
#pragma once

#include <string>

namespace sluice::testing {

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& content);
void append_file(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);
// Captures what is written to fd 1 (stdout output and filter) until finish().
class CaptureStdout {
 public:
  CaptureStdout();
  std::string finish();

 private:
  int saved_ = -1, fd_ = -1;
};

// A file under ../shared/fixtures.
std::string fixture_path(const std::string& relative);

}  // namespace sluice::testing
