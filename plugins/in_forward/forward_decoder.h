// The Fluentd forward protocol (v1) decoder, written for untrusted input.
//
// Two parts:
//  - FrameScanner finds where one msgpack object ends in a TCP byte stream. It is resumable (each
//    byte is looked at once however the stream is split), iterative (an explicit stack, no
//    recursion), and bounded: a frame larger than the limit, nesting deeper than the limit, or a
//    declared string/array/map size that cannot fit in the limit is an error at once, before any
//    of its bytes arrive. It allocates nothing proportional to a declared length.
//  - FrameDecoder turns one complete frame (Message, Forward, PackedForward or
//    CompressedPackedForward mode, or a nil heartbeat) into a Batch. Record fields view the frame
//    bytes (or the decoder's inflated buffer); nested maps/arrays become Value::Json with the JSON
//    text in the batch arena and `packed` viewing the original msgpack bytes, so forwarding them
//    again copies bytes without conversion.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"

namespace sluice::forward {

struct Limits {
  // Largest frame (one msgpack object as received). Fluentd's chunk_size_limit has no default;
  // sluice always keeps a bound.
  uint64_t max_frame = 64ull << 20;
  // Largest inflated PackedForward payload (compressed: gzip/zstd).
  uint64_t max_inflated = 256ull << 20;
  // Deepest nesting of arrays/maps (the frame array itself is depth 1).
  uint32_t max_depth = 64;
};

class FrameScanner {
 public:
  enum class Status { NeedMore, Complete, Error };

  explicit FrameScanner(const Limits& limits) : limits_(limits) {}

  // `data` holds the frame's bytes received so far, from its first byte (the same prefix on every
  // call, growing). Complete: the frame is data[0, frame_len). Error: `error` says why; the stream
  // cannot be resynchronised.
  Status scan(std::string_view data, uint64_t& frame_len, std::string& error);
  // Forgets the frame (call after Complete, before scanning the next one).
  void reset() {
    pos_ = 0;
    stack_.clear();
  }
  uint64_t scanned() const { return pos_; }

 private:
  Limits limits_;
  uint64_t pos_ = 0;              // start of the next item to read
  std::vector<uint64_t> stack_;   // items still to read, per open container
};

// Counts of what a frame held.
struct FrameInfo {
  enum class Mode { None, Heartbeat, Message, Forward, PackedForward, CompressedPackedForward };
  Mode mode = Mode::None;
  std::string tag;         // as received (before add_tag_prefix)
  std::string chunk;       // option `chunk` (an ack is due when non-empty)
  uint64_t events = 0;     // records added to the batch
  uint64_t skipped = 0;    // invalid events left out
  std::string skip_reason; // why the first skipped event was left out
  std::string entries_error;  // PackedForward entries that could not be decoded (the rest kept)
};

class FrameDecoder {
 public:
  explicit FrameDecoder(const Limits& limits) : limits_(limits) {}

  // Decodes one complete frame (as delimited by FrameScanner) and appends its events to `batch`
  // (whose tag is left to the caller: info.tag). Returns false for a frame that is not a forward
  // request (protocol error: close the connection), with `error` set. The batch views `frame`
  // and this decoder's buffers until the next decode().
  bool decode(std::string_view frame, Batch& batch, FrameInfo& info, std::string& error);

  // The event time used for a nil/0 time (Fluentd: EventTime.now). Tests may pin it.
  EventTime (*now)() = nullptr;

 private:
  bool add_event(std::string_view time_bytes, std::string_view record_bytes, Batch& batch,
                 FrameInfo& info);
  bool decode_entries(std::string_view entries, Batch& batch, FrameInfo& info);
  bool inflate_gzip(std::string_view in, std::string& error);
  bool inflate_zstd(std::string_view in, std::string& error);

  Limits limits_;
  std::string inflated_;
  std::string scratch_;
};

}  // namespace sluice::forward
