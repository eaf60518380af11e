#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <cstring>

#include "buffer/buffer.h"
#include "buffer/chunk_file.h"

namespace sluice::buffer {

namespace {

constexpr char kMagic[8] = {'S', 'L', 'U', 'I', 'C', 'E', 'C', 'H'};
constexpr uint32_t kVersion = 1;

void put32(std::string& s, uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); }
void put64(std::string& s, uint64_t v) { s.append(reinterpret_cast<const char*>(&v), 8); }
bool get32(std::string_view& s, uint32_t& v) {
  if (s.size() < 4) return false;
  memcpy(&v, s.data(), 4);
  s.remove_prefix(4);
  return true;
}
bool get64(std::string_view& s, uint64_t& v) {
  if (s.size() < 8) return false;
  memcpy(&v, s.data(), 8);
  s.remove_prefix(8);
  return true;
}
}  // namespace

int write_fully(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t w = ::write(fd, bytes.data(), bytes.size());
    if (w > 0) {
      bytes.remove_prefix(size_t(w));
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else {
      return w < 0 ? errno : EIO;
    }
  }
  return 0;
}

bool write_file_durably(const std::string& path, const std::string& bytes, std::string& error) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "open " + tmp + ": " + strerror(errno);
    return false;
  }
  if (int err = write_fully(fd, bytes)) {
    error = "write " + tmp + ": " + strerror(err);
    ::close(fd);
    ::unlink(tmp.c_str());
    return false;
  }
  if (::fsync(fd) != 0) {
    error = "fsync " + tmp + ": " + strerror(errno);
    ::close(fd);
    ::unlink(tmp.c_str());
    return false;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "rename " + tmp + ": " + strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  std::string dir = path.substr(0, path.rfind('/') == std::string::npos ? 0 : path.rfind('/'));
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

bool read_file(const std::string& path, std::string& out, size_t max, std::string& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "open " + path + ": " + strerror(errno);
    return false;
  }
  out.clear();
  char buf[65536];
  while (out.size() < max) {
    ssize_t r = ::read(fd, buf, std::min(sizeof buf, max - out.size()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      error = "read " + path + ": " + strerror(errno);
      ::close(fd);
      return false;
    }
    if (r == 0) break;
    out.append(buf, size_t(r));
  }
  ::close(fd);
  return true;
}

bool mkdirs(const std::string& dir, std::string& error) {
  if (dir.empty()) return true;
  std::string cur;
  size_t i = 0;
  while (i <= dir.size()) {
    size_t j = dir.find('/', i);
    if (j == std::string::npos) j = dir.size();
    cur = dir.substr(0, j);
    i = j + 1;
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
      error = "mkdir " + cur + ": " + strerror(errno);
      return false;
    }
  }
  return true;
}


std::string Buffer::encode_chunk_file(const Chunk& c, int level) {
  std::string out(kMagic, sizeof kMagic);
  put32(out, kVersion);
  put64(out, c.id);
  put64(out, c.records);
  put64(out, c.payload.size());
  put64(out, uint64_t(c.timekey));
  put32(out, uint32_t(c.tag.size()));
  out += c.tag;
  put32(out, uint32_t(c.variant.size()));
  out += c.variant;
  size_t head = out.size();
  size_t bound = ZSTD_compressBound(c.payload.size());
  out.resize(head + bound);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  size_t n = ZSTD_compress2(cctx, out.data() + head, bound, c.payload.data(), c.payload.size());
  ZSTD_freeCCtx(cctx);
  if (ZSTD_isError(n)) return {};
  out.resize(head + n);
  return out;
}

bool Buffer::decode_chunk_file(std::string_view s, Chunk& c, bool with_payload, std::string& error) {
  if (s.size() < sizeof kMagic || memcmp(s.data(), kMagic, sizeof kMagic) != 0) {
    error = "not a sluice chunk file";
    return false;
  }
  s.remove_prefix(sizeof kMagic);
  uint32_t version, len;
  uint64_t id, records, bytes, timekey;
  if (!get32(s, version) || version != kVersion || !get64(s, id) || !get64(s, records) ||
      !get64(s, bytes) || !get64(s, timekey) || !get32(s, len) || len > s.size()) {
    error = "bad chunk header";
    return false;
  }
  c.id = id;
  c.records = records;
  c.bytes = bytes;
  c.timekey = int64_t(timekey);
  c.tag.assign(s.data(), len);
  s.remove_prefix(len);
  if (!get32(s, len) || len > s.size()) {
    error = "bad chunk header";
    return false;
  }
  c.variant.assign(s.data(), len);
  s.remove_prefix(len);
  if (!with_payload) return true;
  unsigned long long size = ZSTD_getFrameContentSize(s.data(), s.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size != bytes) {
    error = "bad compressed payload";
    return false;
  }
  c.payload.resize(bytes);
  size_t n = ZSTD_decompress(c.payload.data(), bytes, s.data(), s.size());
  if (ZSTD_isError(n) || n != bytes) {
    error = std::string("decompression failed: ") + (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size");
    c.payload.clear();
    return false;
  }
  return true;
}

}  // namespace sluice::buffer
