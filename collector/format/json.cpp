// JSON writing as Fluentd's serializers (Oj, Yajl) do it. See json.h; the string escaper is in
// json_escape.cpp.
#include "format/json.h"

#include "format/string_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace sluice::json {

void write_string(StringWriter& out, std::string_view bytes, HexCase hex) {
  if (bytes.size() <= kEscapeStep) {
    out.advance(write_quoted(out.room(max_escaped_size(bytes.size())), bytes, hex));
    return;
  }
  // Long strings in steps, so that the room asked for stays small.
  out.put('"');
  for (size_t at = 0; at < bytes.size(); at += kEscapeStep) {
    std::string_view part = bytes.substr(at, kEscapeStep);
    out.advance(write_escaped_body(out.room(max_escaped_size(part.size())), part, hex));
  }
  out.put('"');
}

void append_string(std::string& out, std::string_view bytes, HexCase hex) {
  StringWriter w(out);
  write_string(w, bytes, hex);
}

// Ruby's Float#to_s (flo_to_s): shortest round-trip digits; fixed notation when the decimal
// exponent is in (-4, 16], else `d.ddde+XX` with at least two exponent digits. At most 32 bytes.
char* write_double(char* w, double d) {
  auto put = [&w](std::string_view s) {
    std::memcpy(w, s.data(), s.size());
    w += s.size();
  };
  if (!std::isfinite(d)) {
    put("null");
    return w;
  }
  if (d == 0) {
    put(std::signbit(d) ? "-0.0" : "0.0");
    return w;
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
  const int decpt = exp10 + 1;  // digits are 0.DDDD * 10^decpt
  const std::string_view all(digits, static_cast<size_t>(ndigits));

  if (negative) *w++ = '-';
  if (decpt > 0 && decpt <= 16) {
    if (ndigits <= decpt) {
      put(all);
      w = std::fill_n(w, decpt - ndigits, '0');
      put(".0");
    } else {
      put(all.substr(0, static_cast<size_t>(decpt)));
      *w++ = '.';
      put(all.substr(static_cast<size_t>(decpt)));
    }
  } else if (decpt <= 0 && decpt > -4) {
    put("0.");
    w = std::fill_n(w, -decpt, '0');
    put(all);
  } else {
    *w++ = digits[0];
    *w++ = '.';
    if (ndigits > 1)
      put(all.substr(1));
    else
      *w++ = '0';
    int e = decpt - 1;
    *w++ = 'e';
    *w++ = e < 0 ? '-' : '+';
    if (e < 0) e = -e;
    if (e < 10) *w++ = '0';
    w = std::to_chars(w, w + 4, e).ptr;
  }
  return w;
}

void append_double(std::string& out, double d) {
  StringWriter w(out);
  w.advance(write_double(w.room(kMaxDoubleSize), d));
}

void write_value(StringWriter& out, const Value& v, HexCase hex) {
  switch (v.kind) {
    case ValueKind::Null:
      out.put("null");
      break;
    case ValueKind::Bool:
      out.put(v.boolean ? std::string_view("true") : std::string_view("false"));
      break;
    case ValueKind::Int: {
      char* w = out.room(24);
      out.advance(std::to_chars(w, w + 24, v.integer).ptr);
      break;
    }
    case ValueKind::Float:
      out.advance(write_double(out.room(kMaxDoubleSize), v.real));
      break;
    case ValueKind::String:
      if (v.text.size() <= kEscapeStep)
        out.advance(write_quoted(out.room(max_escaped_size(v.text.size())), v, hex));
      else
        write_string(out, v.text, hex);
      break;
    case ValueKind::Json:
      out.put(v.text.empty() ? std::string_view("null") : v.text);
      break;
  }
}

void write_member(StringWriter& out, bool& first, std::string_view key, const Value& v, HexCase hex) {
  const bool string = v.kind == ValueKind::String;
  if (key.size() <= kEscapeStep && (!string || v.text.size() <= kEscapeStep)) {
    // The common case, key and string value under one request for room.
    char* w = out.room(max_escaped_size(key.size()) + 2 + (string ? max_escaped_size(v.text.size()) : 0));
    if (!first) *w++ = ',';
    first = false;
    w = write_quoted(w, key, hex);
    *w++ = ':';
    if (string) {
      out.advance(write_quoted(w, v, hex));
      return;
    }
    out.advance(w);
  } else {
    if (!first) out.put(',');
    first = false;
    write_string(out, key, hex);
    out.put(':');
  }
  write_value(out, v, hex);
}

bool write_record_open(StringWriter& out, const Batch& batch, const Record& record, HexCase hex) {
  out.put('{');
  bool first = true;
  for (const Field* f = batch.begin(record); f != batch.end(record); ++f)
    write_member(out, first, f->key, f->value, hex);
  for (const Field& f : batch.common_fields) write_member(out, first, f.key, f.value, hex);
  return !first;
}

void append_value(std::string& out, const Value& v, HexCase hex) {
  StringWriter w(out);
  write_value(w, v, hex);
}

void append_member(std::string& out, bool& first, std::string_view key, const Value& v,
                   HexCase hex) {
  StringWriter w(out);
  write_member(w, first, key, v, hex);
}

bool append_record_open(std::string& out, const Batch& batch, const Record& record, HexCase hex) {
  StringWriter w(out);
  return write_record_open(w, batch, record, hex);
}

void append_record(std::string& out, const Batch& batch, const Record& record, HexCase hex) {
  StringWriter w(out);
  write_record_open(w, batch, record, hex);
  w.put('}');
}

}  // namespace sluice::json
