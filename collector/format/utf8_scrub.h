// Ruby's String#scrub('?') for bytes that must be valid UTF-8 before a regexp or a parser sees
// them. Fluentd scrubs in filter_grep's matching and filter_parser's replace_invalid_sequence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice {

// Appends code point `cp` (at most 0x10FFFF) encoded as UTF-8.
inline void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Length of the valid UTF-8 sequence at p (p < end), or 0.
size_t utf8_sequence_length(const unsigned char* p, const unsigned char* end);

// Returns `s` when it is valid UTF-8, else its copy in `tmp` with each invalid byte replaced by
// `replacement` (Ruby replaces each maximal invalid subsequence with one). String#scrub('?') is
// the default; String#scrub without an argument replaces with U+FFFD ("\xEF\xBF\xBD").
std::string_view scrub_utf8(std::string_view s, std::string& tmp, std::string_view replacement = "?");

}  // namespace sluice
