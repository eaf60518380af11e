// Evaluation of `${...}` record expressions over sluice's records: values are
// views (record strings, JSON text of nested hashes and arrays), new strings go to the batch's
// arena, so evaluating allocates nothing on the heap unless the expression assigns locals.
#include "ruby/record_expression.h"

#include <charconv>
#include <cmath>
#include <set>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

#include "format/json.h"
#include "format/json_lookup.h"
#include "format/line_format.h"
#include "format/time.h"
#include "ruby/record_values.h"
#include "ruby/regexp.h"

namespace sluice::ruby {
namespace {

using detail::Node;

const std::vector<std::string_view>& record_methods() {
  static const std::vector<std::string_view> m{"to_s", "to_i", "to_f", "to_json", "inspect", "nil?", "empty?", "length", "size",
       "downcase", "upcase", "capitalize", "strip", "lstrip", "rstrip", "chomp", "include?",
       "start_with?", "end_with?", "split", "sub", "gsub", "join", "first", "last", "has_key?",
       "key?", "member?", "dig", "fetch", "strftime", "iso8601", "xmlschema", "utc", "getutc",
       "localtime", "match", "match?", "scan", "source", "captures"};
  return m;
}

const detail::Dialect& record_dialect(const ExpressionNames& names) {
  static const detail::Dialect full{
      {"record", "tag", "time", "hostname", "tag_parts", "tag_prefix", "tag_suffix"},
      record_methods(), false, true};
  static const detail::Dialect basic{{"record", "tag", "time", "tag_parts"}, record_methods(),
                                     false, true};
  return names.tag_affixes_and_hostname ? full : basic;
}

// Each literal compiled once; its node keeps the index. A pattern Oniguruma refuses is refused
// with the configuration.
void compile_regexps(Node& n, std::vector<std::unique_ptr<Regexp>>& out) {
  if (n.k == Node::Regex) {
    try {
      out.push_back(std::make_unique<Regexp>(n.name, n.lit.s));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("invalid regexp /" + n.name + "/: " + e.what());
    }
    n.lit.i = static_cast<long long>(out.size() - 1);
  }
  for (auto& k : n.kids) compile_regexps(*k, out);
}

bool reads_record(const Node& n) {
  if (n.k == Node::Builtin && (n.name == "record" || n.name == "time")) return true;
  for (const auto& k : n.kids)
    if (reads_record(*k)) return true;
  return false;
}

class Evaluator {
 public:
  Evaluator(const Scope& s, bool time_is_time, const std::vector<std::unique_ptr<Regexp>>& regexps)
      : v_(s), time_is_time_(time_is_time), regexps_(regexps) {}

  R eval(const Node& n) {
    switch (n.k) {
      case Node::Lit: return literal(n.lit);
      case Node::Interp: {
        std::string s;
        for (const auto& k : n.kids) v_.append_to_s(s, eval(*k));
        return R::str(v_.keep(s));
      }
      case Node::Var:
        for (auto& [name, value] : locals_)
          if (name == n.name) return value;
        return R{};
      case Node::Builtin: return builtin(n.name);
      case Node::Assign: {
        R value = eval(*n.kids[0]);
        for (auto& [name, old] : locals_)
          if (name == n.name) return old = value;
        locals_.emplace_back(n.name, value);
        return value;
      }
      case Node::Or: {
        R a = eval(*n.kids[0]);
        return a.truthy() ? a : eval(*n.kids[1]);
      }
      case Node::And: {
        R a = eval(*n.kids[0]);
        return a.truthy() ? eval(*n.kids[1]) : a;
      }
      case Node::Not: return R::boolean(!eval(*n.kids[0]).truthy());
      case Node::Ternary:
        return eval(*n.kids[0]).truthy() ? eval(*n.kids[1]) : eval(*n.kids[2]);
      case Node::Plus: return v_.plus(eval(*n.kids[0]), eval(*n.kids[1]));
      case Node::Eq: return R::boolean(v_.equal(eval(*n.kids[0]), eval(*n.kids[1])));
      case Node::Ne: return R::boolean(!v_.equal(eval(*n.kids[0]), eval(*n.kids[1])));
      case Node::Seq: {
        R last;
        for (const auto& k : n.kids) last = eval(*k);
        return last;
      }
      case Node::Rescue:
        try {
          return eval(*n.kids[0]);
        } catch (const RubyError&) {
          return eval(*n.kids[1]);
        }
      case Node::Index: return v_.index(eval(*n.kids[0]), eval(*n.kids[1]));
      case Node::Call: {
        // Fluent::EventTime answers Integer's methods with its seconds, but its own to_f has the
        // fraction.
        if (!time_is_time_ && n.name == "to_f" && n.kids.size() == 1 &&
            n.kids[0]->k == Node::Builtin && n.kids[0]->name == "time") {
          const EventTime& t = v_.scope().record->time;
          return R::real(static_cast<double>(t.sec) + (t.integer ? 0.0 : t.nsec / 1e9));
        }
        R recv = eval(*n.kids[0]);
        R args[kMaxArgs];
        size_t count = n.kids.size() - 1;
        if (count > kMaxArgs) throw RubyError{"too many arguments for " + n.name};
        for (size_t i = 0; i < count; ++i) args[i] = eval(*n.kids[i + 1]);
        return v_.call(recv, n.name, std::span<const R>(args, count));
      }
      case Node::Regex: {
        R r;
        r.k = R::Regex;
        r.re = regexps_[size_t(n.lit.i)].get();
        return r;
      }
      case Node::Match: return v_.match_operator(eval(*n.kids[0]), eval(*n.kids[1]));
      case Node::NoMatch: return R::boolean(v_.match_operator(eval(*n.kids[0]), eval(*n.kids[1])).k == R::Nil);
      case Node::Const: break;
    }
    throw RubyError{"unsupported expression"};
  }

