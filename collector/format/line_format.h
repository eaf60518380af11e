// Fluentd's formatter plugins for line-oriented outputs (`<format>` in out_stdout, out_file):
// out_file, stdout, json, ltsv, single_value and hash, with their parameters and defaults.
// A format turns one (tag, time, record) into bytes appended to a string; outputs format whole
// batches into one buffer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/event.h"
#include "format/json.h"

namespace sluice {

// strftime-style time formatting (format/time.h's append_time) with a per-second cache: the
// text around a fraction directive (%N, %L, %3N, %6N, %9N) is formatted once per second and the
// digits are written directly. Time-zone offsets change only on whole seconds, so this is exact.
class CachedTimeFormat {
 public:
  CachedTimeFormat() = default;
  CachedTimeFormat(std::string format, bool utc);
  void append(std::string& out, EventTime t);

 private:
  std::string head_, tail_;  // the format split around the (first) fraction directive
  int frac_digits_ = 0;      // 0: none
  bool utc_ = false;
  int64_t cached_sec_ = INT64_MIN;
  std::string cached_head_, cached_tail_;
};

// Ruby's `to_s` of a record value: strings raw, nil as "", numbers as Ruby prints them.
// Json values (hashes, arrays) are written as their JSON text (Ruby would print `inspect`).
void append_ruby_to_s(std::string& out, const Value& v);
// A JSON text as Ruby 3.1 inspects the parsed value (`{"k"=>"v", "n"=>nil}`); strings keep their
// JSON escapes.
void append_json_as_ruby(std::string& out, std::string_view json);
// Ruby 3.1's Hash#inspect of a record, `{"k"=>"v", "n"=>1, "x"=>nil}` (approximate for
// unusual strings: see line_format.cpp).
void append_ruby_inspect(std::string& out, const Batch& batch, const Record& record);

class LineFormat {
 public:
  enum class Type { OutFile, Stdout, Json, Ltsv, SingleValue, Hash };

  LineFormat() = default;
  // Builds from a `<format>` section (null: all defaults) with `default_type` when the section
  // has no @type. `legacy` is the output's own section, whose v0.12-style parameters (e.g.
  // `output_type` in out_stdout) apply when `<format>` does not set them. Unknown types and
  // ill-typed values throw ConfigException; unknown parameters are warned about, as Fluentd
  // does.
  static LineFormat configure(const ConfigSection* format, const std::string& default_type,
                              const ConfigSection* legacy = nullptr);

  void append(std::string& out, std::string_view tag, const Batch& batch, const Record& record);
  Type type() const { return type_; }

 private:
  void append_body(std::string& out, Type type, const Batch& batch, const Record& record);

  Type type_ = Type::Json;
  Type sub_type_ = Type::Json;  // stdout's output_type
  json::HexCase hex_ = json::HexCase::Lower;
  bool output_time_ = true;
  bool output_tag_ = true;
  bool add_newline_ = true;
  std::string newline_ = "\n";
  std::string delimiter_ = "\t";
  std::string label_delimiter_ = ":";
  std::string replacement_ = " ";
  std::string message_key_ = "message";
  CachedTimeFormat time_;
  std::string scratch_;
};

}  // namespace sluice
