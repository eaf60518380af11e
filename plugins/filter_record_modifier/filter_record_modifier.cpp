// `@type record_modifier`: fluent-plugin-record-modifier 2.x's filter.
//
// Per record, in the Ruby plugin's order: the `<record>` entries are set one after the other on
// the record itself (an expression sees the entries set before it), then remove_keys or
// whitelist_keys, then each `<replace>`, then char_encoding. A value holding `${...}` is Ruby:
// exactly one `${expr}` and nothing else gives the expression's value, anything else is a
// double-quoted Ruby string with `${...}` (and `#{...}`) interpolated. `record`, `tag`, `time`
// (the event time's seconds, an Integer) and `tag_parts` are the names, evaluated by the core's
// record expressions (ruby/record_expression.h). What raises sends the record, as modified so
// far, to @ERROR, as Fluentd's filter_stream does.
//
// The batch's common fields (shared by every record) are modified once per batch where the
// result is the same for every record; entries' keys, removed keys and whitelists drop them.

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "char_encoding.h"
#include "config/ruby_eval.h"
#include "core/error_events.h"
#include "core/log.h"
#include "core/registry.h"
#include "format/record_path.h"
#include "format/tag_parts.h"
#include "format/utf8_scrub.h"
#include "ruby/record_expression.h"
#include "ruby/record_values.h"
#include "ruby/regexp.h"

namespace sluice {

namespace {

using record_modifier::CharEncoding;

// One piece of a `<record>` value: literal text or an expression.
struct Piece {
  std::string text;
  std::shared_ptr<const ruby::RecordExpression> expr;
};

struct Entry {
  std::string key;
  bool is_nil = false;            // `"#{use_nil}"`: the key is set to nil
  bool typed = false;             // exactly one `${expr}`: its value as is
  std::vector<Piece> pieces;      // else the string made of these
  bool per_record = false;        // reads `record` or `time`
  bool literal() const { return !typed && pieces.size() <= 1 && (pieces.empty() || !pieces[0].expr); }
};

struct Replace {
  std::string key;
  std::unique_ptr<ruby::Regexp> regexp;  // `value.gsub(regexp, replace)`
  std::string replace;
};

const ruby::ExpressionNames kNames{false, false};

// Appends the character of a double-quoted Ruby string's escape at s[i] (just after the
// backslash); returns the index after it.
size_t ruby_escape(std::string_view s, size_t i, std::string& out) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  char e = s[i++];
  switch (e) {
    case 'n': out.push_back('\n'); return i;
    case 't': out.push_back('\t'); return i;
    case 'r': out.push_back('\r'); return i;
    case 'e': out.push_back('\x1b'); return i;
    case 's': out.push_back(' '); return i;
    case 'a': out.push_back('\a'); return i;
    case 'b': out.push_back('\b'); return i;
    case 'f': out.push_back('\f'); return i;
    case 'v': out.push_back('\v'); return i;
    case 'x': {
      int v = 0, n = 0;
      while (n < 2 && i < s.size() && hex(s[i]) >= 0) v = v * 16 + hex(s[i++]), ++n;
      if (n == 0) throw std::invalid_argument("invalid hex escape");
      out.push_back(static_cast<char>(v));
      return i;
    }
    case 'u': {
      uint32_t v = 0;
      if (i < s.size() && s[i] == '{') {
        size_t close = s.find('}', i);
        if (close == std::string_view::npos || close == i + 1 || close - i > 7)
          throw std::invalid_argument("invalid Unicode escape");
        for (size_t j = i + 1; j < close; ++j) {
          if (hex(s[j]) < 0) throw std::invalid_argument("invalid Unicode escape");
          v = v * 16 + static_cast<uint32_t>(hex(s[j]));
        }
        i = close + 1;
      } else {
        for (int n = 0; n < 4; ++n, ++i) {
          if (i >= s.size() || hex(s[i]) < 0) throw std::invalid_argument("invalid Unicode escape");
          v = v * 16 + static_cast<uint32_t>(hex(s[i]));
        }
      }
      if (v > 0x10FFFF || (v >= 0xD800 && v < 0xE000))
        throw std::invalid_argument("invalid Unicode codepoint");
      append_utf8(out, v);
      return i;
    }
    default:
      if (e >= '0' && e <= '7') {
        int v = e - '0', n = 1;
        while (n < 3 && i < s.size() && s[i] >= '0' && s[i] <= '7') v = v * 8 + (s[i++] - '0'), ++n;
        out.push_back(static_cast<char>(v & 0xFF));
        return i;
      }
      out.push_back(e);  // \\, \", \#, and unknown escapes: the character
      return i;
  }
}

std::shared_ptr<const ruby::RecordExpression> compile(std::string_view code) {
  try {
    return std::make_shared<ruby::RecordExpression>(code, kNames);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("`${" + std::string(code) + "}` " + ruby::refusal(e));
  }
}

// The plugin's DynamicExpander#parse_parameter: `${expr}` alone is the expression; otherwise the
// value becomes `"value"` with `${` turned into `#{`, a double-quoted Ruby string.
Entry parse_entry(const std::string& key, std::string_view v) {
  Entry e;
  e.key = key;
  size_t opens = 0;
  for (size_t at = v.find("${"); at != std::string_view::npos; at = v.find("${", at + 2)) ++opens;
  if (opens == 0) {
    e.pieces.push_back({std::string(v), nullptr});
    return e;
  }
  if (opens == 1 && v.size() >= 3 && v.substr(0, 2) == "${" && v.back() == '}') {
    e.typed = true;
    e.pieces.push_back({{}, compile(v.substr(2, v.size() - 3))});
    e.per_record = e.pieces[0].expr->per_record();
    return e;
  }
  std::string lit;
  for (size_t i = 0; i < v.size();) {
    char c = v[i];
    if ((c == '$' || c == '#') && i + 1 < v.size() && v[i + 1] == '{') {
      size_t end = ruby::find_embedded_end(v, i + 2);
      if (end == std::string_view::npos)
        throw std::invalid_argument("unterminated `" + std::string(v.substr(i, 2)) + "` in " +
                                    std::string(v));
      if (!lit.empty()) e.pieces.push_back({std::move(lit), nullptr}), lit.clear();
      Piece p{{}, compile(v.substr(i + 2, end - i - 2))};
      if (p.expr->per_record()) e.per_record = true;
      e.pieces.push_back(std::move(p));
      i = end + 1;
    } else if (c == '#' && i + 1 < v.size() && (v[i + 1] == '@' || v[i + 1] == '$')) {
      throw std::invalid_argument("`#" + std::string(1, v[i + 1]) +
                                  "` interpolates a Ruby variable, which sluice does not evaluate");
    } else if (c == '"') {
      throw std::invalid_argument("a `\"` in a value with `${...}` ends the plugin's Ruby string "
                                  "literal; sluice does not evaluate that Ruby");
    } else if (c == '\\' && i + 1 < v.size()) {
      i = ruby_escape(v, i + 1, lit);
    } else {
      lit.push_back(c);
      ++i;
    }
  }
  if (!lit.empty()) e.pieces.push_back({std::move(lit), nullptr});
  return e;
}

class RecordModifier : public Filter {
 public:
  RecordModifier(std::string id, ErrorEvents::Labels labels)
      : id_(id), errors_(std::move(id), std::move(labels)) {}

