// `@type record_transformer`: Fluentd's filter_record_transformer.
//
// `<record>` entries are templates: literal text and placeholders `${tag}`, `${tag_parts[N]}`,
// `${tag_prefix[N]}`, `${tag_suffix[N]}` (N may be negative), `${hostname}`, `${time}` and
// `${record["key"]}`; with enable_ruby, `${...}` holds a Ruby expression (ruby/record_expression.h).
// Values starting with `{` or `[` that are valid JSON are JSON values, as in Fluentd.
//
// Per batch: tag-derived placeholders are computed once; entries that do not depend on the
// record (no record field, no time) are rendered once. Per record: the new fields are built in a
// scratch vector kept across batches (then swapped with batch.fields), rendered strings go into
// batch.arena, so there is no heap allocation per record once warm.

#include <algorithm>
#include <charconv>
#include <memory>
#include <stdexcept>
#include <climits>
#include <cmath>
#include <string>
#include <vector>

#include "config/ruby_eval.h"
#include "core/error_events.h"
#include "core/hostname.h"
#include "core/log.h"
#include "core/registry.h"
#include "format/json_lookup.h"
#include "format/line_format.h"
#include "format/record_path.h"
#include "format/tag_parts.h"
#include "ruby/record_expression.h"

namespace sluice {

namespace {

struct Part {
  enum Kind { Literal, Tag, TagParts, TagPrefix, TagSuffix, Hostname, Time, RecordKey, Ruby, Unknown };
  Kind kind = Literal;
  std::string text;  // literal text, or the record key
  int64_t index = 0;
  std::string placeholder;  // as written, e.g. ${tag_parts[1]}, for warnings
  std::shared_ptr<const ruby::RecordExpression> ruby;
};

struct Template {
  std::vector<Part> parts;
  bool per_record = false;  // has a record field or ${time}
  bool single = false;      // exactly one placeholder and nothing else
  std::string source;       // as written, for error messages
  bool literal() const { return parts.empty() || (parts.size() == 1 && parts[0].kind == Part::Literal); }
};

bool parse_index(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

Part parse_placeholder(std::string_view whole) {
  // whole is `${...}` or `__X__`
  Part p;
  p.placeholder = std::string(whole);
  if (whole.substr(0, 2) != "${") {
    p.kind = Part::Unknown;
    return p;
  }
  std::string_view in = whole.substr(2, whole.size() - 3);
  if (in == "tag") {
    p.kind = Part::Tag;
  } else if (in == "hostname") {
    p.kind = Part::Hostname;
  } else if (in == "time") {
    p.kind = Part::Time;
  } else {
    for (auto [name, kind] : {std::pair{std::string_view("tag_parts["), Part::TagParts},
                              std::pair{std::string_view("tag_prefix["), Part::TagPrefix},
                              std::pair{std::string_view("tag_suffix["), Part::TagSuffix}}) {
      if (in.size() > name.size() && in.substr(0, name.size()) == name && in.back() == ']' &&
          parse_index(in.substr(name.size(), in.size() - name.size() - 1), p.index)) {
        p.kind = kind;
        return p;
      }
    }
    if (in.size() >= 10 && in.substr(0, 7) == "record[" && in.back() == ']' &&
        (in[7] == '"' || in[7] == '\'') && in[in.size() - 2] == in[7]) {
      p.kind = Part::RecordKey;
      p.text = std::string(in.substr(8, in.size() - 10));
    } else {
      // Fluentd 1.x has no `${key}` for record fields (v0.12 had): unknown, warned, nil.
      p.kind = Part::Unknown;
    }
  }
  return p;
}

// Splits like Fluentd's placeholder regexp /(\${[^}]+}|__[A-Z_]+__)/.
Template parse_template(std::string_view s) {
  Template t;
  std::string lit;
  size_t i = 0;
  size_t placeholders = 0;
  while (i < s.size()) {
    size_t end = std::string_view::npos;
    if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
      size_t close = s.find('}', i + 2);
      if (close != std::string_view::npos && close > i + 2) end = close + 1;
    } else if (s[i] == '_' && s.substr(i, 2) == "__") {
      size_t j = i + 2;
      while (j < s.size() && ((s[j] >= 'A' && s[j] <= 'Z') || s[j] == '_')) ++j;
      // The regexp is greedy over [A-Z_]+ and then needs "__": back off to the last "__".
      while (j > i + 2) {
        if (s.substr(j - 2, 2) == "__" && j - 2 > i + 2) {
          end = j;
          break;
        }
        --j;
      }
    }
    if (end == std::string_view::npos) {
      lit.push_back(s[i++]);
      continue;
    }
    if (!lit.empty()) t.parts.push_back({Part::Literal, std::move(lit), 0, {}, {}}), lit.clear();
    Part p = parse_placeholder(s.substr(i, end - i));
    if (p.kind == Part::RecordKey || p.kind == Part::Time) t.per_record = true;
    t.parts.push_back(std::move(p));
    ++placeholders;
    i = end;
  }
  if (!lit.empty()) t.parts.push_back({Part::Literal, std::move(lit), 0, {}, {}});
  t.single = placeholders == 1 && t.parts.size() == 1;
  return t;
}

// Fluentd's RubyPlaceholderExpander#preprocess_map: with auto_typecast, a value that is exactly
// one `${...}` is that expression's value; otherwise the text is a Ruby `%Q[...]` string whose
// `${...}` (and `#{...}`) are interpolated and whose backslash escapes are Ruby's.
Template parse_ruby_template(std::string_view s, bool typed) {
  Template t;
  t.source = std::string(s);
  auto expression = [&](std::string_view code) {
    Part p;
    p.kind = Part::Ruby;
    p.placeholder = "${" + std::string(code) + "}";
    try {
      p.ruby = std::make_shared<ruby::RecordExpression>(code);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("`" + p.placeholder + "` " + ruby::refusal(e));
    }
    if (p.ruby->per_record()) t.per_record = true;
    t.parts.push_back(std::move(p));
  };
  size_t opens = 0;
  for (size_t at = s.find("${"); at != std::string_view::npos; at = s.find("${", at + 2)) ++opens;
  if (typed && opens == 1 && s.size() >= 3 && s.substr(0, 2) == "${" && s.back() == '}') {
    expression(s.substr(2, s.size() - 3));
    t.single = true;
    return t;
  }
  std::string lit;
  for (size_t i = 0; i < s.size();) {
    if ((s[i] == '$' || s[i] == '#') && i + 1 < s.size() && s[i + 1] == '{') {
      size_t end = ruby::find_embedded_end(s, i + 2);
      if (end == std::string_view::npos)
        throw std::invalid_argument("unterminated `" + std::string(s.substr(i, 2)) + "` in " + t.source);
      if (!lit.empty()) t.parts.push_back({Part::Literal, std::move(lit), 0, {}, {}}), lit.clear();
      expression(s.substr(i + 2, end - i - 2));
      i = end + 1;
    } else if (s[i] == '\\' && i + 1 < s.size()) {
      char e = s[i + 1];
      i += 2;
      switch (e) {
        case 'n': lit.push_back('\n'); break;
        case 't': lit.push_back('\t'); break;
        case 'r': lit.push_back('\r'); break;
        case 'e': lit.push_back('\x1b'); break;
        case 's': lit.push_back(' '); break;
        case '0': lit.push_back('\0'); break;
        default: lit.push_back(e);  // Ruby drops the backslash of an unknown escape
      }
    } else {
      lit.push_back(s[i++]);
    }
  }
  if (!lit.empty()) t.parts.push_back({Part::Literal, std::move(lit), 0, {}, {}});
  return t;
}

struct Entry {
  std::string key_text;
  Template key;
  Template value;
  bool is_json = false;
  std::string json;  // minified JSON constant
};

class RecordTransformer : public Filter {
 public:
  std::string id;
  std::vector<Entry> entries;
  std::vector<std::string> keep_keys, remove_keys;
  std::vector<RecordPath> nested_removals;  // remove_keys `$.a.b`
  bool renew_record = false;
  bool auto_typecast = false;
  bool has_renew_time_key = false;
  std::string renew_time_key;
  std::string hostname;
  bool dynamic_keys = false;  // an entry key depends on the record
  ErrorEvents errors;  // records whose expressions raised, for @ERROR

