// `@type grep`: Fluentd's filter_grep. Keeps or drops records by Ruby regexps on record values.
//
//   regexp (AND):  every expression must match, else the record is dropped
//   regexp (OR):   from <or><regexp>: at least one must match
//   exclude (AND): from <and><exclude>: dropped when all match
//   exclude (OR):  top-level <exclude> and <or><exclude>: dropped when any matches
//
// Values are matched as Ruby's `to_s` prints them (a missing key is nil, i.e. ""). Regexps are
// compiled once with Oniguruma's Ruby syntax; matching is a search (Ruby's `=~`). Dropped records
// are removed by compacting batch.records; their fields stay where they are.
#include <oniguruma.h>

#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/registry.h"
#include "format/utf8_scrub.h"
#include "format/record_path.h"

namespace sluice {

namespace {

std::once_flag g_onig_once;

// One compiled Ruby regexp.
class Regex {
 public:
  Regex(const RegexpValue& v) {
    std::call_once(g_onig_once, [] {
      OnigEncoding encs[] = {ONIG_ENCODING_UTF8};
      onig_initialize(encs, 1);
    });
    OnigOptionType opts = ONIG_OPTION_NONE;
    if (v.ignore_case) opts |= ONIG_OPTION_IGNORECASE;
    if (v.multiline) opts |= ONIG_OPTION_MULTILINE;
    OnigErrorInfo info;
    const auto* p = reinterpret_cast<const OnigUChar*>(v.pattern.data());
    int r = onig_new(&re_, p, p + v.pattern.size(), opts, ONIG_ENCODING_UTF8, ONIG_SYNTAX_RUBY,
                     &info);
    if (r != ONIG_NORMAL) {
      OnigUChar buf[ONIG_MAX_ERROR_MESSAGE_LEN];
      int n = onig_error_code_to_str(buf, r, &info);
      re_ = nullptr;
      throw std::invalid_argument(std::string(reinterpret_cast<char*>(buf),
                                              static_cast<size_t>(n > 0 ? n : 0)));
    }
  }
  ~Regex() {
    if (re_) onig_free(re_);
  }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Ruby's `regexp.match(str)`: a search anywhere in the string. `s` must be valid UTF-8.
  bool search(std::string_view s) const {
    const auto* start = reinterpret_cast<const OnigUChar*>(s.data());
    const auto* end = start + s.size();
    return onig_search(re_, start, end, start, end, nullptr, ONIG_OPTION_NONE) >= 0;
  }

 private:
  OnigRegex re_ = nullptr;
};

struct Expression {
  std::string key;  // as written, for messages
  RecordPath path;
  std::unique_ptr<Regex> regex;
  // Per-batch cache of the result when the value comes from the batch's common fields
  // (the same for every record that has no own field of that name).
  int8_t common_result = -1;
};

class GrepFilter : public Filter {
 public:
  std::vector<Expression> regexp_and, regexp_or, exclude_and, exclude_or;

  void filter(Batch& batch) override {
    for (auto* set : {&regexp_and, &regexp_or, &exclude_and, &exclude_or})
      for (auto& e : *set) e.common_result = -1;
    size_t kept = 0;
    for (size_t i = 0; i < batch.records.size(); ++i) {
      const Record& r = batch.records[i];
      if (keep(batch, r)) {
        if (kept != i) batch.records[kept] = r;
        ++kept;
      }
    }
    batch.records.resize(kept);
  }

 private:
  bool match(Expression& e, const Batch& batch, const Record& r) {
    const Value* own = nullptr;
    for (const Field* f = batch.begin(r); f != batch.end(r); ++f)
      if (f->key == e.path.top()) {
        own = &f->value;
        break;
      }
    if (own) return eval(e, own);
    if (e.common_result < 0) {
      const Value* common = nullptr;
      for (const Field& f : batch.common_fields)
        if (f.key == e.path.top()) {
          common = &f.value;
          break;
        }
      e.common_result = eval(e, common) ? 1 : 0;
    }
    return e.common_result == 1;
  }