  std::vector<Entry> entries;
  std::vector<std::string> remove_top;      // remove_keys naming top-level keys
  std::vector<RecordPath> remove_nested;    // remove_keys `$.a.b`
  bool whitelist = false;
  std::vector<std::string> whitelist_keys;  // with the entries' keys, without duplicates
  std::vector<Replace> replaces;
  std::unique_ptr<CharEncoding> encoding;

  void filter(Batch& batch) override {
    tag_.prepare(batch.tag);
    Arena& arena = batch.arena;
    errors_.clear();
    work_.fields.clear();
    work_.common_fields = batch.common_fields;
    work_.tag = batch.tag;

    // Entries that read neither the record nor the time: once per batch.
    statics_.assign(entries.size(), Value::null());
    static_errors_.assign(entries.size(), std::string());
    for (size_t j = 0; j < entries.size(); ++j)
      if (!entries[j].per_record) expand(entries[j], nullptr, arena, statics_[j], static_errors_[j]);

    // What happens to the common fields: dropped where every record replaces or removes them,
    // and the rest modified once (replace, char_encoding) for every record that reads them.
    common_.clear();
    common_errors_.clear();
    if (!whitelist) {
      for (const Field& c : batch.common_fields) {
        bool drop = contains(remove_top, c.key);
        for (const Entry& e : entries) drop = drop || e.key == c.key;
        if (drop) continue;
        Field f = c;
        for (const RecordPath& path : remove_nested)
          if (path.top() == f.key) remove_json(path, f.value, arena);
        common_.push_back(f);
      }
      common_errors_.assign(common_.size(), std::string());
      for (size_t c = 0; c < common_.size(); ++c) {
        for (Replace& r : replaces)
          if (r.key == common_[c].key && common_errors_[c].empty())
            replace(r, common_[c].value, arena, common_errors_[c]);
        if (encoding) encode(common_[c].value, arena);
      }
    }

    size_t kept = 0;
    for (size_t n = 0; n < batch.records.size(); ++n) {
      const Record orig = batch.records[n];
      Record cur = orig;
      cur.first_field = static_cast<uint32_t>(work_.fields.size());
      work_.fields.insert(work_.fields.end(), batch.begin(orig), batch.end(orig));
      cur.field_count = orig.field_count;
      std::string error;
      if (modify(batch, cur, error)) {
        batch.records[kept++] = cur;
        continue;
      }
      std::span<const Field> own(work_.fields.data() + cur.first_field, cur.field_count);
      // The record as far as it was modified: after a whitelist it holds only what it kept.
      errors_.add(orig, own, whitelisted_ ? std::span<const Field>() : batch.common_fields, error);
      work_.fields.resize(cur.first_field);
    }
    batch.records.resize(kept);
    errors_.send(batch);
    batch.fields.swap(work_.fields);
    if (whitelist) {
      batch.common_fields.clear();
    } else {
      batch.common_fields = common_;
    }
  }

