// libFuzzer target: the Fluentd config parser (with embedded Ruby) on arbitrary bytes.
// `include` is defused so that the fuzzer cannot glob the real filesystem (`@include /*/*`);
// include handling is covered by the unit tests.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  for (size_t at = text.find("include"); at != std::string::npos; at = text.find("include", at))
    text[at + 4] = 'X';
  auto result = sluice::parse_config_text(text, "fuzz.conf", "/nonexistent-sluice-fuzz");
  for (auto& e : result.errors) (void)e.to_string();
  return 0;
}
