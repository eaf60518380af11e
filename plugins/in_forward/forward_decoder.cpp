#include "forward_decoder.h"

#include <time.h>
#include <zlib.h>
#include <zstd.h>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "format/json.h"

namespace sluice::forward {

namespace {

struct Head {
  enum Kind : uint8_t { Nil, Bool, UInt, Int, Float32, Float64, Str, Bin, Ext, Array, Map, Never };
  Kind kind = Never;
  uint32_t hdr = 1;    // header bytes (type byte, length, ext type)
  uint64_t len = 0;    // payload bytes that follow the header
  uint64_t count = 0;  // array items, or map keys + values
  int8_t ext_type = 0;
  uint64_t small = 0;  // value of fixints / bool
};

inline uint64_t be(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = v << 8 | p[i];
  return v;
}

// 1: read; 0: needs more bytes; -1: 0xc1 (never used).
int read_head(const uint8_t* p, uint64_t avail, Head& h) {
  if (avail < 1) return 0;
  const uint8_t b = p[0];
  h = Head{};
  auto need = [&](uint32_t n) { return avail >= n; };
  if (b <= 0x7f) {
    h.kind = Head::UInt;
    h.small = b;
  } else if (b >= 0xe0) {
    h.kind = Head::Int;
    h.small = b;
  } else if (b <= 0x8f) {
    h.kind = Head::Map;
    h.count = 2ull * (b & 0x0f);
  } else if (b <= 0x9f) {
    h.kind = Head::Array;
    h.count = b & 0x0f;
  } else if (b <= 0xbf) {
    h.kind = Head::Str;
    h.len = b & 0x1f;
  } else {
    switch (b) {
      case 0xc0: h.kind = Head::Nil; break;
      case 0xc1: return -1;
      case 0xc2: case 0xc3: h.kind = Head::Bool; h.small = b & 1; break;
      case 0xc4: case 0xc5: case 0xc6: {
        uint32_t n = 1u << (b - 0xc4);
        if (!need(1 + n)) return 0;
        h.kind = Head::Bin;
        h.hdr = 1 + n;
        h.len = be(p + 1, int(n));
        break;
      }
      case 0xc7: case 0xc8: case 0xc9: {
        uint32_t n = 1u << (b - 0xc7);
        if (!need(2 + n)) return 0;
        h.kind = Head::Ext;
        h.hdr = 2 + n;
        h.len = be(p + 1, int(n));
        h.ext_type = int8_t(p[1 + n]);
        break;
      }
      case 0xca: h.kind = Head::Float32; h.len = 4; break;
      case 0xcb: h.kind = Head::Float64; h.len = 8; break;
      case 0xcc: h.kind = Head::UInt; h.len = 1; break;
      case 0xcd: h.kind = Head::UInt; h.len = 2; break;
      case 0xce: h.kind = Head::UInt; h.len = 4; break;
      case 0xcf: h.kind = Head::UInt; h.len = 8; break;
      case 0xd0: h.kind = Head::Int; h.len = 1; break;
      case 0xd1: h.kind = Head::Int; h.len = 2; break;
      case 0xd2: h.kind = Head::Int; h.len = 4; break;
      case 0xd3: h.kind = Head::Int; h.len = 8; break;
      case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
        if (!need(2)) return 0;
        h.kind = Head::Ext;
        h.hdr = 2;
        h.len = 1ull << (b - 0xd4);
        h.ext_type = int8_t(p[1]);
        break;
      case 0xd9: case 0xda: case 0xdb: {
        uint32_t n = 1u << (b - 0xd9);
        if (!need(1 + n)) return 0;
        h.kind = Head::Str;
        h.hdr = 1 + n;
        h.len = be(p + 1, int(n));
        break;
      }
      case 0xdc: case 0xdd: {
        uint32_t n = b == 0xdc ? 2 : 4;
        if (!need(1 + n)) return 0;
        h.kind = Head::Array;
        h.hdr = 1 + n;
        h.count = be(p + 1, int(n));
        break;
      }
      case 0xde: case 0xdf: {
        uint32_t n = b == 0xde ? 2 : 4;
        if (!need(1 + n)) return 0;
        h.kind = Head::Map;
        h.hdr = 1 + n;
        h.count = 2 * be(p + 1, int(n));
        break;
      }
      default: return -1;
    }
  }
  return 1;
}

const char* kind_name(Head::Kind k) {
  switch (k) {
    case Head::Nil: return "nil";
    case Head::Bool: return "a boolean";
    case Head::UInt: case Head::Int: return "an integer";
    case Head::Float32: case Head::Float64: return "a float";
    case Head::Str: return "a string";
    case Head::Bin: return "a binary";
    case Head::Ext: return "an extension value";
    case Head::Array: return "an array";
    case Head::Map: return "a map";
    default: return "an invalid byte";
  }
}

std::string human_size(uint64_t n) {
  auto one = [](double x) {
    char b[32];
    snprintf(b, sizeof b, "%.1f", x);
    std::string s = b;
    if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
    return s;
  };
  if (n >= (1ull << 30)) return one(double(n) / double(1ull << 30)) + " GiB (" + std::to_string(n) + " bytes)";
  if (n >= (1ull << 20)) return one(double(n) / double(1ull << 20)) + " MiB (" + std::to_string(n) + " bytes)";
  return std::to_string(n) + " bytes";
}

// A bounds-checked reader over one complete, in-memory msgpack text.
struct Reader {
  const uint8_t* p;
  uint64_t size;
  uint64_t pos = 0;
  uint32_t max_depth;

