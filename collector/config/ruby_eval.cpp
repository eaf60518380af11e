// A small recursive-descent parser and evaluator for the embedded Ruby of Fluentd configs.
// The code is parsed completely first; anything outside the subset is rejected unevaluated.
#include "config/ruby_eval.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <vector>

namespace sluice::ruby {
namespace {

constexpr int kMaxDepth = 64;

struct Unsupported {};
struct RubyError {  // a StandardError: caught by `rescue`
  std::string msg;
};
struct UseNilSignal {};
struct UseDefaultSignal {};

// ---- values ----
struct Value {
  enum T { Nil, Bool, Int, Float, Str, IP } t = Nil;
  bool b = false;
  long long i = 0;
  double f = 0;
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

// ---- tokens ----
struct Token {
  enum K { End, Sep, Str, Int, Float, Ident, Const, Punct } k = End;
  std::string text;                                      // ident, const, punct, number text
  std::vector<std::pair<bool, std::string>> parts;       // Str: (is_code, text)
};

std::vector<Token> lex(std::string_view src) {
  std::vector<Token> out;
  size_t i = 0, n = src.size();
  auto is_id = [](char c) { return isalnum((unsigned char)c) || c == '_'; };
  while (i < n) {
    char c = src[i];
    if (c == ' ' || c == '\t' || c == '\r') { ++i; continue; }
    Token t;
    if (c == '\n' || c == ';') {
      t.k = Token::Sep; ++i;
    } else if (c == '\'') {
      t.k = Token::Str; std::string s; ++i;
      while (i < n && src[i] != '\'') {
        if (src[i] == '\\' && i + 1 < n && (src[i + 1] == '\'' || src[i + 1] == '\\')) ++i;
        s += src[i++];
      }
      if (i >= n) throw Unsupported{};
      ++i;
      t.parts.push_back({false, s});
    } else if (c == '"') {
      t.k = Token::Str; std::string s; ++i;
      while (i < n && src[i] != '"') {
        if (src[i] == '\\' && i + 1 < n) {
          char e = src[i + 1]; i += 2;
          switch (e) {
            case 'n': s += '\n'; break;
            case 't': s += '\t'; break;
            case 'r': s += '\r'; break;
            case '0': s += '\0'; break;
            case 'e': s += '\x1b'; break;
            case 's': s += ' '; break;
            default: s += e;
          }
        } else if (src[i] == '#' && i + 1 < n && src[i + 1] == '{') {
          size_t end = find_embedded_end(src, i + 2);
          if (end == std::string_view::npos) throw Unsupported{};
          t.parts.push_back({false, s}); s.clear();
          t.parts.push_back({true, std::string(src.substr(i + 2, end - i - 2))});
          i = end + 1;
        } else {
          s += src[i++];
        }
      }
      if (i >= n) throw Unsupported{};
      ++i;
      t.parts.push_back({false, s});
    } else if (isdigit((unsigned char)c)) {
      size_t b = i;
      while (i < n && (isdigit((unsigned char)src[i]) || src[i] == '_')) ++i;
      t.k = Token::Int;
      if (i + 1 < n && src[i] == '.' && isdigit((unsigned char)src[i + 1])) {
        t.k = Token::Float; ++i;
        while (i < n && isdigit((unsigned char)src[i])) ++i;
      }
      for (size_t j = b; j < i; ++j)
        if (src[j] != '_') t.text += src[j];
      if (t.text.size() > 18) throw Unsupported{};
    } else if (is_id(c)) {
      size_t b = i;
      while (i < n && is_id(src[i])) ++i;
      // A method name after `.` may end in ? or ! (ipv6?, nil?, key?).
      if (!out.empty() && out.back().k == Token::Punct &&
          (out.back().text == "." || out.back().text == "::") && i < n &&
          (src[i] == '?' || src[i] == '!') && !(i + 1 < n && src[i + 1] == '='))
        ++i;
      t.text = std::string(src.substr(b, i - b));
      t.k = isupper((unsigned char)c) ? Token::Const : Token::Ident;
    } else {
      static const char* two[] = {"||", "&&", "==", "!=", "::"};
      t.k = Token::Punct;
      for (auto* p : two)
        if (src.substr(i, 2) == p) t.text = p;
      if (t.text.empty()) {
        if (std::string_view("()[],.+-?:!=").find(c) == std::string_view::npos) throw Unsupported{};
        t.text = std::string(1, c);
      }
      i += t.text.size();
    }
    out.push_back(std::move(t));
  }
  out.push_back(Token{});
  return out;
}

// ---- AST ----
struct Node {
  enum K { Lit, Interp, Var, Builtin, Const, Assign, Or, And, Not, Ternary, Plus, Eq, Ne,
           Seq, Rescue, Index, Call } k;
  Value lit;
  std::string name;
  std::vector<std::unique_ptr<Node>> kids;
};
using NodeP = std::unique_ptr<Node>;

NodeP mk(Node::K k, std::string name = {}) {
  auto n = std::make_unique<Node>();
  n->k = k;
  n->name = std::move(name);
  return n;
}

NodeP parse_program(std::string_view code, std::set<std::string>& locals, int depth);

class Parser {
 public:
  Parser(std::vector<Token> toks, std::set<std::string>& locals, int depth)
      : t_(std::move(toks)), locals_(locals), depth_(depth) {}

