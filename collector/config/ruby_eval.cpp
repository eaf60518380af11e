// The evaluator of the embedded-Ruby subset (the parser is ruby_parse.cpp).
// The code is parsed completely first; anything outside the subset is rejected unevaluated.
#include "config/ruby_eval.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "core/hostname.h"

namespace sluice::ruby {
namespace {

using namespace detail;

struct RubyError {  // a StandardError: caught by `rescue`
  std::string msg;
};
struct UseNilSignal {};
struct UseDefaultSignal {};

// ---- evaluation ----
// Set before the configuration is read, never while it is (see set_worker_id).
int g_worker_id = -1;

std::string file_join(const std::vector<Value>& args) {
  std::string r;
  for (size_t k = 0; k < args.size(); ++k) {
    if (args[k].t != Value::Str)
      throw RubyError{std::string("no implicit conversion of ") + args[k].type_name() +
                      " into String (File.join)"};
    const std::string& s = args[k].s;
    if (k > 0) {
      if (!s.empty() && s[0] == '/') {
        while (!r.empty() && r.back() == '/') r.pop_back();
      } else if (r.empty() || r.back() != '/') {
        r += '/';
      }
    }
    r += s;
  }
  return r;
}

class Evaluator {
 public:
  Value eval(const Node& n) {
    switch (n.k) {
      case Node::Lit: return n.lit;
      case Node::Interp: {
        std::string s;
        for (auto& k : n.kids) s += eval(*k).to_s();
        return Value::str(s);
      }
      case Node::Var: return locals_[n.name];
      case Node::Builtin:
        if (n.name == "hostname") return Value::str(local_hostname());
        if (n.name == "worker_id") {
          if (g_worker_id >= 0) return Value::str(std::to_string(g_worker_id));
          const char* w = getenv("SERVERENGINE_WORKER_ID");
          return Value::str(w ? w : "0");
        }
        if (n.name == "use_nil") throw UseNilSignal{};
        throw UseDefaultSignal{};
      case Node::Const: throw RubyError{n.name + " used as a value"};
      case Node::Assign: return locals_[n.name] = eval(*n.kids[0]);
      case Node::Or: {
        Value l = eval(*n.kids[0]);
        return l.truthy() ? l : eval(*n.kids[1]);
      }
      case Node::And: {
        Value l = eval(*n.kids[0]);
        return l.truthy() ? eval(*n.kids[1]) : l;
      }
      case Node::Not: return Value::boolean(!eval(*n.kids[0]).truthy());
      case Node::Ternary:
        return eval(*n.kids[0]).truthy() ? eval(*n.kids[1]) : eval(*n.kids[2]);
      case Node::Eq: case Node::Ne: {
        Value a = eval(*n.kids[0]), b = eval(*n.kids[1]);
        bool eq = a.t == b.t && a.to_s() == b.to_s();
        return Value::boolean(n.k == Node::Eq ? eq : !eq);
      }
      case Node::Plus: {
        Value a = eval(*n.kids[0]), b = eval(*n.kids[1]);
        if (a.t == Value::Str && b.t == Value::Str) return Value::str(a.s + b.s);
        if (a.t == Value::Int && b.t == Value::Int) return Value::integer(a.i + b.i);
        throw RubyError{std::string("cannot add ") + b.type_name() + " to " + a.type_name()};
      }
      case Node::Seq: {
        Value v;
        for (auto& k : n.kids) v = eval(*k);
        return v;
      }
      case Node::Rescue:
        try {
          return eval(*n.kids[0]);
        } catch (const RubyError&) {
          return eval(*n.kids[1]);
        }
      case Node::Index: {
        if (n.kids[0]->k != Node::Const || n.kids[0]->name != "ENV")
          throw RubyError{"indexing is only supported on ENV"};
        return env(eval(*n.kids[1]));
      }
      case Node::Call: return call(n);
      case Node::Regex: case Node::Match: case Node::NoMatch: break;  // not in this dialect
    }
    return {};
  }

 private:
  static Value env(const Value& key) {
    if (key.t != Value::Str) throw RubyError{"ENV key must be a String"};
    const char* v = getenv(key.s.c_str());
    return v ? Value::str(v) : Value{};
  }

