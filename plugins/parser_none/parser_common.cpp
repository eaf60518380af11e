#include "parser_common.h"

#include <oniguruma.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "core/log.h"

namespace sluice::parsers {

// --- parameters ---------------------------------------------------------------------------------

void add_base_params(PluginSpec& spec, const BaseDefaults& d) {
  auto add = [&](std::string name, ParamType type, std::string def, std::string doc, bool has_default = true,
                 std::vector<std::string> choices = {}) {
    ParamSpec p;
    p.name = std::move(name);
    p.type = type;
    p.default_value = std::move(def);
    p.doc = std::move(doc);
    p.has_default = has_default;
    p.choices = std::move(choices);
    spec.params.push_back(std::move(p));
  };
  add("time_key", ParamType::String, d.time_key, "Field holding the event time.", !d.time_key.empty());
  add("time_format", ParamType::String, d.time_format,
      "Ruby strptime format of the time field (%N/%L accept any number of digits).",
      !d.time_format.empty());
  add("time_type", ParamType::Enum, d.time_type, "How the time field is read: string (time_format), float or unixtime.",
      true, {"string", "float", "unixtime"});
  add("keep_time_key", ParamType::Bool, d.keep_time_key ? "true" : "false",
      "Keep the time field in the record after using it as the event time.");
  add("localtime", ParamType::Bool, "true", "Times without a zone are local time (default).");
  add("utc", ParamType::Bool, "false", "Times without a zone are UTC.");
  add("timezone", ParamType::String, "", "Zone for times without one, as a fixed offset (+09:00, -0500, UTC).",
      false);
  add("types", ParamType::Hash, "", "Value conversions, e.g. code:integer,size:integer (string, integer, float, bool, time, array).",
      false);
  add("null_value_pattern", ParamType::Regexp, "", "String values matching this pattern become null.", false);
  add("null_empty_string", ParamType::Bool, "false", "Empty string values become null.");
  add("estimate_current_event", ParamType::Bool, "true",
      "Use the current time when the record has no time field (always done: records are never dropped).");
  ParamSpec timeout;
  timeout.name = "timeout";
  timeout.type = ParamType::Duration;
  timeout.has_default = false;
  timeout.ignored = true;
  timeout.doc = "Accepted and ignored: parsers here run in bounded time (no catastrophic backtracking guard needed for CRI/JSON; regexp uses Oniguruma's own limits).";
  spec.params.push_back(std::move(timeout));
}

namespace {
bool rfc3339_shaped(const std::string& f) {
  // Formats whose every accepted input parse_rfc3339 reads the same way.
  return f == "%Y-%m-%dT%H:%M:%S.%L%z" || f == "%Y-%m-%dT%H:%M:%S.%N%z" ||
         f == "%Y-%m-%dT%H:%M:%S.%N%:z" || f == "%Y-%m-%dT%H:%M:%S.%L%:z" || f == "%Y-%m-%dT%H:%M:%S%z" ||
         f == "%Y-%m-%dT%H:%M:%S%:z" || f == "%iso8601";
}
}  // namespace

void TimeOptions::configure(const Params& params, const std::string& default_type) {
  key = params.str("time_key");
  keep = false;
  if (params.has("keep_time_key")) {
    keep = params.flag("keep_time_key");
  } else {
    for (const ParamSpec& ps : params.spec().params)
      if (ps.name == "keep_time_key") keep = ps.default_value == "true";
  }
  std::string fmt = params.str("time_format");
  std::string type_name = params.has("time_type") ? params.str("time_type") : default_type;
  // Fluentd's json parser: time_type defaults to float unless time_format is given.
  if (!params.has("time_type") && params.has("time_format")) type_name = "string";
  float_type = type_name == "float";
  bool zone_override = params.has("timezone") || (params.has("utc") && params.flag("utc")) ||
                       (params.has("localtime") && !params.flag("localtime"));
  rfc3339_fast = type_name == "string" && rfc3339_shaped(fmt) && !zone_override;
  rfc3339_z_fast = type_name == "string" && !zone_override &&
                   (fmt == "%Y-%m-%dT%H:%M:%S.%NZ" || fmt == "%Y-%m-%dT%H:%M:%S.%LZ");
  if (fmt == "%iso8601") fmt.clear();
  TimeParser::Type type = TimeParser::Type::String;
  if (type_name == "float") type = TimeParser::Type::Float;
  else if (type_name == "unixtime") type = TimeParser::Type::Unixtime;
  bool utc = params.has("utc") && params.flag("utc");
  if (params.has("localtime") && !params.flag("localtime")) utc = true;
  std::string tz = params.has("timezone") ? params.str("timezone") : std::string();
  try {
    parser = TimeParser(fmt, type, utc, tz);
  } catch (const std::invalid_argument& e) {
    throw ConfigException(params.pos(params.has("timezone") ? "timezone" : "time_format"), e.what());
  }
}

bool TimeOptions::parse_other(std::string_view text, EventTime& out) const {
  if (rfc3339_z_fast) {
    // Same acceptance as the strptime path: a '.' fraction and a literal upper-case Z.
    if (text.size() < 22 || text[19] != '.' || text.back() != 'Z' || text[10] != 'T') return false;
    return parse_rfc3339(text, out);
  }
  if (parser.parse(text, out)) return true;
  // Fluentd's float time type reads "2024-05-01T..." as 2024 seconds (String#to_i); we read ISO
  // 8601 strings as what they say (README: deliberate difference).
  if (float_type) {
    static const TimeParser iso;
    return iso.parse(text, out);
  }
  return false;
}

// --- value conversion ---------------------------------------------------------------------------

int64_t ruby_to_i(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '_') continue;
    if (c < '0' || c > '9') break;
    uint64_t nv = v * 10 + static_cast<uint64_t>(c - '0');
    if (nv < v || nv > static_cast<uint64_t>(INT64_MAX)) {
      v = static_cast<uint64_t>(INT64_MAX);
      break;
    }
    v = nv;
  }
  return neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
}

