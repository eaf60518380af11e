// JSON writing as Fluentd's serializers do it: compact, insertion order, `/<>&` and non-ASCII
// left raw, invalid UTF-8 bytes written raw, control characters as \u00XX. Oj (out_stdout and
// the Elasticsearch plugin) writes the hex in lower case, Yajl (out_file) in upper case.
#pragma once

#include <string>
#include <string_view>

#include "core/event.h"
#include "format/json_short.h"
#include "format/string_writer.h"

namespace sluice::json {

void append_string(std::string& out, std::string_view bytes, HexCase hex = HexCase::Lower);

// Raw writers, for formatters that ask a StringWriter for room once per piece: each writes at w
// and returns the end of what it wrote; the caller provides the room (max_*_size).
// Room for a quoted string of n bytes: every byte as \u00XX, the quotes, and room for the
// escaper's 32-byte stores past the last byte.
constexpr size_t kEscapeSlack = 32;
constexpr size_t max_escaped_size(size_t n) { return 6 * n + 2 + kEscapeSlack; }
// Strings longer than this are escaped in steps by append_string.
constexpr size_t kEscapeStep = 4096;
char* write_escaped_body(char* w, std::string_view bytes, HexCase hex = HexCase::Lower);
// The escaper's implementation, the best the CPU has, chosen at start-up; tests pick each in turn
// (use_escaper returns false for one the CPU lacks).
enum class Escaper { Sse2, Avx2, Avx512 };
Escaper escaper();
bool use_escaper(Escaper e);
// `"bytes"` escaped, at most kEscapeStep bytes; the room is max_escaped_size(bytes.size()).
inline char* write_quoted(char* w, std::string_view bytes, HexCase hex = HexCase::Lower) {
  *w++ = '"';
  w = detail::write_escaped_body_short(w, bytes, hex);
  *w++ = '"';
  return w;
}
// A String value's `"text"`, at most kEscapeStep bytes: copied when a parser found it plain.
inline char* write_quoted(char* w, const Value& v, HexCase hex = HexCase::Lower) {
  if (!v.plain) return write_quoted(w, v.text, hex);
  *w++ = '"';
  w = detail::copy_plain(w, v.text);
  *w++ = '"';
  return w;
}
void append_value(std::string& out, const Value& v, HexCase hex = HexCase::Lower);
// The same through a StringWriter (one size update per record instead of one per piece).
void write_string(StringWriter& out, std::string_view bytes, HexCase hex = HexCase::Lower);
void write_value(StringWriter& out, const Value& v, HexCase hex = HexCase::Lower);
void write_member(StringWriter& out, bool& first, std::string_view key, const Value& v,
                  HexCase hex = HexCase::Lower);
bool write_record_open(StringWriter& out, const Batch& batch, const Record& record,
                       HexCase hex = HexCase::Lower);
// `{"k":v,...}` with the record's fields then the batch's common fields. `extra` fields (such as
// `@timestamp` and `tag` for Elasticsearch) are not added here; formatters append them by
// calling append_member before close.
void append_record(std::string& out, const Batch& batch, const Record& record,
                   HexCase hex = HexCase::Lower);
// Opens `{` and writes the members without the closing brace, so a caller can add more.
// Returns whether any member was written (to place the next comma).
bool append_record_open(std::string& out, const Batch& batch, const Record& record,
                        HexCase hex = HexCase::Lower);
void append_member(std::string& out, bool& first, std::string_view key, const Value& v,
                   HexCase hex = HexCase::Lower);
// Ruby's Float#to_s for finite values (1.5, 100.0, 1.0e+20); NaN/Infinity become null.
void append_double(std::string& out, double d);
constexpr size_t kMaxDoubleSize = 32;
char* write_double(char* w, double d);

}  // namespace sluice::json
