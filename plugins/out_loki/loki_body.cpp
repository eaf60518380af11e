// The push body of a chunk (see loki_format.h): its entries grouped into streams and sorted.
#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "format/json.h"
#include "loki_format.h"

namespace sluice::loki {

namespace {

struct Entry {
  std::string_view labels, residue, value;
  uint32_t thread_at;
  int64_t ns;
};

// Reads the entries of a payload; false when it is not a whole sequence of them.
bool read_entries(std::string_view p, std::vector<Entry>* out, size_t& count) {
  size_t i = 0;
  count = 0;
  auto u32 = [&](uint32_t& v) {
    if (p.size() - i < 4) return false;
    std::memcpy(&v, p.data() + i, 4);
    i += 4;
    return true;
  };
  while (i < p.size()) {
    uint32_t ls, rs, at, vs;
    int64_t ns;
    if (!u32(ls) || !u32(rs) || !u32(at)) return false;
    if (p.size() - i < size_t(ls) + rs + 8 || at >= ls || ls < 2) return false;
    Entry e;
    e.labels = p.substr(i, ls);
    e.residue = p.substr(i + ls, rs);
    e.thread_at = at;
    i += size_t(ls) + rs;
    std::memcpy(&ns, p.data() + i, 8);
    i += 8;
    if (!u32(vs) || p.size() - i < vs) return false;
    e.value = p.substr(i, vs);
    e.ns = ns;
    i += vs;
    ++count;
    if (out) out->push_back(e);
  }
  return true;
}

struct KeyHash {
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

}  // namespace

int64_t count_entries(std::string_view payload) {
  size_t n = 0;
  return read_entries(payload, nullptr, n) ? int64_t(n) : -1;
}

bool build_body(std::string_view payload, std::string_view thread, std::string& body,
                std::string& error) {
  std::vector<Entry> entries;
  size_t n = 0;
  if (!read_entries(payload, &entries, n)) {
    error = "the chunk is damaged (not a sequence of Loki entries)";
    return false;
  }
  // Streams in first-seen order (a Ruby Hash), keyed by labels and residue, which are adjacent.
  std::unordered_map<std::string_view, size_t, KeyHash> index;
  std::vector<std::vector<uint32_t>> streams;
  for (uint32_t k = 0; k < entries.size(); ++k) {
    const Entry& e = entries[k];
    std::string_view key(e.labels.data(), e.labels.size() + e.residue.size());
    auto [it, added] = index.emplace(key, streams.size());
    if (added) streams.emplace_back();
    streams[it->second].push_back(k);
  }
  std::string thread_member;
  if (!thread.empty()) {
    thread_member = "\"fluentd_thread\":";
    json::append_string(thread_member, thread, json::HexCase::Upper);
  }
  body.clear();
  body.reserve(payload.size() + 32 + streams.size() * (32 + thread_member.size()));
  body.append("{\"streams\":[");
  for (size_t s = 0; s < streams.size(); ++s) {
    auto& members = streams[s];
    // out_loki.rb payload_builder: sort_by [ts, index], a stable sort by time.
    std::stable_sort(members.begin(), members.end(),
                     [&](uint32_t a, uint32_t b) { return entries[a].ns < entries[b].ns; });
    const Entry& head = entries[members.front()];
    if (s) body.push_back(',');
    body.append("{\"stream\":");
    if (thread_member.empty()) {
      body.append(head.labels);
    } else {
      const size_t at = head.thread_at;
      body.append(head.labels.substr(0, at));
      if (at > 1) body.push_back(',');
      body.append(thread_member);
      if (at == 1 && head.labels[1] != '}') body.push_back(',');
      body.append(head.labels.substr(at));
    }
    body.append(",\"values\":[");
    for (size_t k = 0; k < members.size(); ++k) {
      if (k) body.push_back(',');
      body.append(entries[members[k]].value);
    }
    body.append("]}");
  }
  body.append("]}");
  return true;
}

}  // namespace sluice::loki
