#include "metric_labels.h"

#include <charconv>
#include <stdexcept>

#include "prometheus_family.h"

namespace sluice::prometheus {

namespace {

bool parse_index(std::string_view text, int64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

LabelValue::LabelValue(std::string_view text) : text_(text) {
  if (text.starts_with("$.") || text.starts_with("$[")) {
    accessor_ = per_record_ = true;
    path_ = RecordPath(text);
    return;
  }
  size_t i = 0;
  while (i < text.size()) {
    // A placeholder is `${name}` or `${name[...]}`, the name without `[` or `}`.
    size_t at = text.find("${", i);
    size_t close = std::string_view::npos;
    if (at != std::string_view::npos) {
      size_t name_end = text.find_first_of("[}", at + 2);
      if (name_end != std::string_view::npos && name_end > at + 2) {
        if (text[name_end] == '}') {
          close = name_end;
        } else {
          size_t bracket = text.find(']', name_end);
          if (bracket != std::string_view::npos && bracket > name_end + 1 && bracket + 1 < text.size() &&
              text[bracket + 1] == '}')
            close = bracket + 1;
        }
      }
    }
    if (close == std::string_view::npos) {
      size_t next = at == std::string_view::npos ? text.size() : at + 2;
      parts_.push_back({Part::Literal, std::string(text.substr(i, next - i))});
      i = next;
      continue;
    }
    if (at > i) parts_.push_back({Part::Literal, std::string(text.substr(i, at - i))});
    std::string_view whole = text.substr(at, close + 1 - at);
    std::string_view inner = whole.substr(2, whole.size() - 3);
    size_t bracket = inner.find('[');
    std::string_view name = inner.substr(0, bracket);
    std::string_view index = bracket == std::string_view::npos ? "" : inner.substr(bracket + 1, inner.size() - bracket - 2);
    Part part{Part::RecordValue, std::string(whole)};
    int64_t n = 0;
    if (name == "tag" && bracket == std::string_view::npos) part.kind = Part::Tag;
    else if (name == "hostname" && bracket == std::string_view::npos) part.kind = Part::Hostname;
    else if (name == "worker_id" && bracket == std::string_view::npos) part.kind = Part::WorkerId;
    else if ((name == "tag_parts" || name == "tag_prefix" || name == "tag_suffix") && parse_index(index, n)) {
      part.kind = name == "tag_parts" ? Part::TagParts : name == "tag_prefix" ? Part::TagPrefix : Part::TagSuffix;
      part.index = n;
    } else if (bracket == std::string_view::npos) {
      part.path = RecordPath(name);
    } else if (index.size() >= 2 && index.front() == '"' && index.back() == '"') {
      part.path = RecordPath("$['" + std::string(name) + "']['" + std::string(index.substr(1, index.size() - 2)) + "']");
    } else if (parse_index(index, n) && n >= 0) {
      part.path = RecordPath("$['" + std::string(name) + "'][" + std::to_string(n) + "]");
    } else {
      part.kind = Part::Literal;  // never matches a record: stays as written, as unknown ones do
    }
    per_record_ |= part.kind == Part::RecordValue;
    parts_.push_back(std::move(part));
    i = close + 1;
  }
}

void LabelValue::append(std::string& out, const Placeholders& p, const Batch* batch, const Record* record,
                        std::string& scratch, std::string& unknown) const {
  if (accessor_) {
    out.append(path_.to_s(batch->find(*record, path_.top()), scratch));
    return;
  }
  for (const Part& part : parts_) {
    std::string_view v;
    bool known = true;
    switch (part.kind) {
      case Part::Literal: v = part.text; break;
      case Part::Tag: v = p.tag.tag(); break;
      case Part::Hostname: v = p.hostname; break;
      case Part::WorkerId: v = p.worker_id; break;
      case Part::TagParts: known = TagParts::pick(p.tag.parts(), part.index, v); break;
      // Ruby's expander makes these for non-negative indexes only; tag_suffix[0] is the last part.
      case Part::TagPrefix: known = part.index >= 0 && TagParts::pick(p.tag.prefixes(), part.index, v); break;
      case Part::TagSuffix:
        known = part.index >= 0 && TagParts::pick(p.tag.suffixes(), -1 - part.index, v);
        break;
      case Part::RecordValue: {
        // The Ruby expander knows a record's scalar top-level values, its maps' members and its
        // arrays' elements; a map or an array itself is no placeholder.
        const Value* top = batch->find(*record, part.path.top());
        known = top && (part.path.nested() ? top->kind == ValueKind::Json : top->kind != ValueKind::Json);
        if (known && part.path.nested()) {
          scratch.clear();
          part.path.append_to_s(scratch, top);  // a member that is absent prints "", as null does
          v = scratch;
        } else if (known) {
          v = part.path.to_s(top, scratch);
        }
        break;
      }
    }
    if (!known) {
      if (unknown.empty()) unknown = part.text;
      v = part.text;
    }
    out.append(v);
  }
}

void render_labels(std::string& out, const std::vector<Label>& labels, const Placeholders& p,
                   const Batch* batch, const Record* record, LabelValue::Scratch& scratch) {
  out.clear();
  if (labels.empty()) return;
  out += '{';
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].name;
    out += '=';
    scratch.value.clear();
    labels[i].value.append(scratch.value, p, batch, record, scratch.text, scratch.unknown);
    append_label_value(out, scratch.value);
  }
  out += '}';
}

}  // namespace sluice::prometheus
