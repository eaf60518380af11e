// A Ruby Regexp over Oniguruma (Ruby's own engine family, Ruby syntax): what record expressions'
// `=~`, `match`, `sub`, `gsub`, `scan` and `split` and record_modifier's `<replace>` run.
// Strings that are not valid UTF-8 are matched bytewise, as Ruby matches the binary strings
// Fluentd's in_tail reads.
#pragma once

#include <optional>
#include <string>
#include <string_view>

typedef struct re_pattern_buffer OnigRegexType;
typedef struct re_registers OnigRegion;

namespace sluice::ruby {

class Regexp {
 public:
  // `flags`: Ruby's literal options (i, m, x). Throws std::invalid_argument with Oniguruma's
  // message when `pattern` does not compile.
  explicit Regexp(std::string_view pattern, std::string_view flags = {});
  ~Regexp();
  Regexp(const Regexp&) = delete;
  Regexp& operator=(const Regexp&) = delete;

  const std::string& source() const { return source_; }
  const std::string& flags() const { return flags_; }

  // The first match in `s` at or after byte `from`: its groups are then readable until the next
  // search. Throws std::invalid_argument ("invalid byte sequence in UTF-8") when `s` is not
  // UTF-8 and the pattern cannot match bytes.
  bool search(std::string_view s, size_t from = 0);
  // The next match in the string of the last search, at or after byte `from` (its encoding
  // already checked): what loops over the matches of one string use.
  bool search_on(size_t from);
  // Group n of the last match (0: the whole match); nullopt when it did not take part.
  std::optional<std::string_view> group(int n) const;
  int groups() const;  // the number of groups, without group 0
  // The number of a named group, or -1.
  int group_number(std::string_view name) const;
  size_t match_begin() const;  // byte offsets of the last match
  size_t match_end() const;

  // Ruby's String#sub (all: #gsub) with a replacement string (\0 \& \1..\9 \k<name> \` \' \\):
  // false when nothing matched (out untouched), else the result in `out`.
  bool substitute(std::string_view s, std::string_view replacement, bool all, std::string& out);
  // Bytes of the character at byte `at` of the last searched string (1 when bytewise).
  size_t char_length(std::string_view s, size_t at) const;

 private:
  void append_replacement(std::string& out, std::string_view replacement) const;

  std::string source_, flags_;
  OnigRegexType* utf8_ = nullptr;
  OnigRegexType* bytes_ = nullptr;  // the same pattern over bytes, when it compiles so
  OnigRegexType* last_ = nullptr;   // the one the last search used
  OnigRegion* region_ = nullptr;
  std::string_view subject_;
  bool bytewise_ = false;
};

}  // namespace sluice::ruby
