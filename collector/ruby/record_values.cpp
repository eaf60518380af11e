#include "ruby/record_values.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "format/json.h"
#include "format/json_lookup.h"
#include "format/line_format.h"
#include "format/time.h"

namespace sluice::ruby {
namespace {

RubyError no_conversion(const R& v, const char* into) {
  return RubyError{"no implicit conversion of " + type_name(v) + " into " + into};
}

size_t utf8_chars(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

}  // namespace

RubyError no_method(const std::string& m, const R& recv) {
  return RubyError{"undefined method `" + m + "' for " + class_of(recv)};
}

bool is_ruby_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::string type_name(const R& v) {
  switch (v.k) {
    case R::Nil: return "nil";
    case R::True: return "true";
    case R::False: return "false";
    case R::Int: return "Integer";
    case R::Float: return "Float";
    case R::Str: return "String";
    case R::Time: return "Time";
    case R::Regex: return "Regexp";
    case R::Match: return "MatchData";
    default: return v.is_hash() ? "Hash" : "Array";
  }
}

std::string class_of(const R& v) {
  if (v.k == R::Nil || v.k == R::True || v.k == R::False) return type_name(v);
  return "an instance of " + type_name(v);
}

double string_to_f(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_ruby_space(s[i])) ++i;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (i >= s.size() || !((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) return 0.0;
  double d = 0;
  auto r = std::from_chars(s.data() + i, s.data() + s.size(), d, std::chars_format::general);
  if (r.ec != std::errc()) return 0.0;
  return neg ? -d : d;
}

int64_t string_to_i(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_ruby_space(s[i])) ++i;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  int64_t v = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (v > (INT64_MAX - 9) / 10) break;  // Ruby grows a Bignum; sluice stops at int64
    v = v * 10 + (s[i] - '0');
  }
  return neg ? -v : v;
}

R Values::from_value(const Value& v) {
  switch (v.kind) {
    case ValueKind::Null: return R{};
    case ValueKind::Bool: return R::boolean(v.boolean);
    case ValueKind::Int: return R::integer(v.integer);
    case ValueKind::Float: return R::real(v.real);
    case ValueKind::String: return R::str(v.text);
    case ValueKind::Json: {
      R r;
      r.k = R::Json;
      size_t b = 0;
      jsonscan::detail::skip_ws(v.text, b);
      r.s = v.text.substr(b);
      return r;
    }
  }
  return R{};
}

R Values::from_token(std::string_view token) {
  if (token.empty()) return R{};
  switch (token[0]) {
    case '"':
      if (token.find('\\') == std::string_view::npos) return R::str(token.substr(1, token.size() - 2));
      scratch_.clear();
      jsonscan::append_token_to_s(scratch_, token);
      return R::str(keep(scratch_));
    case 't': return R::boolean(true);
    case 'f': return R::boolean(false);
    case 'n': return R{};
    case '{':
    case '[': {
      R r;
      r.k = R::Json;
      r.s = token;
      return r;
    }
    default: break;
  }
  if (token.find_first_of(".eE") == std::string_view::npos) {
    int64_t i = 0;
    auto r = std::from_chars(token.data(), token.data() + token.size(), i);
    if (r.ec == std::errc()) return R::integer(i);
  }
  return R::real(std::strtod(std::string(token).c_str(), nullptr));
}

R Values::element(const R& array, int64_t at) {
  int64_t n = static_cast<int64_t>(count(array));
  if (at < 0) at += n;
  if (at < 0 || at >= n) return R{};
  if (array.k == R::List) return R::str(keep((*array.list)[static_cast<size_t>(at)]));
  R out;
  int64_t k = 0;
  jsonscan::for_each_item(array.s, [&](std::string_view, std::string_view v) {
    if (k++ != at) return true;
    out = from_token(v);
    return false;
  });
  return out;
}

R Values::member(const R& hash, std::string_view key, bool& found) {
  found = false;
  if (hash.k == R::Record) {
    const Value* v = s_.batch->find(*s_.record, key);
    found = v != nullptr;
    return v ? from_value(*v) : R{};
  }
  R out;
  jsonscan::for_each_item(hash.s, [&](std::string_view k, std::string_view v) {
    if (!jsonscan::detail::string_token_equals(k, key)) return true;
    found = true;
    out = from_token(v);
    return false;
  });
  return out;
}

size_t Values::count(const R& c) {
  if (c.k == R::List) return c.list->size();
  if (c.k == R::Record)
    return s_.record->field_count + s_.batch->common_fields.size();
  size_t n = 0;
  jsonscan::for_each_item(c.s, [&](std::string_view, std::string_view) { return ++n, true; });
  return n;
}

R Values::index(const R& recv, const R& key) {
  if (recv.k == R::Match) return group(recv, key);
  if (recv.is_hash()) {
    bool found;
    return key.k == R::Str ? member(recv, key.s, found) : R{};
  }
  if (recv.is_array()) {
    if (key.k != R::Int) throw no_conversion(key, "Integer");
    return element(recv, key.i);
  }
  if (recv.k == R::Str) {
    if (key.k == R::Str) return recv.s.find(key.s) == std::string_view::npos ? R{} : key;
    if (key.k != R::Int) throw no_conversion(key, "Integer");
    int64_t n = static_cast<int64_t>(utf8_chars(recv.s)), at = key.i < 0 ? key.i + n : key.i;
    if (at < 0 || at >= n) return R{};
    size_t b = 0;
    for (int64_t c = -1; b < recv.s.size(); ++b)
      if ((static_cast<unsigned char>(recv.s[b]) & 0xc0) != 0x80 && ++c == at) break;
    size_t e = b + 1;
    while (e < recv.s.size() && (static_cast<unsigned char>(recv.s[e]) & 0xc0) == 0x80) ++e;
    return R::str(recv.s.substr(b, e - b));
  }
  if (recv.k == R::Int && key.k == R::Int)
    return R::integer(key.i < 0 ? 0 : key.i > 63 ? (recv.i < 0) : (recv.i >> key.i) & 1);
  throw no_method("[]", recv);
}

R Values::plus(const R& a, const R& b) {
  if (a.k == R::Str) {
    if (b.k != R::Str) throw no_conversion(b, "String");
    return R::str(s_.arena->concat(a.s, b.s));
  }
  if (a.k == R::Int || a.k == R::Float || a.k == R::Time) {
    if (b.k != R::Int && b.k != R::Float)
      throw RubyError{(b.k == R::Nil ? std::string("nil") : type_name(b)) +
                      " can't be coerced into " + type_name(a)};
    if (a.k == R::Int && b.k == R::Int) return R::integer(a.i + b.i);
    double x = b.k == R::Int ? double(b.i) : b.f;
    if (a.k == R::Float) return R::real(a.f + x);
    if (a.k == R::Int) return R::real(double(a.i) + x);
    R t = a;  // Time + seconds
    double ns = double(t.t.nsec) + x * 1e9;
    double sec = std::floor(ns / 1e9);
    t.t.sec += static_cast<int64_t>(sec);
    t.t.nsec = static_cast<uint32_t>(ns - sec * 1e9);
    return t;
  }
  throw no_method("+", a);
}

bool Values::equal(const R& a, const R& b) {
  auto number = [](const R& v) { return v.k == R::Int || v.k == R::Float; };
  if (number(a) && number(b)) {
    if (a.k == R::Int && b.k == R::Int) return a.i == b.i;
    return (a.k == R::Int ? double(a.i) : a.f) == (b.k == R::Int ? double(b.i) : b.f);
  }
  if (a.k != b.k) return false;
  switch (a.k) {
    case R::Str:
    case R::Json: return a.s == b.s;
    case R::Time: return a.t.sec == b.t.sec && a.t.nsec == b.t.nsec;
    case R::List: return a.list == b.list;
    case R::Regex: return a.re->source() == b.re->source() && a.re->flags() == b.re->flags();
    case R::Match: return a.re == b.re && a.s == b.s;
    default: return true;  // nil, true, false, the record
  }
}

void Values::append_time(std::string& out, const R& t, int fraction_digits, bool iso) {
  sluice::append_time(out, t.t, iso ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", t.utc);
  if (fraction_digits > 0) {
    char digits[10];
    uint32_t ns = t.t.nsec;
    for (int d = 8; d >= 0; --d, ns /= 10) digits[d] = char('0' + ns % 10);
    out.push_back('.');
    for (int d = 0; d < fraction_digits; ++d) out.push_back(d < 9 ? digits[d] : '0');
  }
  if (t.utc)
    out.append(iso ? "Z" : " UTC");
  else
    sluice::append_time(out, t.t, iso ? "%:z" : " %z", false);
}

void Values::append_to_s(std::string& out, const R& v) {
  switch (v.k) {
    case R::Nil: break;
    case R::Str: out.append(v.s); break;
    case R::Time: append_time(out, v, 0, false); break;
    case R::Record: append_ruby_inspect(out, *s_.batch, *s_.record); break;
    case R::List:
      out.push_back('[');
      for (size_t i = 0; i < v.list->size(); ++i) {
        if (i) out.append(", ");
        json::append_string(out, (*v.list)[i]);
      }
      out.push_back(']');
      break;
    case R::Json: append_json_as_ruby(out, v.s); break;  // Hash#to_s is #inspect
    case R::Regex: {  // Regexp#to_s: (?on-off:source)
      std::string off;
      for (char f : {'m', 'i', 'x'})
        if (v.re->flags().find(f) == std::string::npos) off.push_back(f);
      std::string on;
      for (char f : {'m', 'i', 'x'})
        if (v.re->flags().find(f) != std::string::npos) on.push_back(f);
      out.append("(?").append(on).append(off.empty() ? "" : "-").append(off).append(":");
      out.append(v.re->source()).append(")");
      break;
    }
    case R::Match: append_to_s(out, group(v, R::integer(0))); break;  // the whole match
    default: append_ruby_to_s(out, to_value(v));
  }
}

void Values::append_json(std::string& out, const R& v) {
  switch (v.k) {
    case R::Time:
      scratch_.clear();
      append_time(scratch_, v, 0, false);
      json::append_string(out, scratch_);
      break;
    case R::Record: json::append_record(out, *s_.batch, *s_.record); break;
    case R::List:
      out.push_back('[');
      for (size_t i = 0; i < v.list->size(); ++i) {
        if (i) out.push_back(',');
        json::append_string(out, (*v.list)[i]);
      }
      out.push_back(']');
      break;
    case R::Json: out.append(jsonscan::minify(v.s)); break;  // as Ruby's JSON writes it
    default: json::append_value(out, to_value(v));
  }
}

Value Values::to_value(const R& v) {
  switch (v.k) {
    case R::Nil: return Value::null();
    case R::True: return Value::of_bool(true);
    case R::False: return Value::of_bool(false);
    case R::Int: return Value::of_int(v.i);
    case R::Float: return Value::of_float(v.f);
    // Copied: the view may be the tag's, which changes with the next batch's tag.
    case R::Str: return Value::of_string(keep(v.s));
    case R::Json: return Value::of_json(v.s);
    case R::Time: {
      std::string s;
      append_time(s, v, 0, false);
      return Value::of_string(keep(s));
    }
    case R::Record:
    case R::List: {
      std::string s;
      append_json(s, v);
      return Value::of_json(keep(s));
    }
    case R::Regex:
    case R::Match: {
      std::string s;
      append_to_s(s, v);
      return Value::of_string(keep(s));
    }
  }
  return Value::null();
}

R Values::call(const R& recv, const std::string& m, std::span<const R> args) {
  auto arity = [&](size_t lo, size_t hi) {
    if (args.size() < lo || args.size() > hi)
      throw RubyError{"wrong number of arguments (given " + std::to_string(args.size()) +
                      ", expected " + std::to_string(lo) + (hi > lo ? ".." + std::to_string(hi) : "") +
                      ") for " + m};
  };
  if (m == "nil?") return arity(0, 0), R::boolean(recv.k == R::Nil);
  if (m == "to_s" || m == "inspect") {
    arity(0, 0);
    if (recv.k == R::Str && m == "to_s") return recv;
    std::string s;
    if (m == "inspect" && recv.k == R::Nil)
      s.append("nil");
    else if (m == "inspect" && recv.k == R::Str)
      json::append_string(s, recv.s);
    else
      append_to_s(s, recv);
    return R::str(keep(s));
  }
  if (m == "to_json") {
    arity(0, 0);
    std::string s;
    append_json(s, recv);
    return R::str(keep(s));
  }
  if (m == "to_i" || m == "to_f") {
    arity(0, 0);
    double d;
    switch (recv.k) {
      case R::Nil: d = 0; break;
      case R::Int: d = double(recv.i); if (m == "to_i") return recv; break;
      case R::Float: d = recv.f; break;
      case R::Str:
        if (m == "to_i") return R::integer(string_to_i(recv.s));
        d = string_to_f(recv.s);
        break;
      case R::Time:
        if (m == "to_i") return R::integer(recv.t.sec);
        d = double(recv.t.sec) + recv.t.nsec / 1e9;
        break;
      default: throw no_method(m, recv);
    }
    if (m == "to_f") return R::real(d);
    if (!std::isfinite(d)) throw RubyError{"FloatDomainError: " + std::string(std::isnan(d) ? "NaN" : "Infinity")};
    return R::integer(static_cast<int64_t>(std::trunc(d)));
  }
  if (recv.k == R::Str) return string_method(recv, m, args);
  if (recv.k == R::Time) return time_method(recv, m, args);
  if (recv.k == R::Regex || recv.k == R::Match) return regexp_method(recv, m, args);
  if (recv.is_hash() || recv.is_array()) return container_method(recv, m, args);
  throw no_method(m, recv);
}

}  // namespace sluice::ruby
