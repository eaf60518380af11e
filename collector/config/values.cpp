// Fluentd's config value types: size, time, bool, integer, float, array, hash, regexp.
// Follows lib/fluent/config/types.rb, but rejects malformed values instead of reading them as 0.
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "config/params.h"

namespace sluice {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Digits with an optional fraction: "12", "1.5". Sets `out`; false if not exactly that.
bool parse_decimal(const std::string& s, double& out) {
  size_t k = 0, digits = 0;
  while (k < s.size() && isdigit((unsigned char)s[k])) ++k, ++digits;
  if (k < s.size() && s[k] == '.') {
    ++k;
    size_t f = 0;
    while (k < s.size() && isdigit((unsigned char)s[k])) ++k, ++f;
    if (f == 0) return false;
  }
  if (digits == 0 || k != s.size() || k > 30) return false;
  out = strtod(s.c_str(), nullptr);
  return true;
}

// ---- a small JSON reader for array/hash values ----
struct Json {
  const std::string& s;
  size_t i = 0;

  void ws() {
    while (i < s.size() && isspace((unsigned char)s[i])) ++i;
  }
  static void utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) out += char(cp);
    else if (cp < 0x800) out += char(0xC0 | cp >> 6), out += char(0x80 | (cp & 0x3F));
    else if (cp < 0x10000)
      out += char(0xE0 | cp >> 12), out += char(0x80 | (cp >> 6 & 0x3F)),
          out += char(0x80 | (cp & 0x3F));
    else
      out += char(0xF0 | cp >> 18), out += char(0x80 | (cp >> 12 & 0x3F)),
          out += char(0x80 | (cp >> 6 & 0x3F)), out += char(0x80 | (cp & 0x3F));
  }
  bool hex4(unsigned& v) {
    if (i + 4 > s.size()) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s[i++];
      v <<= 4;
      if (isdigit((unsigned char)c)) v |= unsigned(c - '0');
      else if (c >= 'a' && c <= 'f') v |= unsigned(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= unsigned(c - 'A' + 10);
      else return false;
    }
    return true;
  }
  bool string(std::string& out) {
    if (i >= s.size() || s[i] != '"') return false;
    for (++i; i < s.size() && s[i] != '"';) {
      char c = s[i++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i >= s.size()) return false;
      char e = s[i++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case '"': case '\\': case '/': out += e; break;
        case 'u': {
          unsigned cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00 && s.compare(i, 2, "\\u") == 0) {
            unsigned lo;
            i += 2;
            if (!hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          utf8(out, cp);
          break;
        }
        default: return false;
      }
    }
    if (i >= s.size()) return false;
    ++i;
    return true;
  }
  // Any value; strings are unescaped, other values are given as their JSON text.
  bool value(std::string& out, int depth = 0) {
    ws();
    if (depth > 64 || i >= s.size()) return false;
    if (s[i] == '"') return string(out);
    size_t b = i;
    if (s[i] == '[' || s[i] == '{') {
      char open = s[i], close = open == '[' ? ']' : '}';
      ++i;
      ws();
      if (i < s.size() && s[i] == close) {
        ++i;
      } else {
        while (true) {
          std::string ignored;
          if (open == '{') {
            ws();
            if (!string(ignored)) return false;
            ws();
            if (i >= s.size() || s[i++] != ':') return false;
          }
          if (!value(ignored, depth + 1)) return false;
          ws();
          if (i >= s.size()) return false;
          if (s[i] == close) { ++i; break; }
          if (s[i++] != ',') return false;
        }
      }
    } else {
      while (i < s.size() && (isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '+' || s[i] == '.'))
        ++i;
      std::string lit = s.substr(b, i - b);
      double d;
      char* end = nullptr;
      if (lit != "true" && lit != "false" && lit != "null") {
        if (lit.empty() || !(isdigit((unsigned char)lit[0]) || lit[0] == '-')) return false;
        d = strtod(lit.c_str(), &end);
        if (*end || !std::isfinite(d)) return false;
      }
    }
    out = s.substr(b, i - b);
    return true;
  }
  bool at_end() {
    ws();
    return i == s.size();
  }
};

}  // namespace

bool parse_integer(const std::string& text, int64_t& out) {
  std::string s = trim(text), digits;
  size_t k = 0;
  bool neg = false;
  if (k < s.size() && (s[k] == '+' || s[k] == '-')) neg = s[k++] == '-';
  for (; k < s.size(); ++k) {
    if (isdigit((unsigned char)s[k])) digits += s[k];
    else if (s[k] == '_' && !digits.empty() && k + 1 < s.size() && isdigit((unsigned char)s[k + 1])) continue;
    else return false;
  }
  if (digits.empty() || digits.size() > 18) return false;
  out = strtoll(digits.c_str(), nullptr, 10) * (neg ? -1 : 1);
  return true;
}

