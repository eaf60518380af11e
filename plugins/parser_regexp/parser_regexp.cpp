// `@type regexp` (Fluentd parser_regexp): Oniguruma with Ruby syntax; named groups become fields
// in the order they appear in the expression. Fluentd's regexp presets register here too:
// `nginx`, `apache`, `apache_error` (a default expression and time format) and `apache2` (a fixed
// expression whose record has every field, "-" as null and numbers as integers).
#include <memory>
#include <stdexcept>
#include <string>

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

// apache2's record: these groups, always present, "-" (and code 0) as null.
const char* const kApache2Fields[] = {"host", "user", "method", "path", "code", "size", "referer", "agent"};

class RegexpPlugin final : public ParserPlugin {
 public:
  RegexpPlugin(PluginContext& ctx, const Params& params, const std::string& type, bool apache2)
      : errors_(ctx, type), apache2_(apache2) {
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
    if (apache2_) {
      fields_.clear();
      for (const char* name : kApache2Fields)
        for (size_t i = 0; i < regex_->groups().size(); ++i)
          if (regex_->groups()[i].name == name) fields_.push_back(i);
    }
  }
  std::unique_ptr<Parser> open_stream(std::string_view) override { return std::make_unique<RegexpParser>(*this); }

  const RubyRegex& regex() const { return *regex_; }
  const TimeOptions& time() const { return time_; }
  const ValueConverter& convert() const { return convert_; }
  int time_group() const { return time_group_; }
  bool apache2() const { return apache2_; }
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
  bool apache2_;
};

// Fluentd's Apache2Parser#parse: every field, "-" as nil, code and size through to_i (code 0: nil).
void emit_apache2(Batch& out, const RegexpPlugin& p, const RubyRegex::Matcher& match, const Line& line,
                  ErrorSink& errors) {
  std::string_view time_text;
  EventTime t;
  if (p.time_group() < 0 || !match.group(static_cast<size_t>(p.time_group()), time_text) ||
      !p.time().parse(time_text, t)) {
    errors.keep_raw(out, line, "time", "invalid time format: value = " + std::string(time_text.substr(0, 64)));
    return;
  }
  out.begin_record(t, line.offset);
  for (size_t i : p.fields()) {
    const std::string& name = p.regex().groups()[i].name;
    std::string_view v;
    bool present = match.group(i, v);
    if (name == "code") {
      int64_t code = present ? ruby_to_i(v) : 0;
      out.add_field(name, code == 0 ? Value::null() : Value::of_int(code));
    } else if (name == "size") {
      out.add_field(name, !present || v == "-" ? Value::null() : Value::of_int(ruby_to_i(v)));
    } else {
      bool dash = name != "method" && name != "path" && v == "-";
      out.add_field(name, !present || dash ? Value::null() : Value::of_string(v));
    }
  }
  if (p.time().keep) out.add_field("time", Value::of_string(time_text));
}

RegexpParser::RegexpParser(RegexpPlugin& plugin) : plugin_(plugin), matcher_(plugin.regex()) {}

void RegexpParser::parse(std::span<const Line> lines, Batch& out) {
  for (const Line& line : lines) {
    if (!matcher_.search(line.bytes)) {
      plugin_.errors().keep_raw(out, line, "match", "pattern not matched");
      continue;
    }
    if (plugin_.apache2())
      emit_apache2(out, plugin_, matcher_, line, plugin_.errors());
    else
      emit_match(out, plugin_.regex(), matcher_, plugin_.fields(), plugin_.time_group(),
                 plugin_.time(), plugin_.convert(), plugin_.errors(), line);
  }
}

}  // namespace

}  // namespace parsers

