// `@type multi_format` (fluent-plugin-multi-format-parser 1.1): each `<pattern>` is a parser
// (`format json`, `format /regexp/`, or `@type X` with its parameters); a line is the record of
// the first one that parses it. The patterns' parsers tell this one of the lines they could not
// parse (ParseFailureListener), whose raw record is then taken back.
#include <memory>
#include <string>
#include <vector>

#include "../parser_none/parser_common.h"
#include "core/registry.h"

namespace sluice {
namespace parsers {
namespace {

class MultiFormatPlugin;

class MultiFormatParser final : public Parser {
 public:
  MultiFormatParser(MultiFormatPlugin& plugin, std::string_view stream_name);
  void parse(std::span<const Line> lines, Batch& out) override;
  void flush(Batch& out) override {
    for (auto& p : streams_) p->flush(out);
  }
  uint64_t held_from() const override {
    uint64_t from = UINT64_MAX;
    for (auto& p : streams_) from = std::min(from, p->held_from());
    return from;
  }

 private:
  MultiFormatPlugin& plugin_;
  std::vector<std::unique_ptr<Parser>> streams_;  // one per pattern
};

class MultiFormatPlugin final : public ParserPlugin, public ParseFailureListener {
 public:
  MultiFormatPlugin(PluginContext& ctx, const Params& params) : errors_(ctx, "multi_format") {
    const ConfigSection& section = params.section();
    for (const ConfigSection& p : section.children) {
      if (p.name != "pattern") continue;
      // `format X` is the pattern's @type (`format /re/`: make_parser reads it as a regexp).
      ConfigSection sub = p;
      sub.name = "parse";
      if (const ConfigParam* format = p.param("format")) {
        std::erase_if(sub.params, [](const ConfigParam& c) { return c.key == "format" || c.key == "@type"; });
        sub.pos = format->pos;  // errors about the type point at `format`
        sub.params.push_back({"@type", format->value, format->pos});
      } else if (!p.param("@type")) {
        throw ConfigException(p.pos, "<pattern> needs `format` or @type");
      }
      if (sub.get("@type") == "multi_format") throw ConfigException(p.pos, "a <pattern> cannot be multi_format");
      patterns_.push_back(std::make_unique<ConfigSection>(std::move(sub)));
      PluginContext child = ctx;
      child.parse_failures = this;
      parsers_.push_back(child.make_parser(patterns_.back().get(), ""));
    }
    if (parsers_.empty()) throw ConfigException(section.pos, "multi_format needs at least one <pattern>");
  }

  std::unique_ptr<Parser> open_stream(std::string_view name) override {
    return std::make_unique<MultiFormatParser>(*this, name);
  }
  void kept_raw(const Batch&, std::string_view) override { failed_ = true; }

  std::vector<std::unique_ptr<ParserPlugin>>& parsers() { return parsers_; }
  ErrorSink& errors() { return errors_; }
  // Set by kept_raw while a pattern parses one line.
  bool failed_ = false;

 private:
  std::vector<std::unique_ptr<ConfigSection>> patterns_;  // the parsers were built from these
  std::vector<std::unique_ptr<ParserPlugin>> parsers_;
  ErrorSink errors_;
};

MultiFormatParser::MultiFormatParser(MultiFormatPlugin& plugin, std::string_view stream_name) : plugin_(plugin) {
  for (auto& p : plugin.parsers()) streams_.push_back(p->open_stream(stream_name));
}

void MultiFormatParser::parse(std::span<const Line> lines, Batch& out) {
  for (const Line& line : lines) {
    bool parsed = false;
    for (auto& p : streams_) {
      const size_t records = out.records.size();
      plugin_.failed_ = false;
      p->parse(std::span<const Line>(&line, 1), out);
      if (!plugin_.failed_) {
        parsed = true;
        break;
      }
      // Take back what the pattern made of the line (its raw record), and try the next.
      while (out.records.size() > records) out.drop_last_record();
    }
    if (!parsed) plugin_.errors().keep_raw(out, line, "match", "pattern not matched");
  }
}

}  // namespace
}  // namespace parsers

void register_parser_multi_format(Registry& registry) {
  PluginSpec spec{"parser", "multi_format",
                  "Tries each <pattern> parser in turn; a line is the record of the first that parses it "
                  "(fluent-plugin-multi-format-parser).",
                  {},
                  {"pattern"}};
  registry.add_parser(std::move(spec), [](PluginContext& ctx, const Params& params) {
    return std::make_unique<parsers::MultiFormatPlugin>(ctx, params);
  });
}

}  // namespace sluice
