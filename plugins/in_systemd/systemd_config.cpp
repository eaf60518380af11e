#include "systemd_config.h"

#include <cctype>
#include <stdexcept>

namespace sluice::systemd {

namespace {

class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}

  bool document(JsonValue& out) {
    if (!value(out, 0)) return false;
    ws();
    if (i_ != s_.size()) return fail("trailing characters");
    return true;
  }
  std::string error;

 private:
  bool fail(const char* what) {
    if (error.empty()) error = std::string(what) + " at offset " + std::to_string(i_);
    return false;
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool value(JsonValue& out, int depth) {
    if (depth > 32) return fail("nesting too deep");
    ws();
    if (i_ >= s_.size()) return fail("unexpected end");
    char c = s_[i_];
    if (c == '"') {
      out.kind = JsonValue::Scalar;
      return string(out.text);
    }
    if (c == '[') {
      out.kind = JsonValue::Array;
      ++i_;
      ws();
      if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
      for (;;) {
        JsonValue item;
        if (!value(item, depth + 1)) return false;
        out.items.push_back(std::move(item));
        ws();
        if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
        if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
        return fail("expected , or ]");
      }
    }
    if (c == '{') {
      out.kind = JsonValue::Object;
      ++i_;
      ws();
      if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
      for (;;) {
        ws();
        std::string key;
        if (i_ >= s_.size() || s_[i_] != '"' || !string(key)) return fail("expected a string key");
        ws();
        if (i_ >= s_.size() || s_[i_] != ':') return fail("expected :");
        ++i_;
        JsonValue v;
        if (!value(v, depth + 1)) return false;
        out.members.push_back({std::move(key), std::move(v)});
        ws();
        if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
        if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
        return fail("expected , or }");
      }
    }
    // number, true, false, null: kept as text
    size_t start = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-' ||
                              s_[i_] == '+' || s_[i_] == '.'))
      ++i_;
    if (i_ == start) return fail("unexpected character");
    out.kind = JsonValue::Scalar;
    out.text = std::string(s_.substr(start, i_ - start));
    return true;
  }
  static void utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  bool hex4(uint32_t& v) {
    if (i_ + 4 > s_.size()) return fail("short \\u escape");
    v = 0;
    for (int k = 0; k < 4; ++k) {
      char h = s_[i_++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= h - '0';
      else if (h >= 'a' && h <= 'f') v |= h - 'a' + 10;
      else if (h >= 'A' && h <= 'F') v |= h - 'A' + 10;
      else return fail("bad \\u escape");
    }
    return true;
  }
  bool string(std::string& out) {
    ++i_;  // opening quote
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"') return true;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) break;
      char e = s_[i_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00 && i_ + 6 <= s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
            i_ += 2;
            uint32_t lo = 0;
            if (!hex4(lo)) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          utf8(out, cp);
          break;
        }
        default: out += e;
      }
    }
    return fail("unterminated string");
  }

  std::string_view s_;
  size_t i_ = 0;
};

std::vector<std::string> scalar_or_array(const JsonValue& v, const std::string& what) {
  if (v.kind == JsonValue::Scalar) return {v.text};
  if (v.kind == JsonValue::Array) {
    std::vector<std::string> out;
    for (auto& i : v.items) {
      if (i.kind != JsonValue::Scalar) throw std::runtime_error(what + ": values must be strings or arrays of strings");
      out.push_back(i.text);
    }
    return out;
  }
  throw std::runtime_error(what + ": values must be strings or arrays of strings");
}

}  // namespace

std::optional<JsonValue> parse_json(std::string_view text, std::string* error) {
  JsonReader r(text);
  JsonValue v;
  if (!r.document(v)) {
    if (error) *error = r.error;
    return std::nullopt;
  }
  return v;
}

