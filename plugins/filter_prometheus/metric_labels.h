// The label values of a fluent-plugin-prometheus <labels> section: `$.a.b` record accessors, or
// text with placeholders (`${tag}`, `${tag_parts[N]}`, `${tag_prefix[N]}`, `${tag_suffix[N]}`,
// `${hostname}`, `${worker_id}`, and a record's `${key}`, `${key[N]}`, `${key["k"]}`), rendered
// into a series' label block.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "format/record_path.h"
#include "format/tag_parts.h"

namespace sluice::prometheus {

struct Placeholders {
  TagParts tag;
  std::string hostname;
  std::string worker_id;
};

class LabelValue {
 public:
  explicit LabelValue(std::string_view text);  // throws std::invalid_argument on a bad accessor
  bool per_record() const { return per_record_; }
  const std::string& text() const { return text_; }
  // Appends the value; `record` is null for values that do not depend on one. Unknown
  // placeholders stay as written, as the Ruby expander leaves them; `unknown` gets the first.
  void append(std::string& out, const Placeholders& p, const Batch* batch, const Record* record,
              std::string& scratch, std::string& unknown) const;

  struct Scratch {
    std::string value, text, unknown;
  };

 private:
  struct Part {
    enum Kind { Literal, Tag, TagParts, TagPrefix, TagSuffix, Hostname, WorkerId, RecordValue } kind;
    std::string text;  // the literal, or the placeholder as written
    int64_t index = 0;
    RecordPath path;
  };
  std::string text_;
  std::vector<Part> parts_;
  bool accessor_ = false;
  RecordPath path_;
  bool per_record_ = false;
};

struct Label {
  std::string name;
  LabelValue value;
};

// `{a="x",b="y"}` (empty without labels) for one record, or for none when no label needs one.
void render_labels(std::string& out, const std::vector<Label>& labels, const Placeholders& p,
                   const Batch* batch, const Record* record, LabelValue::Scratch& scratch);

}  // namespace sluice::prometheus
