// Fluentd's configuration syntax (v1 parser), read into a ConfigSection tree.
// Follows lib/fluent/config/v1_parser.rb and literal_parser.rb of Fluentd 1.18; differences:
// every error found is reported (file:line) instead of only the first, and a missing non-glob
// @include is an error (Fluentd silently includes nothing).
#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config.h"
#include "config/params.h"
#include "config/ruby_eval.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxValue = 1 << 20;         // one parameter value
constexpr size_t kMaxFile = 64u << 20;        // one configuration file
constexpr int kMaxIncludeDepth = 32;
constexpr int kMaxNesting = 64;               // <a><b><c>... in one file
constexpr int kMaxIncludedFiles = 4096;       // all files of one parse
constexpr size_t kMaxErrors = 1000;

struct Context {
  std::vector<ConfigError> errors;
  std::vector<std::string> include_stack;  // canonical paths of the files being parsed
  int files = 0;

  void error(const std::string& file, int line, std::string msg) {
    if (errors.size() < kMaxErrors) errors.push_back({{file, line}, std::move(msg)});
  }
};

// Parses one file's text. Sections and parameters go into the section passed to parse_body,
// which is the including section for an @include inside a section body.
class FileParser {
 public:
  FileParser(std::string_view text, std::string file, std::string base_dir, Context& ctx,
             int include_depth)
      : s_(text), file_(std::move(file)), base_dir_(std::move(base_dir)), ctx_(ctx),
        include_depth_(include_depth) {
    line_starts_.push_back(0);
    for (size_t k = 0; k < s_.size(); ++k)
      if (s_[k] == '\n') line_starts_.push_back(k + 1);
    if (s_.substr(0, 3) == "\xEF\xBB\xBF") i_ = 3;  // a UTF-8 byte order mark
  }

  // Parses the whole file as a root body into `target`.
  void parse_root(ConfigSection& target) {
    std::string pending;
    parse_body(target, true, 0, pending);
  }

 private:
  struct Literal {
    std::string text;
    bool ok = true;  // false: an error was reported
    bool use_nil = false;
    bool use_default = false;
  };

  int line_at(size_t pos) const {
    return int(std::upper_bound(line_starts_.begin(), line_starts_.end(), pos) -
               line_starts_.begin());
  }
  void error(size_t pos, std::string msg) { ctx_.error(file_, line_at(pos), std::move(msg)); }
  bool eof() const { return i_ >= s_.size(); }
  char cur() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  static bool is_nl(char c) { return c == '\n' || c == '\r'; }
  void skip_blank() {
    while (!eof() && (cur() == ' ' || cur() == '\t')) ++i_;
  }
  void skip_line() {
    while (!eof() && cur() != '\n') ++i_;
    if (!eof()) ++i_;
  }
  // Whitespace, newlines and comment lines (Fluentd's SPACING).
  void skip_spacing() {
    while (!eof()) {
      char c = cur();
      if (c == ' ' || c == '\t' || is_nl(c)) ++i_;
      else if (c == '#') skip_line();
      else break;
    }
  }
  // Fluentd's LINE_END at i: blanks, an optional `# comment`, then end of line or file.
  bool line_end_at(size_t k) const {
    while (k < s_.size() && (s_[k] == ' ' || s_[k] == '\t')) ++k;
    return k >= s_.size() || is_nl(s_[k]) || s_[k] == '#';
  }
  bool expect_line_end(const std::string& what) {
    if (line_end_at(i_)) {
      skip_line();
      return true;
    }
    skip_blank();
    error(i_, "expected end of line after " + what + ", got '" +
                  std::string(s_.substr(i_, std::min<size_t>(20, s_.find('\n', i_) - i_))) + "'");
    skip_line();
    return false;
  }

