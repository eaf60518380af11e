#include "parser_json.h"

#include <simdjson.h>

#include <charconv>
#include <cstring>
#include <vector>

#include "core/registry.h"
#include "flat_object.h"
#include "key_interner.h"

namespace sluice {
namespace parsers {

namespace od = simdjson::ondemand;

namespace {

// simdjson needs SIMDJSON_PADDING readable bytes after the input; lines view into the reader's
// buffer, so each line is copied into a padded scratch buffer (a memcpy, cheap next to parsing).
// One parser and buffer per thread: parse() runs to completion on its thread and every view that
// outlives it points into the line (mapped back from the scratch) or into the batch arena.
struct ThreadState {
  od::parser parser;
  std::string scratch;
};
ThreadState& thread_state() {
  thread_local ThreadState s;
  return s;
}

// End (one past) of the object/array starting at `p` ('{' or '['): a bracket count that skips
// strings. The text was validated by simdjson before this is called.
const char* match_bracket(const char* p, const char* end) {
  int depth = 0;
  for (; p < end; ++p) {
    char c = *p;
    if (c == '"') {
      for (++p; p < end && *p != '"'; ++p)
        if (*p == '\\') ++p;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return p + 1;
    }
  }
  return end;
}

// A syntactically valid JSON number (RFC 8259 grammar), any magnitude.
bool is_json_number(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size()) return false;
  if (s[i] == '0') ++i;
  else if (s[i] >= '1' && s[i] <= '9') while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  else return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t d = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == d) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t d = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == d) return false;
  }
  return i == s.size();
}

// The double a number token stands for, correctly rounded. simdjson 3.0's get_number() returns 0
// for a float whose mantissa has more than 19 digits ("1.00000000000000000001"), so such a token is
// read again with std::from_chars; simdjson's value stays for what from_chars reports out of range.
double exact_double(std::string_view token, double simdjson_value) {
  size_t digits = 0;
  for (const char c : token) {
    if (c == 'e' || c == 'E') break;
    digits += c >= '0' && c <= '9' ? 1 : 0;
  }
  if (digits <= 19) return simdjson_value;
  double d = 0;
  const auto r = std::from_chars(token.data(), token.data() + token.size(), d);
  return r.ec == std::errc() && r.ptr == token.data() + token.size() ? d : simdjson_value;
}