// Float#to_i into int64: truncated, saturated beyond the range (as ruby_to_i), NaN as 0.
static int64_t float_to_i(double d) {
  if (!(d == d)) return 0;
  if (d >= 9223372036854775807.0) return INT64_MAX;
  if (d <= -9223372036854775808.0) return INT64_MIN;
  return static_cast<int64_t>(d);
}

double ruby_to_f(std::string_view s) {
  std::string tmp(s.substr(0, std::min<size_t>(s.size(), 64)));
  char* end = nullptr;
  double d = std::strtod(tmp.c_str(), &end);
  if (std::isnan(d) || std::isinf(d)) {
    // Ruby's to_f does not read "nan"/"inf" words.
    bool word = false;
    for (char c : tmp)
      if (c == 'n' || c == 'N' || c == 'i' || c == 'I') word = true;
    if (word) return 0.0;
  }
  return d;
}

std::string_view json_quote(Arena& arena, std::string_view s) {
  size_t extra = 2;
  for (unsigned char c : s)
    if (c == '"' || c == '\\' || c < 0x20) extra += 5;
  char* p = arena.allocate(s.size() + extra);
  char* q = p;
  *q++ = '"';
  static const char hex[] = "0123456789abcdef";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      *q++ = '\\';
      *q++ = static_cast<char>(c);
    } else if (c == '\n') {
      *q++ = '\\';
      *q++ = 'n';
    } else if (c == '\t') {
      *q++ = '\\';
      *q++ = 't';
    } else if (c == '\r') {
      *q++ = '\\';
      *q++ = 'r';
    } else if (c < 0x20) {
      *q++ = '\\';
      *q++ = 'u';
      *q++ = '0';
      *q++ = '0';
      *q++ = hex[c >> 4];
      *q++ = hex[c & 15];
    } else {
      *q++ = static_cast<char>(c);
    }
  }
  *q++ = '"';
  return {p, static_cast<size_t>(q - p)};
}

struct ValueConverter::Rule {
  enum Kind { String, Integer, Float, Bool, Time, Array } kind = String;
  std::string key;
  std::string delimiter = ",";
  TimeParser time;
};

struct ValueConverter::NullPattern {
  std::unique_ptr<RubyRegex> re;
  // One matcher per thread is enough: converters run on the stream's loop thread, but a plugin
  // may serve several workers, so guard it.
  mutable std::mutex mutex;
  std::unique_ptr<RubyRegex::Matcher> matcher;
};

ValueConverter::ValueConverter() = default;
ValueConverter::~ValueConverter() = default;
ValueConverter::ValueConverter(ValueConverter&&) noexcept = default;
ValueConverter& ValueConverter::operator=(ValueConverter&&) noexcept = default;

