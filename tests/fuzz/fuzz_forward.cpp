// libFuzzer target: in_forward's frame scanner and decoder (plugins/in_forward/forward_decoder.h)
// on a byte stream as a TCP peer would send it. The input is cut into reads (the first byte of
// the input chooses the read size), frames are delimited by the resumable scanner as bytes
// arrive and decoded into batches, which are formatted as the outputs do (JSON and msgpack,
// checked well formed by fuzz_support.h). Small limits make the bounds reachable.
#include <cstddef>
#include <cstdint>
#include <string>

#include "../../plugins/in_forward/forward_decoder.h"
#include "fuzz_support.h"

using namespace sluice;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  forward::Limits limits;
  limits.max_frame = 1 << 16;
  limits.max_inflated = 1 << 18;
  limits.max_depth = 32;
  if (size == 0) return 0;
  const size_t step = 1 + data[0] % 64;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);

  forward::FrameScanner scanner(limits);
  forward::FrameDecoder decoder(limits);
  decoder.now = [] { return EventTime{1700000000, 0, false}; };
  std::string stream;  // what has arrived and is not yet consumed
  for (size_t at = 0; at < in.size(); at += step) {
    stream.append(in.substr(at, step));
    while (!stream.empty()) {
      uint64_t len = 0;
      std::string error;
      auto st = scanner.scan(stream, len, error);
      if (st == forward::FrameScanner::Status::NeedMore) {
        SLUICE_FUZZ_CHECK(scanner.scanned() <= stream.size());
        SLUICE_FUZZ_CHECK(stream.size() <= limits.max_frame + step);
        break;
      }
      if (st == forward::FrameScanner::Status::Error) {
        SLUICE_FUZZ_CHECK(!error.empty());
        return 0;  // the server closes the connection
      }
      SLUICE_FUZZ_CHECK(len > 0 && len <= stream.size() && len <= limits.max_frame);
      std::string frame = stream.substr(0, size_t(len));  // exact size: ASan sees overreads
      SLUICE_FUZZ_CHECK(fuzz::valid_msgpack(frame));
      Batch batch;
      forward::FrameInfo info;
      if (!decoder.decode(frame, batch, info, error)) {
        SLUICE_FUZZ_CHECK(!error.empty());
        return 0;
      }
      SLUICE_FUZZ_CHECK(info.events == batch.records.size());
      fuzz::format_batch(batch);
      stream.erase(0, size_t(len));
      scanner.reset();
    }
  }
  return 0;
}