std::string_view trim_ws(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

simdjson::error_code big_number_ok(od::value& v) {
  const std::string_view raw = trim_ws(v.raw_json_token());
  return is_json_number(raw) ? simdjson::SUCCESS : simdjson::NUMBER_ERROR;
}

// Walks a nested value so that simdjson validates every scalar in it (On Demand only checks what
// it is asked for), since nested values are kept as JSON text that outputs splice in as is.
simdjson::error_code validate(od::value v) {
  od::json_type t;
  if (auto e = v.type().get(t)) return e;
  switch (t) {
    case od::json_type::object: {
      od::object o;
      if (auto e = v.get_object().get(o)) return e;
      for (auto f : o) {
        od::field fld;
        if (auto e = std::move(f).get(fld)) return e;
        std::string_view key;  // unescaping checks the key's escapes
        if (auto e = fld.unescaped_key().get(key)) return e;
        if (auto e = validate(fld.value())) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::array: {
      od::array a;
      if (auto e = v.get_array().get(a)) return e;
      for (auto el : a) {
        od::value x;
        if (auto e = el.get(x)) return e;
        if (auto e = validate(x)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::number: {
      // Re-read the token for the number-range fallback below.
      od::number n;
      auto e = v.get_number().get(n);
      // Integers beyond 64 bits are kept as doubles (see member_value).
      return e == simdjson::NUMBER_OUT_OF_RANGE || e == simdjson::NUMBER_ERROR ? big_number_ok(v) : e;
    }
    case od::json_type::string: {
      std::string_view s;
      return v.get_string().get(s);
    }
    case od::json_type::boolean: {
      bool b;
      return v.get_bool().get(b);
    }
    case od::json_type::null: {
      bool n;
      if (auto e = v.is_null().get(n)) return e;
      return n ? simdjson::SUCCESS : simdjson::INCORRECT_TYPE;
    }
  }
  return simdjson::INCORRECT_TYPE;
}

struct DockerPending {
  std::string stream;
  std::string log;
  std::string time_text;
  EventTime last_time;
  uint64_t first_offset = 0;
  bool active = false;
};

class JsonParser final : public Parser {
 public:
  explicit JsonParser(JsonPlugin& plugin) : plugin_(plugin), opts_(plugin.options()) {}

  void parse(std::span<const Line> lines, Batch& out) override {
    for (const Line& line : lines) parse_line(line, out);
  }

  void flush(Batch& out) override {
    for (DockerPending& p : pending_)
      if (p.active) emit_pending(p, out, false);
  }

  uint64_t held_from() const override {
    uint64_t m = UINT64_MAX;
    for (const DockerPending& p : pending_)
      if (p.active && p.first_offset < m) m = p.first_offset;
    return m;
  }

 private:
  // Where a view into the scratch copy lies in the line.
  std::string_view to_line(std::string_view in_scratch) const {
    return {line_base_ + (in_scratch.data() - scratch_base_), in_scratch.size()};
  }

  // Whether the JSON string whose text starts at `text` (after its opening quote) and unescapes
  // to n bytes has no escape sequences, so that its text is its value. Every escape is longer
  // than what it stands for, so with escapes the text is longer than n and byte n lies inside it;
  // a `"` there is an escaped one, preceded by its backslash. Without escapes byte n is the
  // closing quote and byte n - 1 a plain character.
  static bool without_escapes(const char* text, size_t n) {
    return text[n] == '"' && (n == 0 || text[n - 1] != '\\');
  }

  // A string value: a view into the line when it has no escapes, else unescaped into the arena.
  simdjson::error_code string_value(od::value& v, Batch& out, std::string_view& result) {
    std::string_view raw = v.raw_json_token();
    std::string_view s;
    if (auto e = v.get_string().get(s)) return e;
    if (raw.size() >= s.size() + 2 && without_escapes(raw.data() + 1, s.size()))
      result = to_line(raw.substr(1, s.size()));
    else
      result = out.arena.copy(s);
    return simdjson::SUCCESS;
  }

  // The key of the member at `position`: a kept view (keys_) when it is one of the keys seen
  // before, else a view into the line, or into the arena when it has escapes.
  simdjson::error_code key_of(od::field& f, size_t position, Batch& out, std::string_view& result) {
    const char* raw = f.key().raw();
    std::string_view k;
    if (auto e = f.unescaped_key().get(k)) return e;
    result = keys_.intern(position, k);
    if (result.data() != k.data()) return simdjson::SUCCESS;
    if (without_escapes(raw, k.size()))
      result = to_line({raw, k.size()});
    else
      result = out.arena.copy(k);
    return simdjson::SUCCESS;
  }

  // Converts one member value; `text` receives the value's text form for the time key.
  simdjson::error_code member_value(od::value v, Batch& out, Value& result, std::string_view& text) {
    od::json_type t;
    if (auto e = v.type().get(t)) return e;
    switch (t) {
      case od::json_type::string: {
        std::string_view s;
        if (auto e = string_value(v, out, s)) return e;
        result = Value::of_string(s);
        text = s;
        return simdjson::SUCCESS;
      }
      case od::json_type::number: {
        std::string_view raw = trim_ws(v.raw_json_token());
        text = to_line(raw);
        od::number n;
        auto e = v.get_number().get(n);
        if (e == simdjson::NUMBER_OUT_OF_RANGE || e == simdjson::NUMBER_ERROR) {
          // An integer beyond 64 bits: a double, as Ruby's Float would print it.
          if (!is_json_number(raw)) return e;
          result = Value::of_float(std::strtod(std::string(raw).c_str(), nullptr));
          return simdjson::SUCCESS;
        }
        if (e) return e;
        if (n.is_int64()) result = Value::of_int(n.get_int64());
        else if (n.is_uint64()) result = Value::of_float(static_cast<double>(n.get_uint64()));
        else result = Value::of_float(exact_double(raw, n.get_double()));
        return simdjson::SUCCESS;
      }
      case od::json_type::boolean: {
        bool b;
        if (auto e = v.get_bool().get(b)) return e;
        result = Value::of_bool(b);
        text = b ? "true" : "false";
        return simdjson::SUCCESS;
      }
      case od::json_type::null: {
        bool isnull;
        if (auto e = v.is_null().get(isnull)) return e;
        if (!isnull) return simdjson::INCORRECT_TYPE;
        result = Value::null();
        text = {};
        return simdjson::SUCCESS;
      }
      case od::json_type::object:
      case od::json_type::array: {
        const char* start = v.raw_json_token().data();
        if (auto e = validate(v)) return e;
        const char* end = match_bracket(start, scratch_base_ + scratch_len_);
        std::string_view raw(start, static_cast<size_t>(end - start));
        result = Value::of_json(to_line(raw));
        text = {};
        return simdjson::SUCCESS;
      }
    }
    return simdjson::INCORRECT_TYPE;
  }

  // Parses one JSON object into a record. Returns false (record removed) on error.
  bool object_record(od::object obj, const Line& line, Batch& out, std::string& reason) {
    out.begin_record(EventTime{}, line.offset);
    const size_t first_field = out.fields.size();
    TimeMember time;
    size_t position = 0;
    for (auto f : obj) {
      od::field fld;
      simdjson::error_code e = std::move(f).get(fld);
      std::string_view key;
      if (!e) e = key_of(fld, position++, out, key);
      Value val;
      std::string_view text;
      if (!e) e = member_value(fld.value(), out, val, text);
      if (e) {
        out.drop_last_record();
        reason = std::string("invalid JSON: ") + simdjson::error_message(e);
        return false;
      }
      if (take_time(key, text, time)) continue;
      out.add_field(key, val);
    }
    return finish_record(out, first_field, time, reason);
  }

  // The time key's member, when the record has one.
  struct TimeMember {
    bool found = false;
    std::string_view text;
  };

  // Whether the member is the time key's and stays out of the record (keep_time_key false).
  bool take_time(std::string_view key, std::string_view text, TimeMember& time) const {
    if (opts_.time.key.empty() || !equal_bytes(key, opts_.time.key)) return false;
    time = {true, text};
    return !opts_.time.keep;
  }

  // Sets the last record's time (its time member's, else now) and converts its values. False,
  // with the record dropped and the reason set, when the time does not parse.
  bool finish_record(Batch& out, size_t first_field, const TimeMember& time, std::string& reason) {
    EventTime t;
    if (time.found) {
      if (time.text.empty() || !opts_.time.parse(time.text, t)) {
        out.drop_last_record();
        reason = "invalid time format: value = ";
        reason.append(time.text.substr(0, 64));
        return false;
      }
    } else {
      t = now();
    }
    out.records.back().time = t;
    opts_.convert.apply(out, first_field);
    return true;
  }

  enum class Flat { Declined, Record, BadTime };

  // A line that is one flat object of strings (docker json-file's), read without simdjson (see
  // flat_object.h). Declined: nothing was added and the line is simdjson's. After a decline the
  // next kFlatBackoff lines of the stream go to simdjson directly, so that a file of nested or
  // numeric application logs is not read twice; a docker file almost never declines.
  Flat flat_record(const Line& line, Batch& out, std::string& reason) {
    if (flat_backoff_ > 0) {
      --flat_backoff_;
      return Flat::Declined;
    }
    if (!flat_.read(line.bytes, out.arena)) {
      flat_backoff_ = kFlatBackoff;
      return Flat::Declined;
    }
    out.begin_record(EventTime{}, line.offset);
    const size_t first_field = out.fields.size();
    TimeMember time;
    size_t position = 0;
    for (const FlatMember& m : flat_.members()) {
      const std::string_view key = keys_.intern(position++, m.key);
      if (take_time(key, m.value, time)) continue;
      out.add_field(key, Value::of_string(m.value));
    }
    return finish_record(out, first_field, time, reason) ? Flat::Record : Flat::BadTime;
  }

  void parse_line(const Line& line, Batch& out) {
    std::string_view s = line.bytes;
    size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) ++i;
    if (i == s.size() || (s[i] != '{' && s[i] != '[')) {
      plugin_.errors().keep_raw(out, line, "json", i == s.size() ? "invalid JSON: empty line"
                                                                   : "invalid JSON: not an object");
      return;
    }
    const size_t records_before = out.records.size();
    std::string reason;
    switch (flat_record(line, out, reason)) {
      case Flat::Record:
        break;
      case Flat::BadTime:
        plugin_.errors().keep_raw(out, line, "json", reason);
        return;
      case Flat::Declined:
        if (!simdjson_records(line, out)) return;
        break;
    }
    if (opts_.docker && out.records.size() == records_before + 1) docker_join(line, out);
  }

  // The records of a line as simdjson reads it; false when it was kept raw as invalid.
  bool simdjson_records(const Line& line, Batch& out) {
    const std::string_view s = line.bytes;
    ThreadState& ts = thread_state();
    if (ts.scratch.size() < s.size() + simdjson::SIMDJSON_PADDING) ts.scratch.resize(s.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(ts.scratch.data(), s.data(), s.size());
    std::memset(ts.scratch.data() + s.size(), ' ', simdjson::SIMDJSON_PADDING);
    scratch_base_ = ts.scratch.data();
    scratch_len_ = s.size();
    line_base_ = s.data();

    std::string reason;
    const size_t records_before = out.records.size();
    od::document doc;
    auto err = ts.parser.iterate(ts.scratch.data(), s.size(), ts.scratch.size()).get(doc);
    if (!err) {
      od::json_type t;
      err = doc.type().get(t);
      if (!err && t == od::json_type::object) {
        od::object obj;
        err = doc.get_object().get(obj);
        if (!err && !object_record(obj, line, out, reason)) err = simdjson::TAPE_ERROR;
      } else if (!err && t == od::json_type::array) {
        // Fluentd yields each object of a top-level array as a record.
        od::array arr;
        err = doc.get_array().get(arr);
        // Not iterated when get_array failed: begin() on an invalid array is undefined.
        uint64_t element = 0;
        if (!err) for (auto el : arr) {
          if (err) break;
          od::object obj;
          err = el.get_object().get(obj);
          if (err) {
            reason = "parsed result is not a hash";
            break;
          }
          if (!object_record(obj, line, out, reason)) err = simdjson::TAPE_ERROR;
          // Offsets name records (deterministic ids): line.offset + k stays below the next line's.
          else out.records.back().offset = line.offset + element++;
        }
      } else if (!err) {
        err = simdjson::INCORRECT_TYPE;
        reason = "parsed result is not a hash";
      }
      // Anything after the top-level value (`{} x`) is an error, as for Fluentd's JSON.parse.
      if (!err) {
        const char* loc = nullptr;
        if (!doc.current_location().get(loc) && loc && loc < scratch_base_ + scratch_len_) {
          err = simdjson::TAPE_ERROR;
          reason = "invalid JSON: trailing content after the value";
        }
      }
    }
    if (err) {
      while (out.records.size() > records_before) out.drop_last_record();
      if (reason.empty()) reason = std::string("invalid JSON: ") + simdjson::error_message(err);
      plugin_.errors().keep_raw(out, line, "json", reason);
      return false;
    }
    return true;
  }

  // docker json-file: a `log` without a trailing "\n" is a fragment of a longer line.
  void docker_join(const Line& line, Batch& out) {
    Record& r = out.records.back();
    Field* log = nullptr;
    std::string_view stream;
    for (Field* f = out.fields.data() + r.first_field; f != out.fields.data() + r.first_field + r.field_count; ++f) {
      if (f->key == "log" && f->value.kind == ValueKind::String) log = f;
      else if (f->key == "stream" && f->value.kind == ValueKind::String) stream = f->value.text;
    }
    if (!log) return;
    const std::string_view text = log->value.text;
    const bool complete = !text.empty() && text.back() == '\n';
    DockerPending* p = find(stream);
    if (complete) {
      if (p && p->active) {
        log->value.text = out.arena.concat(p->log, text);
        log->value.plain = false;  // the held part was not checked with this line
        r.offset = p->first_offset;
        p->active = false;
        p->log.clear();
      }
      return;
    }
    if (!p) {
      pending_.emplace_back();
      p = &pending_.back();
      p->stream.assign(stream);
    }
    const EventTime t = r.time;
    std::string_view time_text;
    if (opts_.time.keep)
      if (const Value* v = out.find(r, opts_.time.key); v && v->kind == ValueKind::String) time_text = v->text;
    if (p->active && p->log.size() + text.size() > opts_.max_partial_size) {
      // Bounded: the collected part goes out first, marked.
      std::string copy(text);
      std::string tcopy(time_text);
      out.drop_last_record();
      emit_pending(*p, out, true);
      start_or_append(*p, copy, tcopy, t, line.offset);
      return;
    }
    start_or_append(*p, text, time_text, t, line.offset);
    out.drop_last_record();
  }

  void start_or_append(DockerPending& p, std::string_view text, std::string_view time_text, EventTime t,
                       uint64_t offset) {
    if (!p.active) {
      p.active = true;
      p.first_offset = offset;
      p.log.clear();
    }
    p.log.append(text);
    p.time_text.assign(time_text);
    p.last_time = t;
  }

  void emit_pending(DockerPending& p, Batch& out, bool truncated) {
    out.begin_record(p.last_time, p.first_offset);
    out.add_field("log", Value::of_string(out.arena.copy(p.log)));
    if (!p.stream.empty()) out.add_field("stream", Value::of_string(out.arena.copy(p.stream)));
    if (opts_.time.keep && !p.time_text.empty())
      out.add_field(opts_.time.key, Value::of_string(out.arena.copy(p.time_text)));
    if (truncated) {
      out.add_field("_partial_truncated", Value::of_bool(true));
      if (plugin_.truncated_counter()) bump(*plugin_.truncated_counter());
    }
    p.active = false;
    p.log.clear();
  }

  DockerPending* find(std::string_view stream) {
    for (DockerPending& p : pending_)
      if (p.stream == stream) return &p;
    return nullptr;
  }

  JsonPlugin& plugin_;
  const JsonOptions& opts_;
  std::vector<DockerPending> pending_;
  const char* scratch_base_ = nullptr;
  size_t scratch_len_ = 0;
  const char* line_base_ = nullptr;
  KeyInterner keys_;
  FlatObjectReader flat_;
  static constexpr unsigned kFlatBackoff = 63;
  unsigned flat_backoff_ = 0;
};

}  // namespace

JsonPlugin::JsonPlugin(PluginContext& ctx, const Params& params, bool docker)
    : errors_(ctx, docker ? "docker" : "json") {
  options_.time.configure(params, docker ? "string" : "float");
  options_.convert = ValueConverter(params);
  options_.docker = docker;
  if (docker) options_.max_partial_size = params.size("max_partial_size");
  if (ctx.metrics)
    truncated_ = &ctx.metrics->counter("sluice_partial_truncated_total{plugin=\"" + ctx.id + "\"}");
}

JsonPlugin::JsonPlugin(PluginContext& ctx, JsonOptions options, std::string type_name)
    : options_(std::move(options)), errors_(ctx, std::move(type_name)) {
  if (ctx.metrics)
    truncated_ = &ctx.metrics->counter("sluice_partial_truncated_total{plugin=\"" + ctx.id + "\"}");
}

std::unique_ptr<Parser> JsonPlugin::open_stream(std::string_view) { return std::make_unique<JsonParser>(*this); }

PluginSpec json_spec(bool docker) {
  PluginSpec spec;
  spec.kind = "parser";
  spec.type = docker ? "docker" : "json";
  spec.doc = docker ? "Docker json-file lines {\"log\",\"stream\",\"time\"}: like json with time from `time`, and the "
                      "16 KiB split lines of a stream (log without a trailing newline) joined into one record."
                    : "One JSON object per line (Fluentd parser_json, parsed with simdjson).";
  BaseDefaults d;
  d.time_key = "time";
  d.time_type = docker ? "string" : "float";
  if (docker) d.time_format = "%Y-%m-%dT%H:%M:%S.%N%:z";
  add_base_params(spec, d);
  ParamSpec jp;
  jp.name = "json_parser";
  jp.type = ParamType::Enum;
  jp.choices = {"oj", "yajl", "json"};
  jp.default_value = "oj";
  jp.ignored = true;
  jp.doc = "Accepted and ignored: simdjson is always used.";
  spec.params.push_back(jp);
  ParamSpec sb;
  sb.name = "stream_buffer_size";
  sb.type = ParamType::Integer;
  sb.default_value = "8192";
  sb.ignored = true;
  sb.doc = "Accepted and ignored (Fluentd's parse_io buffer).";
  spec.params.push_back(sb);
  if (docker) {
    ParamSpec mp;
    mp.name = "max_partial_size";
    mp.type = ParamType::Size;
    mp.default_value = "1m";
    mp.doc = "Bound on a joined log; beyond it the collected part is emitted with _partial_truncated true.";
    spec.params.push_back(mp);
  }
  return spec;
}

}  // namespace parsers

void register_parser_json(Registry& registry) {
  registry.add_parser(parsers::json_spec(false), [](PluginContext& ctx, const Params& params) {
    return std::make_unique<parsers::JsonPlugin>(ctx, params, false);
  });
  registry.add_parser(parsers::json_spec(true), [](PluginContext& ctx, const Params& params) {
    return std::make_unique<parsers::JsonPlugin>(ctx, params, true);
  });
}

}  // namespace sluice
