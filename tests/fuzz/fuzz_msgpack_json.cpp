// libFuzzer target: the JSON → msgpack converter of collector/format/msgpack.h (append_json,
// and append_value on a Json value without `packed`, which falls back to a string). Checks: the
// output is one well-formed msgpack object; on failure `out` is left as it was; every text that
// simdjson accepts converts (the converter is the more lenient of the two).
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string prefix = "\x93\x01\x02";  // bytes already in the buffer must stay
  std::string out = prefix;
  bool ok = msgpack::append_json(out, text);
  SLUICE_FUZZ_CHECK(out.compare(0, prefix.size(), prefix) == 0);
  if (ok)
    SLUICE_FUZZ_CHECK(fuzz::valid_msgpack(std::string_view(out).substr(prefix.size())));
  else
    SLUICE_FUZZ_CHECK(out == prefix);

  // A shallow bound fails cleanly; a deep one is bounded by the input's own nesting.
  out.clear();
  if (msgpack::append_json(out, text, 2)) SLUICE_FUZZ_CHECK(fuzz::valid_msgpack(out));

  out.clear();
  msgpack::append_value(out, Value::of_json(text));
  SLUICE_FUZZ_CHECK(fuzz::valid_msgpack(out));

  // Differential: simdjson's DOM parser (strict RFC 8259, depth <= 1024) vs the converter.
  static simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element doc;
  if (!parser.parse(padded).get(doc)) {
    out.clear();
    SLUICE_FUZZ_CHECK(msgpack::append_json(out, text, 1 << 20));
    SLUICE_FUZZ_CHECK(fuzz::valid_msgpack(out));
  }
  return 0;
}
