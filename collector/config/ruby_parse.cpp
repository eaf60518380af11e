// The parser of the embedded-Ruby subset: tokens, then a recursive-descent parse into a tree.
// Anything outside the subset throws Unsupported, so it is never evaluated.
#include <cstring>
#include <string>

#include "config/ruby_eval.h"

namespace sluice::ruby::detail {
namespace {

// ---- tokens ----
struct Token {
  enum K { End, Sep, Str, Int, Float, Ident, Const, Punct, Regex } k = End;
  std::string text;                                      // ident, const, punct, number text, regexp source
  std::string flags;                                     // Regex: its options (i, m, x)
  std::vector<std::pair<bool, std::string>> parts;       // Str: (is_code, text)
};

// A regexp literal's source after its opening `/` (escapes kept as written), up to the first
// unescaped `/` (as Ruby's lexer, even inside a character class), and its options.
size_t lex_regexp(std::string_view src, size_t i, Token& t) {
  for (;; ++i) {
    if (i >= src.size()) throw Unsupported{};
    const char c = src[i];
    if (c == '\\') {
      if (i + 1 >= src.size()) throw Unsupported{};
      t.text += c;
      t.text += src[++i];
      continue;
    }
    if (c == '#' && i + 1 < src.size() && src[i + 1] == '{') throw Unsupported{};  // interpolation
    if (c == '/') break;
    t.text += c;
  }
  ++i;
  while (i < src.size() && isalpha((unsigned char)src[i])) {
    if (!strchr("imx", src[i]) || t.flags.find(src[i]) != std::string::npos) throw Unsupported{};
    t.flags += src[i++];
  }
  t.k = Token::Regex;
  return i;
}

std::vector<Token> lex(std::string_view src, bool regexps) {
  std::vector<Token> out;
  size_t i = 0, n = src.size();
  auto is_id = [](char c) { return isalnum((unsigned char)c) || c == '_'; };
  while (i < n) {
    char c = src[i];
    if (c == ' ' || c == '\t' || c == '\r') { ++i; continue; }
    Token t;
    if (c == '\n' || c == ';') {
      t.k = Token::Sep; ++i;
    } else if (c == '/' && regexps) {  // the subset has no division: a `/` starts a regexp
      i = lex_regexp(src, i + 1, t);
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
      static const char* two[] = {"||", "&&", "==", "!=", "::", "=~", "!~"};
      t.k = Token::Punct;
      for (auto* p : two)
        if (src.substr(i, 2) == p) t.text.assign(p, 2);
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

NodeP mk(Node::K k, std::string name = {}) {
  auto n = std::make_unique<Node>();
  n->k = k;
  n->name = std::move(name);
  return n;
}


class Parser {
 public:
  Parser(std::vector<Token> toks, std::set<std::string>& locals, int depth, const Dialect& dialect)
      : t_(std::move(toks)), locals_(locals), depth_(depth), d_(dialect) {}

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
  // Precedence levels: 0 `||`, 1 `&&`, 2 `==`/`!=`/`=~`/`!~`, 3 `+`.
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
      else if (level == 2 && d_.regexps && is("=~")) k = Node::Match;
      else if (level == 2 && d_.regexps && is("!~")) k = Node::NoMatch;
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
  static bool listed(const std::vector<std::string_view>& names, std::string_view name) {
    for (std::string_view n : names)
      if (n == name) return true;
    return false;
  }
  bool allowed_method(const Node& recv, const std::string& m) const {
    if (recv.k == Node::Const) {
      const std::string& c = recv.name;
      return (c == "ENV" && (m == "fetch" || m == "key?" || m == "has_key?" || m == "include?")) ||
             (c == "File" && m == "join") || (c == "Socket" && m == "gethostname") ||
             (c == "IPAddr" && m == "new");
    }
    return listed(d_.methods, m);
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
      case Token::Regex: {
        auto n = mk(Node::Regex, t.text);
        n->lit.s = t.flags;
        return n;
      }
      case Token::Str: {
        auto n = mk(Node::Interp);
        for (auto& [is_code, text] : t.parts) {
          if (is_code) {
            n->kids.push_back(parse_program(text, locals_, depth_ + 1, d_));
          } else {
            auto l = mk(Node::Lit);
            l->lit = Value::str(text);
            n->kids.push_back(std::move(l));
          }
        }
        return n;
      }
      case Token::Const:  // only as the receiver of a call (or ENV[...])
        if (d_.constants &&
            (t.text == "ENV" || t.text == "File" || t.text == "IPAddr" || t.text == "Socket") &&
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
        if (listed(d_.builtins, t.text)) return mk(Node::Builtin, t.text);
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
  const Dialect& d_;
};

}  // namespace

const Dialect& embedded_dialect() {
  static const Dialect d{{"hostname", "worker_id", "use_nil", "use_default"},
                         {"nil?", "to_s", "to_i", "empty?", "strip", "downcase", "upcase", "ipv6?",
                          "ipv4?"},
                         true};
  return d;
}

NodeP parse_program(std::string_view code, std::set<std::string>& locals, int depth,
                    const Dialect& dialect) {
  if (depth > kMaxDepth) throw Unsupported{};
  Parser p(lex(code, dialect.regexps), locals, depth, dialect);
  auto n = p.program();
  if (!p.at_end()) throw Unsupported{};
  return n;
}

}  // namespace sluice::ruby::detail
