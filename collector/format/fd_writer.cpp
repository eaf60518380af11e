#include "format/fd_writer.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <mutex>

namespace sluice {

WriteResult write_fully(int fd, std::string_view bytes, int& error) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  const char* p = bytes.data();
  size_t n = bytes.size();
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w > 0) {
      p += w;
      n -= static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // A pipe someone else made non-blocking: wait until it drains.
      pollfd pfd{fd, POLLOUT, 0};
      ::poll(&pfd, 1, 1000);
      continue;
    }
    error = w < 0 ? errno : EIO;
    return error == EPIPE || error == EBADF ? WriteResult::Closed : WriteResult::Failed;
  }
  return WriteResult::Ok;
}

}  // namespace sluice