namespace {

// Fluentd 1.18's expressions for its regexp presets (lib/fluent/plugin/parser_*.rb).
constexpr const char* kNginx =
    R"re(/^(?<remote>[^ ]*) (?<host>[^ ]*) (?<user>[^ ]*) \[(?<time>[^\]]*)\] "(?<method>\S+)(?: +(?<path>[^\"]*?)(?: +\S*)?)?" (?<code>[^ ]*) (?<size>[^ ]*)(?: "(?<referer>[^\"]*)" "(?<agent>[^\"]*)"(?:\s+\"?(?<http_x_forwarded_for>[^\"]*)\"?)?)?$/)re";
constexpr const char* kApache =
    R"re(/^(?<host>[^ ]*) [^ ]* (?<user>[^ ]*) \[(?<time>[^\]]*)\] "(?<method>\S+)(?: +(?<path>[^ ]*) +\S*)?" (?<code>[^ ]*) (?<size>[^ ]*)(?: "(?<referer>[^\"]*)" "(?<agent>[^\"]*)")?$/)re";
constexpr const char* kApacheError =
    R"re(/^\[[^ ]* (?<time>[^\]]*)\] \[(?<level>[^\]]*)\](?: \[pid (?<pid>[^\]]*)\])?( \[client (?<client>[^\]]*)\])? (?<message>.*)$/)re";
constexpr const char* kApache2 =
    R"re(/^(?<host>[^ ]*) [^ ]* (?<user>[^ ]*) \[(?<time>[^\]]*)\] "(?<method>\S+)(?: +(?<path>(?:[^\"]|\\")*?)(?: +\S*)?)?" (?<code>[^ ]*) (?<size>[^ ]*)(?: "(?<referer>(?:[^\"]|\\")*)" "(?<agent>(?:[^\"]|\\")*)")?$/)re";
constexpr const char* kAccessLogTime = "%d/%b/%Y:%H:%M:%S %z";

// `expression` empty: required (regexp); apache2's is fixed, not a parameter.
void register_regexp_type(Registry& registry, const std::string& type, const std::string& doc,
                          const std::string& expression, const std::string& time_format, bool apache2) {
  PluginSpec spec;
  spec.kind = "parser";
  spec.type = type;
  spec.doc = doc;
  if (!apache2) {
    ParamSpec expr;
    expr.name = "expression";
    expr.type = ParamType::String;
    expr.default_value = expression;
    expr.has_default = !expression.empty();
    expr.required = expression.empty();
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
  }
  parsers::BaseDefaults d;
  d.time_key = "time";
  d.time_format = time_format;
  parsers::add_base_params(spec, d);
  registry.add_parser(std::move(spec), [type, expression, apache2](PluginContext& ctx, const Params& params) {
    if (!apache2) return std::make_unique<parsers::RegexpPlugin>(ctx, params, type, false);
    // apache2 reads its fixed expression and time format whatever the section says, as Fluentd.
    ConfigSection fixed = params.section();
    std::erase_if(fixed.params, [](const ConfigParam& p) { return p.key == "time_format" || p.key == "time_key"; });
    fixed.params.push_back({"expression", expression, fixed.pos});
    fixed.params.push_back({"time_format", kAccessLogTime, fixed.pos});
    fixed.params.push_back({"time_key", "time", fixed.pos});
    PluginSpec spec = *ctx.registry->spec("parser", "regexp");
    return std::make_unique<parsers::RegexpPlugin>(ctx, Params(fixed, spec), type, true);
  });
}

}  // namespace

void register_parser_regexp(Registry& registry) {
  register_regexp_type(registry, "regexp",
                       "Named captures of a Ruby regular expression (Oniguruma, Ruby syntax) become fields "
                       "(Fluentd parser_regexp).",
                       "", "", false);
  register_regexp_type(registry, "nginx", "nginx's combined access log (Fluentd parser_nginx: a regexp preset).",
                       kNginx, kAccessLogTime, false);
  register_regexp_type(registry, "apache", "Apache's combined access log (Fluentd parser_apache: a regexp preset).",
                       kApache, kAccessLogTime, false);
  register_regexp_type(registry, "apache_error", "Apache's error log (Fluentd parser_apache_error: a regexp preset).",
                       kApacheError, "", false);
  register_regexp_type(registry, "apache2",
                       "Apache's combined access log as Fluentd's parser_apache2 reads it: every field, \"-\" "
                       "as null, code and size as integers.",
                       kApache2, kAccessLogTime, true);
}

}  // namespace sluice
