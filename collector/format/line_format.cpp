#include "format/line_format.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "config/params.h"
#include "core/log.h"
#include "format/time.h"

namespace sluice {

// ---- CachedTimeFormat -----------------------------------------------------------------------

CachedTimeFormat::CachedTimeFormat(std::string format, bool utc) : utc_(utc) {
  for (size_t i = 0; i + 1 < format.size(); ++i) {
    if (format[i] != '%') continue;
    char c = format[i + 1];
    if (c == '%') {
      ++i;
      continue;
    }
    size_t len = 0;
    int digits = 0;
    if (c == 'N') {
      len = 2, digits = 9;
    } else if (c == 'L') {
      len = 2, digits = 3;
    } else if ((c == '3' || c == '6' || c == '9') && i + 2 < format.size() &&
               format[i + 2] == 'N') {
      len = 3, digits = c - '0';
    }
    if (len) {
      head_ = format.substr(0, i);
      tail_ = format.substr(i + len);
      frac_digits_ = digits;
      return;
    }
  }
  head_ = std::move(format);
}

void CachedTimeFormat::append(std::string& out, EventTime t) {
  if (t.sec != cached_sec_) {
    cached_head_.clear();
    cached_tail_.clear();
    EventTime whole{t.sec, 0, t.integer};
    if (!head_.empty()) append_time(cached_head_, whole, head_, utc_);
    if (!tail_.empty()) append_time(cached_tail_, whole, tail_, utc_);
    cached_sec_ = t.sec;
  }
  out.append(cached_head_);
  if (frac_digits_) {
    char buf[9];
    uint32_t n = t.nsec;
    for (int i = 8; i >= 0; --i) {
      buf[i] = static_cast<char>('0' + n % 10);
      n /= 10;
    }
    out.append(buf, static_cast<size_t>(frac_digits_));
    out.append(cached_tail_);
  }
}

// ---- Ruby to_s / inspect ----------------------------------------------------------------------

void append_ruby_to_s(std::string& out, const Value& v) {
  switch (v.kind) {
    case ValueKind::Null: break;
    case ValueKind::Bool: out.append(v.boolean ? "true" : "false"); break;
    case ValueKind::Int: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, v.integer);
      out.append(buf, r.ptr);
      break;
    }
    case ValueKind::Float:
      if (std::isnan(v.real))
        out.append("NaN");
      else if (std::isinf(v.real))
        out.append(v.real > 0 ? "Infinity" : "-Infinity");
      else
        json::append_double(out, v.real);
      break;
    case ValueKind::String: out.append(v.text); break;
    case ValueKind::Json: out.append(v.text); break;
  }
}

namespace {

// Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid.
size_t utf8_len(const unsigned char* p, const unsigned char* end, uint32_t& cp) {
  unsigned char c = p[0];
  size_t n;
  if (c < 0x80) {
    cp = c;
    return 1;
  } else if (c >= 0xc2 && c <= 0xdf) {
    n = 2, cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3, cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4, cp = c & 0x07;
  } else {
    return 0;
  }
  if (static_cast<size_t>(end - p) < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (p[i] & 0x3f);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0;
  return n;
}

// Ruby's String#inspect for a UTF-8 string.
void append_ruby_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  out.push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    switch (c) {
      case '"': out.append("\\\""); ++p; continue;
      case '\\': out.append("\\\\"); ++p; continue;
      case '\n': out.append("\\n"); ++p; continue;
      case '\t': out.append("\\t"); ++p; continue;
      case '\r': out.append("\\r"); ++p; continue;
      case '\f': out.append("\\f"); ++p; continue;
      case '\v': out.append("\\v"); ++p; continue;
      case '\b': out.append("\\b"); ++p; continue;
      case '\a': out.append("\\a"); ++p; continue;
      case 0x1b: out.append("\\e"); ++p; continue;
      case '#':
        if (p + 1 < end && (p[1] == '{' || p[1] == '$' || p[1] == '@')) out.push_back('\\');
        out.push_back('#');
        ++p;
        continue;
      default: break;
    }
    uint32_t cp;
    size_t n = utf8_len(p, end, cp);
    if (n == 0) {
      char b[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
      out.append(b, 4);
      ++p;
    } else if (c == 0x7f) {
      out.append("\\x7F");
      ++p;
    } else if (cp < 0x20 || (cp >= 0x80 && cp < 0xa0) || cp == 0x2028 || cp == 0x2029) {
      char b[6] = {'\\', 'u', hex[cp >> 12], hex[cp >> 8 & 15], hex[cp >> 4 & 15], hex[cp & 15]};
      out.append(b, 6);
      p += n;
    } else {
      out.append(reinterpret_cast<const char*>(p), n);
      p += n;
    }
  }
  out.push_back('"');
}

}  // namespace