  Values& values() { return v_; }

 private:
  R literal(const detail::Value& lit) {
    switch (lit.t) {
      case detail::Value::Nil: return R{};
      case detail::Value::Bool: return R::boolean(lit.b);
      case detail::Value::Int: return R::integer(lit.i);
      case detail::Value::Float: return R::real(std::strtod(lit.s.c_str(), nullptr));
      case detail::Value::Str: return R::str(lit.s);  // lives as long as the expression
      case detail::Value::IP: break;
    }
    return R{};
  }

  R builtin(const std::string& name) {
    const Scope& s = v_.scope();
    if (name == "record") {
      R r;
      r.k = R::Record;
      return r;
    }
    if (name == "tag") return R::str(s.tag->tag());
    if (name == "hostname") return R::str(s.hostname);
    if (name == "time") {
      if (!time_is_time_) return R::integer(s.record->time.sec);
      R r;
      r.k = R::Time;
      r.t = s.record->time;
      return r;
    }
    R r;
    r.k = R::List;
    r.list = name == "tag_parts" ? &s.tag->parts()
             : name == "tag_prefix" ? &s.tag->prefixes()
                                    : &s.tag->suffixes();
    return r;
  }

  static constexpr size_t kMaxArgs = 8;
  Values v_;
  bool time_is_time_;
  const std::vector<std::unique_ptr<Regexp>>& regexps_;
  std::vector<std::pair<std::string, R>> locals_;
};

}  // namespace

RecordExpression::RecordExpression(std::string_view source, ExpressionNames names)
    : time_is_time_(names.time_is_time) {
  try {
    std::set<std::string> locals;
    root_ = detail::parse_program(source, locals, 0, record_dialect(names));
  } catch (const detail::Unsupported&) {
    throw std::invalid_argument("unsupported");
  } catch (const std::out_of_range&) {  // an integer literal too large
    throw std::invalid_argument("unsupported");
  }
  per_record_ = reads_record(*root_);
  compile_regexps(*root_, regexps_);
}

std::string refusal(const std::invalid_argument& e) {
  const std::string why = e.what();
  return why == "unsupported" ? "is Ruby that sluice does not evaluate" : "has an " + why;
}

RecordExpression::~RecordExpression() = default;
RecordExpression::RecordExpression(RecordExpression&&) noexcept = default;

bool RecordExpression::evaluate(const Scope& scope, Value& out, std::string& error) const {
  try {
    Evaluator ev(scope, time_is_time_, regexps_);
    out = ev.values().to_value(ev.eval(*root_));
    return true;
  } catch (const RubyError& e) {
    error = e.msg;
    return false;
  }
}

bool RecordExpression::append_to_s(const Scope& scope, std::string& out, std::string& error) const {
  try {
    Evaluator ev(scope, time_is_time_, regexps_);
    ev.values().append_to_s(out, ev.eval(*root_));
    return true;
  } catch (const RubyError& e) {
    error = e.msg;
    return false;
  }
}

}  // namespace sluice::ruby