  // Returns true when `</name>` closed this section (or EOF in the root); `pending` carries a
  // close tag for an enclosing section when an inner one was left unclosed.
  bool parse_body(ConfigSection& sec, bool root, int nesting, std::string& pending) {
    while (true) {
      skip_spacing();
      if (ctx_.errors.size() >= kMaxErrors) {  // stop; also bounds the cost of resuming
        aborted_ = true;
        i_ = s_.size();
      }
      if (eof()) {
        if (!root && !aborted_) error_unclosed(sec);
        return root;
      }
      size_t start = i_;
      if (s_.compare(i_, 2, "</") == 0) {
        i_ += 2;
        std::string name = scan_name();
        skip_blank();
        bool has_gt = cur() == '>';
        if (has_gt) ++i_;
        else error(start, "expected '>' to end the close tag </" + name + ">");
        if (has_gt) expect_line_end("</" + name + ">");
        else skip_line();
        if (!root && name == sec.name) return true;
        if (std::find(open_.begin(), open_.end(), name) != open_.end()) {
          error_unclosed(sec);
          pending = name;
          return false;
        }
        error(start, root ? "unexpected </" + name + "> without an open <" + name + "> section"
                          : "mismatched </" + name + ">: expected </" + sec.name +
                                "> to close <" + sec.name + "> opened at line " +
                                std::to_string(sec.pos.line));
        continue;
      }
      if (cur() == '<') {
        ++i_;
        ConfigSection child;
        child.pos = {file_, line_at(start)};
        child.name = scan_name();
        if (child.name.empty()) {
          error(start, "expected a section name after '<'");
          skip_line();
          continue;
        }
        skip_blank();
        Literal arg = scan_string(/*arg=*/true);
        child.arg = arg.text;
        skip_blank();
        if (!arg.ok) {
          skip_line();
        } else if (cur() == '>') {
          ++i_;
          expect_line_end("<" + child.name + ">");
        } else {
          error(start, "expected '>' to end the tag <" + child.name + ">");
          skip_line();
        }
        if (nesting + 1 > kMaxNesting) {
          error(start, "sections nested deeper than " + std::to_string(kMaxNesting) + " levels");
          i_ = s_.size();
          aborted_ = true;
          return false;
        }
        open_.push_back(child.name);
        bool closed = parse_body(child, false, nesting + 1, pending);
        open_.pop_back();
        sec.children.push_back(std::move(child));
        if (!closed && !pending.empty()) {  // an inner section was left open by </pending>
          if (root || pending == sec.name) {
            pending.clear();
            if (!root) return true;
          } else {
            error_unclosed(sec);
            return false;
          }
        }
        continue;
      }
      parse_param(sec, root);
    }
  }

  void error_unclosed(const ConfigSection& sec) {
    ctx_.error(sec.pos.file, sec.pos.line, "unclosed <" + sec.name + "> section opened here");
  }

  std::string scan_name() {
    size_t b = i_;
    while (!eof() && (isalnum((unsigned char)cur()) || cur() == '_')) ++i_;
    return std::string(s_.substr(b, i_ - b));
  }

  void parse_param(ConfigSection& sec, bool root) {
    size_t start = i_;
    std::string key;
    if (cur() == '"' || cur() == '\'') {
      Literal k = scan_string(false);
      if (!k.ok) {
        skip_line();
        return;
      }
      key = k.text;
    } else {
      while (!eof() && cur() != ' ' && cur() != '\t' && !is_nl(cur())) ++i_;
      key = std::string(s_.substr(start, i_ - start));
    }
    skip_blank();
    bool include = key == "@include" || (root && key == "include");
    if (eof() || is_nl(cur())) {  // `key` alone: an empty value
      if (include) error(start, "@include needs a path");
      else add_param(sec, root, key, Literal{}, start);
      skip_line();
      return;
    }
    Literal v = include ? scan_string(false) : parse_literal(key);
    if (v.ok && v.text.size() > kMaxValue) {
      error(start, "value of '" + key + "' is larger than 1 MiB");
      v.ok = false;
    }
    if (!v.ok) {
      skip_line();
      return;
    }
    if (!expect_line_end("the value of '" + key + "'")) return;
    if (include) {
      if (v.use_nil || v.use_default || v.text.empty()) error(start, "@include needs a path");
      else do_include(v.text, sec, start);
      return;
    }
    add_param(sec, root, key, v, start);
  }

