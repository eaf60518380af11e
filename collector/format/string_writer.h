// Writing into a std::string with raw stores: ask for room for the most a piece can take, write,
// move on; the string's size is set once at the end. No zero-fill of the room (what resize
// would do) and no staging copy: formatted bytes land in the output buffer in one copy.
//
//   StringWriter out(chunk);
//   char* w = out.room(json::max_escaped_size(s.size()));
//   out.advance(json::write_escaped_body(w, s));
//   out.finish();  // chunk.size() now covers what was written
#pragma once

#include <cstring>
#include <string>
#include <string_view>

namespace sluice {

// Sets s.size() to n (n <= s.capacity()) keeping the bytes already stored in [size, n).
void set_size_in_capacity(std::string& s, size_t n);

class StringWriter {
 public:
  explicit StringWriter(std::string& s)
      : s_(s), w_(s.data() + s.size()), end_(s.data() + s.capacity()) {}
  StringWriter(const StringWriter&) = delete;
  StringWriter& operator=(const StringWriter&) = delete;
  ~StringWriter() { finish(); }

  // At least n writable bytes at the returned pointer.
  char* room(size_t n) {
    if (static_cast<size_t>(end_ - w_) < n) grow(n);
    return w_;
  }
  void advance(char* to) { w_ = to; }

  void put(std::string_view bytes) {
    char* w = room(bytes.size());
    if (!bytes.empty()) std::memcpy(w, bytes.data(), bytes.size());
    w_ = w + bytes.size();
  }
  void put(char c) { *room(1) = c, ++w_; }

  // Where the next byte goes and where the room ends, for a loop that keeps both in locals
  // between rooms (the members are reloaded after every byte store, which could alias them).
  char* position() const { return w_; }
  char* limit() const { return end_; }

  size_t size() const { return static_cast<size_t>(w_ - s_.data()); }
  // Drops what was written past `size` (a record that turned out unsendable).
  void truncate(size_t size) { w_ = s_.data() + size; }
  // Makes the string's size cover what was written; the writer stays usable.
  void finish() { set_size_in_capacity(s_, size()); }

 private:
  void grow(size_t n);

  std::string& s_;
  char* w_;
  char* end_;
};

}  // namespace sluice