  bool eval(const Expression& e, const Value* v) {
    std::string_view text = e.path.to_s(v, text_);
    // Fluentd's match_regexp retries with scrub('?'); Oniguruma must not see invalid UTF-8.
    return e.regex->search(scrub_utf8(text, scrubbed_));
  }

  bool keep(const Batch& batch, const Record& r) {
    for (auto& e : regexp_and)
      if (!match(e, batch, r)) return false;
    if (!regexp_or.empty()) {
      bool any = false;
      for (auto& e : regexp_or)
        if (match(e, batch, r)) {
          any = true;
          break;
        }
      if (!any) return false;
    }
    if (!exclude_and.empty()) {
      bool all = true;
      for (auto& e : exclude_and)
        if (!match(e, batch, r)) {
          all = false;
          break;
        }
      if (all) return false;
    }
    for (auto& e : exclude_or)
      if (match(e, batch, r)) return false;
    return true;
  }

  std::string text_, scrubbed_;
};

constexpr int kLegacyMax = 20;  // Fluentd's REGEXP_MAX_NUM

PluginSpec expression_spec(const std::string& name) {
  PluginSpec s{"grep-section", name, "", {}, {}};
  s.params = {
      {"key", ParamType::String, "", "Record key, or a record_accessor path like $.a.b", {}, false,
       true},
      {"pattern", ParamType::Regexp, "", "Ruby regexp, /re/ or /re/i", {}, false, true},
  };
  return s;
}

PluginSpec group_spec(const std::string& name) {
  return PluginSpec{"grep-section", name, "", {}, {"regexp", "exclude"}};
}

class Builder {
 public:
  Builder(PluginContext& ctx, GrepFilter& f) : ctx_(ctx), f_(f) {}

  void fail(SourcePos pos, const std::string& msg) {
    ConfigError e{std::move(pos), msg};
    if (ctx_.errors) ctx_.errors->push_back(e);
    if (!first_) first_ = std::make_unique<ConfigError>(e);
  }
  void finish() {
    if (first_) throw ConfigException(first_->pos, first_->message);
  }

  Expression make(const SourcePos& pos, const std::string& key, const RegexpValue& re) {
    Expression e;
    e.key = key;
    try {
      e.path = RecordPath(key);
    } catch (const std::exception& ex) {
      fail(pos, std::string("grep: invalid key: ") + ex.what());
    }
    try {
      e.regex = std::make_unique<Regex>(re);
    } catch (const std::exception& ex) {
      fail(pos, "grep: invalid regexp /" + re.pattern + "/ for key '" + key + "': " + ex.what());
    }
    return e;
  }

  // A <regexp> or <exclude> section. Returns false when invalid.
  bool section(const ConfigSection& s, std::vector<Expression>& into) {
    static const PluginSpec regexp_s = expression_spec("regexp");
    static const PluginSpec exclude_s = expression_spec("exclude");
    const PluginSpec& spec = s.name == "regexp" ? regexp_s : exclude_s;
    auto errs = validate_params(s, spec);
    for (auto& e : errs) fail(e.pos, "grep: " + e.message);
    if (!errs.empty()) return false;
    Params p(s, spec);
    RegexpValue re;
    try {
      re = p.regexp_value("pattern");
    } catch (const ConfigException& e) {
      fail(e.error.pos, e.error.message);
      return false;
    }
    Expression e = make(s.pos, p.str("key"), re);
    if (e.regex) into.push_back(std::move(e));
    return true;
  }