 private:
  static bool contains(const std::vector<std::string>& v, std::string_view k) {
    return std::find(v.begin(), v.end(), k) != v.end();
  }

  Field* own(Record& r, std::string_view key) {
    for (size_t i = r.first_field; i < r.first_field + r.field_count; ++i)
      if (work_.fields[i].key == key) return &work_.fields[i];
    return nullptr;
  }

  // Ruby's Hash#[]=: in place when present, else appended.
  void put(Record& r, std::string_view key, const Value& v) {
    if (Field* f = own(r, key)) {
      f->value = v;
      return;
    }
    work_.fields.push_back({key, v});
    r.field_count++;
  }

  bool modify(Batch& batch, Record& r, std::string& error) {
    Arena& arena = batch.arena;
    whitelisted_ = false;
    for (size_t j = 0; j < entries.size(); ++j) {
      Value v;
      if (entries[j].per_record) {
        if (!expand(entries[j], &r, arena, v, error)) return false;
      } else {
        if (!static_errors_[j].empty()) return error = static_errors_[j], false;
        v = statics_[j];
      }
      put(r, entries[j].key, v);
    }
    if (whitelist) {
      // Only the listed keys, in the list's order (own fields, then the batch's common ones).
      const uint32_t first = static_cast<uint32_t>(work_.fields.size());
      for (const std::string& k : whitelist_keys) {
        if (Field* f = own(r, k)) {
          work_.fields.push_back(*f);
          continue;
        }
        for (const Field& c : batch.common_fields)
          if (c.key == k) {
            work_.fields.push_back(c);
            break;
          }
      }
      // Moved down over the record's old fields (always at the end of work_.fields).
      const uint32_t count = static_cast<uint32_t>(work_.fields.size() - first);
      std::copy(work_.fields.begin() + first, work_.fields.end(), work_.fields.begin() + r.first_field);
      work_.fields.resize(r.first_field + count);
      r.field_count = count;
      whitelisted_ = true;
    } else {
      if (!remove_top.empty()) {
        size_t w = r.first_field;
        for (size_t i = r.first_field; i < r.first_field + r.field_count; ++i)
          if (!contains(remove_top, work_.fields[i].key)) work_.fields[w++] = work_.fields[i];
        work_.fields.resize(w);
        r.field_count = static_cast<uint32_t>(w - r.first_field);
      }
      for (const RecordPath& path : remove_nested)
        if (Field* f = own(r, path.top())) remove_json(path, f->value, arena);
    }
    for (Replace& rep : replaces) {
      if (Field* f = own(r, rep.key)) {
        if (!replace(rep, f->value, arena, error)) return false;
      } else if (!whitelist) {
        for (size_t c = 0; c < common_.size(); ++c)
          if (common_[c].key == rep.key && !common_errors_[c].empty())
            return error = common_errors_[c], false;
      }
    }
    if (encoding)
      for (size_t i = r.first_field; i < r.first_field + r.field_count; ++i)
        encode(work_.fields[i].value, arena);
    return true;
  }

  bool expand(const Entry& e, const Record* r, Arena& arena, Value& out, std::string& error) {
    if (e.is_nil) return out = Value::null(), true;
    if (e.literal())
      return out = Value::of_string(e.pieces.empty() ? std::string_view() : std::string_view(e.pieces[0].text)), true;
    ruby::Scope scope{&work_, r, &tag_, {}, &arena};
    std::string raised;
    if (e.typed) {
      if (e.pieces[0].expr->evaluate(scope, out, raised)) return true;
    } else {
      buf_.clear();
      bool ok = true;
      for (const Piece& p : e.pieces) {
        if (!p.expr) {
          buf_.append(p.text);
        } else if (!p.expr->append_to_s(scope, buf_, raised)) {
          ok = false;
          break;
        }
      }
      if (ok) return out = Value::of_string(arena.copy(buf_)), true;
    }
    error = "failed to expand `" + e.key + "` : error = " + raised;
    return false;
  }