  Value call(const Node& n) {
    const Node& recv = *n.kids[0];
    std::vector<Value> args;
    for (size_t k = 1; k < n.kids.size(); ++k) args.push_back(eval(*n.kids[k]));
    const std::string& m = n.name;
    if (recv.k == Node::Const) {
      const std::string& c = recv.name;
      if (c == "ENV" && m == "fetch" && (args.size() == 1 || args.size() == 2)) {
        Value v = env(args[0]);
        if (v.t != Value::Nil) return v;
        if (args.size() == 2) return args[1];
        throw RubyError{"environment variable " + args[0].s +
                        " is not set (ENV.fetch without a default)"};
      }
      if (c == "ENV" && (m == "key?" || m == "has_key?" || m == "include?") && args.size() == 1)
        return Value::boolean(env(args[0]).t != Value::Nil);
      if (c == "File" && m == "join") return Value::str(file_join(args));
      if (c == "Socket" && m == "gethostname" && args.empty()) return Value::str(local_hostname());
      if (c == "IPAddr" && m == "new" && args.size() == 1) return ipaddr(args[0]);
      throw RubyError{"unsupported call " + c + "." + m};
    }
    Value v = eval(recv);
    if (!args.empty()) throw RubyError{"unsupported call ." + m + " with arguments"};
    if (m == "nil?") return Value::boolean(v.t == Value::Nil);
    if (m == "to_s") return Value::str(v.to_s());
    if (v.t == Value::IP && (m == "ipv6?" || m == "ipv4?"))
      return Value::boolean(v.v6 == (m == "ipv6?"));
    if (m == "to_i" && (v.t == Value::Str || v.t == Value::Int || v.t == Value::Nil)) {
      if (v.t == Value::Int) return v;
      return Value::integer(v.t == Value::Nil ? 0 : strtoll(v.s.c_str(), nullptr, 10));
    }
    if (v.t == Value::Str) {
      if (m == "empty?") return Value::boolean(v.s.empty());
      std::string s = v.s;
      if (m == "strip") {
        size_t b = s.find_first_not_of(" \t\r\n\f\v"), e = s.find_last_not_of(" \t\r\n\f\v");
        return Value::str(b == std::string::npos ? "" : s.substr(b, e - b + 1));
      }
      if (m == "downcase" || m == "upcase") {
        for (auto& ch : s) ch = m == "downcase" ? tolower((unsigned char)ch) : toupper((unsigned char)ch);
        return Value::str(s);
      }
    }
    throw RubyError{std::string("undefined method '") + m + "' for " + v.type_name()};
  }

  static Value ipaddr(const Value& a) {
    if (a.t != Value::Str) throw RubyError{"IPAddr.new needs a String"};
    std::string addr = a.s.substr(0, a.s.find('/'));
    unsigned char buf[16];
    Value r;
    r.t = Value::IP;
    r.s = addr;
    if (inet_pton(AF_INET, addr.c_str(), buf) == 1) return r;
    if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) {
      r.v6 = true;
      return r;
    }
    throw RubyError{"invalid address: " + a.s};
  }

  std::map<std::string, Value> locals_;
};

}  // namespace

void set_worker_id(int id) { g_worker_id = id; }

EvalResult eval_embedded(std::string_view code) {
  EvalResult r;
  std::string shown(code.substr(0, 200));
  while (!shown.empty() && isspace((unsigned char)shown.back())) shown.pop_back();
  while (!shown.empty() && isspace((unsigned char)shown.front())) shown.erase(0, 1);
  NodeP ast;
  try {
    std::set<std::string> locals;
    ast = parse_program(code, locals, 0);
  } catch (const Unsupported&) {
    r.error = "unsupported embedded Ruby: " + shown;
    return r;
  } catch (const std::exception&) {  // e.g. stoll overflow
    r.error = "unsupported embedded Ruby: " + shown;
    return r;
  }
  try {
    Evaluator ev;
    r.value = ev.eval(*ast).to_s();
    r.ok = true;
  } catch (const RubyError& e) {
    r.error = "embedded Ruby failed: " + e.msg + " in: " + shown;
  } catch (const UseNilSignal&) {
    r.ok = r.use_nil = true;
  } catch (const UseDefaultSignal&) {
    r.ok = r.use_default = true;
  }
  return r;
}

namespace {
size_t find_end(std::string_view s, size_t i, int nesting, size_t limit) {
  if (nesting > kMaxDepth) return std::string_view::npos;
  int depth = 0;
  while (i < limit) {
    char c = s[i];
    if (c == '}') {
      if (depth == 0) return i;
      --depth;
      ++i;
    } else if (c == '{') {
      ++depth;
      ++i;
    } else if (c == '\'' || c == '"') {
      ++i;
      while (i < limit && s[i] != c) {
        if (s[i] == '\\') {
          i += 2;
        } else if (c == '"' && s[i] == '#' && i + 1 < s.size() && s[i + 1] == '{') {
          size_t e = find_end(s, i + 2, nesting + 1, limit);
          if (e == std::string_view::npos) return e;
          i = e + 1;
        } else {
          ++i;
        }
      }
      if (i >= limit) return std::string_view::npos;
      ++i;
    } else {
      ++i;
    }
  }
  return std::string_view::npos;
}
}  // namespace

size_t find_embedded_end(std::string_view s, size_t start) {
  return find_end(s, start, 0, std::min(s.size(), start + kMaxCode));
}

}  // namespace sluice::ruby
