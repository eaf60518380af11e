#include "forward_decoder.h"

#include <time.h>
#include <zlib.h>
#include <zstd.h>

#include <cmath>
#include <cstdio>

#include "format/msgpack_reader.h"

namespace sluice::forward {

using mp::be;
using mp::Head;
using mp::is_event_time;
using mp::kind_name;
using mp::read_head;
using mp::Reader;
using mp::write_json;

namespace {

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

EventTime wall_now() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return EventTime{int64_t(ts.tv_sec), uint32_t(ts.tv_nsec), false};
}

}  // namespace

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
