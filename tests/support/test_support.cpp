#include "support/test_support.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sluice::testing {

TempDir::TempDir() {
  const char* base = getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/sluice-test-XXXXXX";
  if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

void append_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << content;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CaptureStdout::CaptureStdout() {
  fflush(stdout);
  saved_ = dup(1);
  char name[] = "/tmp/sluice-stdout-XXXXXX";
  fd_ = mkstemp(name);
  unlink(name);
  dup2(fd_, 1);
}

std::string CaptureStdout::finish() {
  fflush(stdout);
  dup2(saved_, 1);
  close(saved_);
  std::string out;
  char buf[4096];
  lseek(fd_, 0, SEEK_SET);
  ssize_t n;
  while ((n = read(fd_, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd_);
  return out;
}

std::string fixture_path(const std::string& relative) {
  return std::string(SLUICE_FIXTURES) + "/" + relative;
}

}  // namespace sluice::testing
