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
#include <string>
#include <string_view>

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

// Given `text` and the index just after a `#{`, returns the index of the matching `}`
// (skipping nested braces and Ruby string literals), or npos when the code is not closed.
size_t find_embedded_end(std::string_view text, size_t start);

}  // namespace sluice::ruby
