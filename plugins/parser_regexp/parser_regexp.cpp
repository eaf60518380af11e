// `@type regexp` (Fluentd parser_regexp): Oniguruma with Ruby syntax; named groups become fields
// in the order they appear in the expression.
#include <memory>
#include <stdexcept>

#include "../parser_none/parser_common.h"
#include "core/registry.h"

namespace sluice {
namespace parsers {

namespace {

class RegexpPlugin;

class RegexpParser final : public Parser {
 public:
  explicit RegexpParser(RegexpPlugin& plugin);
  void parse(std::span<const Line> lines, Batch& out) override;

 private:
  RegexpPlugin& plugin_;
  RubyRegex::Matcher matcher_;  // the OnigRegion, reused for every line of the stream
};

class RegexpPlugin final : public ParserPlugin {
 public:
  RegexpPlugin(PluginContext& ctx, const Params& params) : errors_(ctx, "regexp") {
    std::string expr = params.str("expression");
    try {
      regex_ = std::make_unique<RubyRegex>(expr, params.flag("ignorecase"), params.flag("multiline"));
    } catch (const std::invalid_argument& e) {
      throw ConfigException(params.pos("expression"), std::string("invalid expression: ") + e.what());
    }
    if (regex_->groups().empty())
      throw ConfigException(params.pos("expression"), "expression has no named captures");
    time_.configure(params);
    convert_ = ValueConverter(params);
    // Which group is the time key.
    for (size_t i = 0; i < regex_->groups().size(); ++i) {
      fields_.push_back(i);
      if (regex_->groups()[i].name == time_.key) time_group_ = static_cast<int>(i);
    }
  }
  std::unique_ptr<Parser> open_stream(std::string_view) override { return std::make_unique<RegexpParser>(*this); }

  const RubyRegex& regex() const { return *regex_; }
  const TimeOptions& time() const { return time_; }
  const ValueConverter& convert() const { return convert_; }
  int time_group() const { return time_group_; }
  // Every named group becomes a field, in pattern order.
  const std::vector<size_t>& fields() const { return fields_; }
  ErrorSink& errors() { return errors_; }

 private:
  std::unique_ptr<RubyRegex> regex_;  // compiled once per <parse>; streams share it
  std::vector<size_t> fields_;
  TimeOptions time_;
  ValueConverter convert_;
  int time_group_ = -1;
  ErrorSink errors_;
};

RegexpParser::RegexpParser(RegexpPlugin& plugin) : plugin_(plugin), matcher_(plugin.regex()) {}

void RegexpParser::parse(std::span<const Line> lines, Batch& out) {
  for (const Line& line : lines) {
    if (!matcher_.search(line.bytes)) {
      plugin_.errors().keep_raw(out, line, "match", "pattern not matched");
      continue;
    }
    emit_match(out, plugin_.regex(), matcher_, plugin_.fields(), plugin_.time_group(),
               plugin_.time(), plugin_.convert(), plugin_.errors(), line);
  }
}

}  // namespace

}  // namespace parsers

void register_parser_regexp(Registry& registry) {
  PluginSpec spec;
  spec.kind = "parser";
  spec.type = "regexp";
  spec.doc = "Named captures of a Ruby regular expression (Oniguruma, Ruby syntax) become fields (Fluentd parser_regexp).";
  ParamSpec expr;
  expr.name = "expression";
  expr.type = ParamType::String;
  expr.has_default = false;
  expr.required = true;
  expr.doc = "The regular expression, /.../ with optional flags i, m, x, or bare.";
  spec.params.push_back(expr);
  for (const char* flag : {"ignorecase", "multiline"}) {
    ParamSpec p;
    p.name = flag;
    p.type = ParamType::Bool;
    p.default_value = "false";
    p.doc = std::string("Same as the /") + (flag[0] == 'i' ? "i" : "m") + " flag (deprecated in Fluentd).";
    spec.params.push_back(p);
  }
  parsers::BaseDefaults d;
  d.time_key = "time";
  parsers::add_base_params(spec, d);
  registry.add_parser(std::move(spec), [](PluginContext& ctx, const Params& params) {
    return std::make_unique<parsers::RegexpPlugin>(ctx, params);
  });
}

}  // namespace sluice
