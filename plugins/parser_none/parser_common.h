// Shared pieces of the parser plugins (Fluentd's Parser base class): the common parameters,
// event-time extraction, `types`/`null_*` value conversion, and keeping unparsable lines.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/params.h"
#include "core/event.h"
#include "core/metrics.h"
#include "core/plugin.h"
#include "format/time.h"

namespace sluice::parsers {

// Adds the parameters of Fluentd's Parser base (time_key, time_format, time_type, localtime, utc,
// timezone, keep_time_key, types, null_value_pattern, null_empty_string, estimate_current_event,
// timeout) with the given defaults.
struct BaseDefaults {
  std::string time_key = "time";
  std::string time_format;         // empty: none
  std::string time_type = "string";
  bool keep_time_key = false;
};
void add_base_params(PluginSpec& spec, const BaseDefaults& defaults);

// The event-time side of a parser's configuration.
struct TimeOptions {
  std::string key;        // time_key ("" = none)
  bool keep = false;      // keep_time_key
  TimeParser parser;
  bool rfc3339_fast = false;  // format is an RFC 3339 shape: use parse_rfc3339
  bool rfc3339_z_fast = false;  // `%Y-%m-%dT%H:%M:%S.%NZ` (the daemonset image default)
  bool float_type = false;    // Fluentd json default (time_type float): numbers, or ISO strings
  void configure(const Params& params, const std::string& default_type = "string");
  // Inline for the RFC 3339 formats (the CRI and docker defaults), which cost a call per record.
  bool parse(std::string_view text, EventTime& out) const {
    return rfc3339_fast ? parse_rfc3339(text, out) : parse_other(text, out);
  }
  bool parse_other(std::string_view text, EventTime& out) const;
};

// `types`, `null_empty_string`, `null_value_pattern`: applied to a record's fields after parsing.
class ValueConverter {
 public:
  ValueConverter();
  explicit ValueConverter(const Params& params);
  ~ValueConverter();
  ValueConverter(ValueConverter&&) noexcept;
  ValueConverter& operator=(ValueConverter&&) noexcept;
  bool active() const { return active_; }
  // Converts fields [first, batch.fields.size()) in place.
  void apply(Batch& batch, size_t first) const;

 private:
  struct Rule;
  struct NullPattern;
  bool active_ = false;
  bool null_empty_ = false;
  std::vector<Rule> rules_;
  std::unique_ptr<NullPattern> null_pattern_;
};

// Keeps an unparsable line: emits {"message": raw, "_parse_error": reason} with time now(), counts
// it in sluice_parse_errors_total{plugin="<id>"} and warns once per plugin and kind of error, or
// tells the context's ParseFailureListener instead (which decides whether it was an error).
class ErrorSink {
 public:
  ErrorSink() = default;
  ErrorSink(const PluginContext& ctx, std::string type);
  void keep_raw(Batch& out, const Line& line, std::string_view kind, std::string_view reason);
  Counter* counter() const { return counter_; }
  const std::string& id() const { return id_; }

 private:
  Counter* counter_ = nullptr;
  ParseFailureListener* listener_ = nullptr;
  std::string id_;
  std::string type_;
};

// Appends `s` JSON-escaped (with quotes) into the arena; used to build small JSON values.
std::string_view json_quote(Arena& arena, std::string_view s);

// Ruby String#to_i / #to_f semantics (leading number, else 0).
int64_t ruby_to_i(std::string_view s);
double ruby_to_f(std::string_view s);

}  // namespace sluice::parsers

// A compiled Ruby-syntax regular expression (Oniguruma), shared read-only between streams.
// Lines that are not valid UTF-8 are matched bytewise with an ASCII twin of the pattern (Fluentd's
// in_tail hands ASCII-8BIT strings to the regexp, so it matches bytes too).
typedef struct re_pattern_buffer OnigRegexType;
typedef struct re_registers OnigRegion;

namespace sluice::parsers {

class RubyRegex {
 public:
  // `pattern` may be `/.../flags` (i, m, x) or bare. Throws std::invalid_argument with
  // Oniguruma's message when it does not compile.
  explicit RubyRegex(std::string_view pattern, bool ignorecase = false, bool multiline = false);
  ~RubyRegex();
  RubyRegex(const RubyRegex&) = delete;
  RubyRegex& operator=(const RubyRegex&) = delete;

  struct Group {
    std::string name;
    std::vector<int> numbers;  // group numbers carrying this name (Ruby allows duplicates)
  };
  // Named groups in the order they appear in the pattern.
  const std::vector<Group>& groups() const { return groups_; }

  // Per-stream match state (an OnigRegion reused across lines).
  class Matcher {
   public:
    explicit Matcher(const RubyRegex& re);
    ~Matcher();
    Matcher(const Matcher&) = delete;
    Matcher& operator=(const Matcher&) = delete;
    // Searches `text` (unanchored, like Ruby's =~). Returns false when it does not match.
    bool search(std::string_view text);
    // The bytes captured by a named group (the last participating group of that name); false
    // when the group did not participate.
    bool group(size_t index, std::string_view& out) const;
    // After a match: capture n (1-based, Ruby's $n); false when that group did not take part or
    // does not exist.
    bool capture(int n, std::string_view& out) const;

   private:
    const RubyRegex& re_;
    OnigRegion* region_;
    std::string_view text_;
  };

 private:
  OnigRegexType* utf8_ = nullptr;
  OnigRegexType* ascii_ = nullptr;
  std::vector<Group> groups_;
  friend class Matcher;
};

// The regexp-style parsers' record (regexp, multiline): after a successful search, one record of
// the named groups listed in `fields` (indexes into the pattern's groups; groups that did not take
// part are left out, as Fluentd does), its event time from group `time_group` (or now), then
// `types` conversion. A time that does not parse keeps `line` raw instead.
void emit_match(Batch& out, const RubyRegex& re, const RubyRegex::Matcher& match,
                const std::vector<size_t>& fields, int time_group, const TimeOptions& time,
                const ValueConverter& convert, ErrorSink& errors, const Line& line);

}  // namespace sluice::parsers
