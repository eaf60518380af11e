// record_modifier's `char_encoding from:to`: Ruby's String#encode!(to, from, invalid: :replace,
// undef: :replace) for the encodings sluice converts, and `char_encoding from` (force_encoding,
// which changes no byte).
#pragma once

#include <string>
#include <string_view>

namespace sluice::record_modifier {

class CharEncoding {
 public:
  // Parses the parameter's value. Throws std::invalid_argument with a message for an encoding
  // sluice does not convert.
  explicit CharEncoding(std::string_view spec);

  // True when converting changes bytes (a `from:to` pair).
  bool converts() const { return converts_; }

  // `s` converted: `s` itself when no byte changes, else its conversion in `tmp`.
  std::string_view convert(std::string_view s, std::string& tmp) const;

 private:
  enum class Enc { Utf8, Binary, Ascii, Latin1 };
  static bool find(std::string_view name, Enc& out);
  Enc from_ = Enc::Utf8;
  bool converts_ = false;
};

// Length of the maximal prefix at p of a well-formed UTF-8 sequence (Unicode's "maximal subpart":
// what Ruby replaces with one replacement character), at least 1; `complete` tells whether it is
// a whole character.
size_t utf8_unit(const unsigned char* p, const unsigned char* end, bool& complete);

}  // namespace sluice::record_modifier