  // `re.match(v)`: nil does not match; other values than strings raise TypeError.
  bool replace(Replace& rep, Value& v, Arena& arena, std::string& error) {
    if (v.kind == ValueKind::Null) return true;
    if (v.kind != ValueKind::String) {
      ruby::R r;
      switch (v.kind) {
        case ValueKind::Bool: r = ruby::R::boolean(v.boolean); break;
        case ValueKind::Int: r = ruby::R::integer(v.integer); break;
        case ValueKind::Float: r = ruby::R::real(v.real); break;
        default:
          r.k = ruby::R::Json;
          r.s = v.text;
      }
      error = "no implicit conversion of " + ruby::type_name(r) + " into String";
      return false;
    }
    try {
      if (!rep.regexp->substitute(v.text, rep.replace, true, buf_)) return true;
    } catch (const std::invalid_argument& e) {
      error = e.what();
      return false;
    }
    v = Value::of_string(arena.copy(buf_));
    return true;
  }

  void encode(Value& v, Arena& arena) {
    if (v.kind != ValueKind::String && v.kind != ValueKind::Json) return;
    std::string_view out = encoding->convert(v.text, buf_);
    if (out.data() == v.text.data()) return;
    if (v.kind == ValueKind::String)
      v = Value::of_string(arena.copy(out));
    else  // the converted text of a nested map or array (its keys too: see the README)
      v = Value::of_json(arena.copy(out));
  }

  void remove_json(const RecordPath& path, Value& top, Arena& arena) {
    if (path.remove_nested(top, buf_)) top = Value::of_json(arena.copy(buf_));
  }

  std::string id_;
  ErrorEvents errors_;
  Batch work_;  // the records being modified: what `record` reads
  TagParts tag_;
  std::vector<Value> statics_;
  std::vector<std::string> static_errors_;
  std::vector<Field> common_;
  std::vector<std::string> common_errors_;
  std::string buf_;
  bool whitelisted_ = false;
};

PluginSpec replace_spec() {
  PluginSpec s{"record_modifier-section", "replace", "", {}, {}};
  s.params = {
      {"key", ParamType::String, "", "The top-level key whose string value is changed", {}, false, true},
      {"expression", ParamType::String, "",
       "Ruby regexp, /re/ (no flags) or a bare pattern (warned about, as the plugin does)", {},
       false, true},
      {"replace", ParamType::String, "", "Replacement, with \\1, \\k<name>, \\0", {}, false, true},
  };
  return s;
}

}  // namespace

