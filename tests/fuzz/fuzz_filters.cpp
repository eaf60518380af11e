// libFuzzer target: the filters and parser that take records apart and put them together —
// multi_format (json, a regexp, none), filter_parser over it, record_transformer's Ruby
// expressions and nested remove_keys over the parsed maps, record_modifier (expressions, <replace>,
// char_encoding scrubbing), dedot over nested maps, throttle grouping by nested values, concat
// joining lines by a regexp, and
// rewrite_tag_filter re-tagging by a capture. The input's lines are records
// {"log": line, "stream": stdout|stderr} in batches whose bytes are freed after each batch, so
// a held line that still views its batch (concat) is caught by ASan.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "fuzz_support.h"

namespace {

using namespace sluice;

// Counts what reaches it; checks each record can be formatted.
struct Sink : Emitter {
  size_t records = 0;
  void emit(Batch& b) override {
    std::string out;
    for (const Record& r : b.records) {
      out.clear();
      json::append_record(out, b, r);
      SLUICE_FUZZ_CHECK(!out.empty() && out.front() == '{' && out.back() == '}');
      ++records;
    }
  }
};

struct FilterChain {
  Registry registry;
  Metrics metrics;
  std::vector<ConfigSection> sections;
  Sink route, errors;
  std::unique_ptr<Filter> parser, transformer, modifier, dedot, throttle, concat;
  std::unique_ptr<Output> rewrite;

  ConfigSection section(const std::string& text) {
    auto parsed = parse_config_text(text, "fuzz.conf", ".");
    SLUICE_FUZZ_CHECK(parsed.errors.empty());
    return parsed.root.children.at(0);
  }
  PluginContext context(const ConfigSection& s, const std::string& id) {
    PluginContext ctx;
    ctx.registry = &registry;
    ctx.metrics = &metrics;
    ctx.section = &s;
    ctx.id = id;
    ctx.emitter = &route;
    ctx.label_emitter = [this](const std::string& l) -> Emitter* { return l == "@ERROR" ? &errors : nullptr; };
    return ctx;
  }

