// <secondary>: where a buffered output's chunks go when it stops retrying them (the retry limit,
// or retry_secondary_threshold of retry_timeout), instead of being dropped. The chunk is given as
// the output formatted it (Elasticsearch bulk lines, forward msgpack entries, ...).
#pragma once

#include <string>

namespace sluice::buffer {

struct Chunk;

class Secondary {
 public:
  virtual ~Secondary() = default;
  // Writes the chunk durably. True with `where` saying where it went; false with `where` saying
  // why it could not (then the chunk is given up as without a secondary).
  virtual bool write(const Chunk& chunk, std::string& where) = 0;
};

}  // namespace sluice::buffer
