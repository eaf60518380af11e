// `@type dedot`: fluent-plugin-dedot_filter. Replaces the dots in record keys by
// de_dot_separator (Elasticsearch reads a dotted key as a path); with de_dot_nested, also the keys
// of maps nested in the record and of maps that are elements of its arrays (not of arrays in
// arrays, as the Ruby plugin's recursion does not go there).
//
// A key that becomes equal to an earlier one keeps the earlier one's position and takes the later
// one's value (Ruby's Hash#[]= into the new record). Records whose keys have no dot are left
// as they are (no copy); a record's own fields are rewritten in place, nested maps (JSON text)
// are written anew only when a key in them changes. The batch's common fields are rewritten once
// per batch.

#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/log.h"
#include "core/registry.h"
#include "format/json.h"
#include "format/json_lookup.h"

namespace sluice {

namespace {

constexpr int kMaxDepth = 512;  // deeper maps are left as they are (jsonscan reads no deeper)

class Dedot : public Filter {
 public:
  bool enabled = true;
  std::string separator = "_";
  bool nested = false;

  void filter(Batch& batch) override {
    if (!enabled) {
      // The Ruby plugin's filter returns nil without de_dot, and Fluentd drops such records.
      batch.records.clear();
      return;
    }
    bool common_keys = false;
    for (const Field& c : batch.common_fields)
      if (has_dot(c.key)) common_keys = true;
    if (common_keys) {
      materialize(batch);
    } else if (nested) {
      for (Field& c : batch.common_fields) rewrite_value(c.value, batch.arena);
    }
    for (Record& r : batch.records) {
      Field* first = batch.fields.data() + r.first_field;
      Field* last = first + r.field_count;
      bool keys = false;
      for (Field* f = first; f != last && !keys; ++f) keys = has_dot(f->key);
      if (nested)
        for (Field* f = first; f != last; ++f) rewrite_value(f->value, batch.arena);
      if (keys) rewrite_keys(batch, r);
    }
  }

 private:
  static bool has_dot(std::string_view s) { return s.find('.') != std::string_view::npos; }

  // The common fields appended to each record's own (a common key with a dot may become equal to
  // an own key, and then the two are one).
  void materialize(Batch& batch) {
    scratch_.clear();
    for (Record& r : batch.records) {
      uint32_t first = static_cast<uint32_t>(scratch_.size());
      scratch_.insert(scratch_.end(), batch.begin(r), batch.end(r));
      scratch_.insert(scratch_.end(), batch.common_fields.begin(), batch.common_fields.end());
      r.first_field = first;
      r.field_count = static_cast<uint32_t>(scratch_.size() - first);
    }
    batch.fields.swap(scratch_);
    batch.common_fields.clear();
  }

  std::string_view dedot_key(std::string_view key, Arena& arena) {
    key_.clear();
    for (char c : key) {
      if (c == '.')
        key_.append(separator);
      else
        key_.push_back(c);
    }
    return arena.copy(key_);
  }

  // In place: the new keys, and a key equal to an earlier one merged into it.
  void rewrite_keys(Batch& batch, Record& r) {
    Field* first = batch.fields.data() + r.first_field;
    uint32_t n = 0;
    for (uint32_t i = 0; i < r.field_count; ++i) {
      Field f = first[i];
      if (has_dot(f.key)) f.key = dedot_key(f.key, batch.arena);
      bool merged = false;
      for (uint32_t j = 0; j < n && !merged; ++j)
        if (first[j].key == f.key) {
          first[j].value = f.value;
          merged = true;
        }
      if (!merged) first[n++] = f;
    }
    r.field_count = n;
  }

  void rewrite_value(Value& v, Arena& arena) {
    if (v.kind != ValueKind::Json) return;
    // Only a dot, or an escape that may spell one, can change a key.
    if (!has_dot(v.text) && v.text.find("\\u") == std::string_view::npos) return;
    out_.clear();
    if (rewrite_json(v.text, out_, 0)) v = Value::of_json(arena.copy(out_));
  }

  // Whether the items for_each_item gave ended at `end` cover `s` to its closing bracket (it stops
  // quietly at malformed or too deep text, and then nothing must be rewritten).
  static bool read_whole(std::string_view s, const char* end) {
    if (!end) return false;
    size_t i = static_cast<size_t>(end - s.data());
    jsonscan::detail::skip_ws(s, i);
    if (i >= s.size() || (s[i] != '}' && s[i] != ']')) return false;
    ++i;
    jsonscan::detail::skip_ws(s, i);
    return i == s.size();
  }

