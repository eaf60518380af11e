// Shared by the libFuzzer targets in tests/fuzz (and, through them, by the corpus regression test
// tests/unit/fuzz_corpus): invariant checks that abort, a msgpack well-formedness check, and a
// driver that runs a registered parser plugin over input lines the way in_tail does.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/params.h"
#include "core/metrics.h"
#include "core/plugin.h"
#include "core/registry.h"
#include "format/json.h"
#include "format/msgpack.h"
#include "../../plugins/out_elasticsearch/es_format.h"

// An invariant of the code under test: a crash for libFuzzer, a failed run for the unit test.
#define SLUICE_FUZZ_CHECK(cond)                                                               \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

namespace sluice::fuzz {

// Skips one msgpack object; nullptr when it is malformed or truncated.
inline const uint8_t* skip_msgpack(const uint8_t* p, const uint8_t* end, int depth = 0) {
  if (p >= end || depth > 512) return nullptr;
  const uint8_t b = *p++;
  auto be = [&](int n, uint64_t& v) {
    if (end - p < n) return false;
    v = 0;
    for (int i = 0; i < n; ++i) v = v << 8 | *p++;
    return true;
  };
  uint64_t len = 0, items = 0;
  if (b <= 0x7f || b >= 0xe0 || (b >= 0xc0 && b <= 0xc3)) return p;                // fixint, nil, bool
  if (b >= 0xa0 && b <= 0xbf) len = b & 0x1f;                                        // fixstr
  else if (b >= 0x90 && b <= 0x9f) items = b & 0x0f;                                 // fixarray
  else if (b >= 0x80 && b <= 0x8f) items = 2 * (b & 0x0f);                           // fixmap
  else if (b == 0xcc || b == 0xd0) len = 1;                                          // (u)int8
  else if (b == 0xcd || b == 0xd1) len = 2;
  else if (b == 0xca || b == 0xce || b == 0xd2) len = 4;
  else if (b == 0xcb || b == 0xcf || b == 0xd3) len = 8;
  else if (b == 0xd9 || b == 0xc4) { if (!be(1, len)) return nullptr; }              // str8, bin8
  else if (b == 0xda || b == 0xc5) { if (!be(2, len)) return nullptr; }
  else if (b == 0xdb || b == 0xc6) { if (!be(4, len)) return nullptr; }
  else if (b == 0xdc) { if (!be(2, items)) return nullptr; }
  else if (b == 0xdd) { if (!be(4, items)) return nullptr; }
  else if (b == 0xde) { if (!be(2, items)) return nullptr; items *= 2; }
  else if (b == 0xdf) { if (!be(4, items)) return nullptr; items *= 2; }
  else if (b >= 0xd4 && b <= 0xd8) len = 1 + (uint64_t{1} << (b - 0xd4));           // fixext
  else if (b >= 0xc7 && b <= 0xc9) { if (!be(1 << (b - 0xc7), len)) return nullptr; len += 1; }  // ext
  else return nullptr;                                                               // 0xc1: never used
  if (static_cast<uint64_t>(end - p) < len) return nullptr;
  p += len;
  for (uint64_t i = 0; i < items && p; ++i) p = skip_msgpack(p, end, depth + 1);
  return p;
}

// Exactly one well-formed msgpack object.
inline bool valid_msgpack(std::string_view s) {
  auto* p = reinterpret_cast<const uint8_t*>(s.data());
  return skip_msgpack(p, p + s.size()) == p + s.size();
}

inline es::FormatConfig bulk_config(bool use_shapes) {
  es::FormatConfig c;
  c.logstash_format = true;
  c.include_tag_key = true;
  c.use_shapes = use_shapes;
  return c;
}

// The Elasticsearch bulk lines of a batch through the formatter's shaped path and through its
// general path: the same bytes. The formatters live across inputs, as shapes do in a process.
inline void check_bulk_paths(const Batch& batch) {
  static es::BulkFormatter shaped(bulk_config(true)), general(bulk_config(false));
  std::string a, b;
  for (auto [f, out] : {std::pair{&shaped, &a}, std::pair{&general, &b}}) {
    f->begin_batch(batch);
    for (const Record& r : batch.records) f->append(*out, batch, r, f->index_for(batch, r));
  }
  SLUICE_FUZZ_CHECK(a == b);
}

// Formats a batch as the outputs do (JSON both hex cases, msgpack record and entry, bulk lines)
// and checks that what msgpack produced is well formed, that Json values hold convertible JSON
// and that strings marked plain hold nothing to escape.
inline void format_batch(const Batch& batch) {
  check_bulk_paths(batch);
  std::string out;
  for (const Record& r : batch.records) {
    out.clear();
    json::append_record(out, batch, r);
    json::append_record(out, batch, r, json::HexCase::Upper);
    out.clear();
    msgpack::append_record(out, batch, r);
    SLUICE_FUZZ_CHECK(valid_msgpack(out));
    out.clear();
    msgpack::append_entry(out, batch, r);
    SLUICE_FUZZ_CHECK(valid_msgpack(out));
    for (const Field* f = batch.begin(r); f != batch.end(r); ++f) {
      if (f->value.plain) {  // JSON writers copy it unchecked: nothing in it may need escaping
        for (unsigned char c : f->value.text) SLUICE_FUZZ_CHECK(c >= 0x20 && c != '"' && c != '\\');
      }
      if (f->value.kind != ValueKind::Json) continue;
      out.clear();
      SLUICE_FUZZ_CHECK(msgpack::append_json(out, f->value.text, 1 << 20));  // valid JSON text
      SLUICE_FUZZ_CHECK(f->value.packed.empty() || valid_msgpack(f->value.packed));
    }
  }
}

// A parser plugin built through the Registry as the pipeline builds it, from `<parse>` params.
struct ParserStreamFuzzer {
  Registry registry;
  Metrics metrics;
  ConfigSection section;
  PluginContext ctx;
  std::unique_ptr<ParserPlugin> plugin;

