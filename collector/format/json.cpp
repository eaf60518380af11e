// JSON writing as Fluentd's serializers (Oj, Yajl) do it. See json.h.
//
// The escaper walks the bytes with a 256-entry table and copies runs of bytes that need no
// escaping with one append. Only `"`, `\` and the C0 controls are escaped; DEL, `/<>&`,
// non-ASCII (including U+2028/U+2029) and invalid UTF-8 bytes are written raw, as both Oj and
// Yajl do.
#include "format/json.h"

#include <charconv>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sluice::json {

namespace {

// 0: copy as is. Otherwise the character after the backslash ('u' for \u00XX).
struct EscapeTable {
  char t[256];
  constexpr EscapeTable() : t{} {
    for (int c = 0; c < 0x20; ++c) t[c] = 'u';
    t['\b'] = 'b';
    t['\f'] = 'f';
    t['\n'] = 'n';
    t['\r'] = 'r';
    t['\t'] = 't';
    t['"'] = '"';
    t['\\'] = '\\';
  }
};
constexpr EscapeTable kEscape;

constexpr char kLowerHex[] = "0123456789abcdef";
constexpr char kUpperHex[] = "0123456789ABCDEF";

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

// Index of the first byte at or after `p` that needs escaping (a C0 control, `"` or `\\`), or
// `end`. 16 bytes per step with SSE2 (part of x86-64), a table lookup per byte elsewhere.
static inline const unsigned char* find_escape(const unsigned char* p, const unsigned char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i control_max = _mm_set1_epi8(0x1f);
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // v <= 0x1f unsigned  <=>  max(v, 0x1f) == 0x1f
    __m128i m = _mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, control_max), control_max),
                             _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    int mask = _mm_movemask_epi8(m);
    if (mask) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (p < end && kEscape.t[*p] == 0) ++p;
  return p;
}

void append_string(std::string& out, std::string_view bytes, HexCase hex) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = p + bytes.size();
  const auto* q = find_escape(p, end);
  size_t at = out.size();
  if (q == end) {
    // The common case: nothing to escape, one resize and one copy.
    out.resize(at + bytes.size() + 2);
    char* w = out.data() + at;
    *w++ = '"';
    if (!bytes.empty()) std::memcpy(w, bytes.data(), bytes.size());
    w[bytes.size()] = '"';
    return;
  }
  // The clean prefix, then the rest through a small stack buffer written with raw stores (one
  // append per 4 KiB instead of two per escape).
  out.resize(at + 1 + static_cast<size_t>(q - p));
  char* w0 = out.data() + at;
  *w0++ = '"';
  std::memcpy(w0, p, static_cast<size_t>(q - p));
  p = q;
  const char* hexdigits = hex == HexCase::Lower ? kLowerHex : kUpperHex;
  char buf[4096];
  char* w = buf;
  char* const limit = buf + sizeof buf - 32;  // room for a 16-byte store and one escape
  while (p < end) {
    if (w > limit) {
      out.append(buf, static_cast<size_t>(w - buf));
      w = buf;
    }
    unsigned char c;
#if defined(__SSE2__)
    if (end - p >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const __m128i m = _mm_or_si128(
          _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f)),
          _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
      const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(m));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(w), v);  // the clean bytes, maybe more
      if (mask == 0) {
        p += 16;
        w += 16;
        continue;
      }
      unsigned i = static_cast<unsigned>(__builtin_ctz(mask));
      p += i;
      w += i;
      c = *p;
    } else
#endif
    {
      c = *p;
      if (kEscape.t[c] == 0) {
        *w++ = static_cast<char>(c);
        ++p;
        continue;
      }
    }
    char e = kEscape.t[c];
    w[0] = '\\';
    if (e == 'u') {
      w[1] = 'u';
      w[2] = '0';
      w[3] = '0';
      w[4] = hexdigits[c >> 4];
      w[5] = hexdigits[c & 0xf];
      w += 6;
    } else {
      w[1] = e;
      w += 2;
    }
    ++p;
  }
  *w++ = '"';
  out.append(buf, static_cast<size_t>(w - buf));
}

// Ruby's Float#to_s (flo_to_s): shortest round-trip digits; fixed notation when the decimal
// exponent is in (-4, 16], else `d.ddde+XX` with at least two exponent digits.
void append_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out.append("null");
    return;
  }
  if (d == 0) {
    out.append(std::signbit(d) ? "-0.0" : "0.0");
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  // buf: [-]D[.DDDD]e[+-]XX
  const char* p = buf;
  const char* end = r.ptr;
  bool negative = *p == '-';
  if (negative) ++p;
  char digits[32];
  int ndigits = 0;
  while (p < end && *p != 'e') {
    if (*p != '.') digits[ndigits++] = *p;
    ++p;
  }
  int exp10 = 0;
  std::from_chars(p + 1 + (p[1] == '+' ? 1 : 0), end, exp10);
  while (ndigits > 1 && digits[ndigits - 1] == '0') --ndigits;
  int decpt = exp10 + 1;  // digits are 0.DDDD * 10^decpt

  if (negative) out.push_back('-');
  if (decpt > 0 && decpt <= 16) {
    if (ndigits <= decpt) {
      out.append(digits, static_cast<size_t>(ndigits));
      out.append(static_cast<size_t>(decpt - ndigits), '0');
      out.append(".0");
    } else {
      out.append(digits, static_cast<size_t>(decpt));
      out.push_back('.');
      out.append(digits + decpt, static_cast<size_t>(ndigits - decpt));
    }
  } else if (decpt <= 0 && decpt > -4) {
    out.append("0.");
    out.append(static_cast<size_t>(-decpt), '0');
    out.append(digits, static_cast<size_t>(ndigits));
  } else {
    out.push_back(digits[0]);
    out.push_back('.');
    if (ndigits > 1)
      out.append(digits + 1, static_cast<size_t>(ndigits - 1));
    else
      out.push_back('0');
    int e = decpt - 1;
    out.push_back('e');
    out.push_back(e < 0 ? '-' : '+');
    if (e < 0) e = -e;
    if (e < 10) out.push_back('0');
    append_int(out, e);
  }
}

void append_value(std::string& out, const Value& v, HexCase hex) {
  switch (v.kind) {
    case ValueKind::Null:
      out.append("null");
      break;
    case ValueKind::Bool:
      out.append(v.boolean ? "true" : "false");
      break;
    case ValueKind::Int:
      append_int(out, v.integer);
      break;
    case ValueKind::Float:
      append_double(out, v.real);
      break;
    case ValueKind::String:
      append_string(out, v.text, hex);
      break;
    case ValueKind::Json:
      if (v.text.empty())
        out.append("null");
      else
        out.append(v.text);
      break;
  }
}

void append_member(std::string& out, bool& first, std::string_view key, const Value& v,
                   HexCase hex) {
  if (!first) out.push_back(',');
  first = false;
  append_string(out, key, hex);
  out.push_back(':');
  append_value(out, v, hex);
}

bool append_record_open(std::string& out, const Batch& batch, const Record& record, HexCase hex) {
  out.push_back('{');
  bool first = true;
  for (const Field* f = batch.begin(record); f != batch.end(record); ++f)
    append_member(out, first, f->key, f->value, hex);
  for (const Field& f : batch.common_fields) append_member(out, first, f.key, f.value, hex);
  return !first;
}

void append_record(std::string& out, const Batch& batch, const Record& record, HexCase hex) {
  append_record_open(out, batch, record, hex);
  out.push_back('}');
}

}  // namespace sluice::json
