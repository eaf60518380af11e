// libFuzzer target: the `container` parser (per-line docker json-file vs CRI detection, partial
// lines of both joined), fed as in_tail feeds it (see fuzz_support.h), and the formatting of
// what it yields.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"

using sluice::fuzz::ParserStreamFuzzer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ParserStreamFuzzer plain("container", {});
  static ParserStreamFuzzer bounded("auto", {{"max_partial_size", "32"},
                                             {"keep_time_key", "true"},
                                             {"time_format", "%Y-%m-%dT%H:%M:%S.%NZ"}});
  static ParserStreamFuzzer unmerged("container", {{"merge_partial", "false"}, {"timezone", "-05:30"}});
  plain.run(data, size);
  bounded.run(data, size);
  unmerged.run(data, size);
  return 0;
}
