// libFuzzer target: collector/format/time.h — parse_rfc3339 (the CRI/docker fast path), and
// TimeParser with the formats Fluentd configs use, float/unixtime times, and a format taken
// from the input (the bytes before a NUL, when there is one). What parses is formatted back
// with append_time; an RFC 3339 stamp must read back as the same time.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "format/time.h"
#include "fuzz_support.h"

using sluice::EventTime;
using sluice::TimeParser;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const TimeParser parsers[] = {
      TimeParser("%Y-%m-%dT%H:%M:%S.%NZ", TimeParser::Type::String, true),
      TimeParser("%Y-%m-%dT%H:%M:%S.%N%:z"),
      TimeParser("%Y-%m-%dT%H:%M:%S.%L%z", TimeParser::Type::String, false, "+09:00"),
      TimeParser("%d/%b/%Y:%H:%M:%S %z"),
      TimeParser("%b %e %H:%M:%S", TimeParser::Type::String, false, "-05:30"),
      TimeParser("%a %B %d %y %I:%M:%S %p %Z %j %%", TimeParser::Type::String, true),
      TimeParser("%F %T.%3N", TimeParser::Type::String, true),
      TimeParser("%s.%6N"),
      TimeParser("", TimeParser::Type::Float),
      TimeParser("", TimeParser::Type::Unixtime),
      TimeParser(),  // no format: ISO 8601 as Ruby's Time.parse
  };
  std::string out;
  EventTime t;
  if (sluice::parse_rfc3339(text, t)) {
    SLUICE_FUZZ_CHECK(t.nsec < 1000000000u);
    out.clear();
    sluice::append_time(out, t, "%Y-%m-%dT%H:%M:%S.%N%:z", true);
    EventTime back;
    // Years beyond 4 digits do not read back (the stamp grammar has 4).
    if (t.sec >= -62135596800 && t.sec < 253402300800) {
      SLUICE_FUZZ_CHECK(sluice::parse_rfc3339(out, back));
      SLUICE_FUZZ_CHECK(back.sec == t.sec && back.nsec == t.nsec);
    }
  }
  for (const TimeParser& p : parsers) {
    if (!p.parse(text, t)) continue;
    out.clear();
    sluice::append_time(out, t, "%Y-%m-%dT%H:%M:%S.%N%:z %a %b %j %L %6N", true);
    sluice::append_time(out, t, "%c %z %Z", false);
  }
  // A format from the input (as a config could hold one): must be rejected or work.
  if (size_t nul = text.find('\0'); nul != std::string_view::npos && nul <= 64) {
    try {
      TimeParser p{std::string(text.substr(0, nul)), TimeParser::Type::String, true};
      std::string_view rest = text.substr(nul + 1);
      if (p.parse(rest, t)) {
        out.clear();
        sluice::append_time(out, t, text.substr(0, nul), true);
      }
    } catch (const std::invalid_argument&) {
    }
  }
  return 0;
}
