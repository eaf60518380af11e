// Chunk files of the file buffer: the on-disk format and durable whole-file I/O.
#pragma once

#include <string>
#include <string_view>

namespace sluice::buffer {

inline constexpr const char* kChunkPrefix = "sluice-chunk.";
inline constexpr const char* kChunkSuffix = ".zst";

// Writes `bytes` to `path` so that a crash leaves either the old file or the new one: a temporary
// file, fsync, rename, fsync of the directory.
bool write_file_durably(const std::string& path, const std::string& bytes, std::string& error);
// Reads at most `max` bytes of a whole file.
bool read_file(const std::string& path, std::string& out, size_t max, std::string& error);
// Writes all of `bytes` to `fd` (retrying short writes and EINTR); 0, or the errno (EIO when
// nothing could be written and no error was given).
int write_fully(int fd, std::string_view bytes);
bool mkdirs(const std::string& dir, std::string& error);

}  // namespace sluice::buffer
