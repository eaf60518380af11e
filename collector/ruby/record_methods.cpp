// The String, Time, Hash and Array methods of the record expression subset (record_values.h).
// Case changes are ASCII-only (Ruby's are Unicode); README.md says so.
#include <cctype>

#include "format/json.h"
#include "format/time.h"
#include "ruby/record_values.h"

namespace sluice::ruby {
namespace {

std::string_view text(std::span<const R> args, size_t i) {
  if (args[i].k != R::Str)
    throw RubyError{"no implicit conversion of " + type_name(args[i]) + " into String"};
  return args[i].s;
}

void arity(const std::string& m, std::span<const R> args, size_t lo, size_t hi) {
  if (args.size() < lo || args.size() > hi)
    throw RubyError{"wrong number of arguments (given " + std::to_string(args.size()) +
                    ", expected " + std::to_string(lo) +
                    (hi > lo ? ".." + std::to_string(hi) : "") + ") for " + m};
}

}  // namespace

R Values::string_method(const R& recv, const std::string& m, std::span<const R> args) {
  std::string_view s = recv.s;
  if (m == "match" || m == "match?" || m == "scan") {
    arity(m, args, 1, 1);
    if (args[0].k == R::Str)  // Ruby makes a Regexp of it each call
      throw RubyError{"sluice: " + m + " takes a /regexp/ literal here, not a String"};
    return string_regexp_method(recv, m, args);
  }
  if ((m == "sub" || m == "gsub") && !args.empty() && args[0].k == R::Regex)
    return string_regexp_method(recv, m, args);
  if (m == "length" || m == "size") {
    arity(m, args, 0, 0);
    int64_t n = 0;
    for (unsigned char c : s) n += (c & 0xc0) != 0x80;
    return R::integer(n);
  }
  if (m == "empty?") return arity(m, args, 0, 0), R::boolean(s.empty());
  if (m == "downcase" || m == "upcase" || m == "capitalize") {
    arity(m, args, 0, 0);
    std::string out(s);
    for (size_t i = 0; i < out.size(); ++i) {
      bool up = m == "upcase" || (m == "capitalize" && i == 0);
      out[i] = static_cast<char>(up ? std::toupper(static_cast<unsigned char>(out[i]))
                                    : std::tolower(static_cast<unsigned char>(out[i])));
    }
    return R::str(keep(out));
  }
  if (m == "strip" || m == "lstrip" || m == "rstrip") {
    arity(m, args, 0, 0);
    size_t b = 0, e = s.size();
    if (m != "rstrip")
      while (b < e && (is_ruby_space(s[b]) || s[b] == '\0')) ++b;
    if (m != "lstrip")
      while (e > b && (is_ruby_space(s[e - 1]) || s[e - 1] == '\0')) --e;
    return R::str(s.substr(b, e - b));
  }
  if (m == "chomp") {
    arity(m, args, 0, 0);
    if (s.size() >= 2 && s.substr(s.size() - 2) == "\r\n") return R::str(s.substr(0, s.size() - 2));
    if (!s.empty() && (s.back() == '\n' || s.back() == '\r')) return R::str(s.substr(0, s.size() - 1));
    return recv;
  }
  if (m == "include?") return arity(m, args, 1, 1), R::boolean(s.find(text(args, 0)) != std::string_view::npos);
  if (m == "start_with?" || m == "end_with?") {
    for (size_t i = 0; i < args.size(); ++i) {
      std::string_view p = text(args, i);
      bool hit = p.size() <= s.size() &&
                 (m == "start_with?" ? s.substr(0, p.size()) : s.substr(s.size() - p.size())) == p;
      if (hit) return R::boolean(true);
    }
    return R::boolean(false);
  }
  if (m == "split") {
    arity(m, args, 0, 2);
    int64_t limit = 0;
    if (args.size() == 2) {
      if (args[1].k != R::Int)
        throw RubyError{"no implicit conversion of " + type_name(args[1]) + " into Integer"};
      limit = args[1].i;
    }
    if (!args.empty() && args[0].k == R::Regex) return split_regexp(s, *args[0].re, limit);
    return split(s, args.empty() ? nullptr : &args[0], limit);
  }
  if (m == "sub" || m == "gsub") {
    arity(m, args, 2, 2);
    return substitute(s, args[0], args[1], m == "gsub");
  }
  throw no_method(m, recv);
}

// Ruby's String#split with a String separator (" " or none: runs of whitespace, leading ones
// ignored); trailing empty strings are dropped unless `limit` is negative; a positive `limit`
// makes at most that many fields, the last holding the rest. The result is an Array as JSON text.
R Values::split(std::string_view s, const R* sep, int64_t limit) {
  if (sep && sep->k != R::Str && sep->k != R::Nil)
    throw RubyError{"wrong argument type " + type_name(*sep) + " (expected Regexp)"};
  const bool awk = !sep || sep->k == R::Nil || sep->s == " ";
  std::vector<std::string_view> parts;
  auto last_field = [&] { return limit > 0 && int64_t(parts.size()) == limit - 1; };
  size_t i = 0;
  if (awk) {
    while (i < s.size() && is_ruby_space(s[i])) ++i;
    while (i < s.size()) {
      if (last_field()) {
        parts.push_back(s.substr(i));
        break;
      }
      size_t b = i;
      while (i < s.size() && !is_ruby_space(s[i])) ++i;
      parts.push_back(s.substr(b, i - b));
      while (i < s.size() && is_ruby_space(s[i])) ++i;
    }
  } else if (sep->s.empty()) {
    while (i < s.size()) {
      if (last_field()) {
        parts.push_back(s.substr(i));
        break;
      }
      size_t b = i++;
      while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xc0) == 0x80) ++i;
      parts.push_back(s.substr(b, i - b));
    }
  } else if (!s.empty()) {
    for (;;) {
      size_t at = last_field() ? std::string_view::npos : s.find(sep->s, i);
      parts.push_back(s.substr(i, at == std::string_view::npos ? std::string_view::npos : at - i));
      if (at == std::string_view::npos) break;
      i = at + sep->s.size();
    }
  }
  if (limit == 0)
    while (!parts.empty() && parts.back().empty()) parts.pop_back();
  return json_strings(parts);
}