  RecordTransformer() : time_format_("%Y-%m-%d %H:%M:%S %z", false) {}

  void filter(Batch& batch) override {
    tag_.prepare(batch.tag);
    Arena& arena = batch.arena;

    // Entries that do not depend on the record: render once.
    failure_.clear();
    static_keys_.resize(entries.size());
    static_values_.resize(entries.size());
    for (size_t j = 0; j < entries.size(); ++j) {
      const Entry& e = entries[j];
      if (!e.key.per_record) static_keys_[j] = render(e.key, batch, nullptr, arena, true).text;
      if (e.is_json)
        static_values_[j] = Value::of_json(e.json);
      else if (!e.value.per_record)
        static_values_[j] = render(e.value, batch, nullptr, arena, false);
    }

    // Common fields (appended to every record by formatters) that this transformation replaces
    // or removes. When keys depend on the record, common fields are copied into each record.
    const bool materialize = dynamic_keys && !batch.common_fields.empty();
    drop_common_.assign(batch.common_fields.size(), 0);
    if (!materialize) {
      for (size_t c = 0; c < batch.common_fields.size(); ++c) {
        std::string_view k = batch.common_fields[c].key;
        bool drop = contains(remove_keys, k) || (renew_record && !contains(keep_keys, k));
        for (size_t j = 0; j < entries.size() && !drop; ++j) drop = static_keys_[j] == k;
        drop_common_[c] = drop;
      }
    }

    scratch_.clear();
    errors.clear();
    const std::string batch_failure = failure_;  // a per-batch entry raised: every record fails
    size_t kept = 0;
    for (size_t n = 0; n < batch.records.size(); ++n) {
      Record& rec = batch.records[n];
      const Record orig = rec;
      const uint32_t first = static_cast<uint32_t>(scratch_.size());
      failure_ = batch_failure;
      if (!renew_record) {
        scratch_.insert(scratch_.end(), batch.begin(orig), batch.end(orig));
        if (materialize)
          scratch_.insert(scratch_.end(), batch.common_fields.begin(), batch.common_fields.end());
      } else {
        for (const std::string& k : keep_keys) {
          if (const Field* f = find_own(batch, orig, k)) {
            put(first, f->key, f->value);
          } else if (materialize) {
            for (const Field& cf : batch.common_fields)
              if (cf.key == k) {
                put(first, cf.key, cf.value);
                break;
              }
          }
        }
      }
      for (size_t j = 0; j < entries.size() && failure_.empty(); ++j) {
        const Entry& e = entries[j];
        std::string_view key =
            e.key.per_record ? render(e.key, batch, &orig, arena, true).text : static_keys_[j];
        Value v = (e.is_json || !e.value.per_record) ? static_values_[j]
                                                      : render(e.value, batch, &orig, arena, false);
        put(first, key, v);
      }
      if (!failure_.empty()) {  // Fluentd: router.emit_error_event, the record leaves the stream
        scratch_.resize(first);
        errors.add(orig, {batch.begin(orig), batch.end(orig)}, batch.common_fields, failure_);
        continue;
      }
      if (has_renew_time_key) renew_time(batch, first, rec);
      if (!remove_keys.empty()) {
        size_t w = first;
        for (size_t i = first; i < scratch_.size(); ++i)
          if (!contains(remove_keys, scratch_[i].key)) scratch_[w++] = scratch_[i];
        scratch_.resize(w);
      }
      for (const RecordPath& path : nested_removals)
        for (size_t i = first; i < scratch_.size(); ++i)
          if (scratch_[i].key == path.top()) remove_nested(path, scratch_[i].value, arena);
      rec.first_field = first;
      rec.field_count = static_cast<uint32_t>(scratch_.size() - first);
      batch.records[kept++] = rec;
    }
    batch.records.resize(kept);
    failure_.clear();
    errors.send(batch);
    batch.fields.swap(scratch_);

    if (materialize) {
      batch.common_fields.clear();
    } else {
      size_t w = 0;
      for (size_t c = 0; c < batch.common_fields.size(); ++c)
        if (!drop_common_[c]) batch.common_fields[w++] = batch.common_fields[c];
      batch.common_fields.resize(w);
      // After the records' entries have read them: once per batch, as the fields are shared.
      for (const RecordPath& path : nested_removals)
        for (Field& cf : batch.common_fields)
          if (cf.key == path.top()) remove_nested(path, cf.value, arena);
    }
  }

