// Compiled as C++23 (see collector/CMakeLists.txt): std::string::resize_and_overwrite is the one
// standard way to set a string's size without writing the bytes. libstdc++ leaves the bytes
// between the old and the new size as they are when the new size fits the capacity, which is
// what StringWriter relies on (the operation below writes nothing).
#include "format/string_writer.h"

#include <algorithm>

namespace sluice {

void set_size_in_capacity(std::string& s, size_t n) {
  s.resize_and_overwrite(n, [](char*, size_t k) { return k; });
}

void StringWriter::grow(size_t n) {
  const size_t used = size();
  set_size_in_capacity(s_, used);
  s_.reserve(std::max(used + n, 2 * s_.capacity()));
  w_ = s_.data() + used;
  end_ = s_.data() + s_.capacity();
}

}  // namespace sluice
