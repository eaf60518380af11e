// `@type parser`: Fluentd's filter_parser. Parses one field of every record with the `<parse>`
// section's parser and replaces the record with the fields found or, with reserve_data, merges
// them into it.
//
// The parser appends its records to the batch being filtered: what it builds lives in the batch's
// arena and its string values view the parsed field, so no byte is copied. The batch's records and
// fields are then rebuilt from the originals and the parser's. Common fields (the kubernetes
// metadata) become each kept record's own, so that merged keys follow them and may replace them,
// as in Fluentd's Hash#merge.
#include <memory>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/registry.h"
#include "format/json.h"
#include "format/record_path.h"
#include "format/utf8_scrub.h"

namespace sluice {

namespace {

struct Settings {
  std::string key_name;
  RecordPath path;  // key_name as a record_accessor path (`log`, or `$.a.b` into a map)
  bool reserve_data = false;
  bool reserve_time = false;
  bool remove_key_name_field = false;
  bool replace_invalid_sequence = false;
  bool emit_invalid_record_to_error = true;
  std::string inject_key_prefix;
  std::string hash_value_field;  // empty: none
};

// Parameters of Fluentd's v0.12 form (`format json` beside key_name), which its compat layer
// moves into a <parse> section.
const char* const kLegacyParserParams[] = {
    "time_key",   "time_format",        "time_type",   "keep_time_key",  "types",
    "localtime",  "utc",                "timezone",    "null_empty_string", "null_value_pattern",
    "estimate_current_event", "format_firstline", "message_key", "with_priority",
    "message_format", "rfc5424_time_format",
};

ConfigSection legacy_parse_section(const ConfigSection& filter) {
  // `format /re/` stays as written: make_parser reads a `/.../` type as a regexp.
  const ConfigParam* format = filter.param("format");
  ConfigSection parse{"parse", "", format->pos, {{"@type", format->value, format->pos}}, {}};
  for (const char* name : kLegacyParserParams)
    if (const ConfigParam* p = filter.param(name)) parse.params.push_back(*p);
  return parse;
}

class ParserFilter final : public Filter, ParseFailureListener {
 public:
  ParserFilter(PluginContext ctx, Settings s) : s_(std::move(s)), id_(ctx.id), error_label_(ctx.label_emitter) {
    const ConfigSection* parse = ctx.section->child("parse");
    if (!parse && ctx.section->param("format")) {
      legacy_parse_ = legacy_parse_section(*ctx.section);
      parse = &legacy_parse_;
    }
    ctx.parse_failures = this;
    parser_ = ctx.make_parser(parse, "");
    stream_ = parser_->open_stream(id_);
    if (ctx.metrics) failures_ = &ctx.counter("sluice_parse_errors_total");
  }

  void kept_raw(const Batch& out, std::string_view reason) override {
    raw_records_.push_back(out.records.size() - 1);
    raw_reason_.assign(reason);
  }

  void filter(Batch& b) override {
    const size_t n = b.records.size();
    if (n == 0) return;
    records_.clear();
    fields_.clear();
    errors_.clear();
    for (size_t i = 0; i < n; ++i) {
      const Record orig = b.records[i];  // a copy: the parser appends to b.records
      const Value* v = b.find(orig, s_.path.top());
      std::string_view text;
      if (s_.path.nested()) {
        std::string_view token;
        if (!s_.path.nested_token(v, token) || token == "null") {
          fail(b, orig, "is missing", {});
          continue;
        }
        if (token[0] != '"') {
          fail(b, orig, "is not a string", {});
          continue;
        }
        nested_.clear();
        jsonscan::append_token_to_s(nested_, token);
        text = b.arena.copy(nested_);
      } else if (!v) {
        fail(b, orig, "is missing", {});
        continue;
      } else if (v->kind != ValueKind::String) {
        fail(b, orig, "is not a string", {});
        continue;
      } else {
        text = v->text;
      }
      parse_value(b, orig, text);
    }
    b.records.swap(records_);
    b.fields.swap(fields_);
    b.common_fields.clear();
    if (!errors_.records.empty()) send_errors(b);
  }