MatchGroups parse_matches(std::string_view text) {
  std::string err;
  auto v = parse_json(text, &err);
  if (!v) throw std::runtime_error("matches: not valid JSON (" + err + ")");
  if (v->kind != JsonValue::Array) throw std::runtime_error("matches: must be an array of hashes");
  MatchGroups groups;
  for (auto& h : v->items) {
    if (h.kind != JsonValue::Object) throw std::runtime_error("matches: must be an array of hashes");
    std::vector<std::string> terms;
    for (auto& [field, val] : h.members) {
      if (field.empty() || field.find('=') != std::string::npos)
        throw std::runtime_error("matches: bad field name '" + field + "'");
      for (auto& s : scalar_or_array(val, "matches")) terms.push_back(field + "=" + s);
    }
    if (!terms.empty()) groups.push_back(std::move(terms));
  }
  return groups;
}

std::vector<std::pair<std::string, std::vector<std::string>>> EntryMutator::parse_field_map(std::string_view text) {
  std::string err;
  auto v = parse_json(text, &err);
  if (!v) throw std::runtime_error("field_map: not valid JSON (" + err + ")");
  if (v->kind != JsonValue::Object) throw std::runtime_error("field_map: must be a hash");
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (auto& [src, val] : v->members) out.emplace_back(src, scalar_or_array(val, "field_map"));
  return out;
}

EntryMutator::EntryMutator(Options o) : opts_(std::move(o)) {
  // Invert source -> new names into new name -> sources, first-seen order.
  for (auto& [src, dsts] : opts_.field_map) {
    sources_.push_back(src);
    for (auto& d : dsts) {
      auto it = map_.begin();
      while (it != map_.end() && it->first != d) ++it;
      if (it == map_.end()) {
        map_.emplace_back(d, std::vector<std::string>{});
        it = map_.end() - 1;
      }
      it->second.push_back(src);
    }
  }
}

std::string EntryMutator::format_key(std::string_view key) const {
  if (opts_.strip_underscores)
    while (!key.empty() && key.front() == '_') key.remove_prefix(1);
  std::string k(key);
  if (opts_.lowercase)
    for (char& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return k;
}

std::vector<std::pair<std::string_view, std::string_view>> EntryMutator::run(
    const std::vector<std::pair<std::string_view, std::string_view>>& fields,
    std::vector<std::string>& storage) const {
  storage.clear();
  storage.reserve(map_.size() * 2 + fields.size());  // views into it stay valid
  std::vector<std::pair<std::string_view, std::string_view>> out;
  auto lookup = [&](const std::string& k) -> const std::string_view* {
    for (auto& f : fields)
      if (f.first == k) return &f.second;
    return nullptr;
  };
  for (auto& [name, srcs] : map_) {
    std::vector<std::string_view> vals;
    for (auto& s : srcs)
      if (auto* v = lookup(s)) vals.push_back(*v);
    if (vals.empty()) continue;
    std::string_view value;
    if (vals.size() == 1) {
      value = vals[0];
    } else {
      std::string joined;
      for (size_t i = 0; i < vals.size(); ++i) {
        if (i) joined += ' ';
        joined += vals[i];
      }
      storage.push_back(std::move(joined));
      value = storage.back();
    }
    out.emplace_back(name, value);
  }
  if (opts_.field_map_strict) return out;
  for (auto& [k, v] : fields) {
    bool mapped_source = false;
    for (auto& s : sources_)
      if (s == k) mapped_source = true;
    if (mapped_source) continue;
    std::string_view key = k;
    if (opts_.strip_underscores || opts_.lowercase) {
      storage.push_back(format_key(k));
      key = storage.back();
    }
    bool replaced = false;
    for (auto& o : out)
      if (o.first == key) {
        o.second = v;  // a Ruby hash keeps the first position, takes the last value
        replaced = true;
      }
    if (!replaced) out.emplace_back(key, v);
  }
  return out;
}

std::string cursor_file_text(std::string_view cursor) {
  std::string out = "{\"journal\":\"";
  for (char c : cursor) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;  // cursors are printable; never write raw control bytes
    out += c;
  }
  out += "\"}";
  return out;
}

std::optional<std::string> cursor_from_file_text(std::string_view text) {
  auto v = parse_json(text);
  if (!v || v->kind != JsonValue::Object) return std::nullopt;
  for (auto& [k, val] : v->members)
    if (k == "journal" && val.kind == JsonValue::Scalar && !val.text.empty()) return val.text;
  return std::nullopt;
}

}  // namespace sluice::systemd
