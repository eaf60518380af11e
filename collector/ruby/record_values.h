// Ruby values over sluice's records for record_expression.cpp: what `record["a"]`, `"x".upcase`,
// `time.iso8601` and the rest of the supported methods give, with Ruby's results and exception
// messages (Ruby 3.3's wording).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "ruby/record_expression.h"
#include "ruby/regexp.h"

namespace sluice::ruby {

struct RubyError {  // a StandardError: `rescue` catches it, else the record goes to @ERROR
  std::string msg;
};

// A value while evaluating: scalars, a string (a view: the record's, a literal's or the arena's),
// the record itself, a nested Hash or Array as its JSON text, the tag's lists, a Time, a Regexp
// (the expression's compiled literal) and a MatchData (its regexp and subject: groups are read
// by matching again).
struct R {
  enum Kind : uint8_t { Nil, False, True, Int, Float, Str, Time, Record, Json, List, Regex, Match };
  Kind k = Nil;
  bool utc = false;  // Time: Time#utc was called
  int64_t i = 0;
  double f = 0;
  std::string_view s;  // Str; Json text
  EventTime t{};
  const std::vector<std::string_view>* list = nullptr;
  Regexp* re = nullptr;  // Regex, Match (s: the subject)

  static R str(std::string_view v) {
    R r;
    r.k = Str;
    r.s = v;
    return r;
  }
  static R boolean(bool b) {
    R r;
    r.k = b ? True : False;
    return r;
  }
  static R integer(int64_t v) {
    R r;
    r.k = Int;
    r.i = v;
    return r;
  }
  static R real(double v) {
    R r;
    r.k = Float;
    r.f = v;
    return r;
  }
  bool truthy() const { return k != Nil && k != False; }
  bool is_hash() const { return k == Record || (k == Json && !s.empty() && s[0] == '{'); }
  bool is_array() const { return k == List || (k == Json && !s.empty() && s[0] == '['); }
};

class Values {
 public:
  explicit Values(const Scope& scope) : s_(scope) {}
  const Scope& scope() const { return s_; }

  std::string_view keep(std::string_view bytes) { return s_.arena->copy(bytes); }
  void append_to_s(std::string& out, const R& v);
  Value to_value(const R& v);

  R plus(const R& a, const R& b);
  bool equal(const R& a, const R& b);
  R index(const R& recv, const R& key);
  R call(const R& recv, const std::string& method, std::span<const R> args);
  // `a =~ b`: the character index of the first match, or nil.
  R match_operator(const R& a, const R& b);

 private:
  R from_value(const Value& v);
  R from_token(std::string_view token);
  R element(const R& array, int64_t at);
  R member(const R& hash, std::string_view key, bool& found);
  size_t count(const R& container);
  void append_json(std::string& out, const R& v);
  void append_time(std::string& out, const R& t, int fraction_digits, bool iso);
  R string_method(const R& recv, const std::string& m, std::span<const R> args);
  R time_method(const R& recv, const std::string& m, std::span<const R> args);
  R container_method(const R& recv, const std::string& m, std::span<const R> args);
  R split(std::string_view s, const R* sep, int64_t limit);
  R substitute(std::string_view s, const R& pattern, const R& replacement, bool all);
  R regexp_method(const R& recv, const std::string& m, std::span<const R> args);
  R string_regexp_method(const R& recv, const std::string& m, std::span<const R> args);
  R split_regexp(std::string_view s, Regexp& re, int64_t limit);
  R match_data(const R& re, std::string_view subject);  // nil when `re` does not match
  R group(const R& match, const R& key);                // MatchData#[]
  R json_strings(const std::vector<std::string_view>& parts);
  static Regexp& regexp_argument(const R& v);

  const Scope& s_;
  std::string scratch_;
};

std::string class_of(const R& v);   // "nil", "an instance of String", ...
std::string type_name(const R& v);  // "nil", "String", ... (for TypeError messages)
RubyError no_method(const std::string& method, const R& recv);  // Ruby's NoMethodError
bool is_ruby_space(char c);          // what String#strip and #split(" ") take for whitespace

}  // namespace sluice::ruby