 private:
  void parse_value(Batch& b, const Record& orig, std::string_view text) {
    if (s_.replace_invalid_sequence) {
      std::string_view clean = scrub_utf8(text, scrubbed_);
      if (clean.data() != text.data()) text = b.arena.copy(clean);
    }
    Line line{text, orig.offset};
    raw_records_.clear();
    const size_t first = b.records.size();
    stream_->parse({&line, 1}, b);
    stream_->flush(b);
    const size_t last = b.records.size();
    if (first == last) fail(b, orig, "pattern not matched", text);
    size_t next_raw = 0;
    for (size_t r = first; r < last; ++r) {
      if (next_raw < raw_records_.size() && raw_records_[next_raw] == r) {
        ++next_raw;
        fail(b, orig, raw_reason_, text);
        continue;
      }
      keep_parsed(b, orig, b.records[r], r - first);
    }
  }

  // Fluentd: the record goes to the @ERROR label (emit_invalid_record_to_error) and, with
  // reserve_data, stays as it was (plus an empty hash_value_field).
  // `what` is about key_name's value; `data` is that value when there was one.
  void fail(Batch& b, const Record& orig, std::string_view what, std::string_view data) {
    if (failures_) bump(*failures_);
    if (s_.emit_invalid_record_to_error) {
      if (errors_.records.empty()) {
        error_kind_ = what.substr(0, what.find(':'));
        error_reason_ = "field '" + s_.key_name + "' ";
        if (data.data())
          error_reason_ += "did not parse (" + std::string(what) + "): " + log::quote_excerpt(data);
        else
          error_reason_ += what;
      }
      errors_.begin_record(orig.time, orig.offset);
      copy_original(b, orig, errors_.fields, false);
      errors_.records.back().field_count = static_cast<uint32_t>(errors_.fields.size() - errors_.records.back().first_field);
    }
    if (!s_.reserve_data) return;
    Record& out = begin(orig.time, orig.offset);
    copy_original(b, orig, fields_, false);
    if (!s_.hash_value_field.empty()) merge(s_.hash_value_field, Value::of_json("{}"), out);
    out.field_count = static_cast<uint32_t>(fields_.size() - out.first_field);
  }

  // `index`: the parsed record's place among its value's (a JSON array yields several); it keeps
  // their offsets, which name records in deterministic ids, apart.
  void keep_parsed(Batch& b, const Record& orig, const Record& parsed, size_t index) {
    Record& out = begin(s_.reserve_time ? orig.time : parsed.time, orig.offset + index);
    if (s_.reserve_data) copy_original(b, orig, fields_, s_.remove_key_name_field);
    const Field* f = b.begin(parsed);
    const Field* end = b.end(parsed);
    if (s_.hash_value_field.empty()) {
      for (; f != end; ++f) merge(prefixed(b, f->key), f->value, out);
    } else {
      json_.clear();
      bool first = true;
      json_.push_back('{');
      for (; f != end; ++f) json::append_member(json_, first, prefixed(b, f->key), f->value);
      json_.push_back('}');
      merge(s_.hash_value_field, Value::of_json(b.arena.copy(json_)), out);
    }
    out.field_count = static_cast<uint32_t>(fields_.size() - out.first_field);
  }

  Record& begin(EventTime time, uint64_t offset) {
    Record& r = records_.emplace_back();
    r.time = time;
    r.offset = offset;
    r.first_field = static_cast<uint32_t>(fields_.size());
    return r;
  }

  // The record as Fluentd holds it: its own fields, then the batch's common ones.
  void copy_original(const Batch& b, const Record& orig, std::vector<Field>& to, bool drop_key) const {
    for (const Field* f = b.begin(orig); f != b.end(orig); ++f)
      if (!drop_key || f->key != s_.key_name) to.push_back(*f);
    for (const Field& f : b.common_fields)
      if (!drop_key || f.key != s_.key_name) to.push_back(f);
  }

  // Hash#merge: a key the record has keeps its place and takes the new value.
  void merge(std::string_view key, const Value& value, const Record& out) {
    if (s_.reserve_data)
      for (size_t i = out.first_field; i < fields_.size(); ++i)
        if (fields_[i].key == key) {
          fields_[i].value = value;
          return;
        }
    fields_.push_back({key, value});
  }

  std::string_view prefixed(Batch& b, std::string_view key) const {
    return s_.inject_key_prefix.empty() ? key : b.arena.concat(s_.inject_key_prefix, key);
  }