  using KV = std::vector<std::pair<std::string, std::string>>;
  ParserStreamFuzzer(const std::string& type, KV params, std::vector<ConfigSection> children = {}) {
    register_all_plugins(registry);
    section.name = "parse";
    section.pos = {"fuzz.conf", 1};
    section.params.push_back({"@type", type, {"fuzz.conf", 1}});
    for (auto& [k, v] : params) section.params.push_back({k, v, {"fuzz.conf", 2}});
    section.children = std::move(children);
    ctx.registry = &registry;
    ctx.metrics = &metrics;
    ctx.section = &section;
    ctx.id = "fuzz_parser";
    Params p(section, *registry.spec("parser", type));
    plugin = (*registry.parser(type))(ctx, p);
  }

  // The input split on '\n' into lines, given to one stream in reads as in_tail does: a read
  // ends after each line whose length is a multiple of 4 (so the fuzzer chooses where partial
  // lines are held across reads); each read's bytes are freed once its batch has been formatted,
  // so a parser that keeps views into them across reads is caught by ASan. Then flush.
  void run(const uint8_t* data, size_t size) {
    std::unique_ptr<Parser> stream = plugin->open_stream("fuzz");
    std::string_view in(reinterpret_cast<const char*>(data), size);
    Batch batch;
    uint64_t offset = 0;
    while (!in.empty()) {
      std::vector<std::string_view> chunk;
      for (bool more = true; more && !in.empty();) {
        size_t nl = in.find('\n');
        std::string_view line = in.substr(0, nl);
        chunk.push_back(line);
        in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
        more = line.size() % 4 != 0;
      }
      size_t total = 0;
      for (auto l : chunk) total += l.size();
      auto bytes = std::make_unique<char[]>(total + 1);  // the "read buffer", exact size
      std::vector<Line> lines;
      size_t at = 0;
      for (auto l : chunk) {
        std::copy(l.begin(), l.end(), bytes.get() + at);
        lines.push_back(Line{std::string_view(bytes.get() + at, l.size()), offset});
        at += l.size();
        offset += l.size() + 1;
      }
      batch.clear();
      stream->parse(lines, batch);
      format_batch(batch);
      uint64_t held = stream->held_from();
      SLUICE_FUZZ_CHECK(held == UINT64_MAX || held < offset);
    }
    batch.clear();
    stream->flush(batch);
    format_batch(batch);
  }
};

// A nested section such as `<parse>` inside the parser's own.
inline ConfigSection subsection(const std::string& name, ParserStreamFuzzer::KV params) {
  ConfigSection s;
  s.name = name;
  s.pos = {"fuzz.conf", 3};
  for (auto& [k, v] : params) s.params.push_back({k, v, {"fuzz.conf", 4}});
  return s;
}

}  // namespace sluice::fuzz
