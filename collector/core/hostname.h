// The machine's name, as Ruby's Socket.gethostname gives it to Fluentd's `${hostname}`.
#pragma once

#include <unistd.h>

#include <string>

namespace sluice {

inline std::string local_hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

}  // namespace sluice