bool parse_float(const std::string& text, double& out) {
  std::string s = trim(text);
  if (s.empty() || !(isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+' || s[0] == '.'))
    return false;
  for (char c : s)
    if (!(isdigit((unsigned char)c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'))
      return false;
  char* end = nullptr;
  out = strtod(s.c_str(), &end);
  return *end == '\0' && std::isfinite(out);
}

bool parse_size(const std::string& text, uint64_t& out) {
  std::string s = trim(text);
  if (s.empty()) return false;
  size_t k = 0;
  while (k < s.size() && (isdigit((unsigned char)s[k]) || s[k] == '.')) ++k;
  std::string num = s.substr(0, k), unit = s.substr(k);
  for (auto& c : unit) c = char(tolower((unsigned char)c));
  if (!unit.empty() && unit[0] == ' ') unit = trim(unit);
  double n;
  if (!parse_decimal(num, n)) return false;
  static const std::pair<const char*, int> units[] = {{"", 0}, {"b", 0}, {"k", 1}, {"m", 2},
                                                        {"g", 3}, {"t", 4}};
  int power = -1;
  for (auto& [u, p] : units)
    if (unit == u || (*u && *u != 'b' && (unit == std::string(u) + "b" || unit == std::string(u) + "ib")))
      power = p;
  if (power < 0 || (power == 0 && num.find('.') != std::string::npos)) return false;
  double v = n * std::pow(1024.0, power);
  if (v >= 1.8e19) return false;
  out = uint64_t(v);
  return true;
}

bool parse_duration(const std::string& text, double& out) {
  std::string s = trim(text);
  if (s.empty()) return false;
  char unit = s.back();
  double mult = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : unit == 'd' ? 86400 : 0;
  if (mult == 0) return parse_float(s, out);
  double n;
  if (!parse_decimal(trim(s.substr(0, s.size() - 1)), n)) return false;
  out = n * mult;
  return true;
}

bool parse_bool(const std::string& text, bool& out) {
  // Fluentd's bool_value: an empty value (`key` alone, or "#{... || nil}") is true, and so is
  // a value that is only a comment ("key #foo" gives "#foo").
  if (text == "true" || text == "yes" || text.empty() || text[0] == '#') out = true;
  else if (text == "false" || text == "no") out = false;
  else return false;
  return true;
}

bool parse_array(const std::string& text, std::vector<std::string>& out) {
  out.clear();
  std::string s = trim(text);
  if (!s.empty() && s[0] == '[') {
    Json j{s};
    j.ws();
    ++j.i;
    j.ws();
    if (j.i < s.size() && s[j.i] == ']') return ++j.i, j.at_end();
    while (true) {
      std::string v;
      if (!j.value(v)) return false;
      out.push_back(v);
      j.ws();
      if (j.i >= s.size()) return false;
      char c = s[j.i++];
      if (c == ']') return j.at_end();
      if (c != ',') return false;
    }
  }
  // Ruby's split(/\s*,\s*/): trailing empty fields are dropped.
  size_t b = 0;
  while (b <= s.size() && !s.empty()) {
    size_t e = s.find(',', b);
    if (e == std::string::npos) e = s.size();
    out.push_back(trim(s.substr(b, e - b)));
    b = e + 1;
  }
  while (!out.empty() && out.back().empty()) out.pop_back();
  return true;
}

bool parse_hash(const std::string& text, std::vector<std::pair<std::string, std::string>>& out) {
  out.clear();
  std::string s = trim(text);
  auto put = [&](std::string k, std::string v) {
    for (auto& kv : out)
      if (kv.first == k) return void(kv.second = std::move(v));
    out.emplace_back(std::move(k), std::move(v));
  };
  if (!s.empty() && s[0] == '{') {
    Json j{s};
    ++j.i;
    j.ws();
    if (j.i < s.size() && s[j.i] == '}') return ++j.i, j.at_end();
    while (true) {
      std::string k, v;
      j.ws();
      if (!j.string(k)) return false;
      j.ws();
      if (j.i >= s.size() || s[j.i++] != ':') return false;
      if (!j.value(v)) return false;
      put(k, v);
      j.ws();
      if (j.i >= s.size()) return false;
      char c = s[j.i++];
      if (c == '}') return j.at_end();
      if (c != ',') return false;
    }
  }
  std::vector<std::string> items;
  parse_array(s, items);
  for (auto& item : items) {
    size_t c = item.find(':');
    if (c == std::string::npos) put(item, "");
    else put(trim(item.substr(0, c)), trim(item.substr(c + 1)));
  }
  return true;
}

bool parse_regexp(const std::string& text, RegexpValue& out) {
  out = {};
  if (text.empty() || text[0] != '/') {
    out.pattern = text;
    return true;
  }
  size_t right = text.rfind('/');
  if (right == 0 || right + 3 < text.size()) return false;  // Fluentd: "missing right slash"
  for (char f : text.substr(right + 1)) {
    if (f == 'i') out.ignore_case = true;
    else if (f == 'm') out.multiline = true;
    else if (f != 'x' && f != 'n' && f != 'u') return false;
  }
  out.pattern = text.substr(1, right - 1);
  return true;
}

}  // namespace sluice
