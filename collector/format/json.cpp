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

void append_string(std::string& out, std::string_view bytes, HexCase hex) {
  const char* hexdigits = hex == HexCase::Lower ? kLowerHex : kUpperHex;
  out.push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = p + bytes.size();
  const auto* run = p;
  while (p < end) {
    char e = kEscape.t[*p];
    if (e == 0) {
      ++p;
      continue;
    }
    if (p > run) out.append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
    if (e == 'u') {
      char buf[6] = {'\\', 'u', '0', '0', hexdigits[*p >> 4], hexdigits[*p & 0xf]};
      out.append(buf, 6);
    } else {
      char buf[2] = {'\\', e};
      out.append(buf, 2);
    }
    ++p;
    run = p;
  }
  if (p > run) out.append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
  out.push_back('"');
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
