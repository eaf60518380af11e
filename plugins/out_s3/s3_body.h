// An object's body made from a chunk: compressed as store_as says (gzip as Ruby's
// Zlib::GzipWriter at its default level, zstd as zstd-ruby's Zstd.compress), with the SHA-256
// that X-Amz-Content-Sha256 carries. Chunks up to kOnLoopBytes are done on the loop thread (a
// thread hop costs more than they do); larger ones on libuv's thread pool, as the file buffer
// writes its chunks, so a flush of 8 MiB never stalls the loop.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "s3_config.h"

namespace sluice::s3 {

struct Body {
  std::string compressed;  // empty for json/text: the chunk's payload is sent as it is
  std::string sha256;      // hex, of the bytes sent
  std::string error;       // compression failed
};

constexpr size_t kOnLoopBytes = 256u << 10;

// Builds the body of `payload` (which stays alive and unchanged until `done` has run) and calls
// `done` on the loop thread, never from inside this call. `alive` going false drops the result.
void make_body(uv_loop_t* loop, Store store, int zstd_level, std::string_view payload,
               std::weak_ptr<bool> alive, std::function<void(Body)> done);

// The compression alone (tests).
bool compress(Store store, int zstd_level, std::string_view payload, std::string& out);

}  // namespace sluice::s3
