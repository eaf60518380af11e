// `@type rewrite_tag_filter` (fluent-plugin-rewrite-tag-filter 2.4): each record goes back to its
// label's routing under the tag made by the first `<rule>` that applies to it. Records no rule
// applies to, or whose tag would not change, are dropped, as the plugin does.
//
// Records are grouped by their new tag into batches that view the incoming one (fields, common
// fields and claim), so that downstream outputs hold the source's checkpoint as usual.
#include <stdio.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/hostname.h"
#include "core/log.h"
#include "core/registry.h"
#include "rewrite_rule.h"

namespace sluice {

namespace {

// Re-emitted batches may come back to this output (a rule whose tag this <match> matches again).
// Deeper than this is a loop: its records are dropped, not recursed on until the stack ends.
constexpr int kMaxDepth = 16;

std::string hostname_from(const std::string& command, bool run) {
  if (command == "hostname" || !run) return local_hostname();
  std::string out;
  if (FILE* p = popen(command.c_str(), "r")) {
    char buf[256];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0 && out.size() < 4096) out.append(buf, n);
    pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

class RewriteTagFilter final : public Output {
 public:
  RewriteTagFilter(const PluginContext& ctx, std::vector<rewrite::Rule> rules, bool capitalize,
                   std::string remove_prefix, std::string hostname)
      : id_(ctx.id),
        router_(ctx.emitter),
        rules_(std::move(rules)),
        capitalize_(capitalize),
        remove_prefix_(std::move(remove_prefix)),
        hostname_(std::move(hostname)) {
    if (ctx.metrics) {
      dropped_ = &ctx.counter("sluice_rewrite_unmatched_records_total");
      loops_ = &ctx.counter("sluice_rewrite_loop_dropped_records_total");
    }
    levels_.resize(kMaxDepth);
  }

  void write(const Batch& in) override {
    if (!router_ || in.records.empty()) return;
    if (depth_ >= kMaxDepth) {
      if (loops_) bump(*loops_, in.records.size());
      log::warn_once("rewrite_loop/" + id_, "[" + id_ + "] records came back " + std::to_string(kMaxDepth) +
                                                " times in a row (the last tag: " + log::quote_excerpt(in.tag) +
                                                "): a rule's tag matches this <match> again; they are dropped "
                                                "(counted in sluice_rewrite_loop_dropped_records_total)");
      return;
    }
    std::vector<Group>& groups = levels_[depth_];
    size_t used = 0;
    ctx_.hostname = &hostname_;
    ctx_.set(in.tag, remove_prefix_);
    for (const Record& r : in.records) {
      if (!rewrite(in, r)) {
        if (dropped_) bump(*dropped_);
        continue;
      }
      Group* g = nullptr;
      for (size_t i = 0; i < used; ++i)
        if (groups[i].tag == new_tag_) g = &groups[i];
      if (!g) {
        if (used == groups.size()) groups.emplace_back();
        g = &groups[used++];
        g->tag = new_tag_;
        g->batch.clear();
        g->batch.common_fields = in.common_fields;
        g->batch.take_origin(in);
      }
      Record copy = r;
      copy.first_field = static_cast<uint32_t>(g->batch.fields.size());
      g->batch.fields.insert(g->batch.fields.end(), in.begin(r), in.end(r));
      g->batch.records.push_back(copy);
    }
    ++depth_;
    for (size_t i = 0; i < used; ++i) {
      groups[i].batch.tag = groups[i].tag;
      router_->emit(groups[i].batch);
    }
    --depth_;
  }

 private:
  struct Group {
    std::string tag;
    Batch batch;
  };

  // Sets new_tag_ from the first rule that applies; false when none does or the tag is unchanged.
  bool rewrite(const Batch& in, const Record& r) {
    for (rewrite::Rule& rule : rules_) {
      const RecordPath& path = rule.path();
      unknown_.clear();
      if (!rule.apply(path.to_s(in.find(r, path.top()), value_), ctx_, capitalize_, new_tag_, unknown_)) continue;
      if (!unknown_.empty())
        log::warn_once("rewrite_placeholder/" + id_ + "/" + unknown_,
                       "[" + id_ + "] rewrite_tag_filter: unknown placeholder found. :placeholder=>" + unknown_ +
                           " :tag=>" + std::string(in.tag) + " (it expands to nothing)");
      return new_tag_ != in.tag;
    }
    return false;
  }

  std::string id_;
  Emitter* router_;
  std::vector<rewrite::Rule> rules_;
  bool capitalize_;
  std::string remove_prefix_, hostname_;
  rewrite::TagContext ctx_;
  std::vector<std::vector<Group>> levels_;  // one set of batches per nesting depth
  int depth_ = 0;
  Counter* dropped_ = nullptr;
  Counter* loops_ = nullptr;
  std::string value_, new_tag_, unknown_;
};

PluginSpec rule_spec() {
  PluginSpec s{"rewrite-rule", "rule", "", {}, {}};
  s.params = {
      {"key", ParamType::String, "", "Field whose value is matched (a record_accessor path like $.a.b works too).",
       {}, false, true},
      {"pattern", ParamType::Regexp, "", "Ruby regexp, /re/ or /re/i.", {}, false, true},
      {"tag", ParamType::String, "", "The new tag: $1.. back-references, ${tag}, __TAG__, ${tag_parts[N]}, "
                                     "${hostname}, __HOSTNAME__.", {}, false, true},
      {"invert", ParamType::Bool, "false", "Rewrite when the pattern does not match."},
  };
  return s;
}

}  // namespace

void register_out_rewrite_tag_filter(Registry& registry) {
  PluginSpec spec{"output", "rewrite_tag_filter",
                  "Re-routes each record under a tag made from its fields by the first matching <rule> "
                  "(fluent-plugin-rewrite-tag-filter).",
                  {},
                  {"rule"}};
  spec.params = {
      {"capitalize_regex_backreference", ParamType::Bool, "false", "Capitalize $N back-references."},
      {"remove_tag_prefix", ParamType::String, "", "Removed from the tag (and a dot after it) in ${tag} and tag_parts.",
       {}, false},
      {"hostname_command", ParamType::String, "hostname", "Command whose output is ${hostname}."},
  };
  registry.add_output(std::move(spec), [](PluginContext& ctx, const Params& params) {
    const ConfigSection& section = params.section();
    for (const ConfigParam& p : section.params)
      if (p.key.rfind("rewriterule", 0) == 0)
        throw ConfigException(p.pos, "\"rewriterule<num>\" support has been dropped. Use <rule> section instead.");
    static const PluginSpec spec = rule_spec();
    std::vector<rewrite::Rule> rules;
    std::set<std::string> seen;
    for (const ConfigSection& c : section.children) {
      if (c.name != "rule") continue;
      auto errs = validate_params(c, spec);
      if (!errs.empty()) throw ConfigException(errs[0].pos, errs[0].message);
      Params p(c, spec);
      rules.emplace_back(c.pos, p.str("key"), p.regexp_value("pattern"), p.str("tag"), p.flag("invert"));
      if (!seen.insert(rules.back().identity()).second)
        throw ConfigException(c.pos, "duplicated rewriterules found: key " + p.str("key") + " pattern /" +
                                         p.regexp_value("pattern").pattern + "/");
    }
    if (rules.empty()) throw ConfigException(section.pos, "missing rewriterules: add a <rule> section");
    return std::make_unique<RewriteTagFilter>(ctx, std::move(rules), params.flag("capitalize_regex_backreference"),
                                              params.str("remove_tag_prefix"),
                                              hostname_from(params.str("hostname_command"), !ctx.dry_run));
  });
}

}  // namespace sluice