  NodeP program() {
    auto seq = mk(Node::Seq);
    while (true) {
      while (peek().k == Token::Sep) ++p_;
      if (peek().k == Token::End || is(")")) break;
      seq->kids.push_back(stmt());
      if (peek().k != Token::Sep && peek().k != Token::End && !is(")")) throw Unsupported{};
    }
    return seq;
  }
  bool at_end() const { return t_[p_].k == Token::End; }

 private:
  const Token& peek(size_t ahead = 0) const {
    return t_[std::min(p_ + ahead, t_.size() - 1)];
  }
  bool is(const char* punct, size_t ahead = 0) const {
    auto& t = peek(ahead);
    return t.k == Token::Punct && t.text == punct;
  }
  bool is_kw(const char* kw) const { return peek().k == Token::Ident && peek().text == kw; }
  void expect(const char* punct) {
    if (!is(punct)) throw Unsupported{};
    ++p_;
  }
  struct Guard {
    explicit Guard(int& d) : d_(d) { if (++d_ > kMaxDepth) throw Unsupported{}; }
    ~Guard() { --d_; }
    int& d_;
  };

  // stmt := IDENT '=' stmt | ternary ['rescue' ternary]
  NodeP stmt() {
    Guard g(depth_);
    if (peek().k == Token::Ident && is("=", 1)) {
      auto n = mk(Node::Assign, peek().text);
      locals_.insert(peek().text);
      p_ += 2;
      n->kids.push_back(stmt());
      return n;
    }
    auto e = ternary();
    if (is_kw("rescue")) {
      ++p_;
      auto r = mk(Node::Rescue);
      r->kids.push_back(std::move(e));
      r->kids.push_back(ternary());
      return r;
    }
    return e;
  }
  NodeP ternary() {
    Guard g(depth_);
    auto c = binary(0);
    if (!is("?")) return c;
    ++p_;
    auto n = mk(Node::Ternary);
    n->kids.push_back(std::move(c));
    n->kids.push_back(ternary());
    expect(":");
    n->kids.push_back(ternary());
    return n;
  }
  // Precedence levels: 0 `||`, 1 `&&`, 2 `==`/`!=`, 3 `+`.
  NodeP binary(int level) {
    if (level == 4) return unary();
    Guard g(depth_);
    auto lhs = binary(level + 1);
    while (true) {
      Node::K k;
      if (level == 0 && is("||")) k = Node::Or;
      else if (level == 1 && is("&&")) k = Node::And;
      else if (level == 2 && is("==")) k = Node::Eq;
      else if (level == 2 && is("!=")) k = Node::Ne;
      else if (level == 3 && is("+")) k = Node::Plus;
      else return lhs;
      ++p_;
      auto n = mk(k);
      n->kids.push_back(std::move(lhs));
      n->kids.push_back(binary(level + 1));
      lhs = std::move(n);
    }
  }
  NodeP unary() {
    Guard g(depth_);
    if (is("!")) {
      ++p_;
      auto n = mk(Node::Not);
      n->kids.push_back(unary());
      return n;
    }
    if (is("-") && (peek(1).k == Token::Int || peek(1).k == Token::Float)) {
      ++p_;
      auto n = primary();
      if (n->lit.t == Value::Int) n->lit.i = -n->lit.i;
      else n->lit.s = "-" + n->lit.s;
      return n;
    }
    return postfix(primary());
  }
  NodeP postfix(NodeP recv) {
    while (true) {
      if (is("[")) {
        ++p_;
        auto n = mk(Node::Index);
        n->kids.push_back(std::move(recv));
        n->kids.push_back(stmt());
        expect("]");
        recv = std::move(n);
      } else if (is(".") || is("::")) {
        ++p_;
        if (peek().k != Token::Ident || !allowed_method(*recv, peek().text)) throw Unsupported{};
        auto n = mk(Node::Call, peek().text);
        ++p_;
        n->kids.push_back(std::move(recv));
        if (is("(")) {
          ++p_;
          while (!is(")")) {
            n->kids.push_back(stmt());
            if (!is(",")) break;
            ++p_;
          }
          expect(")");
        }
        recv = std::move(n);
      } else {
        return recv;
      }
    }
  }
  static bool allowed_method(const Node& recv, const std::string& m) {
    if (recv.k == Node::Const) {
      const std::string& c = recv.name;
      return (c == "ENV" && (m == "fetch" || m == "key?" || m == "has_key?" || m == "include?")) ||
             (c == "File" && m == "join") || (c == "Socket" && m == "gethostname") ||
             (c == "IPAddr" && m == "new");
    }
    for (const char* ok : {"nil?", "to_s", "to_i", "empty?", "strip", "downcase", "upcase",
                           "ipv6?", "ipv4?"})
      if (m == ok) return true;
    return false;
  }

