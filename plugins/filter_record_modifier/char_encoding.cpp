#include "char_encoding.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace sluice::record_modifier {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

std::string upper(std::string_view s) {
  std::string u(s);
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

}  // namespace

size_t utf8_unit(const unsigned char* p, const unsigned char* end, bool& complete) {
  complete = false;
  unsigned char c = p[0];
  if (c < 0x80) return complete = true, 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range (Unicode table 3-7)
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c == 0xE0) n = 3, lo = 0xA0;
  else if (c >= 0xE1 && c <= 0xEC) n = 3;
  else if (c == 0xED) n = 3, hi = 0x9F;
  else if (c >= 0xEE && c <= 0xEF) n = 3;
  else if (c == 0xF0) n = 4, lo = 0x90;
  else if (c >= 0xF1 && c <= 0xF3) n = 4;
  else if (c == 0xF4) n = 4, hi = 0x8F;
  else return 1;  // C0, C1, F5..FF, a lone continuation byte
  size_t i = 1;
  for (; i < n && p + i < end; ++i) {
    unsigned char b = p[i];
    if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
  }
  complete = i == n;
  return i;
}

bool CharEncoding::find(std::string_view name, Enc& out) {
  std::string u = upper(name);
  if (u == "UTF-8" || u == "CP65001") return out = Enc::Utf8, true;
  if (u == "ASCII-8BIT" || u == "BINARY") return out = Enc::Binary, true;
  if (u == "US-ASCII" || u == "ASCII" || u == "ANSI_X3.4-1968" || u == "646")
    return out = Enc::Ascii, true;
  if (u == "ISO-8859-1" || u == "ISO8859-1") return out = Enc::Latin1, true;
  return false;
}

CharEncoding::CharEncoding(std::string_view spec) {
  size_t colon = spec.find(':');
  std::string_view from = spec.substr(0, colon);
  auto refuse = [](std::string_view name, const char* what) {
    throw std::invalid_argument(
        "sluice does not " + std::string(what) + " encoding '" + std::string(name) +
        "' (supported: UTF-8, ASCII-8BIT/BINARY, US-ASCII, ISO-8859-1 as the source, and UTF-8 "
        "as the target)");
  };
  if (!find(from, from_)) refuse(from, "convert from");
  if (colon == std::string_view::npos) return;  // force_encoding: no byte changes
  std::string_view to = spec.substr(colon + 1);
  Enc target;
  if (!find(to, target) || target != Enc::Utf8) refuse(to, "convert to");
  converts_ = true;
}

std::string_view CharEncoding::convert(std::string_view s, std::string& tmp) const {
  if (!converts_) return s;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  const auto* q = p;
  // Only bytes >= 0x80 can change; for UTF-8 only those of invalid sequences.
  auto first_change = [&]() -> const unsigned char* {
    for (const auto* r = q; r < end;) {
      if (*r < 0x80) {
        ++r;
        continue;
      }
      if (from_ != Enc::Utf8) return r;
      bool complete;
      size_t n = utf8_unit(r, end, complete);
      if (!complete) return r;
      r += n;
    }
    return end;
  };
  q = first_change();
  if (q == end) return s;
  tmp.assign(s.data(), static_cast<size_t>(q - p));
  while (q < end) {
    unsigned char c = *q;
    if (c < 0x80) {
      tmp.push_back(static_cast<char>(c));
      ++q;
      continue;
    }
    switch (from_) {
      case Enc::Utf8: {
        bool complete;
        size_t n = utf8_unit(q, end, complete);
        if (complete)
          tmp.append(reinterpret_cast<const char*>(q), n);
        else
          tmp.append(kReplacement);
        q += n;
        break;
      }
      case Enc::Latin1:
        tmp.push_back(static_cast<char>(0xC0 | (c >> 6)));
        tmp.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        ++q;
        break;
      case Enc::Binary:  // undefined in UTF-8: replaced
      case Enc::Ascii:   // invalid in US-ASCII: replaced
        tmp.append(kReplacement);
        ++q;
        break;
    }
  }
  return tmp;
}

}  // namespace sluice::record_modifier
