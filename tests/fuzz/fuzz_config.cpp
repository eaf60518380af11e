// libFuzzer target: the Fluentd config parser (with embedded Ruby) on arbitrary bytes.
// Includes resolve against a directory that does not exist, so only the input itself is read.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto result = sluice::parse_config_text(text, "fuzz.conf", "/nonexistent-sluice-fuzz");
  for (auto& e : result.errors) (void)e.to_string();
  return 0;
}
