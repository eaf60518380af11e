#include "format/msgpack_reader.h"

#include "format/json.h"

namespace sluice::mp {

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

bool skip(std::string_view data, size_t& pos, uint32_t max_depth) {
  if (pos > data.size()) return false;
  Reader r(data, max_depth);
  r.pos = pos;
  if (!r.skip()) return false;
  pos = size_t(r.pos);
  return true;
}

}  // namespace sluice::mp
