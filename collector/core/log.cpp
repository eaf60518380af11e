#include "core/log.h"

#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <unordered_map>

namespace sluice::log {

namespace {
std::atomic<Level> g_level{Level::Info};
std::mutex g_mutex;

const char* level_name(Level l) {
  switch (l) {
    case Level::Trace: return "trace";
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
    case Level::Fatal: return "fatal";
  }
  return "info";
}
}  // namespace

void set_level(Level level) { g_level = level; }
bool enabled(Level level) { return level >= g_level.load(); }

bool parse_level(std::string_view name, Level& out) {
  static const std::pair<const char*, Level> names[] = {
      {"trace", Level::Trace}, {"debug", Level::Debug}, {"info", Level::Info},
      {"warn", Level::Warn},   {"error", Level::Error}, {"fatal", Level::Fatal}};
  for (auto& [n, l] : names)
    if (name == n) {
      out = l;
      return true;
    }
  return false;
}

void write(Level level, std::string_view message) {
  if (!enabled(level)) return;
  time_t t = time(nullptr);
  struct tm tm;
  localtime_r(&t, &tm);
  char stamp[64];
  size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S %z", &tm);
  std::string line;
  line.reserve(n + message.size() + 16);
  line.append(stamp, n).append(" [").append(level_name(level)).append("]: ");
  line.append(message);
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(g_mutex);
  ssize_t ignored = ::write(2, line.data(), line.size());
  (void)ignored;
}

bool warn_once(std::string_view key, std::string_view message) {
  static std::unordered_map<std::string, uint64_t> seen;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto [it, inserted] = seen.try_emplace(std::string(key), 0);
    ++it->second;
    if (!inserted) return false;
  }
  warn(message);
  return true;
}

std::string quote_excerpt(std::string_view bytes, size_t max) {
  std::string out = "\"";
  size_t n = bytes.size() < max ? bytes.size() : max;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
  if (bytes.size() > max) out += "... (" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

}  // namespace sluice::log
