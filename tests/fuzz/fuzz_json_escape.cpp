// libFuzzer target: the JSON string escaper (json::write_escaped_body) in every implementation the
// CPU has (SSE2, AVX2, AVX-512), differential against a byte-at-a-time escaper. The string is
// copied to the end of a buffer of its exact size, so that a read past its end is one past a heap
// block (the address sanitizer reports it; the SIMD loads that may do so are confined to the
// string's page and marked), at an offset the input picks; both hex cases; through
// append_string too, which escapes long strings in steps.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "format/json.h"
#include "fuzz_support.h"
#include "../support/json_reference.h"

namespace json = sluice::json;


extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool upper = data[0] & 1;
  const size_t skip = (data[0] >> 1) % 8;  // the string starts this far into the input's copy
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (skip > in.size()) return 0;
  in.remove_prefix(skip);
  std::unique_ptr<char[]> exact(new char[in.size() + 1]);  // +1: new char[0] is still a block
  std::memcpy(exact.get(), in.data(), in.size());
  const std::string_view s(exact.get(), in.size());
  const std::string expected = sluice::testing::reference_json_escape(s, upper);
  const json::HexCase hex = upper ? json::HexCase::Upper : json::HexCase::Lower;
  const json::Escaper best = json::escaper();
  for (json::Escaper e : {json::Escaper::Sse2, json::Escaper::Avx2, json::Escaper::Avx512}) {
    if (!json::use_escaper(e)) continue;
    if (s.size() <= json::kEscapeStep) {
      std::string room(json::max_escaped_size(s.size()), '\0');
      char* end = json::write_escaped_body(room.data(), s, hex);
      SLUICE_FUZZ_CHECK(std::string_view(room.data(), static_cast<size_t>(end - room.data())) == expected);
    }
    std::string out = "x";
    json::append_string(out, s, hex);
    SLUICE_FUZZ_CHECK(out == "x\"" + expected + "\"");
  }
  json::use_escaper(best);
  return 0;
}