// `=>` between keys and values, `, ` between members, nil for null.
void append_json_as_ruby(std::string& out, std::string_view j) {
  bool in_string = false;
  for (size_t i = 0; i < j.size(); ++i) {
    char c = j[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < j.size())
        out.push_back(j[++i]);
      else if (c == '"')
        in_string = false;
      continue;
    }
    switch (c) {
      case '"': in_string = true; out.push_back(c); break;
      case ':': out.append("=>"); break;
      case ',': out.append(", "); break;
      case ' ': case '\t': case '\n': case '\r': break;
      case 'n':
        if (j.substr(i, 4) == "null") {
          out.append("nil");
          i += 3;
        } else {
          out.push_back(c);
        }
        break;
      default: out.push_back(c);
    }
  }
}

namespace {

void append_ruby_inspect_value(std::string& out, const Value& v) {
  switch (v.kind) {
    case ValueKind::Null: out.append("nil"); break;
    case ValueKind::String: append_ruby_string(out, v.text); break;
    case ValueKind::Json: append_json_as_ruby(out, v.text); break;
    default: append_ruby_to_s(out, v);
  }
}

}  // namespace

void append_ruby_inspect(std::string& out, const Batch& batch, const Record& record) {
  out.push_back('{');
  bool first = true;
  auto member = [&](const Field& f) {
    if (!first) out.append(", ");
    first = false;
    append_ruby_string(out, f.key);
    out.append("=>");
    append_ruby_inspect_value(out, f.value);
  };
  for (const Field* f = batch.begin(record); f != batch.end(record); ++f) member(*f);
  for (const Field& f : batch.common_fields) member(f);
  out.push_back('}');
}

// ---- LineFormat -------------------------------------------------------------------------------

namespace {

bool type_from_name(const std::string& name, LineFormat::Type& out) {
  using T = LineFormat::Type;
  if (name == "out_file") out = T::OutFile;
  else if (name == "stdout") out = T::Stdout;
  else if (name == "json") out = T::Json;
  else if (name == "ltsv") out = T::Ltsv;
  else if (name == "single_value") out = T::SingleValue;
  else if (name == "hash") out = T::Hash;
  else return false;
  return true;
}

}  // namespace

LineFormat LineFormat::configure(const ConfigSection* format, const std::string& default_type,
                                 const ConfigSection* legacy) {
  static const ConfigSection empty{"format", "", {}, {}, {}};
  const ConfigSection& sec = format ? *format : empty;
  SourcePos section_pos = format ? format->pos : (legacy ? legacy->pos : SourcePos{});

  auto get = [&](const char* key) -> const ConfigParam* {
    if (const ConfigParam* p = sec.param(key)) return p;
    if (legacy && key[0] != '@') return legacy->param(key);
    return nullptr;
  };
  auto flag = [&](const char* key, bool& out) {
    if (const ConfigParam* p = get(key))
      if (!parse_bool(p->value, out))
        throw ConfigException(p->pos, "'" + std::string(key) + "' must be true or false, got '" +
                                          p->value + "'");
  };
  auto text = [&](const char* key, std::string& out) {
    if (const ConfigParam* p = get(key)) out = p->value;
  };

  LineFormat f;
  std::string type_name = sec.get("@type");
  if (type_name.empty() && legacy) type_name = legacy->get("format");
  if (type_name.empty()) type_name = default_type;
  if (!type_from_name(type_name, f.type_) || f.type_ == Type::Stdout) {
    // `stdout` is only the out_stdout default, not a general choice.
    if (!(f.type_ == Type::Stdout && default_type == "stdout"))
      throw ConfigException(section_pos,
                            "unsupported format type '" + type_name +
                                "' (supported: out_file, json, ltsv, single_value, hash" +
                                (default_type == "stdout" ? ", stdout" : "") + ")");
  }

  std::vector<std::string> known = {"@type", "newline"};
  auto know = [&](std::initializer_list<const char*> keys) {
    for (auto* k : keys) known.emplace_back(k);
  };

  if (const ConfigParam* p = get("newline")) {
    if (p->value == "lf")
      f.newline_ = "\n";
    else if (p->value == "crlf")
      f.newline_ = "\r\n";
    else
      throw ConfigException(p->pos, "'newline' must be lf or crlf, got '" + p->value + "'");
  }

  bool uses_time = f.type_ == Type::OutFile || f.type_ == Type::Stdout;
  Type body = f.type_;
  if (f.type_ == Type::Stdout) {
    know({"output_type"});
    std::string sub = "json";
    text("output_type", sub);
    if (!type_from_name(sub, f.sub_type_) || f.sub_type_ == Type::Stdout ||
        f.sub_type_ == Type::OutFile)
      throw ConfigException(get("output_type") ? get("output_type")->pos : section_pos,
                            "unsupported output_type '" + sub +
                                "' (supported: json, hash, ltsv, single_value)");
    body = f.sub_type_;
  }
  if (uses_time) {
    know({"time_format", "localtime", "utc", "timezone", "time_type"});
    bool utc = false, localtime = true;
    flag("utc", utc);
    flag("localtime", localtime);
    if (!localtime) utc = true;
    // Fluentd's TimeFormatter without a format: Time#iso8601, which writes UTC as `Z`.
    std::string time_format = f.type_ == Type::Stdout ? "%Y-%m-%d %H:%M:%S.%N %z"
                              : utc                   ? "%Y-%m-%dT%H:%M:%SZ"
                                                      : "%Y-%m-%dT%H:%M:%S%:z";
    text("time_format", time_format);
    if (const ConfigParam* p = get("timezone"))
      log::warn(p->pos.file + ":" + std::to_string(p->pos.line) +
                ": 'timezone' in <format> is not supported; using " +
                (utc ? "UTC" : "local time"));
    if (const ConfigParam* p = get("time_type"); p && p->value != "string")
      throw ConfigException(p->pos, "only time_type string is supported in <format>");
    f.time_ = CachedTimeFormat(time_format, utc);
  }
  if (f.type_ == Type::OutFile) {
    know({"delimiter", "output_tag", "output_time"});
    f.hex_ = json::HexCase::Upper;  // out_file always uses Yajl
    std::string d = "\t";
    text("delimiter", d);
    f.delimiter_ = d == "SPACE" ? " " : d == "COMMA" ? "," : d == "TAB" ? "\t" : d;
    flag("output_tag", f.output_tag_);
    flag("output_time", f.output_time_);
  }
  if (body == Type::Json) {
    know({"json_parser"});
    std::string parser = "oj";
    text("json_parser", parser);
    if (parser == "yajl")
      f.hex_ = json::HexCase::Upper;
    else if (parser == "oj" || parser == "json")
      f.hex_ = json::HexCase::Lower;
    else
      throw ConfigException(get("json_parser")->pos, "json_parser must be oj, yajl or json");
  }
  if (body == Type::Ltsv) {
    know({"delimiter", "label_delimiter", "replacement"});
    text("delimiter", f.delimiter_);
    text("label_delimiter", f.label_delimiter_);
    text("replacement", f.replacement_);
  }
  if (body == Type::SingleValue) {
    know({"message_key"});
    text("message_key", f.message_key_);
  }
  if (f.type_ != Type::OutFile && f.type_ != Type::Stdout) {
    know({"add_newline"});
    flag("add_newline", f.add_newline_);
  }
  if (format) {
    for (const ConfigParam& p : format->params) {
      bool ok = is_system_param(p.key);
      for (auto& k : known) ok = ok || k == p.key;
      if (!ok)
        log::warn(p.pos.file + ":" + std::to_string(p.pos.line) + ": parameter '" + p.key +
                  "' in <format> is not used.");
    }
  }
  return f;
}

