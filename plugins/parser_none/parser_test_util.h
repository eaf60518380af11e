// Test helper for the parser plugins: builds a parser from parameters the way the pipeline does
// (ConfigSection + the registered PluginSpec + Params) and feeds it lines.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/metrics.h"
#include "core/plugin.h"
#include "core/registry.h"
#include "format/time.h"

namespace sluice::test {

struct ParserHarness {
  Registry registry;
  Metrics metrics;
  ConfigSection section;
  PluginContext ctx;
  std::unique_ptr<ParserPlugin> plugin;
  std::unique_ptr<Parser> stream;
  Batch batch;
  std::deque<std::string> lines;  // owned line bytes (stable addresses)
  uint64_t offset = 0;

  ParserHarness(const std::string& type, std::vector<std::pair<std::string, std::string>> params = {},
                std::vector<ConfigSection> children = {}) {
    register_all_plugins(registry);
    section.name = "parse";
    section.pos = {"test.conf", 1};
    section.params.push_back({"@type", type, {"test.conf", 1}});
    int ln = 2;
    for (auto& [k, v] : params) section.params.push_back({k, v, {"test.conf", ln++}});
    section.children = std::move(children);
    ctx.registry = &registry;
    ctx.metrics = &metrics;
    ctx.section = &section;
    ctx.id = "test_parser";
    plugin = ctx.make_parser(&section, type);
    stream = plugin->open_stream("test.log");
  }

  // Parses lines as one read; returns the number of records added.
  size_t feed(const std::vector<std::string>& input) {
    std::vector<Line> ls;
    for (auto& s : input) {
      lines.push_back(s);
      ls.push_back(Line{lines.back(), offset});
      offset += s.size() + 1;
    }
    size_t before = batch.records.size();
    stream->parse(ls, batch);
    return batch.records.size() - before;
  }
  size_t feed1(const std::string& line) { return feed({line}); }
  void flush() { stream->flush(batch); }

  size_t size() const { return batch.records.size(); }
  const Record& rec(size_t i) const { return batch.records.at(i); }
  std::vector<std::string> keys(size_t i) const {
    std::vector<std::string> k;
    for (auto* f = batch.begin(rec(i)); f != batch.end(rec(i)); ++f) k.emplace_back(f->key);
    return k;
  }
  const Value* find(size_t i, std::string_view key) const { return batch.find(rec(i), key); }
  std::string str(size_t i, std::string_view key) const {
    const Value* v = find(i, key);
    if (!v) return "<missing>";
    if (v->kind != ValueKind::String && v->kind != ValueKind::Json) return "<not a string>";
    return std::string(v->text);
  }
  uint64_t errors() const { return metrics.value("sluice_parse_errors_total{plugin=\"test_parser\"}"); }
};

inline ConfigSection child_section(const std::string& name, std::vector<std::pair<std::string, std::string>> params) {
  ConfigSection s;
  s.name = name;
  s.pos = {"test.conf", 10};
  for (auto& [k, v] : params) s.params.push_back({k, v, {"test.conf", 11}});
  return s;
}

}  // namespace sluice::test
