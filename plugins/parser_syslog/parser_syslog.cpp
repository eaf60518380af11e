// `@type syslog` (Fluentd's built-in parser_syslog): RFC 3164 lines (`Feb  5 17:32:18 host
// ident[pid]: message`, optionally with a `<pri>` prefix), RFC 5424 lines, or either, detected per
// line (`message_format auto`). RFC 3164 is read with a regular expression (`parser_type regexp`,
// the default) or by splitting on spaces (`parser_type string`).
//
// Records carry, in this order, the fields Fluentd's expressions name: pri (an integer), host,
// ident, pid, [msgid, extradata for 5424], message (one trailing line break removed). `time` is the
// event time; it stays in the record only with `keep_time_key`. Like Fluentd's, this parser does
// not apply `types`/`null_*`. Lines that do not match, or whose time does not parse, are kept raw.
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "../parser_none/parser_common.h"
#include "core/registry.h"

namespace sluice {
namespace parsers {

namespace {

// The expressions of Fluentd's parser_syslog (same patterns, Ruby syntax).
constexpr const char* kRfc3164 =
    R"(/^(?<time>[^ ]*\s*[^ ]* [^ ]*) (?<host>[^ ]*) (?<ident>[^ :\[]*)(?:\[(?<pid>[0-9]+)\])?(?:[^\:]*\:)? *(?<message>.*)$/)";
constexpr const char* kRfc3164WithPri =
    R"(/^\<(?<pri>[0-9]+)\>(?<time>[^ ]* {1,2}[^ ]* [^ ]*) (?<host>[^ ]*) (?<ident>[^ :\[]*)(?:\[(?<pid>[0-9]+)\])?(?:[^\:]*\:)? *(?<message>.*)$/)";
constexpr const char* kRfc5424Body =
    R"((?<time>[^ ]+) (?<host>[!-~]{1,255}) (?<ident>[!-~]{1,48}) (?<pid>[!-~]{1,128}) (?<msgid>[!-~]{1,32}) (?<extradata>(?:\-|(?:\[.*?(?<!\\)\])+))(?: (?<message>.+))?)";
constexpr const char* kDetectRfc5424 = R"(/^\<[0-9]{1,3}\>[1-9]\d{0,2}/)";
constexpr const char* kRfc5424NoSubseconds = "%Y-%m-%dT%H:%M:%S%z";

enum class Format { Rfc3164, Rfc5424, Auto };

std::string_view chomp(std::string_view s) {
  if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

// Ruby's String#squeeze(' '): runs of spaces become one.
void squeeze_spaces(std::string_view in, std::string& out) {
  out.clear();
  for (char c : in) {
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out.push_back(c);
  }
}

class SyslogPlugin;

class SyslogParser final : public Parser {
 public:
  explicit SyslogParser(SyslogPlugin& plugin);
  void parse(std::span<const Line> lines, Batch& out) override;

 private:
  // Matches with `re` (through its matcher `m`); keeps the line raw when that fails.
  void parse_regexp(const Line& line, RubyRegex::Matcher& m, const RubyRegex& re, const TimeParser& time,
                    const TimeParser* fallback, Batch& out);
  void parse_string(const Line& line, Batch& out);

  SyslogPlugin& plugin_;
  std::optional<RubyRegex::Matcher> m3164_;
  std::optional<RubyRegex::Matcher> m5424_;
  std::optional<RubyRegex::Matcher> detect_;
  std::string time_buf_;
};

class SyslogPlugin final : public ParserPlugin {
 public:
  SyslogPlugin(PluginContext& ctx, const Params& params) : errors_(ctx, "syslog") {
    std::string mf = params.str("message_format");
    format_ = mf == "rfc5424" ? Format::Rfc5424 : mf == "auto" ? Format::Auto : Format::Rfc3164;
    with_priority_ = params.flag("with_priority");
    string_parser_ = params.str("parser_type") == "string";
    colonless_ = params.flag("support_colonless_ident");
    keep_time_ = params.flag("keep_time_key");

    bool utc = params.has("utc") && params.flag("utc");
    if (params.has("localtime") && !params.flag("localtime")) utc = true;
    std::string tz = params.has("timezone") ? params.str("timezone") : std::string();
    auto make_time = [&](const std::string& fmt, const char* param) {
      try {
        return TimeParser(fmt, TimeParser::Type::String, utc, tz);
      } catch (const std::invalid_argument& e) {
        throw ConfigException(params.pos(param), std::string("invalid time format: ") + e.what());
      }
    };
    std::string fmt3164 = params.str("time_format");
    std::string fmt5424 = params.str("rfc5424_time_format");
    // rfc5424 alone: time_format, when given, is the 5424 format.
    if (format_ == Format::Rfc5424 && params.has("time_format")) fmt5424 = fmt3164;
    time3164_ = make_time(fmt3164, "time_format");
    time5424_ = make_time(fmt5424, format_ == Format::Rfc5424 && params.has("time_format") ? "time_format"
                                                                                          : "rfc5424_time_format");
    time5424_nosub_ = make_time(kRfc5424NoSubseconds, "rfc5424_time_format");

    if (format_ != Format::Rfc5424) re3164_ = std::make_unique<RubyRegex>(with_priority_ ? kRfc3164WithPri : kRfc3164);
    if (format_ != Format::Rfc3164) {
      std::string body = with_priority_ ? std::string(R"(\A<(?<pri>[0-9]{1,3})\>[1-9]\d{0,2} )") + kRfc5424Body
                                        : std::string(R"(\A)") + kRfc5424Body;
      body += R"(\z)";
      re5424_ = std::make_unique<RubyRegex>("/" + body + "/", false, true);
    }
    if (format_ == Format::Auto) detect_ = std::make_unique<RubyRegex>(kDetectRfc5424);
  }
  std::unique_ptr<Parser> open_stream(std::string_view) override { return std::make_unique<SyslogParser>(*this); }

  Format format_;
  bool with_priority_ = false;
  bool string_parser_ = false;
  bool colonless_ = true;
  bool keep_time_ = false;
  TimeParser time3164_, time5424_, time5424_nosub_;
  std::unique_ptr<RubyRegex> re3164_, re5424_, detect_;  // compiled once; streams share them
  ErrorSink errors_;
};

SyslogParser::SyslogParser(SyslogPlugin& plugin) : plugin_(plugin) {
  if (plugin.re3164_) m3164_.emplace(*plugin.re3164_);
  if (plugin.re5424_) m5424_.emplace(*plugin.re5424_);
  if (plugin.detect_) detect_.emplace(*plugin.detect_);
}

void SyslogParser::parse(std::span<const Line> lines, Batch& out) {
  for (const Line& line : lines) {
    bool is5424 = plugin_.format_ == Format::Rfc5424 ||
                  (plugin_.format_ == Format::Auto && detect_->search(line.bytes));
    if (is5424)
      parse_regexp(line, *m5424_, *plugin_.re5424_, plugin_.time5424_, &plugin_.time5424_nosub_, out);
    else if (plugin_.string_parser_)
      parse_string(line, out);
    else
      parse_regexp(line, *m3164_, *plugin_.re3164_, plugin_.time3164_, nullptr, out);
  }
}

void SyslogParser::parse_regexp(const Line& line, RubyRegex::Matcher& m, const RubyRegex& re, const TimeParser& time,
                                const TimeParser* fallback, Batch& out) {
  if (!m.search(line.bytes)) {
    plugin_.errors_.keep_raw(out, line, "match", "pattern not matched");
    return;
  }
  const auto& groups = re.groups();
  out.begin_record(EventTime{}, line.offset);
  EventTime t = now();
  for (size_t i = 0; i < groups.size(); ++i) {
    std::string_view v;
    if (!m.group(i, v)) continue;
    const std::string& name = groups[i].name;
    if (name == "pri") {
      out.add_field(name, Value::of_int(ruby_to_i(v)));
    } else if (name == "time") {
      squeeze_spaces(v, time_buf_);
      if (!time.parse(time_buf_, t) && !(fallback && fallback->parse(time_buf_, t))) {
        out.drop_last_record();
        std::string reason = "invalid time format: value = ";
        reason.append(v.substr(0, 64));
        plugin_.errors_.keep_raw(out, line, "time", reason);
        return;
      }
      if (plugin_.keep_time_) out.add_field(name, Value::of_string(v));
    } else if (name == "message") {
      out.add_field(name, Value::of_string(chomp(v)));
    } else {
      out.add_field(name, Value::of_string(v));
    }
  }
  out.records.back().time = t;
}

// Fluentd's parse_rfc3164: fixed-width time, then space-separated host and ident.
void SyslogParser::parse_string(const Line& line, Batch& out) {
  std::string_view text = line.bytes;
  constexpr auto npos = std::string_view::npos;
  auto fail = [&] { plugin_.errors_.keep_raw(out, line, "match", "pattern not matched"); };
  std::optional<int64_t> pri;
  size_t cursor = 0;
  if (plugin_.with_priority_) {
    if (text.empty() || text[0] != '<') return fail();
    size_t i = text.find('>', 1);
    if (i == npos || i < 2) return fail();
    pri = ruby_to_i(text.substr(1, i - 1));
    cursor = i + 1;
  }
  constexpr size_t kTimeSize = 15;  // Mmm dd hh:mm:ss
  if (cursor + kTimeSize >= text.size()) return fail();
  std::string_view time_str;
  char time_end = text[cursor + kTimeSize];
  if (time_end == ' ') {
    time_str = text.substr(cursor, kTimeSize);
    cursor += kTimeSize + 1;
  } else if (time_end == '.') {  // subsecond time
    size_t i = text.find(' ', cursor + kTimeSize);
    if (i == npos) return fail();
    time_str = text.substr(cursor, i - cursor);
    cursor = i + 1;
  } else {
    return fail();
  }
  size_t i = text.find(' ', cursor);
  if (i == npos) return fail();
  std::string_view host = text.substr(cursor, i - cursor);
  cursor = i + 1;

  std::string_view ident, pid, msg;
  bool has_ident = false, has_pid = false;
  i = text.find(' ', cursor);
  if (i == npos) {
    msg = text.substr(cursor);
  } else if (text[i - 1] == ':') {
    has_ident = true;
    size_t lb;
    if (i >= 2 && text[i - 2] == ']' && (lb = text.find('[', cursor)) != npos && lb + 3 <= i) {
      ident = text.substr(cursor, lb - cursor);
      pid = text.substr(lb + 1, i - lb - 3);
      has_pid = true;
    } else {
      ident = text.substr(cursor, i - cursor - 1);
    }
    msg = text.substr(i + 1);
  } else if (plugin_.colonless_) {
    has_ident = true;
    size_t lb;
    if (text[i - 1] == ']' && (lb = text.find('[', cursor)) != npos && lb + 2 <= i) {
      ident = text.substr(cursor, lb - cursor);
      pid = text.substr(lb + 1, i - lb - 2);
      has_pid = true;
    } else {
      ident = text.substr(cursor, i - cursor);
    }
    msg = text.substr(i + 1);
  } else {
    msg = text.substr(cursor);
  }

  EventTime t;
  if (!plugin_.time3164_.parse(time_str, t)) {
    std::string reason = "invalid time format: value = ";
    reason.append(time_str.substr(0, 64));
    plugin_.errors_.keep_raw(out, line, "time", reason);
    return;
  }
  out.begin_record(t, line.offset);
  out.add_field("host", Value::of_string(host));
  if (pri) out.add_field("pri", Value::of_int(*pri));
  if (has_ident) out.add_field("ident", Value::of_string(ident));
  if (has_pid) out.add_field("pid", Value::of_string(pid));
  out.add_field("message", Value::of_string(chomp(msg)));
  if (plugin_.keep_time_) out.add_field("time", Value::of_string(time_str));
}

}  // namespace

}  // namespace parsers

void register_parser_syslog(Registry& registry) {
  PluginSpec spec;
  spec.kind = "parser";
  spec.type = "syslog";
  spec.doc = "Syslog lines, RFC 3164 or RFC 5424 or either (Fluentd parser_syslog): pri, host, ident, pid, "
             "[msgid, extradata,] message.";
  spec.params.push_back(spec::with_default("with_priority", ParamType::Bool, "false",
                                           "The lines start with a priority, e.g. <9>."));
  spec.params.push_back(spec::choice("message_format", "rfc3164", {"rfc3164", "rfc5424", "auto"},
                                     "The protocol; auto detects RFC 5424 per line."));
  spec.params.push_back(spec::with_default("rfc5424_time_format", ParamType::String, "%Y-%m-%dT%H:%M:%S.%L%z",
                                           "Time format of RFC 5424 lines (also tried without subseconds)."));
  spec.params.push_back(spec::choice("parser_type", "regexp", {"regexp", "string"},
                                     "How RFC 3164 lines are read: Fluentd's regular expression, or by splitting."));
  spec.params.push_back(spec::with_default("support_colonless_ident", ParamType::Bool, "true",
                                           "parser_type string: an ident not followed by ':' is still an ident."));
  parsers::BaseDefaults d;
  d.time_key = "time";
  d.time_format = "%b %d %H:%M:%S";
  parsers::add_base_params(spec, d);
  registry.add_parser(std::move(spec), [](PluginContext& ctx, const Params& params) {
    return std::make_unique<parsers::SyslogPlugin>(ctx, params);
  });
}

}  // namespace sluice