void register_filter_record_modifier(Registry& registry) {
  PluginSpec spec{"filter", "record_modifier",
                  "Sets, removes and rewrites record fields (fluent-plugin-record-modifier 2.x): "
                  "<record> with ${...} Ruby expressions, remove_keys, whitelist_keys, <replace>, "
                  "char_encoding.",
                  {},
                  {"record", "replace"}};
  spec.params = {
      {"prepare_value", ParamType::String, "",
       "Refused: arbitrary Ruby run at start-up, which sluice does not evaluate.", {}, false},
      {"char_encoding", ParamType::String, "",
       "`from:to` converts string values (invalid bytes replaced by U+FFFD; from UTF-8, "
       "ASCII-8BIT, US-ASCII or ISO-8859-1 to UTF-8); `from` alone changes no byte.",
       {}, false},
      {"remove_keys", ParamType::Array, "",
       "Keys to remove (record_accessor syntax: `$.a.b` for nested ones). Exclusive with "
       "whitelist_keys.",
       {}, false},
      {"whitelist_keys", ParamType::String, "",
       "Comma-separated keys to keep (plus the <record> keys), in this order. Exclusive with "
       "remove_keys.",
       {}, false},
      {"allowlist_keys", ParamType::String, "",
       "Refused: not a parameter of fluent-plugin-record-modifier 2.x (Fluentd ignores it and "
       "keeps every key); use whitelist_keys.",
       {}, false},
  };
  registry.add_filter(std::move(spec), [](PluginContext& ctx, const Params& params) {
    const ConfigSection& section = params.section();
    auto f = std::make_unique<RecordModifier>(ctx.id, ctx.label_emitter);
    if (params.has("prepare_value"))
      throw ConfigException(params.pos("prepare_value"),
                            "record_modifier: prepare_value is Ruby run at start-up, which sluice "
                            "does not evaluate; write the values into <record> instead");
    if (params.has("allowlist_keys"))
      throw ConfigException(params.pos("allowlist_keys"),
                            "record_modifier: allowlist_keys is not a parameter of "
                            "fluent-plugin-record-modifier 2.x (Fluentd ignores it and keeps every "
                            "key); use whitelist_keys");
    if (params.has("char_encoding")) {
      try {
        f->encoding = std::make_unique<CharEncoding>(params.str("char_encoding"));
      } catch (const std::invalid_argument& e) {
        throw ConfigException(params.pos("char_encoding"),
                              "record_modifier: char_encoding: " + std::string(e.what()));
      }
      if (!f->encoding->converts()) f->encoding.reset();  // force_encoding: no byte changes
    }
    for (const ConfigSection& rec : section.children) {
      if (rec.name != "record") continue;
      if (!rec.children.empty())
        throw ConfigException(rec.children[0].pos, "record_modifier: <" + rec.children[0].name +
                                                       "> is not allowed inside <record>");
      for (const ConfigParam& p : rec.params) {
        Entry e;
        if (p.is_nil) {
          e.key = p.key;
          e.is_nil = true;
        } else {
          try {
            e = parse_entry(p.key, p.value);
          } catch (const std::invalid_argument& ex) {
            throw ConfigException(p.pos, "record_modifier: " + std::string(ex.what()) +
                                             " (see `sluice plugins` and the README for the "
                                             "supported Ruby)");
          }
        }
        // A Ruby Hash: a key given twice keeps its first position and the last value.
        auto same = std::find_if(f->entries.begin(), f->entries.end(),
                                 [&](const Entry& x) { return x.key == e.key; });
        if (same != f->entries.end())
          *same = std::move(e);
        else
          f->entries.push_back(std::move(e));
      }
    }
    if (params.has("remove_keys") && params.has("whitelist_keys"))
      throw ConfigException(params.pos("whitelist_keys"),
                            "record_modifier: remove_keys and whitelist_keys are exclusive with "
                            "each other.");
    if (params.has("remove_keys")) {
      try {
        split_key_paths(params.list("remove_keys"), f->remove_top, f->remove_nested);
      } catch (const std::invalid_argument& e) {
        throw ConfigException(params.pos("remove_keys"),
                              "record_modifier: remove_keys: " + std::string(e.what()));
      }
    } else if (params.has("whitelist_keys")) {
      f->whitelist = true;
      std::string list = params.str("whitelist_keys");
      auto add = [&](std::string k) {
        if (std::find(f->whitelist_keys.begin(), f->whitelist_keys.end(), k) == f->whitelist_keys.end())
          f->whitelist_keys.push_back(std::move(k));
      };
      // Ruby's split(',').map(&:strip): empty trailing parts are dropped before stripping.
      while (!list.empty() && list.back() == ',') list.pop_back();
      for (size_t start = 0; !list.empty();) {
        size_t comma = list.find(',', start);
        std::string k = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        size_t b = k.find_first_not_of(" \t\r\n\f\v"), e = k.find_last_not_of(" \t\r\n\f\v");
        add(b == std::string::npos ? std::string() : k.substr(b, e - b + 1));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      for (const Entry& e : f->entries) add(e.key);
    }
    static const PluginSpec rspec = replace_spec();
    for (const ConfigSection& c : section.children) {
      if (c.name != "replace") continue;
      auto errs = validate_params(c, rspec);
      if (!errs.empty()) throw ConfigException(errs[0].pos, "record_modifier: " + errs[0].message);
      Params rp(c, rspec);
      std::string expression = rp.str("expression");
      std::string pattern;
      if (expression.size() >= 2 && expression.front() == '/' && expression.back() == '/') {
        pattern = expression.substr(1, expression.size() - 2);
      } else {
        pattern = expression;
        log::warn(c.pos.file + ":" + std::to_string(c.pos.line) + ": You should use \"pattern /" +
                  expression + "/\" instead of \"pattern " + expression + "\"");
      }
      Replace r;
      r.key = rp.str("key");
      try {
        r.regexp = std::make_unique<ruby::Regexp>(pattern);
        r.replace = rp.str("replace");
      } catch (const std::invalid_argument& e) {
        throw ConfigException(rp.pos("expression"), "record_modifier: invalid expression " +
                                                         expression + ": " + e.what());
      }
      f->replaces.push_back(std::move(r));
    }
    return f;
  });
}

}  // namespace sluice
