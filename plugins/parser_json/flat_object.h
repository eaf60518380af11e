// The common JSON line without simdjson: one flat object whose values are all strings, such as
// docker json-file's {"log":"...","stream":"stdout","time":"..."}. simdjson indexes every byte of
// a line before it reads the first member (its stage 1 was a quarter of the docker pipeline's
// instructions); this reads such a line once, left to right.
//
// It accepts only what it can read exactly as simdjson would, and declines everything else (a
// number, a nested value, an escaped key, a surrogate escape, a control byte, invalid UTF-8, an
// empty object, anything malformed): the caller then parses the line with simdjson, which also
// words the error. tests/fuzz/fuzz_json_flat.cpp checks that whatever it accepts, simdjson reads
// as the same members.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "core/arena.h"

namespace sluice::parsers {

struct FlatMember {
  std::string_view key;    // a view into the line (keys with escapes are declined)
  std::string_view value;  // a view into the line, or into the arena when it had escapes
};

class FlatObjectReader {
 public:
  // Members beyond this many make the line simdjson's (bounds the member list).
  static constexpr size_t kMaxMembers = 64;

  // Reads `line` (without its newline); true with members() set when it is a flat object of
  // strings. Unescaped values are written to `arena` (also when the line is then declined).
  bool read(std::string_view line, Arena& arena);
  std::span<const FlatMember> members() const { return members_; }

 private:
  std::vector<FlatMember> members_;
};

}  // namespace sluice::parsers