ValueConverter::ValueConverter(const Params& params) {
  null_empty_ = params.flag("null_empty_string");
  if (params.has("null_value_pattern")) {
    null_pattern_ = std::make_unique<NullPattern>();
    try {
      null_pattern_->re = std::make_unique<RubyRegex>(params.str("null_value_pattern"));
    } catch (const std::invalid_argument& e) {
      throw ConfigException(params.pos("null_value_pattern"), std::string("null_value_pattern: ") + e.what());
    }
    null_pattern_->matcher = std::make_unique<RubyRegex::Matcher>(*null_pattern_->re);
  }
  if (params.has("types")) {
    for (auto& [key, def] : params.hash("types")) {
      Rule r;
      r.key = key;
      std::string type = def, option;
      if (auto c = def.find(':'); c != std::string::npos) {
        type = def.substr(0, c);
        option = def.substr(c + 1);
      }
      if (type == "string") r.kind = Rule::String;
      else if (type == "integer") r.kind = Rule::Integer;
      else if (type == "float") r.kind = Rule::Float;
      else if (type == "bool") r.kind = Rule::Bool;
      else if (type == "array") {
        r.kind = Rule::Array;
        if (!option.empty()) r.delimiter = option;
      } else if (type == "time") {
        r.kind = Rule::Time;
        // time[:timezone]:format | time:unixtime | time:float
        std::string tz, fmt = option;
        if (auto c = option.find(':'); c != std::string::npos) {
          std::string first = option.substr(0, c);
          if (!first.empty() && (first[0] == '+' || first[0] == '-' || first == "UTC")) {
            tz = first;
            fmt = option.substr(c + 1);
          }
        }
        TimeParser::Type tt = TimeParser::Type::String;
        if (fmt == "unixtime") tt = TimeParser::Type::Unixtime, fmt.clear();
        else if (fmt == "float") tt = TimeParser::Type::Float, fmt.clear();
        try {
          r.time = TimeParser(fmt, tt, false, tz);
        } catch (const std::invalid_argument& e) {
          throw ConfigException(params.pos("types"), "types: " + key + ": " + e.what());
        }
      } else {
        throw ConfigException(params.pos("types"),
                              "unknown value conversion for key:'" + key + "', type:'" + type + "'");
      }
      rules_.push_back(std::move(r));
    }
  }
  active_ = null_empty_ || null_pattern_ || !rules_.empty();
}

void ValueConverter::apply(Batch& batch, size_t first) const {
  if (!active_) return;
  for (size_t i = first; i < batch.fields.size(); ++i) {
    Field& f = batch.fields[i];
    if (f.value.kind == ValueKind::Null) continue;
    if (f.value.kind == ValueKind::String) {
      if (null_empty_ && f.value.text.empty()) {
        f.value = Value::null();
        continue;
      }
      if (null_pattern_) {
        std::lock_guard<std::mutex> lock(null_pattern_->mutex);
        if (null_pattern_->matcher->search(f.value.text)) {
          f.value = Value::null();
          continue;
        }
      }
    }
    for (const Rule& r : rules_) {
      if (r.key != f.key) continue;
      // The text form of the value (strings as is; other scalars as JSON renders them).
      std::string_view text = f.value.text;
      std::string scratch;
      if (f.value.kind == ValueKind::Int) text = scratch = std::to_string(f.value.integer);
      else if (f.value.kind == ValueKind::Float) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%.17g", f.value.real);
        text = scratch.assign(buf, static_cast<size_t>(n));
      } else if (f.value.kind == ValueKind::Bool) text = f.value.boolean ? "true" : "false";
      switch (r.kind) {
        case Rule::String:
          if (f.value.kind != ValueKind::String && f.value.kind != ValueKind::Json)
            f.value = Value::of_string(batch.arena.copy(text));
          break;
        case Rule::Integer:
          if (f.value.kind == ValueKind::Float) f.value = Value::of_int(float_to_i(f.value.real));
          else if (f.value.kind != ValueKind::Int) f.value = Value::of_int(ruby_to_i(text));
          break;
        case Rule::Float:
          if (f.value.kind == ValueKind::Int) f.value = Value::of_float(static_cast<double>(f.value.integer));
          else if (f.value.kind != ValueKind::Float) f.value = Value::of_float(ruby_to_f(text));
          break;
        case Rule::Bool: {
          std::string low(text.substr(0, 8));
          for (char& c : low) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          f.value = Value::of_bool(low == "true" || low == "yes" || low == "1");
          break;
        }
        case Rule::Time: {
          EventTime t;
          // Fluentd stores an EventTime, which JSON renders as its integer seconds.
          if (r.time.parse(text, t)) f.value = Value::of_int(t.sec);
          else f.value = Value::null();
          break;
        }
        case Rule::Array: {
          if (f.value.kind == ValueKind::Json) break;
          size_t start = 0;
          bool firstel = true;
          // Ruby's split drops trailing empty fields.
          std::vector<std::string_view> parts;
          while (start <= text.size()) {
            size_t pos = r.delimiter.empty() ? std::string_view::npos : text.find(r.delimiter, start);
            if (pos == std::string_view::npos) {
              parts.push_back(text.substr(start));
              break;
            }
            parts.push_back(text.substr(start, pos - start));
            start = pos + r.delimiter.size();
          }
          while (!parts.empty() && parts.back().empty()) parts.pop_back();
          std::string buf = "[";
          for (auto p : parts) {
            if (!firstel) buf.push_back(',');
            firstel = false;
            std::string_view q = json_quote(batch.arena, p);
            buf.append(q);
          }
          buf.push_back(']');
          f.value = Value::of_json(batch.arena.copy(buf));
          break;
        }
      }
      break;
    }
  }
}