 private:
  // record_accessor's delete of `$.a.b`: the map `a` without `b` (a new JSON text).
  void remove_nested(const RecordPath& path, Value& top, Arena& arena) {
    if (path.remove_nested(top, json_buf_)) top = Value::of_json(arena.copy(json_buf_));
  }

  static bool contains(const std::vector<std::string>& v, std::string_view k) {
    for (auto& s : v)
      if (s == k) return true;
    return false;
  }

  static const Field* find_own(const Batch& b, const Record& r, std::string_view k) {
    for (const Field* f = b.begin(r); f != b.end(r); ++f)
      if (f->key == k) return f;
    return nullptr;
  }

  // Ruby Hash#[]=: replaces in place when the key exists, else appends.
  void put(uint32_t first, std::string_view key, const Value& v) {
    for (size_t i = first; i < scratch_.size(); ++i)
      if (scratch_[i].key == key) {
        scratch_[i].value = v;
        return;
      }
    scratch_.push_back({key, v});
  }

  // Resolves one placeholder; false when unknown (Fluentd warns and uses nil).
  bool resolve(const Part& p, const Batch& b, const Record* r, Value& out) {
    std::string_view s;
    switch (p.kind) {
      case Part::Literal: out = Value::of_string(p.text); return true;
      case Part::Tag: out = Value::of_string(tag_.tag()); return true;
      case Part::Hostname: out = Value::of_string(hostname); return true;
      case Part::TagParts:
        if (!TagParts::pick(tag_.parts(), p.index, s)) return false;
        out = Value::of_string(s);
        return true;
      case Part::TagPrefix:
        if (!TagParts::pick(tag_.prefixes(), p.index, s)) return false;
        out = Value::of_string(s);
        return true;
      case Part::TagSuffix:
        if (!TagParts::pick(tag_.suffixes(), p.index, s)) return false;
        out = Value::of_string(s);
        return true;
      case Part::Time:
        time_buf_.clear();
        time_format_.append(time_buf_, r->time);
        out = Value::of_string(time_buf_);
        return true;
      case Part::RecordKey: {
        const Value* v = b.find(*r, p.text);
        if (!v) return false;
        out = *v;
        return true;
      }
      case Part::Ruby: break;  // render() evaluates it
      case Part::Unknown: return false;
    }
    return false;
  }