  void send_errors(const Batch& b) {
    Emitter* label = error_label_ ? error_label_("@ERROR") : nullptr;
    if (!label) {
      log::warn_once("filter_parser/" + id_ + "/" + error_kind_,
                     "[" + id_ + "] " + error_reason_ + " (tag " + log::quote_excerpt(b.tag) + "); the record is " +
                         (s_.reserve_data ? "kept unparsed" : "dropped") +
                         ", there is no @ERROR label to send it to (first of its kind; counted in "
                         "sluice_parse_errors_total)");
      return;
    }
    errors_.tag = b.tag;
    errors_.take_origin(b);
    label->emit(errors_);
  }

  Settings s_;
  std::string id_;
  std::function<Emitter*(const std::string&)> error_label_;
  ConfigSection legacy_parse_;  // outlives the parser built from it
  std::unique_ptr<ParserPlugin> parser_;
  std::unique_ptr<Parser> stream_;
  Counter* failures_ = nullptr;
  // Rebuilt batch contents, swapped in; kept to reuse their memory.
  std::vector<Record> records_;
  std::vector<Field> fields_;
  Batch errors_;
  std::vector<size_t> raw_records_;  // records of the current value the parser kept raw
  std::string raw_reason_, error_kind_, error_reason_, scrubbed_, json_, nested_;
};

}  // namespace

void register_filter_parser(Registry& registry) {
  PluginSpec spec{"filter", "parser",
                  "Parses one field of each record with a <parse> parser (Fluentd's filter_parser).",
                  {},
                  {"parse"}};
  spec.params = {
      {"key_name", ParamType::String, "", "Field to parse (a top-level key).", {}, false, true},
      {"reserve_data", ParamType::Bool, "false", "Keep the record's other fields; parsed ones are merged in."},
      {"reserve_time", ParamType::Bool, "false", "Keep the record's event time instead of the parsed one."},
      {"remove_key_name_field", ParamType::Bool, "false",
       "With reserve_data: drop key_name's field when the value parsed."},
      {"inject_key_prefix", ParamType::String, "", "Prefix for the parsed keys.", {}, false},
      {"replace_invalid_sequence", ParamType::Bool, "false",
       "Replace bytes that are not UTF-8 with '?' before parsing."},
      {"hash_value_field", ParamType::String, "", "Put the parsed fields in one map under this key.", {}, false},
      {"emit_invalid_record_to_error", ParamType::Bool, "true",
       "Send records whose value is missing or does not parse to the @ERROR label."},
      {"format", ParamType::String, "", "Legacy: the parser type (or /regexp/); use <parse>.", {}, false},
  };
  for (const char* name : kLegacyParserParams)
    spec.params.push_back({name, ParamType::String, "", "Legacy: moved into the parser, as with `format`.", {}, false});
  registry.add_filter(std::move(spec), [](PluginContext& ctx, const Params& params) {
    Settings s;
    const ConfigSection& section = params.section();
    for (const char* name : kLegacyParserParams)
      if (const ConfigParam* p = section.param(name); p && (!section.param("format") || section.child("parse")))
        throw ConfigException(p->pos, std::string(name) + " belongs in the <parse> section");
    s.key_name = params.str("key_name");
    try {
      s.path = RecordPath(s.key_name);
    } catch (const std::invalid_argument& e) {
      throw ConfigException(params.pos("key_name"), std::string("key_name: ") + e.what());
    }
    s.reserve_data = params.flag("reserve_data");
    s.reserve_time = params.flag("reserve_time");
    s.remove_key_name_field = params.flag("remove_key_name_field");
    s.replace_invalid_sequence = params.flag("replace_invalid_sequence");
    s.emit_invalid_record_to_error = params.flag("emit_invalid_record_to_error");
    s.inject_key_prefix = params.str("inject_key_prefix");
    s.hash_value_field = params.str("hash_value_field");
    if (s.path.nested() && s.remove_key_name_field && s.reserve_data)
      throw ConfigException(params.pos("remove_key_name_field"),
                            "remove_key_name_field with a nested key_name (" + s.key_name +
                                ") is not supported: it would rewrite the map that holds it");
    return std::make_unique<ParserFilter>(ctx, std::move(s));
  });
}

}  // namespace sluice