  void add_param(ConfigSection& sec, bool root, const std::string& key, const Literal& v,
                 size_t start) {
    static const char* reserved[] = {"@type", "@id", "@label", "@log_level"};
    bool is_reserved = std::find_if(std::begin(reserved), std::end(reserved),
                                    [&](const char* r) { return key == r; }) != std::end(reserved);
    if (!key.empty() && key[0] == '@' && !is_reserved &&
        (root || sec.name == "match" || sec.name == "source" || sec.name == "filter" ||
         sec.name == "system")) {
      error(start, "'@' is the system reserved prefix. Don't use '@' prefix parameter in the "
                   "configuration: " + key);
      return;
    }
    ConfigParam p{key, v.text, {file_, line_at(start)}, v.use_nil || v.use_default};
    for (auto& q : sec.params)
      if (q.key == key) {  // Fluentd keeps the last value given
        q = std::move(p);
        return;
      }
    sec.params.push_back(std::move(p));
  }

  Literal parse_literal(const std::string& key) {
    if (cur() == '[' || cur() == '{') return scan_json(key);
    return scan_string(false);
  }

  // A quoted string, or an unquoted one up to the end of line (or up to `>` in a tag).
  Literal scan_string(bool arg) {
    if (cur() == '"') return scan_double_quoted();
    if (cur() == '\'') return scan_single_quoted();
    Literal r;
    size_t b = i_;
    while (!eof()) {
      char c = cur();
      if (c == '#') {  // `a#b` is a value; only ` #` starts a comment
        ++i_;
      } else if (c == ' ' || c == '\t') {  // inner blanks belong to the value, trailing ones not
        size_t k = i_;
        while (k < s_.size() && (s_[k] == ' ' || s_[k] == '\t')) ++k;
        if (k >= s_.size() || is_nl(s_[k]) || s_[k] == (arg ? '>' : '#')) break;
        i_ = k;
      } else if (is_nl(c) || (arg && c == '>')) {
        break;
      } else {
        ++i_;
      }
    }
    r.text = std::string(s_.substr(b, i_ - b));
    return r;
  }

  Literal scan_single_quoted() {
    Literal r;
    size_t start = i_++;
    while (!eof() && cur() != '\'') {
      if (is_nl(cur())) break;
      if (cur() == '\\' && i_ + 1 < s_.size() && (s_[i_ + 1] == '\'' || s_[i_ + 1] == '\\')) ++i_;
      r.text += s_[i_++];
    }
    if (cur() != '\'') {
      error(start, "unterminated single-quoted string");
      r.ok = false;
      return r;
    }
    ++i_;
    return r;
  }

  // Evaluates the `#{...}` starting at i_ (on the `#`) and appends its value to out.
  // False when the code is not closed; an evaluation error only clears r.ok.
  bool embedded(Literal& r, std::string& out) {
    size_t at = i_;
    size_t end = ruby::find_embedded_end(s_, i_ + 2);
    if (end == std::string_view::npos) {
      error(at, "unterminated embedded Ruby '#{'");
      r.ok = false;
      return false;
    }
    auto res = ruby::eval_embedded(s_.substr(i_ + 2, end - i_ - 2));
    i_ = end + 1;
    if (!res.ok) {
      error(at, res.error);
      r.ok = false;
      return true;
    }
    r.use_nil |= res.use_nil;
    r.use_default |= res.use_default;
    out += res.value;
    return true;
  }

