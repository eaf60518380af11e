// concat's line-joining modes (multiline_start_regexp / multiline_end_regexp /
// continuous_line_regexp, and n_lines): records are held per stream identity (the tag and,
// with stream_identity_key, that field's value) until their group ends, then leave as one record
// whose `key` holds the lines joined with `separator`.
//
// Held records are copied out of their batch and keep their source's claim, so a checkpoint does
// not pass them. A finished group leaves in a batch of its own, carrying the claim of its oldest
// line, through the filters after this one (Router::emit_after). Groups that stop growing for
// flush_interval go, as in concat, to timeout_label, else to the @ERROR label; without either,
// on down the route instead of being dropped.
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../parser_none/parser_common.h"
#include "core/plugin.h"

namespace sluice::concat {

struct JoinSettings {
  std::string key, separator = "\n", stream_identity_key, timeout_label;
  std::string start_regexp, end_regexp, continuous_regexp;  // bare patterns, empty: none
  int64_t n_lines = 0;                                      // > 0: n_lines mode
  double flush_interval = 60;
  bool use_first_timestamp = false;
  size_t buffer_limit_size = 512000;
};

class LineJoiner final : public Filter {
 public:
  LineJoiner(const PluginContext& ctx, JoinSettings s);
  ~LineJoiner() override;
  void start() override;
  void filter(Batch& batch) override;
  void stop() override;

  // The timer's work, also callable from tests: flushes groups idle for flush_interval.
  void flush_idle(uint64_t now_ms);
  size_t held_groups() const { return groups_.size(); }

 private:
  // A field kept beyond its batch.
  struct OwnedField {
    std::string key, text, packed;
    Value value;  // text and packed point nowhere; view() fills them
    void keep(const Field& f);
    Field view() const;
  };
  struct Group {
    std::string identity, tag, stream_id, source_path;
    EventTime first_time;
    uint64_t first_offset = 0;
    std::vector<OwnedField> fields;  // the first record's own fields, then its batch's common ones
    size_t own = 0;
    std::string joined;
    size_t lines = 0;
    std::vector<Claim*> claims;  // retained, oldest first
    uint64_t last_ms = 0;
  };

  bool process(Batch& b, const Record& r, std::string_view text);
  void append(Group& g, const Batch& b, const Record& r, std::string_view text);
  // Sends the group as one record merged into `current` (concat's record.merge), then forgets it.
  void flush_into(Group& g, const Batch& b, const Record& current);
  void flush_alone(Group& g, bool first_time, const std::string& why);
  void send(Group& g, bool timed_out);
  Group* group_for(const Batch& b, const Record& r);

  JoinSettings s_;
  std::string id_;
  uv_loop_t* loop_;
  Emitter* route_;
  std::function<Emitter*(const std::string&)> labels_;
  bool dry_run_;
  std::unique_ptr<parsers::RubyRegex> start_, end_, continuous_;
  std::unique_ptr<parsers::RubyRegex::Matcher> start_m_, end_m_, continuous_m_;
  std::unordered_map<std::string, Group> groups_;
  uv_timer_t* timer_ = nullptr;
  // Set while this filter emits or filters: a batch that comes back to it then (a
  // rewrite_tag_filter loop) passes unjoined rather than changing groups being worked on.
  bool busy_ = false;
  std::vector<std::string> idle_;
  Batch out_;
  std::string identity_, text_;
  Counter* timeouts_ = nullptr;
};

}  // namespace sluice::concat