  ruby::Scope scope(const Batch& b, const Record* r, Arena& arena) const {
    return ruby::Scope{&b, r, &tag_, hostname, &arena};
  }

  void raised(const Template& t, const std::string& error) {
    if (failure_.empty()) failure_ = "failed to expand `" + t.source + "` : error = " + error;
  }

  void warn_unknown(const Part& p) {
    log::warn_once(id + ":placeholder:" + p.placeholder,
                   "[" + id + "] unknown placeholder `" + p.placeholder + "` found");
  }

  // Tag-derived views point into tag_ (which lives until the tag changes): copy them
  // into the batch arena so outputs that keep the batch's views never see them change.
  Value render(const Template& t, const Batch& b, const Record* r, Arena& arena, bool stringify) {
    if (t.literal()) return Value::of_string(t.parts.empty() ? std::string_view() : t.parts[0].text);
    if (t.single && t.parts[0].kind == Part::Ruby) {
      Value v;
      std::string error;
      if (!t.parts[0].ruby->evaluate(scope(b, r, arena), v, error)) raised(t, error);
      return v;
    }
    if (auto_typecast && !stringify && t.single) {
      Value v;
      if (!resolve(t.parts[0], b, r, v)) {
        warn_unknown(t.parts[0]);
        return Value::null();
      }
      if (v.kind == ValueKind::String && t.parts[0].kind != Part::RecordKey)
        v.text = arena.copy(v.text);
      return v;
    }
    buf_.clear();
    for (const Part& p : t.parts) {
      if (p.kind == Part::Literal) {
        buf_.append(p.text);
        continue;
      }
      if (p.kind == Part::Ruby) {
        std::string error;
        if (!p.ruby->append_to_s(scope(b, r, arena), buf_, error)) raised(t, error);
        continue;
      }
      Value v;
      if (!resolve(p, b, r, v)) {
        warn_unknown(p);
        continue;
      }
      append_ruby_to_s(buf_, v);
    }
    return Value::of_string(arena.copy(buf_));
  }