// --- errors -------------------------------------------------------------------------------------

ErrorSink::ErrorSink(const PluginContext& ctx, std::string type)
    : listener_(ctx.parse_failures), id_(ctx.id), type_(std::move(type)) {
  if (ctx.metrics) counter_ = &ctx.metrics->counter("sluice_parse_errors_total{plugin=\"" + ctx.id + "\"}");
}

void ErrorSink::keep_raw(Batch& out, const Line& line, std::string_view kind, std::string_view reason) {
  if (counter_ && !listener_) bump(*counter_);
  if (!listener_ && log::enabled(log::Level::Warn)) {
    // warn_once logs the first of each kind; build the message only when it may be logged.
    std::string key = "parse_error/" + id_ + "/" + type_ + "/" + std::string(kind);
    std::string msg = "[" + id_ + "] " + std::string(reason) + ", kept as raw message (first of its kind; counted in "
                      "sluice_parse_errors_total): line=" + log::quote_excerpt(line.bytes);
    log::warn_once(key, msg);
  }
  out.begin_record(now(), line.offset);
  out.add_field("message", Value::of_string(line.bytes));
  out.add_field("_parse_error", Value::of_string(out.arena.copy(reason)));
  if (listener_) listener_->kept_raw(out, reason);
}

// --- Oniguruma ----------------------------------------------------------------------------------

namespace {
std::once_flag g_onig_init;

std::string onig_message(int code, OnigErrorInfo* info) {
  OnigUChar buf[ONIG_MAX_ERROR_MESSAGE_LEN];
  int n = info ? onig_error_code_to_str(buf, code, info) : onig_error_code_to_str(buf, code);
  return std::string(reinterpret_cast<char*>(buf), static_cast<size_t>(n > 0 ? n : 0));
}

struct NameCollector {
  std::vector<RubyRegex::Group>* groups;
};

int collect_name(const OnigUChar* name, const OnigUChar* name_end, int n, int* list, OnigRegex, void* arg) {
  auto* c = static_cast<NameCollector*>(arg);
  RubyRegex::Group g;
  g.name.assign(reinterpret_cast<const char*>(name), static_cast<size_t>(name_end - name));
  g.numbers.assign(list, list + n);
  std::sort(g.numbers.begin(), g.numbers.end());
  c->groups->push_back(std::move(g));
  return 0;
}
}  // namespace

