// The collector's own log, on stderr, in Fluentd's line format:
// `2026-11-27 11:35:19 +0000 [warn]: message`.
#pragma once

#include <string>
#include <string_view>

namespace sluice::log {

enum class Level { Trace, Debug, Info, Warn, Error, Fatal };

void set_level(Level level);
bool enabled(Level level);
bool parse_level(std::string_view name, Level& out);

void write(Level level, std::string_view message);
inline void debug(std::string_view m) { write(Level::Debug, m); }
inline void info(std::string_view m) { write(Level::Info, m); }
inline void warn(std::string_view m) { write(Level::Warn, m); }
inline void error(std::string_view m) { write(Level::Error, m); }

// Logs `message` the first time `key` is seen, and counts the rest (bad input must not flood the
// log). Returns true when it logged.
bool warn_once(std::string_view key, std::string_view message);

// Limits a value quoted in a log line (untrusted input can be huge or binary).
std::string quote_excerpt(std::string_view bytes, size_t max = 200);

}  // namespace sluice::log
