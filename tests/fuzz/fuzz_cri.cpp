// libFuzzer target: the `cri` parser (CRI log lines, P/F partial joining, time stamps, a nested
// <parse>), fed as in_tail feeds it (see fuzz_support.h), and the formatting of what it yields.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"

using sluice::fuzz::ParserStreamFuzzer;
using sluice::fuzz::subsection;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Defaults (RFC 3339 fast path, partial joining); the image's literal-Z format without joining
  // and with a tiny partial bound; a nested JSON <parse> of the message with conversions.
  static ParserStreamFuzzer plain("cri", {});
  static ParserStreamFuzzer image("cri", {{"time_format", "%Y-%m-%dT%H:%M:%S.%NZ"},
                                          {"merge_cri_partial", "false"},
                                          {"keep_time_key", "false"}});
  static ParserStreamFuzzer bounded("cri", {{"max_partial_size", "24"}, {"utc", "true"}});
  static ParserStreamFuzzer nested(
      "cri", {{"merge_cri_fields", "true"}},
      {subsection("parse", {{"@type", "json"}, {"types", "n:integer,f:float,b:bool,a:array"}})});
  plain.run(data, size);
  image.run(data, size);
  bounded.run(data, size);
  nested.run(data, size);
  return 0;
}
