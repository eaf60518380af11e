#include "loki_format.h"

#include <charconv>
#include <cstring>

#include "format/json.h"
#include "format/line_format.h"
#include "format/utf8_scrub.h"

namespace sluice::loki {

using jsonscan::Step;
using Steps = std::vector<Step>;

namespace {

void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
void put_i64(std::string& out, int64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }

// extract_kubernetes_labels reads record['kubernetes']['labels'].
const Steps kLabels = {{"kubernetes", -1}, {"labels", -1}};

bool same_key(const Step& step, std::string_view key) { return !step.is_index() && step.key == key; }

// True when `prefix` is `path` or leads to it: reading `path` after deleting `prefix` finds nil.
bool covers(const Steps& prefix, const Steps& path) {
  if (prefix.size() > path.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (prefix[i].is_index() != path[i].is_index() || prefix[i].key != path[i].key ||
        prefix[i].index != path[i].index)
      return false;
  return true;
}

// Appends the JSON object `json` without the members that `paths` (step `level` names a member
// of this object) delete; anything that is not an object is copied as it is.
void append_without(std::string& out, std::string_view json, const std::vector<const Steps*>& paths,
                    size_t level) {
  bool first = true;
  std::vector<const Steps*> deeper;
  const size_t start = out.size();
  out.push_back('{');
  const bool object = jsonscan::for_each_member(json, [&](std::string_view key, std::string_view value) {
    bool removed = false;
    deeper.clear();
    for (const Steps* p : paths) {
      const Step& s = (*p)[level];
      if (s.is_index() || !jsonscan::detail::string_token_equals(key, s.key)) continue;
      if (p->size() == level + 1)
        removed = true;
      else
        deeper.push_back(p);
    }
    if (removed) return;
    if (!first) out.push_back(',');
    first = false;
    out.append(key);
    out.push_back(':');
    if (deeper.empty())
      out.append(value);
    else
      append_without(out, value, std::vector<const Steps*>(deeper), level + 1);
  });
  if (!object) {
    out.resize(start);
    out.append(json);
    return;
  }
  out.push_back('}');
}

// The plugin's key_value rendering of one value: `"` and `\` escaped with a backslash, quoted
// when it holds a space or `=` (out_loki.rb record_to_line).
void append_key_value(std::string& out, std::string_view key, std::string_view v) {
  out.append(key);
  out.push_back('=');
  const bool quote = v.find_first_of(" =") != std::string_view::npos;
  if (quote) out.push_back('"');
  for (char c : v) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  if (quote) out.push_back('"');
}

}  // namespace

void sanitize_label_name_in_place(std::string& name) {
  for (char& c : name)
    if (c == '.' || c == '-' || c == '/') c = '_';
}

std::string sanitize_label_name(std::string_view name) {
  std::string out(name);
  sanitize_label_name_in_place(out);
  return out;
}

Formatter::Formatter(FormatConfig config) : c_(std::move(config)) {
  for (auto& l : c_.labels) removed_.push_back(&l.path.steps());
  for (auto& p : c_.remove_keys) removed_.push_back(&p.steps());
  for (size_t li = 0; li < c_.labels.size(); ++li) {
    const Steps& steps = c_.labels[li].path.steps();
    k8s_labels_taken_ |= covers(steps, kLabels);
    bool shadowed = false;
    for (size_t k = 0; k < li && !shadowed; ++k) shadowed = covers(c_.labels[k].path.steps(), steps);
    shadowed_.push_back(shadowed);
  }
}

bool Formatter::removed_top(std::string_view key) const {
  for (const Steps* p : removed_)
    if (p->size() == 1 && same_key((*p)[0], key)) return true;
  return false;
}

bool Formatter::has_nested_removal(std::string_view key) const {
  for (const Steps* p : removed_)
    if (p->size() > 1 && same_key((*p)[0], key)) return true;
  return false;
}

// out_loki.rb line_to_loki: each <label> is read, then deleted from the record (so a later
// <label> under the same path reads nil); then kubernetes.labels with extract_kubernetes_labels.
void Formatter::collect_labels(const Batch& batch, const Record& record) {
  found_used_ = 0;
  // A later label of the same name replaces the value in place (a Ruby Hash's []=).
  auto slot = [&](std::string_view name) -> LabelValue& {
    for (size_t k = 0; k < found_used_; ++k)
      if (found_[k].name == name) return found_[k];
    if (found_used_ == found_.size()) found_.emplace_back();
    LabelValue& lv = found_[found_used_++];
    lv.name.assign(name);
    return lv;
  };
  auto set_token = [](LabelValue& lv, std::string_view token) {
    lv.value.clear();
    lv.is_string = !token.empty() && token[0] == '"';
    if (lv.is_string)
      jsonscan::append_token_to_s(lv.value, token);
    else
      lv.value.append(token.empty() ? std::string_view("null") : token);
  };
  for (size_t li = 0; li < c_.labels.size(); ++li) {
    const auto& label = c_.labels[li];
    const Steps& steps = label.path.steps();
    LabelValue& lv = slot(label.name);
    const Value* top = shadowed_[li] ? nullptr : batch.find(record, steps[0].key);
    std::string_view token;
    if (!top || top->kind == ValueKind::Null) {
      set_token(lv, {});
    } else if (steps.size() == 1) {
      lv.value.clear();
      lv.is_string = top->kind == ValueKind::String;
      if (lv.is_string)
        lv.value.assign(top->text);
      else if (top->kind == ValueKind::Json)
        lv.value.assign(top->text);
      else
        append_ruby_to_s(lv.value, *top);
    } else if (label.path.nested_token(top, token)) {
      set_token(lv, token);
    } else {
      set_token(lv, {});
    }
  }
  if (!c_.extract_kubernetes_labels || k8s_labels_taken_) return;
  const Value* k8s = batch.find(record, "kubernetes");
  std::string_view labels;
  if (!k8s || k8s->kind != ValueKind::Json || !jsonscan::lookup(k8s->text, kLabels, 1, labels)) return;
  jsonscan::for_each_member(labels, [&](std::string_view key, std::string_view value) {
    tmp_.clear();
    jsonscan::append_token_to_s(tmp_, key);
    for (auto& l : c_.labels) {
      const Steps& s = l.path.steps();
      // Deleted by a <label> before the extraction.
      if (s.size() == 3 && same_key(s[0], "kubernetes") && same_key(s[1], "labels") && same_key(s[2], tmp_))
        return;
    }
    sanitize_label_name_in_place(tmp_);
    set_token(slot(tmp_), value);
  });
}

// out_loki.rb format_labels: extra_labels merged over the record's labels (a colliding extra
// label keeps the record label's place), only string values kept, `"` prefixed with `\`.
// Records whose raw label values differ but render alike still go to different streams, as the
// plugin groups by the raw values: what does not show in the JSON goes to the residue.
void Formatter::render_labels() {
  labels_json_.assign("{");
  residue_.clear();
  bool first = true;
  auto member = [&](std::string_view name, std::string_view value) {
    if (!first) labels_json_.push_back(',');
    first = false;
    json::append_string(labels_json_, name, json::HexCase::Upper);
    labels_json_.push_back(':');
    if (value.find('"') == std::string_view::npos) {
      json::append_string(labels_json_, value, json::HexCase::Upper);
      return;
    }
    tmp_.clear();
    for (char c : value) {
      if (c == '"') tmp_.push_back('\\');
      tmp_.push_back(c);
    }
    json::append_string(labels_json_, tmp_, json::HexCase::Upper);
  };
  auto extra_of = [&](std::string_view name) -> const std::string* {
    for (auto& [k, v] : c_.extra_labels)
      if (k == name) return &v;
    return nullptr;
  };
  for (size_t k = 0; k < found_used_; ++k) {
    const LabelValue& lv = found_[k];
    const std::string* extra = extra_of(lv.name);
    if (extra || !lv.is_string) {
      residue_.append(lv.name);
      residue_.push_back('\x1f');
      residue_.push_back(lv.is_string ? 's' : 'j');
      residue_.append(lv.value);
      residue_.push_back('\x1e');
    }
    if (extra)
      member(lv.name, *extra);
    else if (lv.is_string)
      member(lv.name, lv.value);
  }
  thread_at_ = uint32_t(labels_json_.size());
  for (auto& [name, value] : c_.extra_labels) {
    bool merged = false;
    for (size_t k = 0; k < found_used_ && !merged; ++k) merged = found_[k].name == name;
    if (!merged) member(name, value);
  }
  labels_json_.push_back('}');
}

// One top-level value of the line: the value itself, or a nested object without what <label>
// and remove_keys delete from it.
void Formatter::write_value(std::string& out, std::string_view key, const Value& v, bool key_value) {
  std::string_view json_text = v.text;
  if (v.kind == ValueKind::Json && has_nested_removal(key)) {
    if (v.text != cached_from_ || key != cached_key_) {
      // Per-container metadata is the same value for a whole batch: reduced once.
      cached_from_.assign(v.text);
      cached_key_.assign(key);
      cached_reduced_.clear();
      std::vector<const Steps*> paths;
      for (const Steps* p : removed_)
        if (p->size() > 1 && same_key((*p)[0], key)) paths.push_back(p);
      append_without(cached_reduced_, v.text, paths, 1);
    }
    json_text = cached_reduced_;
  }
  if (!key_value) {
    if (v.kind == ValueKind::Json)
      out.append(json_text);
    else
      json::append_value(out, v, json::HexCase::Upper);
    return;
  }
  tmp2_.clear();
  switch (v.kind) {
    case ValueKind::String: {
      // Ruby's encode('utf-8', invalid: :replace, replace: '?').
      std::string_view text = scrub_utf8(v.text, tmp_);
      append_key_value(out, key, text);
      return;
    }
    case ValueKind::Json: append_json_as_ruby(tmp2_, json_text); break;
    default: append_ruby_to_s(tmp2_, v);
  }
  append_key_value(out, key, tmp2_);
}

// out_loki.rb record_to_line, on the record left after the deletions.
void Formatter::render_line(const Batch& batch, const Record& record) {
  line_.clear();
  single_ = nullptr;
  size_t kept = 0;
  const Field* last = nullptr;
  auto count = [&](const Field& f) {
    if (removed_top(f.key)) return;
    ++kept;
    last = &f;
  };
  for (const Field* f = batch.begin(record); f != batch.end(record); ++f) count(*f);
  for (const Field& f : batch.common_fields) count(f);
  if (c_.drop_single_key && kept == 1) {
    // The value itself, whatever its type: a non-string goes into the body as a JSON value
    // (which Loki refuses), as in the plugin.
    single_ = last;
    if (last->value.kind == ValueKind::String) {
      line_.assign(last->value.text);
    } else {
      write_value(line_, last->key, last->value, false);
    }
    return;
  }
  const bool json = c_.line_format == FormatConfig::LineFormat::Json;
  bool first = true;
  auto member = [&](const Field& f) {
    if (removed_top(f.key)) return;
    if (json) {
      line_.push_back(first ? '{' : ',');
      json::append_string(line_, f.key, json::HexCase::Upper);
      line_.push_back(':');
      write_value(line_, f.key, f.value, false);
    } else {
      if (!first) line_.push_back(' ');
      write_value(line_, f.key, f.value, true);
    }
    first = false;
  };
  for (const Field* f = batch.begin(record); f != batch.end(record); ++f) member(*f);
  for (const Field& f : batch.common_fields) member(f);
  if (json) line_.append(first ? "{}" : "}");
}

// True when every label the record gives comes from the batch's common fields (the
// kubernetes metadata of its container): then they are the same for the whole batch.
bool Formatter::labels_from_common(const Batch& batch, const Record& record) const {
  for (const Field* f = batch.begin(record); f != batch.end(record); ++f) {
    if (c_.extract_kubernetes_labels && f->key == "kubernetes") return false;
    for (auto& l : c_.labels)
      if (f->key == l.path.top()) return false;
  }
  return true;
}

void Formatter::append(std::string& out, const Batch& batch, const Record& record) {
  if (!labels_from_common(batch, record)) {
    collect_labels(batch, record);
    render_labels();
  } else if (!batch_labels_ready_) {
    collect_labels(batch, record);
    render_labels();
    batch_labels_.assign(labels_json_);
    batch_residue_.assign(residue_);
    batch_thread_at_ = thread_at_;
    batch_labels_ready_ = true;
  } else {
    labels_json_.assign(batch_labels_);
    residue_.assign(batch_residue_);
    thread_at_ = batch_thread_at_;
  }
  render_line(batch, record);
  put_u32(out, uint32_t(labels_json_.size()));
  put_u32(out, uint32_t(residue_.size()));
  put_u32(out, thread_at_);
  out.append(labels_json_);
  out.append(residue_);
  // out_loki.rb to_nano: an integer time has no fraction.
  const int64_t ns = record.time.sec * 1000000000 + (record.time.integer ? 0 : int64_t(record.time.nsec));
  put_i64(out, ns);
  const size_t size_at = out.size();
  put_u32(out, 0);
  out.append("[\"");
  char digits[24];
  auto r = std::to_chars(digits, digits + sizeof digits, ns);
  out.append(digits, r.ptr);
  out.append("\",");
  if (single_ && single_->value.kind != ValueKind::String)
    out.append(line_);
  else
    json::append_string(out, line_, json::HexCase::Upper);
  out.push_back(']');
  const uint32_t value_size = uint32_t(out.size() - size_at - 4);
  std::memcpy(out.data() + size_at, &value_size, 4);
}

}  // namespace sluice::loki