  NodeP primary() {
    Guard g(depth_);
    const Token& t = peek();
    ++p_;
    switch (t.k) {
      case Token::Int: {
        auto n = mk(Node::Lit);
        n->lit = Value::integer(std::stoll(t.text));
        return n;
      }
      case Token::Float: {
        auto n = mk(Node::Lit);
        n->lit.t = Value::Float;
        n->lit.s = t.text;
        return n;
      }
      case Token::Str: {
        auto n = mk(Node::Interp);
        for (auto& [is_code, text] : t.parts) {
          if (is_code) {
            n->kids.push_back(parse_program(text, locals_, depth_ + 1));
          } else {
            auto l = mk(Node::Lit);
            l->lit = Value::str(text);
            n->kids.push_back(std::move(l));
          }
        }
        return n;
      }
      case Token::Const:  // only as the receiver of a call (or ENV[...])
        if ((t.text == "ENV" || t.text == "File" || t.text == "IPAddr" || t.text == "Socket") &&
            (is(".") || is("::") || (t.text == "ENV" && is("["))))
          return mk(Node::Const, t.text);
        throw Unsupported{};
      case Token::Ident: {
        if (t.text == "nil") return mk(Node::Lit);
        if (t.text == "true" || t.text == "false") {
          auto n = mk(Node::Lit);
          n->lit = Value::boolean(t.text == "true");
          return n;
        }
        if (locals_.count(t.text)) return mk(Node::Var, t.text);
        if (t.text == "hostname" || t.text == "worker_id" || t.text == "use_nil" ||
            t.text == "use_default")
          return mk(Node::Builtin, t.text);
        throw Unsupported{};
      }
      case Token::Punct:
        if (t.text == "(") {
          auto n = program();
          expect(")");
          return n;
        }
        throw Unsupported{};
      default:
        throw Unsupported{};
    }
  }

  std::vector<Token> t_;
  size_t p_ = 0;
  std::set<std::string>& locals_;
  int depth_;
};

NodeP parse_program(std::string_view code, std::set<std::string>& locals, int depth) {
  if (depth > kMaxDepth) throw Unsupported{};
  Parser p(lex(code), locals, depth);
  auto n = p.program();
  if (!p.at_end()) throw Unsupported{};
  return n;
}

// ---- evaluation ----
std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

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
        if (n.name == "hostname") return Value::str(hostname());
        if (n.name == "worker_id") {
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
      if (c == "Socket" && m == "gethostname" && args.empty()) return Value::str(hostname());
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
size_t find_end(std::string_view s, size_t i, int nesting) {
  if (nesting > kMaxDepth) return std::string_view::npos;
  int depth = 0;
  while (i < s.size()) {
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
      while (i < s.size() && s[i] != c) {
        if (s[i] == '\\') {
          i += 2;
        } else if (c == '"' && s[i] == '#' && i + 1 < s.size() && s[i + 1] == '{') {
          size_t e = find_end(s, i + 2, nesting + 1);
          if (e == std::string_view::npos) return e;
          i = e + 1;
        } else {
          ++i;
        }
      }
      if (i >= s.size()) return std::string_view::npos;
      ++i;
    } else {
      ++i;
    }
  }
  return std::string_view::npos;
}
}  // namespace

size_t find_embedded_end(std::string_view s, size_t start) { return find_end(s, start, 0); }

}  // namespace sluice::ruby