void LineFormat::append_body(std::string& out, Type type, const Batch& batch,
                             const Record& record) {
  switch (type) {
    case Type::Json:
    case Type::OutFile:
    case Type::Stdout:
      json::append_record(out, batch, record, hex_);
      break;
    case Type::Hash:
      append_ruby_inspect(out, batch, record);
      break;
    case Type::SingleValue:
      if (const Value* v = batch.find(record, message_key_)) append_ruby_to_s(out, *v);
      break;
    case Type::Ltsv: {
      bool first = true;
      auto member = [&](const Field& f) {
        if (!first) out.append(delimiter_);
        first = false;
        out.append(f.key);
        out.append(label_delimiter_);
        scratch_.clear();
        append_ruby_to_s(scratch_, f.value);
        if (delimiter_.empty() || scratch_.find(delimiter_) == std::string::npos) {
          out.append(scratch_);
          return;
        }
        size_t pos = 0;
        while (true) {
          size_t hit = scratch_.find(delimiter_, pos);
          if (hit == std::string::npos) break;
          out.append(scratch_, pos, hit - pos);
          out.append(replacement_);
          pos = hit + delimiter_.size();
        }
        out.append(scratch_, pos);
      };
      for (const Field* f = batch.begin(record); f != batch.end(record); ++f) member(*f);
      for (const Field& f : batch.common_fields) member(f);
      break;
    }
  }
}

void LineFormat::append(std::string& out, std::string_view tag, const Batch& batch,
                        const Record& record) {
  switch (type_) {
    case Type::Stdout:
      time_.append(out, record.time);
      out.push_back(' ');
      out.append(tag);
      out.append(": ");
      append_body(out, sub_type_, batch, record);
      out.append(newline_);
      return;
    case Type::OutFile:
      if (output_time_) {
        time_.append(out, record.time);
        out.append(delimiter_);
      }
      if (output_tag_) {
        out.append(tag);
        out.append(delimiter_);
      }
      json::append_record(out, batch, record, json::HexCase::Upper);
      out.append(newline_);
      return;
    default:
      append_body(out, type_, batch, record);
      if (add_newline_) out.append(newline_);
      return;
  }
}

}  // namespace sluice