  // Fluentd: time = Time.at(new_record[renew_time_key].to_f) when the key is present.
  void renew_time(const Batch& b, uint32_t first, Record& rec) {
    const Value* v = nullptr;
    for (size_t i = first; i < scratch_.size(); ++i)
      if (scratch_[i].key == renew_time_key) {
        v = &scratch_[i].value;
        break;
      }
    if (!v) {
      for (size_t c = 0; c < b.common_fields.size(); ++c)
        if (!drop_common_[c] && b.common_fields[c].key == renew_time_key) {
          v = &b.common_fields[c].value;
          break;
        }
    }
    if (!v) return;
    double d = 0;
    switch (v->kind) {
      case ValueKind::Null: d = 0; break;
      case ValueKind::Int:
        rec.time = EventTime{v->integer, 0, false};
        return;
      case ValueKind::Float: d = v->real; break;
      case ValueKind::String: d = ruby::string_to_f(v->text); break;
      default:
        log::warn_once(id + ":renew_time_key",
                       "[" + id + "] renew_time_key '" + renew_time_key +
                           "' holds a value that is not a number or string; time left unchanged");
        return;
    }
    if (!std::isfinite(d)) return;
    double sec = std::floor(d);
    rec.time.sec = static_cast<int64_t>(sec);
    rec.time.nsec = static_cast<uint32_t>(std::min(999999999.0, (d - sec) * 1e9));
    rec.time.integer = false;
  }

