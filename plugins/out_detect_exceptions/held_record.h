// The first record of a trace, kept beyond the batch it came in: its fields (own and common) and
// their bytes in one buffer, so that a stream keeps one allocation, reused from trace to trace.
#pragma once

#include <string>
#include <vector>

#include "core/event.h"

namespace sluice::detect_exceptions {

class HeldRecord {
 public:
  void keep(const Batch& batch, const Record& record);
  // Appends the record to `out` (a cleared batch), with `message` as the value of the field
  // `message_key` when it is set.
  void append_to(Batch& out, std::string_view message_key, const Value* message) const;
  const std::string& stream_id() const { return stream_id_; }
  const std::string& source_path() const { return source_path_; }
  // Gives back memory that a very large record left behind.
  void trim();

 private:
  std::string bytes_;
  std::vector<Field> own_, common_;
  Record record_;
  std::string stream_id_, source_path_;
};

}  // namespace sluice::detect_exceptions
