// The Ruby that record filters' `${...}` expressions use in practice (Fluentd's enable_ruby
// placeholders, record_modifier-style `<record>` values), evaluated without Ruby. The syntax is the configuration's embedded-Ruby subset
// (config/ruby_eval.h: literals, "#{}" strings, `||`, `&&`, `!`, `==`, `!=`, `+`, `a ? b : c`,
// `x rescue y`, locals, `[...]`, method calls); the names are Fluentd's (`record`, `tag`,
// `time`, `hostname`, `tag_parts`, `tag_prefix`, `tag_suffix`) and the methods those of String,
// Integer, Float, Hash, Array and Time listed in README.md.
//
// Regexp literals (`/.../imx`, no interpolation) work with `=~`, `!~`, match, match?, scan, sub,
// gsub and split (regexps are Oniguruma's Ruby syntax).
//
// Anything else (blocks, constants, other names and methods) is refused when the
// configuration is read: a configuration sluice cannot evaluate must not start and then quietly
// make other records than Fluentd.
//
// What Ruby raises while evaluating (`nil["x"]`, a missing key in `fetch`, "a" + 1) is an error
// with Ruby's message; the filter then sends the record to @ERROR as Fluentd does.
//
// Filters differ in the names they give an expression: ExpressionNames says which.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/ruby_eval.h"
#include "core/arena.h"
#include "core/event.h"
#include "format/tag_parts.h"

namespace sluice::ruby {

class Regexp;

// What an expression is evaluated against: one record of a batch (none for expressions that do
// not read the record or the time).
struct Scope {
  const Batch* batch = nullptr;
  const Record* record = nullptr;
  const TagParts* tag = nullptr;
  std::string_view hostname;
  Arena* arena = nullptr;  // strings the expression makes live here
};

// The names an expression may use besides `record` and `tag`.
struct ExpressionNames {
  // `time` is a Time (Time.at(event time)); else it is the event time's seconds, an Integer
  // (Fluent::EventTime, which answers Integer's methods and prints as its seconds; its `to_f`
  // has the fraction).
  bool time_is_time = true;
  // `hostname`, `tag_prefix` and `tag_suffix` are known (`tag_parts` always is).
  bool tag_affixes_and_hostname = true;
};

class RecordExpression {
 public:
  // Throws std::invalid_argument when `source` is outside the supported Ruby.
  explicit RecordExpression(std::string_view source, ExpressionNames names = {});
  ~RecordExpression();
  RecordExpression(RecordExpression&&) noexcept;

  // The value as a record value (its strings in scope.arena or the record). False, with Ruby's
  // exception message in `error`, when evaluating raises.
  bool evaluate(const Scope& scope, Value& out, std::string& error) const;
  // Appends the value's `to_s`, as string interpolation does. False as evaluate().
  bool append_to_s(const Scope& scope, std::string& out, std::string& error) const;

  // Reads `record` or `time`, so it is evaluated per record.
  bool per_record() const { return per_record_; }

 private:
  detail::NodeP root_;
  std::vector<std::unique_ptr<Regexp>> regexps_;  // the literals, compiled once (Node::lit.i)
  bool per_record_ = false;
  bool time_is_time_ = true;
};

// Why RecordExpression refused its source, for a message that names the expression before it:
// "is Ruby that sluice does not evaluate", or the regexp's error.
std::string refusal(const std::invalid_argument& e);

// Ruby's String#to_f and #to_i: the longest numeric prefix after leading whitespace, else 0.
double string_to_f(std::string_view s);
int64_t string_to_i(std::string_view s);

}  // namespace sluice::ruby
