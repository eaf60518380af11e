// A byte-at-a-time JSON string escaper, the reference the SIMD escapers are compared with (unit
// tests and the fuzz target): `"`, `\` and C0 controls escaped, everything else raw.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace sluice::testing {

inline std::string reference_json_escape(std::string_view s, bool upper_hex = false) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, upper_hex ? "\\u%04X" : "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

}  // namespace sluice::testing