  Reader(std::string_view d, uint32_t depth)
      : p(reinterpret_cast<const uint8_t*>(d.data())), size(d.size()), max_depth(depth) {}

  bool head(Head& h) {
    if (read_head(p + pos, size - pos, h) != 1) return false;
    if (h.len > size - pos - h.hdr) return false;
    return true;
  }
  std::string_view payload(const Head& h) const {
    return {reinterpret_cast<const char*>(p + pos + h.hdr), size_t(h.len)};
  }
  // Skips one object (iteratively).
  bool skip() {
    uint64_t pending = 1;
    std::vector<uint64_t> stack;
    while (pending > 0) {
      Head h;
      if (!head(h)) return false;
      pos += h.hdr + h.len;
      --pending;
      if ((h.kind == Head::Array || h.kind == Head::Map) && h.count > 0) {
        if (stack.size() + 1 > max_depth) return false;
        if (h.count > size - pos) return false;  // every item takes at least a byte
        stack.push_back(pending);
        pending = h.count;
      }
      while (pending == 0 && !stack.empty()) {
        pending = stack.back();
        stack.pop_back();
      }
    }
    return true;
  }
  bool integer(const Head& h, int64_t& out, bool& too_big) {
    too_big = false;
    const uint8_t* d = p + pos + h.hdr;
    if (h.kind == Head::UInt) {
      uint64_t u = h.len == 0 ? h.small : be(d, int(h.len));
      if (u > uint64_t(INT64_MAX)) {
        too_big = true;
        return true;
      }
      out = int64_t(u);
      return true;
    }
    if (h.kind == Head::Int) {
      if (h.len == 0) {
        out = int8_t(uint8_t(h.small));
        return true;
      }
      uint64_t u = be(d, int(h.len));
      int shift = 64 - 8 * int(h.len);
      out = shift ? int64_t(u << shift) >> shift : int64_t(u);
      return true;
    }
    return false;
  }
  double real(const Head& h) {
    const uint8_t* d = p + pos + h.hdr;
    if (h.kind == Head::Float32) {
      uint32_t bits = uint32_t(be(d, 4));
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
    uint64_t bits = be(d, 8);
    double x;
    std::memcpy(&x, &bits, 8);
    return x;
  }
};

bool is_event_time(const Head& h) { return h.kind == Head::Ext && h.ext_type == 0 && h.len == 8; }

EventTime wall_now() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return EventTime{int64_t(ts.tv_sec), uint32_t(ts.tv_nsec), false};
}

// Writes the msgpack value at r.pos as JSON (Ruby's to_json of what msgpack-ruby decodes), and
// advances past it. Depth-bounded recursion.
bool write_json(Reader& r, std::string& out, uint32_t depth) {
  if (depth > r.max_depth) return false;
  Head h;
  if (!r.head(h)) return false;
  switch (h.kind) {
    case Head::Nil: out += "null"; break;
    case Head::Bool: out += h.small ? "true" : "false"; break;
    case Head::UInt: case Head::Int: {
      int64_t i = 0;
      bool big = false;
      r.integer(h, i, big);
      out += big ? std::to_string(be(r.p + r.pos + h.hdr, 8)) : std::to_string(i);
      break;
    }
    case Head::Float32: case Head::Float64: json::append_double(out, r.real(h)); break;
    case Head::Str: case Head::Bin: json::append_string(out, r.payload(h)); break;
    case Head::Ext:
      // EventTime inside a record: its seconds (Fluent::EventTime#to_json); others: null.
      if (is_event_time(h)) out += std::to_string(be(r.p + r.pos + h.hdr, 4));
      else out += "null";
      break;
    case Head::Array: {
      r.pos += h.hdr;
      out.push_back('[');
      for (uint64_t i = 0; i < h.count; ++i) {
        if (i) out.push_back(',');
        if (!write_json(r, out, depth + 1)) return false;
      }
      out.push_back(']');
      return true;
    }
    case Head::Map: {
      r.pos += h.hdr;
      out.push_back('{');
      for (uint64_t i = 0; i < h.count; i += 2) {
        if (i) out.push_back(',');
        Head k;
        if (!r.head(k)) return false;
        if (k.kind == Head::Str || k.kind == Head::Bin) {
          json::append_string(out, r.payload(k));
          r.pos += k.hdr + k.len;
        } else if (k.kind == Head::Array || k.kind == Head::Map) {
          return false;  // a key JSON cannot hold
        } else {
          std::string key;
          if (!write_json(r, key, depth + 1)) return false;
          if (key == "null") key.clear();  // nil.to_s
          json::append_string(out, key);
        }
        out.push_back(':');
        if (!write_json(r, out, depth + 1)) return false;
      }
      out.push_back('}');
      return true;
    }
    default: return false;
  }
  r.pos += h.hdr + h.len;
  return true;
}

}  // namespace

bool mp::skip(std::string_view data, size_t& pos, uint32_t max_depth) {
  if (pos > data.size()) return false;
  Reader r(data, max_depth);
  r.pos = pos;
  if (!r.skip()) return false;
  pos = size_t(r.pos);
  return true;
}

// ---------------------------------------------------------------------------------------------

FrameScanner::Status FrameScanner::scan(std::string_view data, uint64_t& frame_len,
                                        std::string& error) {
  auto* p = reinterpret_cast<const uint8_t*>(data.data());
  const uint64_t size = data.size();
  while (true) {
    Head h;
    int rc = read_head(p + pos_, size - pos_, h);
    if (rc == 0) return Status::NeedMore;  // pos_ <= max_frame always
    if (rc < 0) {
      error = "invalid msgpack byte 0xc1 at offset " + std::to_string(pos_);
      return Status::Error;
    }
    const uint64_t item_end = pos_ + h.hdr + h.len;
    if (h.len > limits_.max_frame || item_end > limits_.max_frame) {
      error = std::string("frame declares ") + kind_name(h.kind) + " of " + human_size(h.len) +
              ", over the frame limit of " + human_size(limits_.max_frame);
      return Status::Error;
    }
    const bool container = h.kind == Head::Array || h.kind == Head::Map;
    if (container && h.count > 0) {
      // Each item takes at least one byte: a count that cannot fit is rejected now.
      if (h.count > limits_.max_frame - item_end) {
        error = std::string("frame declares ") + kind_name(h.kind) + " of " +
                std::to_string(h.kind == Head::Map ? h.count / 2 : h.count) +
                " entries, over the frame limit of " + human_size(limits_.max_frame);
        return Status::Error;
      }
      if (stack_.size() + 1 > limits_.max_depth) {
        error = "frame nests arrays/maps deeper than " + std::to_string(limits_.max_depth);
        return Status::Error;
      }
    }
    if (item_end > size) return Status::NeedMore;  // wait for the whole payload (not allocated)
    pos_ = item_end;
    if (container && h.count > 0) {
      stack_.push_back(h.count);
      continue;
    }
    // One item done: close the containers it completes.
    while (!stack_.empty()) {
      if (--stack_.back() > 0) break;
      stack_.pop_back();
    }
    if (stack_.empty()) {
      frame_len = pos_;
      return Status::Complete;
    }
  }
}

// ---------------------------------------------------------------------------------------------

bool FrameDecoder::decode(std::string_view frame, Batch& batch, FrameInfo& info,
                          std::string& error) {
  info = FrameInfo{};
  if (inflated_.capacity() > (16u << 20)) std::string().swap(inflated_);  // after a huge frame
  Reader r(frame, limits_.max_depth);
  Head h;
  if (!r.head(h)) {
    error = "malformed msgpack";
    return false;
  }
  if (h.kind == Head::Nil && frame.size() == 1) {
    info.mode = FrameInfo::Mode::Heartbeat;
    return true;
  }
  if (h.kind != Head::Array) {
    error = std::string("not a forward request: the frame is ") + kind_name(h.kind) +
            " (first byte 0x" + "0123456789abcdef"[uint8_t(frame[0]) >> 4] +
            "0123456789abcdef"[uint8_t(frame[0]) & 15] + "), not an array";
    return false;
  }
  if (h.count < 2 || h.count > 4) {
    error = "not a forward request: an array of " + std::to_string(h.count) + " elements";
    return false;
  }
  const uint64_t n = h.count;
  r.pos += h.hdr;
  // Tag.
  Head t;
  if (!r.head(t) || (t.kind != Head::Str && t.kind != Head::Bin)) {
    error = std::string("not a forward request: the tag is ") + kind_name(t.kind);
    return false;
  }
  info.tag.assign(r.payload(t));
  r.pos += t.hdr + t.len;
  // Second element decides the mode.
  Head second;
  if (!r.head(second)) {
    error = "malformed msgpack";
    return false;
  }
  const uint64_t second_at = r.pos;
  if (!r.skip()) {
    error = "malformed msgpack";
    return false;
  }
  const uint64_t second_end = r.pos;
  std::string_view second_bytes = frame.substr(second_at, second_end - second_at);

  std::string_view record_bytes;
  std::string_view option_bytes;
  bool message = !(second.kind == Head::Array || second.kind == Head::Str ||
                   second.kind == Head::Bin);
  if (message) {
    if (n < 3) {
      error = "not a forward request: Message mode without a record";
      return false;
    }
    uint64_t at = r.pos;
    if (!r.skip()) {
      error = "malformed msgpack";
      return false;
    }
    record_bytes = frame.substr(at, r.pos - at);
    if (n == 4) {
      at = r.pos;
      if (!r.skip()) {
        error = "malformed msgpack";
        return false;
      }
      option_bytes = frame.substr(at, r.pos - at);
    }
  } else {
    if (n == 4) {
      error = "not a forward request: Forward mode with 4 elements";
      return false;
    }
    if (n == 3) {
      uint64_t at = r.pos;
      if (!r.skip()) {
        error = "malformed msgpack";
        return false;
      }
      option_bytes = frame.substr(at, r.pos - at);
    }
  }
  if (r.pos != frame.size()) {
    error = "malformed msgpack (trailing bytes)";
    return false;
  }

  // Options: chunk, compressed (size is informational).
  std::string compressed;
  if (!option_bytes.empty()) {
    Reader o(option_bytes, limits_.max_depth);
    Head m;
    if (o.head(m) && m.kind == Head::Map) {
      o.pos += m.hdr;
      for (uint64_t i = 0; i < m.count; i += 2) {
        Head k;
        if (!o.head(k)) break;
        std::string_view key = (k.kind == Head::Str || k.kind == Head::Bin) ? o.payload(k) : "";
        o.pos += k.hdr + k.len;
        Head v;
        if (!o.head(v)) break;
        if ((v.kind == Head::Str || v.kind == Head::Bin) && (key == "chunk" || key == "compressed")) {
          if (key == "chunk") info.chunk.assign(o.payload(v));
          else compressed.assign(o.payload(v));
        }
        if (!o.skip()) break;
      }
    }
  }

  if (message) {
    info.mode = FrameInfo::Mode::Message;
    add_event(second_bytes, record_bytes, batch, info);
    return true;
  }
  if (second.kind == Head::Array) {
    info.mode = FrameInfo::Mode::Forward;
    Reader e(second_bytes, limits_.max_depth);
    Head arr;
    e.head(arr);
    e.pos += arr.hdr;
    for (uint64_t i = 0; i < arr.count; ++i) {
      Head entry;
      uint64_t at = e.pos;
      if (!e.head(entry)) break;
      if (entry.kind != Head::Array || entry.count != 2) {
        e.skip();
        ++info.skipped;
        if (info.skip_reason.empty())
          info.skip_reason = std::string("an entry is ") + kind_name(entry.kind) +
                             (entry.kind == Head::Array ? " of " + std::to_string(entry.count) + " elements" : "") +
                             ", not [time, record]";
        continue;
      }
      e.pos += entry.hdr;
      uint64_t t0 = e.pos;
      e.skip();
      uint64_t r0 = e.pos;
      e.skip();
      add_event(second_bytes.substr(t0, r0 - t0), second_bytes.substr(r0, e.pos - r0), batch, info);
      (void)at;
    }
    return true;
  }
  // PackedForward (str or bin), maybe compressed.
  std::string_view entries = frame.substr(second_at + second.hdr, second.len);
  if (!compressed.empty() && compressed != "text") {
    info.mode = FrameInfo::Mode::CompressedPackedForward;
    std::string why;
    bool ok = compressed == "gzip"   ? inflate_gzip(entries, why)
              : compressed == "zstd" ? inflate_zstd(entries, why)
                                     : (why = "unknown compression '" + compressed.substr(0, 32) + "'", false);
    if (!ok) {
      // The frame was delimited fine: the connection stays usable, the payload is lost.
      info.entries_error = why;
      return true;
    }
    decode_entries(inflated_, batch, info);
    return true;
  }
  info.mode = FrameInfo::Mode::PackedForward;
  decode_entries(entries, batch, info);
  return true;
}

bool FrameDecoder::decode_entries(std::string_view entries, Batch& batch, FrameInfo& info) {
  Reader e(entries, limits_.max_depth);
  while (e.pos < e.size) {
    uint64_t at = e.pos;
    Head entry;
    if (!e.head(entry) || !e.skip()) {
      info.entries_error = "undecodable bytes in the packed entries at offset " +
                           std::to_string(at) + " of " + std::to_string(entries.size());
      return false;
    }
    if (entry.kind != Head::Array || entry.count != 2) {
      ++info.skipped;
      if (info.skip_reason.empty())
        info.skip_reason = std::string("an entry is ") + kind_name(entry.kind) + ", not [time, record]";
      continue;
    }
    Reader in(entries.substr(at, e.pos - at), limits_.max_depth);
    in.pos = entry.hdr;
    uint64_t t0 = in.pos;
    in.skip();
    uint64_t r0 = in.pos;
    in.skip();
    std::string_view ev = entries.substr(at, e.pos - at);
    add_event(ev.substr(t0, r0 - t0), ev.substr(r0, in.pos - r0), batch, info);
  }
  return true;
}

bool FrameDecoder::add_event(std::string_view time_bytes, std::string_view record_bytes,
                             Batch& batch, FrameInfo& info) {
  auto skip = [&](std::string reason) {
    ++info.skipped;
    if (info.skip_reason.empty()) info.skip_reason = std::move(reason);
    return false;
  };
  // Time: EventTime (ext 0, 8 bytes), integer, float; nil or 0 means now (as Fluentd does).
  Reader tr(time_bytes, limits_.max_depth);
  Head th;
  if (!tr.head(th)) return skip("malformed time");
  EventTime time;
  bool use_now = false;
  if (is_event_time(th)) {
    const uint8_t* d = tr.p + th.hdr;
    time.sec = int64_t(be(d, 4));
    time.nsec = uint32_t(be(d + 4, 4));
    if (time.nsec > 999999999) return skip("EventTime nanoseconds out of range");
    use_now = time.sec == 0;
  } else if (th.kind == Head::UInt || th.kind == Head::Int) {
    int64_t i = 0;
    bool big = false;
    tr.integer(th, i, big);
    if (big) return skip("integer time out of range");
    time.sec = i;
    time.integer = true;
    use_now = i == 0;
  } else if (th.kind == Head::Float32 || th.kind == Head::Float64) {
    double x = tr.real(th);
    if (!std::isfinite(x) || std::fabs(x) > 1e15) return skip("float time out of range");
    double s = std::floor(x);
    time.sec = int64_t(s);
    time.nsec = uint32_t(std::min(999999999.0, std::round((x - s) * 1e9)));
    use_now = time.sec == 0;
  } else if (th.kind == Head::Nil) {
    use_now = true;
  } else {
    return skip(std::string("the time is ") + kind_name(th.kind));
  }
  if (use_now) time = now ? now() : wall_now();

  Reader rr(record_bytes, limits_.max_depth);
  Head rh;
  if (!rr.head(rh)) return skip("malformed record");
  if (rh.kind != Head::Map) return skip(std::string("the record is ") + kind_name(rh.kind) + ", not a map");
  rr.pos += rh.hdr;
  const size_t fields_before = batch.fields.size();
  batch.begin_record(time);
  for (uint64_t i = 0; i < rh.count; i += 2) {
    Head k;
    if (!rr.head(k)) {
      batch.drop_last_record();
      return skip("malformed record");
    }
    std::string_view key;
    if (k.kind == Head::Str || k.kind == Head::Bin) {
      key = rr.payload(k);
      rr.pos += k.hdr + k.len;
    } else if (k.kind == Head::Array || k.kind == Head::Map) {
      batch.drop_last_record();
      return skip("a record key is an array or map");
    } else {
      scratch_.clear();
      if (!write_json(rr, scratch_, 1)) {
        batch.drop_last_record();
        return skip("malformed record");
      }
      if (scratch_ == "null") scratch_.clear();
      key = batch.arena.copy(scratch_);
    }
    Head v;
    if (!rr.head(v)) {
      batch.drop_last_record();
      return skip("malformed record");
    }
    Value value;
    const uint64_t vstart = rr.pos;
    switch (v.kind) {
      case Head::Nil: value = Value::null(); break;
      case Head::Bool: value = Value::of_bool(v.small != 0); break;
      case Head::UInt: case Head::Int: {
        int64_t x = 0;
        bool big = false;
        rr.integer(v, x, big);
        if (big) {
          std::string text = std::to_string(be(rr.p + rr.pos + v.hdr, 8));
          value = Value::of_json(batch.arena.copy(text), record_bytes.substr(vstart, v.hdr + v.len));
        } else {
          value = Value::of_int(x);
        }
        break;
      }
      case Head::Float32: case Head::Float64: value = Value::of_float(rr.real(v)); break;
      case Head::Str: case Head::Bin: value = Value::of_string(rr.payload(v)); break;
      case Head::Ext: case Head::Array: case Head::Map: {
        scratch_.clear();
        Reader jr = rr;
        if (!write_json(jr, scratch_, 1)) {
          batch.drop_last_record();
          return skip("a nested value cannot be represented as JSON (array or map keys)");
        }
        value = Value::of_json(batch.arena.copy(scratch_),
                               record_bytes.substr(vstart, jr.pos - vstart));
        rr.pos = jr.pos;
        batch.add_field(key, value);
        continue;
      }
      default:
        batch.drop_last_record();
        return skip("malformed record");
    }
    rr.pos += v.hdr + v.len;
    batch.add_field(key, value);
  }
  (void)fields_before;
  ++info.events;
  return true;
}

bool FrameDecoder::inflate_gzip(std::string_view in, std::string& error) {
  inflated_.clear();
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    error = "zlib init failed";
    return false;
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = uInt(in.size());
  char buf[64 * 1024];
  bool ok = true;
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    int rc = inflate(&zs, Z_NO_FLUSH);
    size_t got = sizeof buf - zs.avail_out;
    if (inflated_.size() + got > limits_.max_inflated) {
      error = "gzip payload inflates beyond the limit of " + human_size(limits_.max_inflated);
      ok = false;
      break;
    }
    inflated_.append(buf, got);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Concatenated gzip members (Fluentd writes one per append to the chunk).
      if (inflateReset(&zs) != Z_OK) {
        error = "gzip: cannot reset";
        ok = false;
        break;
      }
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      error = "gzip payload is truncated";
      ok = false;
      break;
    }
    if (rc != Z_OK) {
      error = std::string("gzip payload is corrupt (") + (zs.msg ? zs.msg : "zlib error") + ")";
      ok = false;
      break;
    }
  }
  inflateEnd(&zs);
  return ok;
}

bool FrameDecoder::inflate_zstd(std::string_view in, std::string& error) {
  inflated_.clear();
  ZSTD_DStream* ds = ZSTD_createDStream();
  if (!ds) {
    error = "zstd init failed";
    return false;
  }
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  char buf[64 * 1024];
  bool ok = true;
  size_t last = 1;
  while (ib.pos < ib.size || last != 0) {
    ZSTD_outBuffer ob{buf, sizeof buf, 0};
    size_t before = ib.pos;
    last = ZSTD_decompressStream(ds, &ob, &ib);
    if (ZSTD_isError(last)) {
      error = std::string("zstd payload is corrupt (") + ZSTD_getErrorName(last) + ")";
      ok = false;
      break;
    }
    if (inflated_.size() + ob.pos > limits_.max_inflated) {
      error = "zstd payload inflates beyond the limit of " + human_size(limits_.max_inflated);
      ok = false;
      break;
    }
    inflated_.append(buf, ob.pos);
    if (ib.pos == ib.size && ob.pos == 0 && before == ib.pos && last != 0) {
      error = "zstd payload is truncated";
      ok = false;
      break;
    }
  }
  ZSTD_freeDStream(ds);
  return ok;
}

}  // namespace sluice::forward
