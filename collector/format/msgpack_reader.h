// Bounded msgpack readers (in_forward's frame scanner and decoder, in_http's bodies): the header
// of one object, and a bounds-checked reader over one complete in-memory text. Inline because the
// scanner and the record decoder run them on every byte received.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::mp {

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
inline int read_head(const uint8_t* p, uint64_t avail, Head& h) {
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

const char* kind_name(Head::Kind k);

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

inline bool is_event_time(const Head& h) { return h.kind == Head::Ext && h.ext_type == 0 && h.len == 8; }

// Writes the msgpack value at r.pos as JSON (Ruby's to_json of what msgpack-ruby decodes), and
// advances past it. Depth-bounded recursion.
bool write_json(Reader& r, std::string& out, uint32_t depth);

// Reads one msgpack object at data[pos]: advances pos past it. False when malformed/truncated.
bool skip(std::string_view data, size_t& pos, uint32_t max_depth);

}  // namespace sluice::mp
