#include "format/msgpack.h"

#include <charconv>
#include <cstdlib>
#include <cstring>

#include "format/json_unescape.h"

namespace sluice::msgpack {

namespace {

inline void put8(std::string& out, uint8_t b) { out.push_back(static_cast<char>(b)); }

inline void put16(std::string& out, uint8_t tag, uint16_t v) {
  char b[3] = {static_cast<char>(tag), static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 3);
}

inline void put32(std::string& out, uint8_t tag, uint32_t v) {
  char b[5] = {static_cast<char>(tag), static_cast<char>(v >> 24), static_cast<char>(v >> 16),
               static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 5);
}

inline void put64(std::string& out, uint8_t tag, uint64_t v) {
  char b[9];
  b[0] = static_cast<char>(tag);
  for (int i = 0; i < 8; ++i) b[1 + i] = static_cast<char>(v >> (56 - 8 * i));
  out.append(b, 9);
}

}  // namespace

void append_nil(std::string& out) { put8(out, 0xc0); }

void append_bool(std::string& out, bool b) { put8(out, b ? 0xc3 : 0xc2); }

void append_uint(std::string& out, uint64_t u) {
  if (u < 128)
    put8(out, static_cast<uint8_t>(u));
  else if (u <= 0xff) {
    put8(out, 0xcc);
    put8(out, static_cast<uint8_t>(u));
  } else if (u <= 0xffff)
    put16(out, 0xcd, static_cast<uint16_t>(u));
  else if (u <= 0xffffffffu)
    put32(out, 0xce, static_cast<uint32_t>(u));
  else
    put64(out, 0xcf, u);
}

void append_int(std::string& out, int64_t i) {
  if (i >= 0) return append_uint(out, static_cast<uint64_t>(i));
  if (i >= -32)
    put8(out, static_cast<uint8_t>(i));
  else if (i >= INT8_MIN) {
    put8(out, 0xd0);
    put8(out, static_cast<uint8_t>(i));
  } else if (i >= INT16_MIN)
    put16(out, 0xd1, static_cast<uint16_t>(i));
  else if (i >= INT32_MIN)
    put32(out, 0xd2, static_cast<uint32_t>(i));
  else
    put64(out, 0xd3, static_cast<uint64_t>(i));
}

void append_double(std::string& out, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  put64(out, 0xcb, bits);
}

void append_str_header(std::string& out, uint32_t len) {
  if (len < 32)
    put8(out, static_cast<uint8_t>(0xa0 | len));
  else if (len <= 0xff) {
    put8(out, 0xd9);
    put8(out, static_cast<uint8_t>(len));
  } else if (len <= 0xffff)
    put16(out, 0xda, static_cast<uint16_t>(len));
  else
    put32(out, 0xdb, len);
}

void append_str(std::string& out, std::string_view s) {
  append_str_header(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

void append_bin_header(std::string& out, uint32_t len) {
  if (len <= 0xff) {
    put8(out, 0xc4);
    put8(out, static_cast<uint8_t>(len));
  } else if (len <= 0xffff)
    put16(out, 0xc5, static_cast<uint16_t>(len));
  else
    put32(out, 0xc6, len);
}

void append_bin(std::string& out, std::string_view b) {
  append_bin_header(out, static_cast<uint32_t>(b.size()));
  out.append(b);
}

void append_array_header(std::string& out, uint32_t n) {
  if (n < 16)
    put8(out, static_cast<uint8_t>(0x90 | n));
  else if (n <= 0xffff)
    put16(out, 0xdc, static_cast<uint16_t>(n));
  else
    put32(out, 0xdd, n);
}

void append_map_header(std::string& out, uint32_t n) {
  if (n < 16)
    put8(out, static_cast<uint8_t>(0x80 | n));
  else if (n <= 0xffff)
    put16(out, 0xde, static_cast<uint16_t>(n));
  else
    put32(out, 0xdf, n);
}

void append_ext_header(std::string& out, int8_t type, uint32_t len) {
  switch (len) {
    case 1: put8(out, 0xd4); break;
    case 2: put8(out, 0xd5); break;
    case 4: put8(out, 0xd6); break;
    case 8: put8(out, 0xd7); break;
    case 16: put8(out, 0xd8); break;
    default:
      if (len <= 0xff) {
        put8(out, 0xc7);
        put8(out, static_cast<uint8_t>(len));
      } else if (len <= 0xffff) {
        put16(out, 0xc8, static_cast<uint16_t>(len));
      } else {
        put32(out, 0xc9, len);
      }
  }
  put8(out, static_cast<uint8_t>(type));
}

void append_event_time(std::string& out, EventTime t) {
  if (t.integer) return append_int(out, t.sec);
  char b[10] = {static_cast<char>(0xd7), 0};
  uint32_t s = static_cast<uint32_t>(t.sec);
  for (int i = 0; i < 4; ++i) b[2 + i] = static_cast<char>(s >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) b[6 + i] = static_cast<char>(t.nsec >> (24 - 8 * i));
  out.append(b, 10);
}

void append_value(std::string& out, const Value& v) {
  switch (v.kind) {
    case ValueKind::Null: append_nil(out); break;
    case ValueKind::Bool: append_bool(out, v.boolean); break;
    case ValueKind::Int: append_int(out, v.integer); break;
    case ValueKind::Float: append_double(out, v.real); break;
    case ValueKind::String: append_str(out, v.text); break;
    case ValueKind::Json:
      if (!v.packed.empty())
        out.append(v.packed);
      else if (v.text.empty())
        append_nil(out);
      else if (!append_json(out, v.text))
        append_str(out, v.text);
      break;
  }
}

void append_record(std::string& out, const Batch& batch, const Record& record) {
  append_map_header(out, record.field_count + static_cast<uint32_t>(batch.common_fields.size()));
  for (const Field* f = batch.begin(record); f != batch.end(record); ++f) {
    append_str(out, f->key);
    append_value(out, f->value);
  }
  for (const Field& f : batch.common_fields) {
    append_str(out, f.key);
    append_value(out, f.value);
  }
}

void append_entry(std::string& out, const Batch& batch, const Record& record) {
  put8(out, 0x92);
  append_event_time(out, record.time);
  append_record(out, batch, record);
}

// ---- JSON → msgpack ----------------------------------------------------------------------

namespace {

class JsonConverter {
 public:
  JsonConverter(std::string& out, std::string_view in, int max_depth)
      : out_(out), p_(in.data()), end_(in.data() + in.size()), max_depth_(max_depth) {}

  bool run() {
    skip_ws();
    if (!value(0)) return false;
    skip_ws();
    return p_ == end_;
  }

 private:
  void skip_ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()))
      return false;
    p_ += word.size();
    return true;
  }

  // Containers: the header is written with a placeholder of the widest form (5 bytes) and
  // shrunk to the smallest once the element count is known.
  size_t open_header() {
    size_t pos = out_.size();
    out_.append(5, '\0');
    return pos;
  }
  void close_header(size_t pos, uint32_t n, bool map) {
    std::string h;
    if (map)
      append_map_header(h, n);
    else
      append_array_header(h, n);
    std::memcpy(&out_[pos], h.data(), h.size());
    if (h.size() < 5) out_.erase(pos + h.size(), 5 - h.size());
  }

  bool value(int depth) {
    if (p_ >= end_) return false;
    switch (*p_) {
      case '{': return object(depth + 1);
      case '[': return array(depth + 1);
      case '"': return string();
      case 't':
        if (!literal("true")) return false;
        append_bool(out_, true);
        return true;
      case 'f':
        if (!literal("false")) return false;
        append_bool(out_, false);
        return true;
      case 'n':
        if (!literal("null")) return false;
        append_nil(out_);
        return true;
      default: return number();
    }
  }

  bool object(int depth) {
    if (depth > max_depth_) return false;
    ++p_;  // {
    size_t pos = open_header();
    uint32_t n = 0;
    skip_ws();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      close_header(pos, 0, true);
      return true;
    }
    while (true) {
      skip_ws();
      if (p_ >= end_ || *p_ != '"' || !string()) return false;
      skip_ws();
      if (p_ >= end_ || *p_ != ':') return false;
      ++p_;
      skip_ws();
      if (!value(depth)) return false;
      ++n;
      skip_ws();
      if (p_ >= end_) return false;
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ != '}') return false;
      ++p_;
      break;
    }
    close_header(pos, n, true);
    return true;
  }

  bool array(int depth) {
    if (depth > max_depth_) return false;
    ++p_;  // [
    size_t pos = open_header();
    uint32_t n = 0;
    skip_ws();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      close_header(pos, 0, false);
      return true;
    }
    while (true) {
      skip_ws();
      if (!value(depth)) return false;
      ++n;
      skip_ws();
      if (p_ >= end_) return false;
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ != ']') return false;
      ++p_;
      break;
    }
    close_header(pos, n, false);
    return true;
  }

  bool hex4(uint32_t& cp) {
    if (end_ - p_ < 4 || !json_unescape::read_hex4(p_, cp)) return false;
    p_ += 4;
    return true;
  }

  static void utf8(std::string& s, uint32_t cp) {
    char bytes[4];
    s.append(bytes, json_unescape::write_utf8(bytes, cp));
  }

  bool string() {
    ++p_;  // "
    const char* start = p_;
    // Fast path: no escapes.
    while (p_ < end_ && *p_ != '"' && *p_ != '\\') ++p_;
    if (p_ >= end_) return false;
    if (*p_ == '"') {
      append_str(out_, std::string_view(start, static_cast<size_t>(p_ - start)));
      ++p_;
      return true;
    }
    scratch_.assign(start, static_cast<size_t>(p_ - start));
    while (p_ < end_) {
      char c = *p_++;
      if (c == '"') {
        append_str(out_, scratch_);
        return true;
      }
      if (c != '\\') {
        scratch_.push_back(c);
        continue;
      }
      if (p_ >= end_) return false;
      char e = *p_++;
      if (const char plain = json_unescape::one_letter(e); plain != 0) {
        scratch_.push_back(plain);
        continue;
      }
      uint32_t cp;
      if (e != 'u' || !hex4(cp)) return false;
      if (cp >= 0xd800 && cp < 0xdc00 && end_ - p_ >= 6 && p_[0] == '\\' && p_[1] == 'u') {
        const char* save = p_;
        p_ += 2;
        uint32_t lo;
        if (hex4(lo) && lo >= 0xdc00 && lo < 0xe000)
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        else
          p_ = save;
      }
      utf8(scratch_, cp);  // a lone surrogate is kept as its 3-byte form
    }
    return false;
  }

  bool number() {
    const char* start = p_;
    bool is_float = false;
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ >= end_ || *p_ < '0' || *p_ > '9') return false;
    while (p_ < end_ && ((*p_ >= '0' && *p_ <= '9') || *p_ == '.' || *p_ == 'e' || *p_ == 'E' ||
                         *p_ == '+' || *p_ == '-')) {
      if (*p_ == '.' || *p_ == 'e' || *p_ == 'E') is_float = true;
      ++p_;
    }
    if (!is_float) {
      if (*start == '-') {
        int64_t i;
        auto r = std::from_chars(start, p_, i);
        if (r.ec == std::errc() && r.ptr == p_) {
          append_int(out_, i);
          return true;
        }
      } else {
        uint64_t u;
        auto r = std::from_chars(start, p_, u);
        if (r.ec == std::errc() && r.ptr == p_) {
          append_uint(out_, u);
          return true;
        }
      }
      // Out of 64-bit range: a float, as the nearest a fixed-size encoding allows.
    }
    double d = 0;
    auto r = std::from_chars(start, p_, d);
    if (r.ptr != p_) return false;
    if (r.ec == std::errc::result_out_of_range)
      d = std::strtod(std::string(start, p_).c_str(), nullptr);  // ±HUGE_VAL or ±0
    else if (r.ec != std::errc())
      return false;
    append_double(out_, d);
    return true;
  }

  std::string& out_;
  const char* p_;
  const char* end_;
  int max_depth_;
  std::string scratch_;
};

}  // namespace

bool append_json(std::string& out, std::string_view json, int max_depth) {
  size_t mark = out.size();
  JsonConverter c(out, json, max_depth);
  if (c.run()) return true;
  out.resize(mark);
  return false;
}

}  // namespace sluice::msgpack
