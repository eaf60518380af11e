// Writing a whole buffer to a descriptor shared by worker threads (stdout): one batch is never
// interleaved with another worker's, a non-blocking pipe is waited on, a closed reader is
// reported rather than fatal.
#pragma once

#include <string_view>

namespace sluice {

enum class WriteResult { Ok, Closed, Failed };

// Writes all of `bytes` to `fd` under a process-wide lock. On Closed (EPIPE, EBADF) or Failed,
// `error` is the errno.
WriteResult write_fully(int fd, std::string_view bytes, int& error);

}  // namespace sluice
