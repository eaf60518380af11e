// libFuzzer target: the `regexp` parser (Oniguruma, Ruby syntax, named groups, bytewise on
// invalid UTF-8) with fixed Fluentd-style expressions (the daemonset's CRI expression and an
// apache-like one with types and a time format), fed as in_tail feeds it (see fuzz_support.h).
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"

using sluice::fuzz::ParserStreamFuzzer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ParserStreamFuzzer cri(
      "regexp", {{"expression", "/^(?<time>.+) (?<stream>stdout|stderr)( (?<logtag>.))? (?<log>.*)$/"},
                 {"time_format", "%Y-%m-%dT%H:%M:%S.%N%:z"}});
  static ParserStreamFuzzer apache(
      "regexp",
      {{"expression",
        R"RE(/^(?<host>[^ ]*) [^ ]* (?<user>[^ ]*) \[(?<time>[^\]]*)\] "(?<method>\S+)(?: +(?<path>[^ ]*) +\S*)?" )RE"
        R"RE((?<code>[^ ]*) (?<size>[^ ]*)(?: "(?<referer>[^\"]*)" "(?<agent>[^\"]*)")?$/i)RE"},
       {"time_format", "%d/%b/%Y:%H:%M:%S %z"},
       {"types", "code:integer,size:integer,agent:array: "},
       {"null_value_pattern", "/^-$/"}});
  static ParserStreamFuzzer multi("regexp", {{"expression", "/(?<first>\\w+)\\s*(?<rest>.*)/m"},
                                             {"time_key", "first"},
                                             {"time_type", "float"}});
  cri.run(data, size);
  apache.run(data, size);
  multi.run(data, size);
  return 0;
}