  void group(const ConfigSection& g) {
    static const PluginSpec and_s = group_spec("and");
    static const PluginSpec or_s = group_spec("or");
    auto errs = validate_params(g, g.name == "and" ? and_s : or_s);
    for (auto& e : errs) fail(e.pos, "grep: " + e.message);
    bool has_re = false, has_ex = false;
    for (auto& c : g.children) {
      if (c.name == "regexp") has_re = true;
      if (c.name == "exclude") has_ex = true;
    }
    if (has_re && has_ex) {
      fail(g.pos, "Do not specify both <regexp> and <exclude> in <" + g.name + ">");
      return;
    }
    bool is_and = g.name == "and";
    for (auto& c : g.children) {
      if (c.name == "regexp") section(c, is_and ? f_.regexp_and : f_.regexp_or);
      if (c.name == "exclude") section(c, is_and ? f_.exclude_and : f_.exclude_or);
    }
  }

 private:
  PluginContext& ctx_;
  GrepFilter& f_;
  std::unique_ptr<ConfigError> first_;
};

}  // namespace

void register_filter_grep(Registry& registry) {
  PluginSpec spec{"filter", "grep",
                  "Keeps or drops records by regexps on their values (Fluentd's filter_grep): "
                  "<regexp>, <exclude>, <and>, <or>, and legacy regexpN/excludeN.",
                  {},
                  {"regexp", "exclude", "and", "or"}};
  for (int i = 1; i <= kLegacyMax; ++i) {
    ParamSpec p{"regexp" + std::to_string(i), ParamType::String, "",
                "Legacy: `key pattern` (pattern without slashes); use <regexp>."};
    p.has_default = false;
    spec.params.push_back(p);
  }
  for (int i = 1; i <= kLegacyMax; ++i) {
    ParamSpec p{"exclude" + std::to_string(i), ParamType::String, "",
                "Legacy: `key pattern` (pattern without slashes); use <exclude>."};
    p.has_default = false;
    spec.params.push_back(p);
  }
  registry.add_filter(std::move(spec), [](PluginContext& ctx, const Params& params) {
    auto f = std::make_unique<GrepFilter>();
    Builder b(ctx, *f);
    const ConfigSection& section = params.section();
    std::set<std::string> regexp_keys, exclude_keys;

    // Legacy regexpN / excludeN first, as Fluentd does.
    for (const char* kind : {"regexp", "exclude"}) {
      bool is_re = kind[0] == 'r';
      for (int i = 1; i <= kLegacyMax; ++i) {
        std::string name = kind + std::to_string(i);
        const ConfigParam* p = section.param(name);
        if (!p) continue;
        const std::string& v = p->value;
        size_t sp = v.find(' ');
        if (sp == std::string::npos) {
          b.fail(p->pos, name + " does not contain 2 parameters");
          continue;
        }
        std::string key = v.substr(0, sp);
        auto& keys = is_re ? regexp_keys : exclude_keys;
        if (!keys.insert(key).second) {
          b.fail(p->pos, name + " contains a duplicated key, " + key);
          continue;
        }
        RegexpValue re;
        re.pattern = v.substr(sp + 1);  // Regexp.compile(str): no slash syntax
        Expression e = b.make(p->pos, key, re);
        if (e.regex) (is_re ? f->regexp_and : f->exclude_or).push_back(std::move(e));
      }
    }

    int top_regexps = 0, top_excludes = 0;
    for (const ConfigSection& c : section.children) {
      if (c.name == "regexp" || c.name == "exclude") {
        bool is_re = c.name == "regexp";
        (is_re ? top_regexps : top_excludes)++;
        auto& keys = is_re ? regexp_keys : exclude_keys;
        std::string key = c.get("key");
        if (!key.empty() && !keys.insert(key).second) {
          b.fail(c.pos, "Duplicate key: " + key);
          continue;
        }
        b.section(c, is_re ? f->regexp_and : f->exclude_or);
      } else if (c.name == "and" || c.name == "or") {
        b.group(c);
      }
    }
    if (top_regexps > 1)
      log::info("[" + ctx.id + "] Top level multiple <regexp> is interpreted as 'and' condition");
    if (top_excludes > 1)
      log::info("[" + ctx.id + "] Top level multiple <exclude> is interpreted as 'or' condition");
    b.finish();
    return f;
  });
}

}  // namespace sluice