  std::vector<Field> scratch_;
  std::string failure_;
  std::vector<std::string_view> static_keys_;
  std::vector<Value> static_values_;
  std::vector<char> drop_common_;
  TagParts tag_;
  CachedTimeFormat time_format_;
  std::string time_buf_, buf_, json_buf_;
};

}  // namespace

void register_filter_record_transformer(Registry& registry) {
  PluginSpec spec{"filter", "record_transformer",
                  "Adds, replaces and removes record fields with placeholders, or with the Ruby "
                  "expressions of enable_ruby that sluice evaluates (Fluentd's "
                  "filter_record_transformer).",
                  {},
                  {"record"}};
  spec.params = {
      {"enable_ruby", ParamType::Bool, "false",
       "${...} holds a Ruby expression: record[\"a\"][\"b\"], record.dig(...), tag_parts[N], "
       "time.strftime(...), ||, ?:, string methods (see the README); others are refused."},
      {"auto_typecast", ParamType::Bool, "true",
       "A value that is a single placeholder keeps the referenced value's type."},
      {"renew_record", ParamType::Bool, "false",
       "Start from an empty record (plus keep_keys) instead of the input record."},
      {"renew_time_key", ParamType::String, "",
       "Field (after transformation) whose value, as seconds since the epoch, becomes the "
       "event time.",
       {}, false},
      {"keep_keys", ParamType::Array, "", "With renew_record: input keys to keep.", {}, false},
      {"remove_keys", ParamType::Array, "", "Keys to remove after the transformation.", {}, false},
  };
  registry.add_filter(std::move(spec), [](PluginContext& ctx, const Params& params) {
    const ConfigSection& section = params.section();
    const bool enable_ruby = params.flag("enable_ruby");
    auto f = std::make_unique<RecordTransformer>();
    f->id = ctx.id;
    f->errors = ErrorEvents(ctx.id, ctx.label_emitter);
    f->hostname = local_hostname();
    f->auto_typecast = params.flag("auto_typecast");
    f->renew_record = params.flag("renew_record");
    if (params.has("renew_time_key")) {
      f->has_renew_time_key = true;
      f->renew_time_key = params.str("renew_time_key");
    }
    if (params.has("keep_keys")) {
      if (!f->renew_record)
        throw ConfigException(params.pos("keep_keys"),
                              "`renew_record` must be true to use `keep_keys`");
      f->keep_keys = params.list("keep_keys");
    }
    if (params.has("remove_keys")) {
      // record_accessor syntax: `$.key` / `$['key']` are top-level keys, `$.a.b` / `$.a[0]`
      // members of a map or array field.
      try {
        split_key_paths(params.list("remove_keys"), f->remove_keys, f->nested_removals);
      } catch (const std::invalid_argument& e) {
        throw ConfigException(params.pos("remove_keys"),
                              "record_transformer: remove_keys: " + std::string(e.what()));
      }
    }
    for (const ConfigSection& rec : section.children) {
      if (rec.name != "record") continue;
      if (!rec.children.empty())
        throw ConfigException(rec.children[0].pos,
                              "record_transformer: <" + rec.children[0].name +
                                  "> is not allowed inside <record>");
      for (const ConfigParam& p : rec.params) {
        if (p.is_nil) continue;
        Entry e;
        e.key_text = p.key;
        const std::string& v = p.value;
        auto ruby_template = [&](std::string_view text, bool typed) {
          try {
            return parse_ruby_template(text, typed);
          } catch (const std::invalid_argument& ex) {
            throw ConfigException(p.pos, "record_transformer: " + std::string(ex.what()) +
                                             " (enable_ruby: see `sluice plugins` and the README "
                                             "for the supported Ruby)");
          }
        };
        e.key = enable_ruby ? ruby_template(p.key, false) : parse_template(p.key);
        if (!v.empty() && (v[0] == '{' || v[0] == '[') && jsonscan::valid(v)) {
          if (v.find("${") != std::string::npos)
            throw ConfigException(p.pos, "record_transformer: placeholders inside a JSON value "
                                         "are not supported: " + p.key);
          e.is_json = true;
          e.json = jsonscan::minify(v);
        } else {
          if (!v.empty() && (v[0] == '{' || v[0] == '['))
            log::warn(p.pos.file + ":" + std::to_string(p.pos.line) + ": failed to parse " + v +
                      " as json. Assuming " + v + " is a string");
          e.value = enable_ruby ? ruby_template(v, f->auto_typecast) : parse_template(v);
        }
        if (e.key.per_record) f->dynamic_keys = true;
        // Fluentd's Hash: a key given twice keeps its first position and the last value.
        auto same = std::find_if(f->entries.begin(), f->entries.end(),
                                 [&](const Entry& x) { return x.key_text == e.key_text; });
        if (same != f->entries.end())
          *same = std::move(e);
        else
          f->entries.push_back(std::move(e));
      }
    }
    return f;
  });
}

}  // namespace sluice