  Literal scan_double_quoted() {
    Literal r;
    size_t start = i_++;
    if (start > unclosed_quote_at_) {  // an earlier string already ran to the end of the file
      error(start, "unterminated double-quoted string");
      r.ok = false;
      return resume_after(r, start);
    }
    bool too_big = false;
    while (!eof() && cur() != '"') {
      char c = cur();
      if (c == '\\' && i_ + 1 < s_.size()) {
        char e = s_[i_ + 1];
        i_ += 2;
        switch (e) {
          case '\n': break;  // a backslash at the end of a line continues the string
          case '\r':
            if (cur() == '\n') ++i_;
            break;
          case 'r': r.text += '\r'; break;
          case 'n': r.text += '\n'; break;
          case 't': r.text += '\t'; break;
          case 'f': r.text += '\f'; break;
          case 'b': r.text += '\b'; break;
          case '0': r.text += '\0'; break;
          default:
            if (isalnum((unsigned char)e)) {
              error(i_ - 2, std::string("unexpected back-slash escape character '") + e + "'");
              r.ok = false;
            }
            r.text += e;
        }
      } else if (c == '#' && i_ + 1 < s_.size() && s_[i_ + 1] == '{') {
        if (!embedded(r, r.text)) return resume_after(r, start);
      } else {
        r.text += c;
        ++i_;
      }
      if (r.text.size() > kMaxValue) {  // keep scanning for the end, without the text
        too_big = true;
        r.text.clear();
      }
    }
    if (eof()) {
      error(start, "unterminated double-quoted string");
      unclosed_quote_at_ = start;
      r.ok = false;
      return resume_after(r, start);
    }
    ++i_;
    if (too_big) {
      error(start, "value is larger than 1 MiB");
      r.ok = false;
    }
    return r;
  }

  // After a broken literal: resume on the line after the one holding `pos`.
  Literal resume_after(Literal r, size_t pos) {
    i_ = pos;
    while (!eof() && cur() != '\n') ++i_;  // the caller skips the newline
    return r;
  }

  // A JSON array or object value that may span lines, with `#` comments and `#{}` code.
  // The result is the compact JSON text, as Fluentd's JSON.dump gives.
  Literal scan_json(const std::string& key) {
    Literal r;
    size_t start = i_;
    const char* kind = cur() == '[' ? "array" : "hash";
    std::string stack;
    bool in_str = false, bad = false;
    while (!eof() && r.text.size() <= kMaxValue) {
      char c = cur();
      if (in_str) {
        if (c == '\\' && i_ + 1 < s_.size()) {
          r.text += s_.substr(i_, 2);
          i_ += 2;
          continue;
        }
        if (c == '#' && i_ + 1 < s_.size() && s_[i_ + 1] == '{') {
          if (!embedded(r, r.text)) return resume_after(r, i_);
          continue;
        }
        if (c == '"') in_str = false;
        if (is_nl(c)) break;
        r.text += c;
        ++i_;
        continue;
      }
      if (c == '#') {
        if (i_ + 1 < s_.size() && s_[i_ + 1] == '{') {
          if (!embedded(r, r.text)) return resume_after(r, i_);
          continue;
        }
        while (!eof() && cur() != '\n') ++i_;
        continue;
      }
      ++i_;
      if (c == ' ' || c == '\t' || is_nl(c)) continue;
      r.text += c;
      if (c == '"') in_str = true;
      else if (c == '[' || c == '{') stack += c;
      else if (c == ']' || c == '}') {
        if (stack.empty() || (stack.back() == '[') != (c == ']')) {
          bad = true;
          break;
        }
        stack.pop_back();
        if (stack.empty()) {
          if (r.ok && json_ok(r.text)) return r;
          bad = true;
          break;
        }
      }
    }
    if (r.ok || !bad)
      error(start, std::string(bad ? "invalid" : "incomplete") + " JSON " + kind +
                       " value for '" + key + "'");
    r.ok = false;
    if (eof()) {  // the rest of the file was read as JSON: resume once, after the first line
      if (json_ran_to_eof_) aborted_ = true;
      json_ran_to_eof_ = true;
      return resume_after(r, aborted_ ? i_ : start);
    }
    return resume_after(r, std::max(i_, start + 1) - 1);
  }

  static bool json_ok(const std::string& text) {
    std::vector<std::string> array;
    std::vector<std::pair<std::string, std::string>> hash;
    return text[0] == '[' ? parse_array(text, array) : parse_hash(text, hash);
  }

  void do_include(const std::string& spec, ConfigSection& target, size_t at);
  void include_file(const std::string& path, ConfigSection& target, size_t at);

  std::string_view s_;
  std::string file_, base_dir_;
  Context& ctx_;
  int include_depth_;
  size_t i_ = 0;
  std::vector<size_t> line_starts_;
  std::vector<std::string> open_;  // names of the sections open in this file
  bool aborted_ = false;           // parsing of this file stopped (nesting too deep, ...)
  size_t unclosed_quote_at_ = std::string_view::npos;  // a "..." that ran to the end of file
  bool json_ran_to_eof_ = false;                        // a JSON value did
};