// sub/gsub with a String pattern (matched literally); in the replacement `\0` and `\&` are the
// match and `\\` a backslash, as Ruby reads them.
R Values::substitute(std::string_view s, const R& pattern, const R& replacement, bool all) {
  if (pattern.k != R::Str)
    throw RubyError{"wrong argument type " + type_name(pattern) + " (expected Regexp)"};
  std::string_view rep = text(std::span<const R>(&replacement, 1), 0);
  std::string_view pat = pattern.s;
  std::string out;
  auto append_replacement = [&] {
    for (size_t r = 0; r < rep.size(); ++r) {
      if (rep[r] != '\\' || r + 1 >= rep.size()) {
        out.push_back(rep[r]);
        continue;
      }
      char e = rep[++r];
      if (e == '0' || e == '&')
        out.append(pat);
      else if (e == '\\')
        out.push_back('\\');
      else if (e < '1' || e > '9')  // groups do not exist in a String pattern: they are ""
        out.push_back('\\'), out.push_back(e);
    }
  };
  size_t i = 0;
  for (;;) {
    size_t at = s.find(pat, i);
    if (at == std::string_view::npos) break;
    out.append(s.substr(i, at - i));
    append_replacement();
    if (!pat.empty()) {
      i = at + pat.size();
    } else if (at >= s.size()) {  // an empty pattern matches before each character and at the end
      i = s.size() + 1;
      break;
    } else {
      size_t next = at + 1;
      while (next < s.size() && (static_cast<unsigned char>(s[next]) & 0xc0) == 0x80) ++next;
      out.append(s.substr(at, next - at));
      i = next;
    }
    if (!all) break;
  }
  if (i <= s.size()) out.append(s.substr(i));
  return R::str(keep(out));
}

R Values::time_method(const R& recv, const std::string& m, std::span<const R> args) {
  if (m == "utc" || m == "getutc" || m == "localtime") {
    arity(m, args, 0, 0);
    R t = recv;
    t.utc = m != "localtime";
    return t;
  }
  std::string out;
  if (m == "strftime") {
    arity(m, args, 1, 1);
    sluice::append_time(out, recv.t, text(args, 0), recv.utc);
  } else if (m == "iso8601" || m == "xmlschema") {
    arity(m, args, 0, 1);
    int64_t digits = 0;
    if (!args.empty()) {
      if (args[0].k != R::Int) throw RubyError{"no implicit conversion of " + type_name(args[0]) + " into Integer"};
      digits = args[0].i < 0 ? 0 : args[0].i > 64 ? 64 : args[0].i;
    }
    append_time(out, recv, static_cast<int>(digits), true);
  } else {
    throw no_method(m, recv);
  }
  return R::str(keep(out));
}

R Values::container_method(const R& recv, const std::string& m, std::span<const R> args) {
  const bool hash = recv.is_hash();
  if (m == "length" || m == "size") return arity(m, args, 0, 0), R::integer(int64_t(count(recv)));
  if (m == "empty?") return arity(m, args, 0, 0), R::boolean(count(recv) == 0);
  if (hash && (m == "has_key?" || m == "key?" || m == "include?" || m == "member?")) {
    arity(m, args, 1, 1);
    bool found = false;
    if (args[0].k == R::Str) member(recv, args[0].s, found);
    return R::boolean(found);
  }
  if (m == "dig") {
    arity(m, args, 1, 8);
    R at = recv;
    for (const R& key : args) {
      if (at.k == R::Nil) return at;
      if (!at.is_hash() && !at.is_array()) throw RubyError{type_name(at) + " does not have #dig method"};
      at = index(at, key);
    }
    return at;
  }
  if (m == "fetch") {
    arity(m, args, 1, 2);
    bool found = false;
    R v;
    if (hash) {
      if (args[0].k == R::Str) v = member(recv, args[0].s, found);
    } else {
      if (args[0].k != R::Int) throw RubyError{"no implicit conversion of " + type_name(args[0]) + " into Integer"};
      int64_t n = int64_t(count(recv));
      found = args[0].i >= -n && args[0].i < n;
      if (found) v = element(recv, args[0].i);
    }
    if (found) return v;
    if (args.size() == 2) return args[1];
    std::string key;
    append_json(key, args[0]);
    throw RubyError{hash ? "key not found: " + key : "index " + key + " outside of array bounds"};
  }
  if (!hash) {
    if (m == "first" || m == "last") {
      arity(m, args, 0, 0);
      return element(recv, m == "first" ? 0 : -1);
    }
    if (m == "include?") {
      arity(m, args, 1, 1);
      int64_t n = int64_t(count(recv));
      for (int64_t i = 0; i < n; ++i)
        if (equal(element(recv, i), args[0])) return R::boolean(true);
      return R::boolean(false);
    }
    if (m == "join") {
      arity(m, args, 0, 1);
      std::string_view sep = args.empty() || args[0].k == R::Nil ? std::string_view() : text(args, 0);
      std::string out;
      int64_t n = int64_t(count(recv));
      for (int64_t i = 0; i < n; ++i) {
        if (i) out.append(sep);
        append_to_s(out, element(recv, i));
      }
      return R::str(keep(out));
    }
  }
  throw no_method(m, recv);
}

}  // namespace sluice::ruby
