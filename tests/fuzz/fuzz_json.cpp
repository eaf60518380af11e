// libFuzzer target: the `json` and `docker` parsers (simdjson On Demand, nested values kept as
// JSON text, docker's 16 KiB split lines joined per stream), fed as in_tail feeds them (see
// fuzz_support.h), and the formatting of what they yield (JSON and msgpack).
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"

using sluice::fuzz::ParserStreamFuzzer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ParserStreamFuzzer json("json", {});
  // A string time with a format, value conversions (incl. a time and an array), null patterns.
  static ParserStreamFuzzer typed("json", {{"time_key", "ts"},
                                           {"time_type", "string"},
                                           {"time_format", "%d/%b/%Y:%H:%M:%S %z"},
                                           {"keep_time_key", "true"},
                                           {"types", "n:integer,f:float,b:bool,a:array:|,t:time:+09:00:%s"},
                                           {"null_value_pattern", "/^(-|null)$/"},
                                           {"null_empty_string", "true"}});
  static ParserStreamFuzzer unixtime("json", {{"time_type", "unixtime"}});
  static ParserStreamFuzzer docker("docker", {});
  static ParserStreamFuzzer docker_bounded("docker", {{"max_partial_size", "40"}});
  json.run(data, size);
  typed.run(data, size);
  unixtime.run(data, size);
  docker.run(data, size);
  docker_bounded.run(data, size);
  return 0;
}
