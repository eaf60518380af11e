// The embedded-Ruby subset of Fluentd configs: the code inside `"#{...}"`.
//
// Supported: ENV['N'] / ENV["N"] / ENV[expr], ENV.fetch(n[, default]), ENV.key?(n),
// File.join(...), IPAddr.new(s).ipv6? / .ipv4?, Socket.gethostname, hostname, worker_id,
// use_nil, use_default, string/integer/nil/true/false literals, `+`, `||`, `&&`, `!`, `==`, `!=`,
// `c ? a : b`, parentheses, local assignment, `;` / newline sequencing, the `rescue` modifier,
// and the methods to_s, to_i, nil?, empty?, strip, downcase, upcase.
// Anything else is rejected before evaluation ("unsupported embedded Ruby: <code>").
#pragma once

#include <cstddef>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::ruby {

struct EvalResult {
  bool ok = false;
  std::string value;         // the string form Fluentd interpolates (nil gives "")
  bool use_nil = false;      // `use_nil` was evaluated: the parameter counts as not given
  bool use_default = false;  // `use_default` was evaluated: the plugin default applies
  std::string error;         // when !ok: a message without file:line
};

// Evaluates the code of one `#{...}` (without the braces).
EvalResult eval_embedded(std::string_view code);

// What `worker_id` gives from now on: each worker reads the configuration with its own id, as
// each Fluentd worker process does. Until set, SERVERENGINE_WORKER_ID or 0.
void set_worker_id(int id);

// Given `text` and the index just after a `#{`, returns the index of the matching `}`
// (skipping nested braces and Ruby string literals), or npos when the code is not closed
// within kMaxCode bytes.
constexpr size_t kMaxCode = 64 * 1024;
size_t find_embedded_end(std::string_view text, size_t start);

// ---- internals shared by ruby_parse.cpp and ruby_eval.cpp ----
namespace detail {

constexpr int kMaxDepth = 64;

struct Unsupported {};  // the code is outside the subset: rejected before evaluation

// A Ruby value of the subset.
struct Value {
  enum T { Nil, Bool, Int, Float, Str, IP } t = Nil;
  bool b = false;
  long long i = 0;
  std::string s;  // Str, Float text, IP address text
  bool v6 = false;

  static Value str(std::string v) { Value r; r.t = Str; r.s = std::move(v); return r; }
  static Value boolean(bool v) { Value r; r.t = Bool; r.b = v; return r; }
  static Value integer(long long v) { Value r; r.t = Int; r.i = v; return r; }
  bool truthy() const { return !(t == Nil || (t == Bool && !b)); }
  std::string to_s() const {
    switch (t) {
      case Nil: return "";
      case Bool: return b ? "true" : "false";
      case Int: return std::to_string(i);
      case Float: case Str: case IP: return s;
    }
    return "";
  }
  const char* type_name() const {
    static const char* names[] = {"NilClass", "Boolean", "Integer", "Float", "String", "IPAddr"};
    return names[t];
  }
};

// The parsed code. Calls are checked against the supported methods when parsed.
struct Node {
  enum K { Lit, Interp, Var, Builtin, Const, Assign, Or, And, Not, Ternary, Plus, Eq, Ne,
           Seq, Rescue, Index, Call, Regex, Match, NoMatch } k;  // Regex: name the source, lit.s the options
  Value lit;
  std::string name;
  std::vector<std::unique_ptr<Node>> kids;
};
using NodeP = std::unique_ptr<Node>;

// Which names and methods a parse accepts: the configuration's embedded Ruby, or another user of
// the same syntax (record_transformer's `${...}` with enable_ruby) with its own names.
struct Dialect {
  std::vector<std::string_view> builtins;  // names that are values (besides assigned locals)
  std::vector<std::string_view> methods;   // methods callable on values
  bool constants = false;                  // ENV, File, IPAddr, Socket
  bool regexps = false;                    // /.../imx literals, `=~` and `!~`
};
const Dialect& embedded_dialect();

// Parses `code` (the locals assigned so far are shared with nested "#{}" code).
// Throws Unsupported for anything outside the subset.
NodeP parse_program(std::string_view code, std::set<std::string>& locals, int depth,
                    const Dialect& dialect = embedded_dialect());

}  // namespace detail

}  // namespace sluice::ruby
