#include "forward_frame.h"

#include <zstd.h>

#include <algorithm>
#include <cstdint>

#include "core/log.h"
#include "format/base64.h"
#include "format/msgpack.h"
#include "format/msgpack_reader.h"
#include "http/http_client.h"
#include "../in_forward/forward_decoder.h"

namespace sluice::forward_out {

std::string frame_head(std::string_view tag, size_t entries_size) {
  std::string h;
  msgpack::append_array_header(h, 3);
  msgpack::append_str(h, tag);
  h.push_back(char(0xdb));
  for (int s = 24; s >= 0; s -= 8) h.push_back(char((entries_size >> s) & 0xff));
  return h;
}

std::string frame_options(uint64_t size, std::string_view compressed, std::string_view chunk) {
  std::string o;
  msgpack::append_map_header(o, chunk.empty() ? 2 : 3);
  msgpack::append_str(o, "size");
  msgpack::append_uint(o, size);
  msgpack::append_str(o, "compressed");
  msgpack::append_str(o, compressed);
  if (!chunk.empty()) {
    msgpack::append_str(o, "chunk");
    msgpack::append_str(o, chunk);
  }
  return o;
}

bool compress_entries(std::string_view entries, const std::string& compress, std::string& out) {
  if (compress == "gzip") {
    out = http::gzip_compress(entries, 6);
    return !out.empty() || entries.empty();
  }
  if (compress != "zstd") return true;
  // One zstd frame at zstd's default level (zstd-ruby's, which Fluentd's `compress zstd` uses).
  out.resize(ZSTD_compressBound(entries.size()));
  const size_t n = ZSTD_compress(out.data(), out.size(), entries.data(), entries.size(), ZSTD_CLEVEL_DEFAULT);
  if (ZSTD_isError(n)) return false;
  out.resize(n);
  return true;
}

std::string chunk_id(uint64_t random_high, uint64_t random_low) {
  std::string raw(16, '\0');
  for (int k = 0; k < 8; ++k) {
    raw[k] = char(random_high >> (8 * k));
    raw[8 + k] = char(random_low >> (8 * k));
  }
  return base64_encode(raw) + '\n';
}

namespace {

bool read_str(std::string_view d, size_t& pos, std::string_view& out) {
  if (pos >= d.size()) return false;
  auto b = uint8_t(d[pos]);
  size_t len = 0, hdr = 1;
  if ((b & 0xe0) == 0xa0) len = b & 0x1f;
  else if ((b == 0xd9 || b == 0xc4) && pos + 2 <= d.size()) { len = uint8_t(d[pos + 1]); hdr = 2; }
  else if ((b == 0xda || b == 0xc5) && pos + 3 <= d.size()) { len = size_t(uint8_t(d[pos + 1])) << 8 | uint8_t(d[pos + 2]); hdr = 3; }
  else return false;
  if (pos + hdr + len > d.size()) return false;
  out = d.substr(pos + hdr, len);
  pos += hdr + len;
  return true;
}

}  // namespace

bool check_ack(std::string_view resp, const std::string& chunk_id, std::string& error) {
  auto* p = reinterpret_cast<const uint8_t*>(resp.data());
  size_t pos = 0;
  uint64_t pairs = 0;
  if (!resp.empty() && (p[0] & 0xf0) == 0x80) {
    pairs = p[0] & 0x0f;
    pos = 1;
  } else if (resp.size() >= 3 && p[0] == 0xde) {
    pairs = uint64_t(p[1]) << 8 | p[2];
    pos = 3;
  } else {
    error = "unexpected response " + log::quote_excerpt(resp, 60) + " (expected {\"ack\": ...})";
    return false;
  }
  std::string ack;
  bool found = false;
  for (uint64_t i = 0; i < pairs; ++i) {
    std::string_view k, v;
    bool ks = read_str(resp, pos, k);
    if (!ks && !mp::skip(resp, pos, 8)) break;
    size_t vpos = pos;
    bool vs = read_str(resp, pos, v);
    if (!vs) {
      pos = vpos;
      if (!mp::skip(resp, pos, 8)) break;
    }
    if (ks && k == "ack" && vs) {
      ack.assign(v);
      found = true;
    }
  }
  if (!found) {
    error = "the server answered without an ack (rejected the chunk?): " + log::quote_excerpt(resp, 60);
    return false;
  }
  if (ack != chunk_id) {
    error = "ack in response and chunk id in sent data are different";
    return false;
  }
  return true;
}

std::vector<Server*> order_servers(std::vector<Server>& servers, double now) {
  std::vector<Server*> primaries, standbys, down;
  for (auto& sv : servers) {
    bool up = sv.available && sv.down_until <= now;
    if (!up) down.push_back(&sv);
    else if (sv.standby || sv.weight <= 0) standbys.push_back(&sv);
    else primaries.push_back(&sv);
  }
  std::vector<Server*> out;
  if (!primaries.empty()) {
    int total = 0;
    Server* best = nullptr;
    for (Server* sv : primaries) {
      sv->current += sv->weight;
      total += sv->weight;
      if (!best || sv->current > best->current) best = sv;
    }
    best->current -= total;
    out.push_back(best);
    for (Server* sv : primaries)
      if (sv != best) out.push_back(sv);
  }
  out.insert(out.end(), standbys.begin(), standbys.end());
  std::sort(down.begin(), down.end(), [](Server* a, Server* b) { return a->down_until < b->down_until; });
  out.insert(out.end(), down.begin(), down.end());
  return out;
}

}  // namespace sluice::forward_out
