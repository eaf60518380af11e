// record_modifier's `<replace>`: `value.gsub(regexp, replace)` with Ruby's regexp syntax
// (Oniguruma) and Ruby's replacement escapes (\0 \& \1..\9 \k<name> \` \' \\).
#pragma once

#include <string>
#include <string_view>

typedef struct re_pattern_buffer OnigRegexType;
typedef struct re_registers OnigRegion;

namespace sluice::record_modifier {

class Substitution {
 public:
  // Throws std::invalid_argument with Oniguruma's message when `pattern` does not compile.
  Substitution(std::string_view pattern, std::string replacement);
  ~Substitution();
  Substitution(const Substitution&) = delete;
  Substitution& operator=(const Substitution&) = delete;

  // Ruby's `re.match(s) && s.gsub(re, replacement)`: false when the regexp does not match `s`
  // (nothing to do), else the result in `out`. Strings that are not valid UTF-8 are matched
  // bytewise, as Ruby matches the binary strings Fluentd's in_tail reads.
  bool gsub(std::string_view s, std::string& out);

 private:
  void append_replacement(std::string& out, std::string_view s, OnigRegexType* re) const;
  OnigRegexType* utf8_ = nullptr;
  OnigRegexType* bytes_ = nullptr;  // the same pattern over bytes, when it compiles so
  OnigRegion* region_ = nullptr;
  std::string replacement_;
};

}  // namespace sluice::record_modifier