  FilterChain() {
    register_all_plugins(registry);
    sections.reserve(7);
    sections.push_back(section(
        "<filter **>\n  @type parser\n  key_name log\n  reserve_data true\n  reserve_time true\n"
        "  hash_value_field parsed\n  <parse>\n    @type multi_format\n"
        "    <pattern>\n      format json\n    </pattern>\n"
        "    <pattern>\n      format /^(?<level>[A-Z]+) (?<msg>.*)$/\n    </pattern>\n"
        "  </parse>\n</filter>\n"));
    sections.push_back(section(
        "<filter **>\n  @type concat\n  key log\n  multiline_start_regexp /^\\S/\n"
        "  stream_identity_key stream\n  buffer_limit_size 64\n</filter>\n"));
    sections.push_back(section(
        "<match **>\n  @type rewrite_tag_filter\n  <rule>\n    key log\n    pattern /^(\\w+)\\W*(\\w*)/\n"
        "    tag x.$1.$2.${tag_parts[0]}\n  </rule>\n</match>\n"));
    sections.push_back(section(
        "<filter **>\n  @type record_transformer\n  enable_ruby true\n"
        "  remove_keys $.parsed.msg, $.parsed.a[1], $.parsed.a.b\n  <record>\n"
        "    deep ${record[\"parsed\"][\"a\"][\"b\"] rescue \"none\"}\n"
        "    level ${record.dig(\"parsed\", \"level\").to_s.downcase}\n"
        "    word ${record[\"log\"].split(\" \")[1]}\n"
        "    text ${record[\"parsed\"].to_json.length} ${record[\"log\"].sub(\"x\", \"\\\\0y\")}\n"
        "    first ${record[\"parsed\"].fetch(\"a\", nil).to_s.size}\n"
        "    at ${time.utc.iso8601(3)}\n"
        "    m ${record[\"log\"] =~ /(\\w+)=(\\w*)/i ? record[\"log\"].match(/(?<k>\\w+)=/)[\"k\"] : "
        "record[\"log\"].scan(/\\d+|(x)/)}\n"
        "    s ${record[\"log\"].split(/[,;]|(=)/, 3)} ${record[\"log\"].gsub(/(.)\\1/, '<\\1\\k<x>>') rescue 1} "
        "${record[\"log\"].split(//)[2]} ${record[\"log\"].sub(/$/m, '\\&\\`')}\n"
        "  </record>\n</filter>\n"));
    sections.push_back(section(
        "<filter **>\n  @type record_modifier\n  char_encoding utf-8:utf-8\n"
        "  remove_keys $.parsed.b, stream\n  <record>\n"
        "    lvl ${record.dig(\"parsed\", \"level\") || \"none\"}\n"
        "    both ${tag_parts[0]}-${record[\"log\"].to_s.length} \\t ${time}\n"
        "    stream ${record[\"stream\"]}\n  </record>\n"
        "  <replace>\n    key log\n    expression /(\\w+)\\s+(\\w*)/\n    replace \\2 \\1\\0\n"
        "  </replace>\n</filter>\n"));
    sections.push_back(section("<filter **>\n  @type dedot\n  de_dot_nested true\n</filter>\n"));
    sections.push_back(section(
        "<filter **>\n  @type throttle\n  group_key parsed.level,parsed.a.b,stream\n"
        "  group_bucket_period_s 1\n  group_bucket_limit 3\n  group_drop_logs false\n</filter>\n"));
    for (auto [i, type, into] : {std::tuple{4, "record_modifier", &modifier},
                                 std::tuple{5, "dedot", &dedot}, std::tuple{6, "throttle", &throttle}}) {
      PluginContext ctx = context(sections[i], std::string("fuzz_") + type);
      *into = (*registry.filter(type))(ctx, Params(sections[i], *registry.spec("filter", type)));
    }
    {
      PluginContext ctx = context(sections[3], "fuzz_transformer");
      transformer = (*registry.filter("record_transformer"))(
          ctx, Params(sections[3], *registry.spec("filter", "record_transformer")));
    }
    {
      PluginContext ctx = context(sections[0], "fuzz_parser");
      parser = (*registry.filter("parser"))(ctx, Params(sections[0], *registry.spec("filter", "parser")));
    }
    {
      PluginContext ctx = context(sections[1], "fuzz_concat");
      concat = (*registry.filter("concat"))(ctx, Params(sections[1], *registry.spec("filter", "concat")));
    }
    {
      PluginContext ctx = context(sections[2], "fuzz_rewrite");
      rewrite = (*registry.output("rewrite_tag_filter"))(ctx, Params(sections[2], *registry.spec("output", "rewrite_tag_filter")));
    }
  }

  // Lines in batches of up to 4; each batch's bytes live only while it is filtered and written.
  void run(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    int n = 0;
    while (!in.empty()) {
      Batch batch;
      batch.tag = "app.web";
      std::vector<std::unique_ptr<char[]>> bytes;
      for (int i = 0; i < 4 && !in.empty(); ++i, ++n) {
        size_t nl = in.find('\n');
        std::string_view line = in.substr(0, nl);
        in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
        bytes.push_back(std::make_unique<char[]>(line.size() + 1));
        std::copy(line.begin(), line.end(), bytes.back().get());
        batch.begin_record({1700000000 + n, 0, false}, static_cast<uint64_t>(n) * 100);
        batch.add_field("log", Value::of_string({bytes.back().get(), line.size()}));
        batch.add_field("stream", Value::of_string(n % 3 ? "stdout" : "stderr"));
      }
      parser->filter(batch);
      transformer->filter(batch);
      modifier->filter(batch);
      dedot->filter(batch);
      throttle->filter(batch);
      concat->filter(batch);
      rewrite->write(batch);
    }
    concat->stop();  // what is held leaves, copied out of batches long gone
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static FilterChain* chain = new FilterChain();
  chain->run(data, size);
  return 0;
}