  // Writes the JSON text `s` (an object or an array) with its maps' keys dedotted into `out`;
  // false, with `out` unspecified, when nothing changes.
  bool rewrite_json(std::string_view s, std::string& out, int depth) {
    size_t b = 0;
    jsonscan::detail::skip_ws(s, b);
    if (b >= s.size() || depth > kMaxDepth) return false;
    if (s[b] == '[') return rewrite_array(s, out, depth);
    if (s[b] != '{') return false;
    struct Member {
      std::string key;  // the key token to write
      std::string value;
    };
    std::vector<Member> members;
    std::unordered_map<std::string, size_t> index;  // decoded key -> its member
    bool changed = false;
    const char* end = nullptr;
    jsonscan::for_each_item(s, [&](std::string_view key, std::string_view value) {
      end = value.data() + value.size();
      Member m;
      std::string decoded;
      jsonscan::append_token_to_s(decoded, key);
      if (has_dot(decoded)) {
        std::string k;
        for (char c : decoded) {
          if (c == '.')
            k.append(separator);
          else
            k.push_back(c);
        }
        json::append_string(m.key, k);
        changed = true;
      } else {
        m.key = std::string(key);
      }
      std::string inner;
      if (rewrite_json(value, inner, depth + 1)) {
        m.value = std::move(inner);
        changed = true;
      } else {
        m.value = std::string(value);
      }
      // Hash#[]=: an equal key (compared as text once decoded) keeps the first place.
      std::string mk;
      jsonscan::append_token_to_s(mk, m.key);
      auto [at, inserted] = index.emplace(std::move(mk), members.size());
      if (!inserted) {
        members[at->second].value = std::move(m.value);
        changed = true;
        return true;
      }
      members.push_back(std::move(m));
      return true;
    });
    if (!changed || !read_whole(s, end)) return false;
    out.push_back('{');
    for (size_t i = 0; i < members.size(); ++i) {
      if (i) out.push_back(',');
      out.append(members[i].key);
      out.push_back(':');
      out.append(members[i].value);
    }
    out.push_back('}');
    return true;
  }

  // An array: the maps among its elements rewritten; arrays in it are left as they are.
  bool rewrite_array(std::string_view s, std::string& out, int depth) {
    std::vector<std::string> items;
    bool changed = false;
    const char* end = nullptr;
    jsonscan::for_each_item(s, [&](std::string_view, std::string_view value) {
      end = value.data() + value.size();
      std::string inner;
      if (!value.empty() && value[0] == '{' && rewrite_json(value, inner, depth + 1)) {
        items.push_back(std::move(inner));
        changed = true;
      } else {
        items.emplace_back(value);
      }
      return true;
    });
    if (!changed || !read_whole(s, end)) return false;
    out.push_back('[');
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out.push_back(',');
      out.append(items[i]);
    }
    out.push_back(']');
    return true;
  }

  std::vector<Field> scratch_;
  std::string key_, out_;
};

}  // namespace

void register_filter_dedot(Registry& registry) {
  PluginSpec spec{"filter", "dedot",
                  "Replaces dots in record keys (fluent-plugin-dedot_filter): de_dot, "
                  "de_dot_separator, de_dot_nested.",
                  {},
                  {}};
  spec.params = {
      {"de_dot", ParamType::Bool, "true",
       "Replace dots in keys. false makes the Ruby plugin (and so sluice) emit no record at all."},
      {"de_dot_separator", ParamType::String, "_",
       "What replaces each dot; must not contain a dot."},
      {"de_dot_nested", ParamType::Bool, "false",
       "Also the keys of nested maps, and of maps in arrays."},
  };
  registry.add_filter(std::move(spec), [](PluginContext& ctx, const Params& params) {
    auto f = std::make_unique<Dedot>();
    f->enabled = params.flag("de_dot");
    f->separator = params.str("de_dot_separator");
    f->nested = params.flag("de_dot_nested");
    if (f->enabled && f->separator.find('.') != std::string::npos)
      throw ConfigException(params.pos("de_dot_separator"),
                            "dedot: Invalid de_dot_separator: cannot be or contain '.'");
    if (!f->enabled)
      log::warn("[" + ctx.id + "] de_dot false: fluent-plugin-dedot_filter then returns nil for "
                "every record, so Fluentd (and sluice) drop every record this filter sees");
    else if (f->nested)
      log::info("[" + ctx.id + "] DeDot will recurse nested hashes and arrays");
    return f;
  });
}

}  // namespace sluice