RubyRegex::RubyRegex(std::string_view pattern, bool ignorecase, bool multiline) {
  std::call_once(g_onig_init, [] {
    OnigEncoding encs[] = {ONIG_ENCODING_UTF8, ONIG_ENCODING_ASCII};
    onig_initialize(encs, 2);
  });
  std::string_view body = pattern;
  OnigOptionType options = ONIG_OPTION_NONE;
  if (ignorecase) options |= ONIG_OPTION_IGNORECASE;
  if (multiline) options |= ONIG_OPTION_MULTILINE;
  if (body.size() >= 2 && body.front() == '/') {
    size_t last = body.rfind('/');
    if (last > 0) {
      std::string_view flags = body.substr(last + 1);
      bool flags_ok = true;
      for (char f : flags)
        if (f != 'i' && f != 'm' && f != 'x') flags_ok = false;
      if (flags_ok) {
        for (char f : flags) {
          if (f == 'i') options |= ONIG_OPTION_IGNORECASE;
          if (f == 'm') options |= ONIG_OPTION_MULTILINE;  // Ruby's m: dot matches newline
          if (f == 'x') options |= ONIG_OPTION_EXTEND;
        }
        body = body.substr(1, last - 1);
      }
    }
  }
  auto compile = [&](OnigEncoding enc) {
    OnigRegex reg = nullptr;
    OnigErrorInfo einfo;
    const auto* p = reinterpret_cast<const OnigUChar*>(body.data());
    int r = onig_new(&reg, p, p + body.size(), options, enc, ONIG_SYNTAX_RUBY, &einfo);
    if (r != ONIG_NORMAL) throw std::invalid_argument(onig_message(r, &einfo));
    return reg;
  };
  utf8_ = compile(ONIG_ENCODING_UTF8);
  try {
    ascii_ = compile(ONIG_ENCODING_ASCII);
  } catch (...) {
    // A pattern with non-ASCII literals may not compile as ASCII: such lines use UTF-8 mode.
    ascii_ = nullptr;
  }
  NameCollector c{&groups_};
  onig_foreach_name(utf8_, collect_name, &c);
  std::sort(groups_.begin(), groups_.end(),
            [](const Group& a, const Group& b) { return a.numbers.front() < b.numbers.front(); });
}

RubyRegex::~RubyRegex() {
  if (utf8_) onig_free(utf8_);
  if (ascii_) onig_free(ascii_);
}

RubyRegex::Matcher::Matcher(const RubyRegex& re) : re_(re), region_(onig_region_new()) {}
RubyRegex::Matcher::~Matcher() { onig_region_free(region_, 1); }

bool RubyRegex::Matcher::search(std::string_view text) {
  text_ = text;
  OnigRegex reg = re_.utf8_;
  if (re_.ascii_ && !simdjson::validate_utf8(text.data(), text.size())) reg = re_.ascii_;
  const auto* s = reinterpret_cast<const OnigUChar*>(text.data());
  const auto* e = s + text.size();
  int r = onig_search(reg, s, e, s, e, region_, ONIG_OPTION_NONE);
  return r >= 0;
}

bool RubyRegex::Matcher::capture(int n, std::string_view& out) const {
  if (n < 1 || n >= region_->num_regs || region_->beg[n] < 0) return false;
  out = text_.substr(static_cast<size_t>(region_->beg[n]), static_cast<size_t>(region_->end[n] - region_->beg[n]));
  return true;
}

bool RubyRegex::Matcher::group(size_t index, std::string_view& out) const {
  const Group& g = re_.groups_[index];
  for (auto it = g.numbers.rbegin(); it != g.numbers.rend(); ++it) {
    int n = *it;
    if (n < region_->num_regs && region_->beg[n] >= 0) {
      out = text_.substr(static_cast<size_t>(region_->beg[n]),
                         static_cast<size_t>(region_->end[n] - region_->beg[n]));
      return true;
    }
  }
  return false;
}

void emit_match(Batch& out, const RubyRegex& re, const RubyRegex::Matcher& match,
                const std::vector<size_t>& fields, int time_group, const TimeOptions& time,
                const ValueConverter& convert, ErrorSink& errors, const Line& line) {
  const auto& groups = re.groups();
  out.begin_record(EventTime{}, line.offset);
  const size_t first = out.fields.size();
  std::string_view time_text;
  bool has_time = false;
  for (size_t i : fields) {
    std::string_view v;
    if (!match.group(i, v)) continue;
    if (static_cast<int>(i) == time_group) {
      has_time = true;
      time_text = v;
      if (!time.keep) continue;
    }
    out.add_field(groups[i].name, Value::of_string(v));
  }
  EventTime t;
  if (!has_time) {
    t = now();
  } else if (!time.parse(time_text, t)) {
    out.drop_last_record();
    std::string reason = "invalid time format: value = ";
    reason.append(time_text.substr(0, 64));
    errors.keep_raw(out, line, "time", reason);
    return;
  }
  out.records.back().time = t;
  convert.apply(out, first);
}

}  // namespace sluice::parsers