// ---- @include ----

bool read_file(const std::string& path, std::string& out, std::string& err) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    err = "is a directory";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err = "cannot open file";
    return false;
  }
  std::ostringstream ss;
  char buf[65536];
  size_t total = 0;
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    total += size_t(in.gcount());
    if (total > kMaxFile) {
      err = "file is larger than 64 MiB";
      return false;
    }
    ss.write(buf, in.gcount());
  }
  out = ss.str();
  return true;
}

void FileParser::do_include(const std::string& spec, ConfigSection& target, size_t at) {
  std::string path = spec;
  if (path.find('\0') != std::string::npos) {
    error(at, "@include path contains a NUL byte");
    return;
  }
  if (path.rfind("file://", 0) == 0) path = path.substr(7);
  else if (path.find("://") != std::string::npos) {
    error(at, "@include " + spec + ": only local files can be included");
    return;
  }
  if (include_depth_ + 1 > kMaxIncludeDepth) {
    error(at, "@include " + spec + ": includes nested deeper than " +
                  std::to_string(kMaxIncludeDepth) + " levels");
    return;
  }
  fs::path full = path;
  if (full.is_relative() && !base_dir_.empty()) full = fs::path(base_dir_) / full;
  std::string pattern = full.lexically_normal().string();
  if (path.find_first_of("*?[{") != std::string::npos) {
    glob_t g{};
    std::vector<std::string> files;
    if (glob(pattern.c_str(), GLOB_BRACE, nullptr, &g) == 0)
      for (size_t k = 0; k < g.gl_pathc; ++k) files.push_back(g.gl_pathv[k]);
    globfree(&g);
    std::sort(files.begin(), files.end());
    for (auto& f : files) include_file(f, target, at);
    return;
  }
  std::error_code ec;
  if (!fs::exists(pattern, ec)) {
    error(at, "@include " + spec + ": file not found (" + pattern + ")");
    return;
  }
  include_file(pattern, target, at);
}

void FileParser::include_file(const std::string& path, ConfigSection& target, size_t at) {
  std::error_code ec;
  std::string canon = fs::weakly_canonical(path, ec).string();
  if (ec) canon = path;
  if (std::find(ctx_.include_stack.begin(), ctx_.include_stack.end(), canon) !=
      ctx_.include_stack.end()) {
    error(at, "@include cycle: " + path + " is already being included");
    return;
  }
  if (++ctx_.files > kMaxIncludedFiles) {
    if (ctx_.files == kMaxIncludedFiles + 1)
      error(at, "more than " + std::to_string(kMaxIncludedFiles) + " included files");
    return;
  }
  std::string text, err;
  if (!read_file(path, text, err)) {
    error(at, "@include " + path + ": " + err);
    return;
  }
  ctx_.include_stack.push_back(canon);
  FileParser sub(text, path, fs::path(path).parent_path().string(), ctx_, include_depth_ + 1);
  sub.parse_root(target);
  ctx_.include_stack.pop_back();
}

}  // namespace

ParseConfigResult parse_config_text(const std::string& text, const std::string& name,
                                    const std::string& base_dir) {
  ParseConfigResult result;
  Context ctx;
  FileParser p(text, name, base_dir, ctx, 0);
  p.parse_root(result.root);
  result.errors = std::move(ctx.errors);
  return result;
}

ParseConfigResult parse_config_file(const std::string& path) {
  ParseConfigResult result;
  std::string text, err;
  if (!read_file(path, text, err)) {
    ConfigError e;
    e.message = "cannot read configuration file " + path + ": " + err;
    result.errors.push_back(std::move(e));
    return result;
  }
  Context ctx;
  std::error_code ec;
  std::string canon = fs::weakly_canonical(path, ec).string();
  ctx.include_stack.push_back(ec ? path : canon);
  FileParser p(text, path, fs::path(path).parent_path().string(), ctx, 0);
  p.parse_root(result.root);
  result.errors = std::move(ctx.errors);
  return result;
}

}  // namespace sluice
