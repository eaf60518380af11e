// Regexps in record expressions: `=~`, `!~`, Regexp#match/match?, String#match/match?/scan and
// sub/gsub/split with a Regexp, MatchData#[] (record_values.h).
#include <stdexcept>

#include "format/json.h"
#include "ruby/record_values.h"

namespace sluice::ruby {
namespace {

size_t char_index(std::string_view s, size_t byte) {
  size_t n = 0;
  for (size_t i = 0; i < byte && i < s.size(); ++i) n += (static_cast<unsigned char>(s[i]) & 0xc0) != 0x80;
  return n;
}

// What Ruby raises for a string it cannot match (ArgumentError: invalid byte sequence).
bool search(Regexp& re, std::string_view s, size_t from = 0) {
  try {
    return re.search(s, from);
  } catch (const std::invalid_argument& e) {
    throw RubyError{e.what()};
  }
}

std::string_view subject(const R& v, const char* what) {
  if (v.k != R::Str) throw RubyError{"no implicit conversion of " + type_name(v) + " into String" + what};
  return v.s;
}

}  // namespace

Regexp& Values::regexp_argument(const R& v) {
  if (v.k != R::Regex) throw RubyError{"wrong argument type " + type_name(v) + " (expected Regexp)"};
  return *v.re;
}

R Values::match_operator(const R& a, const R& b) {
  if (a.k == R::Nil) return R{};  // NilClass#=~
  if (a.k != R::Regex && b.k != R::Regex) {
    if (a.k == R::Str) throw RubyError{"type mismatch: " + type_name(b) + " given"};
    throw no_method("=~", a);
  }
  if (a.k != R::Regex && a.k != R::Str) throw no_method("=~", a);
  const R& re = a.k == R::Regex ? a : b;
  const R& str = a.k == R::Regex ? b : a;
  if (str.k == R::Nil) return R{};
  std::string_view s = subject(str, "");
  if (!search(*re.re, s)) return R{};
  return R::integer(int64_t(char_index(s, re.re->match_begin())));
}

R Values::match_data(const R& re, std::string_view s) {
  if (!search(*re.re, s)) return R{};
  R m;
  m.k = R::Match;
  m.re = re.re;
  m.s = s;
  return m;
}

R Values::group(const R& match, const R& key) {
  Regexp& re = *match.re;
  search(re, match.s);  // the regexp may have matched something else since
  int n;
  if (key.k == R::Int) {
    n = int(key.i < 0 ? key.i + re.groups() + 1 : key.i);
  } else if (key.k == R::Str) {
    n = re.group_number(key.s);
    if (n < 0) throw RubyError{"undefined group name reference: " + std::string(key.s)};
  } else {
    throw RubyError{"no implicit conversion of " + type_name(key) + " into Integer"};
  }
  auto g = re.group(n);
  return g ? R::str(*g) : R{};
}

R Values::json_strings(const std::vector<std::string_view>& parts) {
  std::string json = "[";
  for (size_t p = 0; p < parts.size(); ++p) {
    if (p) json.push_back(',');
    json::append_string(json, parts[p]);
  }
  json.push_back(']');
  R r;
  r.k = R::Json;
  r.s = keep(json);
  return r;
}

R Values::regexp_method(const R& recv, const std::string& m, std::span<const R> args) {
  auto one_argument = [&] {
    if (args.size() != 1)
      throw RubyError{"wrong number of arguments (given " + std::to_string(args.size()) + ", expected 1) for " + m};
  };
  if (recv.k == R::Match) {
    if (m == "captures") {
      std::string json = "[";
      Regexp& re = *recv.re;
      search(re, recv.s);
      for (int g = 1; g <= re.groups(); ++g) {
        if (g > 1) json.push_back(',');
        if (auto v = re.group(g)) json::append_string(json, *v);
        else json.append("null");
      }
      json.push_back(']');
      R r;
      r.k = R::Json;
      r.s = keep(json);
      return r;
    }
    throw no_method(m, recv);
  }
  if (m == "source") return R::str(recv.re->source());
  if (m == "match" || m == "match?") {
    one_argument();
    if (args[0].k == R::Nil) return m == "match" ? R{} : R::boolean(false);
    const R found = match_data(recv, subject(args[0], ""));
    return m == "match" ? found : R::boolean(found.k != R::Nil);
  }
  throw no_method(m, recv);
}

// String#match, match?, scan with a Regexp; sub, gsub and split come here when theirs is one.
R Values::string_regexp_method(const R& recv, const std::string& m, std::span<const R> args) {
  std::string_view s = recv.s;
  Regexp& re = regexp_argument(args[0]);
  if (m == "match") return match_data(args[0], s);
  if (m == "match?") return R::boolean(search(re, s));
  if (m == "sub" || m == "gsub") {
    std::string out;
    if (args.size() != 2 || args[1].k != R::Str)
      throw RubyError{args.size() != 2 ? "wrong number of arguments (given " + std::to_string(args.size()) +
                                             ", expected 2) for " + m
                                       : "no implicit conversion of " + type_name(args[1]) + " into String"};
    try {
      if (!re.substitute(s, args[1].s, m == "gsub", out)) return recv;
    } catch (const std::invalid_argument& e) {
      throw RubyError{e.what()};
    }
    return R::str(keep(out));
  }
  // scan: the matches, or with groups an Array of each match's groups.
  std::string json = "[";
  size_t at = 0;
  bool first = true;
  for (bool found = search(re, s); found; found = re.search_on(at)) {
    if (!first) json.push_back(',');
    first = false;
    if (re.groups() == 0) {
      json::append_string(json, *re.group(0));
    } else {
      json.push_back('[');
      for (int g = 1; g <= re.groups(); ++g) {
        if (g > 1) json.push_back(',');
        if (auto v = re.group(g)) json::append_string(json, *v);
        else json.append("null");
      }
      json.push_back(']');
    }
    const size_t b = re.match_begin(), e = re.match_end();
    at = e > b ? e : b + re.char_length(s, b);
  }
  json.push_back(']');
  R r;
  r.k = R::Json;
  r.s = keep(json);
  return r;
}

// String#split with a Regexp: the groups of each separator are fields too; an empty match
// splits before the character it stands at (never at a field's start); `limit` as with a String
// separator.
R Values::split_regexp(std::string_view s, Regexp& re, int64_t limit) {
  std::vector<std::string_view> parts;
  size_t field = 0, at = 0;
  int64_t fields = 1;
  auto room = [&] { return !(limit > 0 && fields >= limit); };
  for (bool found = room() && search(re, s); found; found = room() && re.search_on(at)) {
    const size_t b = re.match_begin(), e = re.match_end();
    if (e == b) {
      if (b >= s.size()) break;
      if (b == field) {
        at = b + re.char_length(s, b);
        continue;
      }
    }
    parts.push_back(s.substr(field, b - field));
    for (int g = 1; g <= re.groups(); ++g)
      if (auto v = re.group(g)) parts.push_back(*v);
    field = at = e;
    ++fields;
  }
  if (!s.empty()) parts.push_back(s.substr(field));
  if (limit == 0)
    while (!parts.empty() && parts.back().empty()) parts.pop_back();
  return json_strings(parts);
}

}  // namespace sluice::ruby
