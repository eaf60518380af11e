// fluent-plugin-grafana-loki's push body (clients/cmd/fluentd/lib/fluent/plugin/out_loki.rb),
// built in two steps:
//
//  - at buffer time (append): each record becomes one entry in the chunk: its stream's label set
//    rendered as the JSON object the plugin sends, and its value `["<unix ns>","<line>"]` already
//    escaped for the body;
//  - at flush (build_body): the chunk's entries are grouped by label set (first-seen order) and
//    sorted by time within each stream (stable, as the plugin's sort_by with index), and the
//    body `{"streams":[{"stream":{...},"values":[[...],...]},...]}` is written by concatenation.
//
// Grouping needs the whole chunk, so it happens at flush; everything per record (label lookup,
// record deletions, line formatting, JSON escaping) happens once, at buffer time.
//
// An entry in a chunk payload (native byte order: a chunk file is read back by the same build):
// u32 labels size, u32 residue size, u32 offset of the fluentd_thread label in the labels,
// labels (the JSON object), residue (raw label values the JSON does not show), i64 time in ns,
// u32 value size, value (`["<ns>",<line>]`). Labels and residue are adjacent: together they are
// the stream's grouping key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/event.h"
#include "format/record_path.h"

namespace sluice::loki {

struct FormatConfig {
  struct Label {
    std::string name;  // the label name sent: the configured key with `.`, `-`, `/` as `_`
    RecordPath path;  // Fluentd's record_accessor syntax
  };
  std::vector<Label> labels;  // <label>, in configuration order
  std::vector<std::pair<std::string, std::string>> extra_labels;
  std::vector<RecordPath> remove_keys;
  enum class LineFormat { KeyValue, Json } line_format = LineFormat::KeyValue;
  bool drop_single_key = false;
  bool extract_kubernetes_labels = false;
  // flush_thread_count > 1 with include_thread_label: a `fluentd_thread` label per flush slot.
  bool thread_label = false;
};

// The plugin's label name rewrite: `.`, `-` and `/` become `_`.
std::string sanitize_label_name(std::string_view name);
void sanitize_label_name_in_place(std::string& name);

class Formatter {
 public:
  explicit Formatter(FormatConfig config);
  const FormatConfig& config() const { return c_; }

  // Before the records of each batch (labels read from its common fields are rendered once).
  void begin_batch() { batch_labels_ready_ = false; }
  // Appends the entry of one record to a chunk payload.
  void append(std::string& out, const Batch& batch, const Record& record);

 private:
  struct LabelValue {
    std::string name;
    std::string value;  // the string, or the JSON text of another kind (for grouping)
    bool is_string = false;
  };
  bool labels_from_common(const Batch& batch, const Record& record) const;
  void collect_labels(const Batch& batch, const Record& record);
  void render_labels();
  void render_line(const Batch& batch, const Record& record);
  bool removed_top(std::string_view key) const;
  bool has_nested_removal(std::string_view key) const;
  void write_value(std::string& out, std::string_view key, const Value& v, bool key_value);

  FormatConfig c_;
  std::vector<const std::vector<jsonscan::Step>*> removed_;  // label paths, then remove_keys
  bool k8s_labels_taken_ = false;  // a <label> deletes kubernetes.labels before extraction
  std::vector<bool> shadowed_;     // per <label>: an earlier one deletes its path (it reads nil)
  // Scratch, reused across records.
  std::vector<LabelValue> found_;
  size_t found_used_ = 0;
  std::string labels_json_;
  uint32_t thread_at_ = 0;
  std::string residue_;
  std::string line_;
  std::string tmp_;
  std::string tmp2_;
  const Field* single_ = nullptr;  // drop_single_key: the one field left
  // The labels of the batch being written when they come from its common fields.
  bool batch_labels_ready_ = false;
  std::string batch_labels_;
  std::string batch_residue_;
  uint32_t batch_thread_at_ = 0;
  // The last nested value reduced by deletions (per-container metadata repeats record after
  // record).
  std::string cached_from_;
  std::string cached_key_;
  std::string cached_reduced_;
};

// The body of one push, from a chunk payload. `thread` names the flush slot for the
// `fluentd_thread` label (empty: none). False with `error` for a payload that is not a sequence
// of entries (a damaged chunk file).
bool build_body(std::string_view payload, std::string_view thread, std::string& body,
                std::string& error);

// Entries in a payload (for messages); -1 when damaged.
int64_t count_entries(std::string_view payload);

}  // namespace sluice::loki
