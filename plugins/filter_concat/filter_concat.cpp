// `@type concat` (fluent-plugin-concat 2.5).
//
//   use_partial_cri_logtag: the cri parser already joined P lines up to their F line. What the
//     filter still does is what concat does to the joined record: remove the logtag key (unless
//     keep_partial_key) and the stream key.
//   multiline_start_regexp / multiline_end_regexp / continuous_line_regexp, n_lines: lines are
//     joined here (line_joiner.h). Docker's 16 KiB pieces (multiline_end_regexp /\n$/) arrive
//     joined by the docker parser, so each is a group of one and passes as it is.
//
// partial_key and use_partial_metadata (Docker's fluentd and journald log drivers) are
// configuration errors: files have no such records.
#include <memory>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/registry.h"
#include "line_joiner.h"

namespace sluice {

namespace {

class CriLogtagFilter final : public Filter {
 public:
  CriLogtagFilter(std::string key, std::vector<std::string> remove) : key_(std::move(key)), remove_(std::move(remove)) {}

  void filter(Batch& b) override {
    if (remove_.empty()) return;
    // concat passes fluent.* (its own log) and records without the key as they are.
    std::string_view tag = b.tag;
    if (tag.substr(0, 7) == "fluent.") return;
    for (Record& r : b.records) {
      Field* first = b.fields.data() + r.first_field;
      Field* end = first + r.field_count;
      bool has_key = false;
      for (Field* f = first; f != end; ++f) has_key |= f->key == key_;
      if (!has_key) continue;
      Field* w = first;
      for (Field* f = first; f != end; ++f) {
        bool drop = false;
        for (const std::string& k : remove_) drop |= f->key == k;
        if (!drop) *w++ = *f;
      }
      r.field_count = static_cast<uint32_t>(w - first);
    }
  }

 private:
  std::string key_;
  std::vector<std::string> remove_;
};

std::string unsupported(const std::string& what) {
  return "concat: " + what +
         " is not supported: it joins records of Docker's fluentd and journald log drivers, which "
         "tailed files do not have";
}

// concat strips the first and last character of its regexps (`/.../`) and compiles the rest.
std::string concat_regexp(const std::string& text) { return text.size() >= 2 ? text.substr(1, text.size() - 2) : ""; }

}  // namespace

void register_filter_concat(Registry& registry) {
  PluginSpec spec{"filter", "concat",
                  "Joins the lines of multi-line messages (fluent-plugin-concat); CRI split lines are "
                  "joined by the cri parser.",
                  {},
                  {}};
  spec.params = {
      {"key", ParamType::String, "", "The field holding the message.", {}, false, true},
      {"separator", ParamType::String, "\n", "Between joined lines (CRI split lines: the cri parser joins them without one)."},
      {"use_partial_cri_logtag", ParamType::Bool, "false", "CRI P/F lines (joined by the cri parser)."},
      {"partial_cri_logtag_key", ParamType::String, "", "The logtag field, removed from records.", {}, false},
      {"partial_cri_stream_key", ParamType::String, "stream", "The stream field, removed from records."},
      {"keep_partial_key", ParamType::Bool, "false", "Keep the logtag field."},
      {"multiline_start_regexp", ParamType::String, "", "/regexp/ of a group's first line.", {}, false},
      {"multiline_end_regexp", ParamType::String, "", "/regexp/ of a group's last line.", {}, false},
      {"continuous_line_regexp", ParamType::String, "", "/regexp/ lines inside a group must match.", {}, false},
      {"n_lines", ParamType::Integer, "", "Join every N lines.", {}, false},
      {"stream_identity_key", ParamType::String, "", "Field that tells streams of one tag apart.", {}, false},
      {"flush_interval", ParamType::Duration, "60", "A group idle this long leaves (0: never)."},
      {"timeout_label", ParamType::String, "", "Label for groups that timed out (else @ERROR).", {}, false},
      {"use_first_timestamp", ParamType::Bool, "false", "A joined record takes its first line's time."},
      {"buffer_limit_size", ParamType::Size, "512000", "Bound on a group's joined text; a fuller group leaves."},
      {"buffer_overflow_method", ParamType::String, "ignore", "Accepted: groups are always bounded (see README)."},
      {"partial_key", ParamType::String, "", "Not supported (configuration error).", {}, false},
      {"partial_value", ParamType::String, "", "Not supported (configuration error).", {}, false},
      {"use_partial_metadata", ParamType::Bool, "false", "Not supported (configuration error)."},
      {"partial_metadata_format", ParamType::String, "docker-fluentd", "Not supported (configuration error)."},
      {"keep_partial_metadata", ParamType::Bool, "false", "Not supported (configuration error)."},
  };
  registry.add_filter(std::move(spec), [](PluginContext& ctx, const Params& params) -> std::unique_ptr<Filter> {
    for (const char* p : {"partial_key", "partial_value"})
      if (params.has(p)) throw ConfigException(params.pos(p), unsupported(p));
    if (params.has("use_partial_metadata") && params.flag("use_partial_metadata"))
      throw ConfigException(params.pos("use_partial_metadata"), unsupported("use_partial_metadata"));
    const bool cri = params.flag("use_partial_cri_logtag");
    const bool lines = params.has("n_lines");
    const bool regexps = params.has("multiline_start_regexp") || params.has("multiline_end_regexp");
    // concat's own checks, with its messages.
    if (lines && regexps)
      throw ConfigException(params.pos("n_lines"), "n_lines and multiline_start_regexp/multiline_end_regexp are exclusive");
    if (cri && lines) throw ConfigException(params.pos("n_lines"), "use_partial_cri_logtag and n_lines are exclusive");
    if (cri && regexps)
      throw ConfigException(params.pos("use_partial_cri_logtag"),
                            "use_partial_cri_logtag and multiline_start_regexp/multiline_end_regexp are exclusive");
    if (!cri && !lines && !regexps)
      throw ConfigException(params.section().pos,
                            "Either n_lines, multiline_start_regexp, multiline_end_regexp, partial_key, "
                            "use_partial_metadata or use_partial_cri_logtag is required");
    if (cri) {
      if (params.flag("use_first_timestamp"))
        throw ConfigException(params.pos("use_first_timestamp"),
                              "concat: use_first_timestamp is not supported with use_partial_cri_logtag: the cri "
                              "parser gives a joined record its last part's time, as concat does by default");
      if (!params.has("partial_cri_logtag_key"))
        throw ConfigException(params.section().pos, "concat: partial_cri_logtag_key is required with use_partial_cri_logtag");
      std::vector<std::string> remove;
      if (!params.flag("keep_partial_key")) remove.push_back(params.str("partial_cri_logtag_key"));
      remove.push_back(params.str("partial_cri_stream_key"));
      if (params.str("separator") != "" && !ctx.dry_run)
        log::warn("[" + ctx.id + "] concat: separator " + log::quote_excerpt(params.str("separator")) +
                  " is not used: the cri parser joins the parts of a split line as the runtime cut them "
                  "(concat configurations for CRI set separator \"\")");
      return std::make_unique<CriLogtagFilter>(params.str("key"), std::move(remove));
    }
    concat::JoinSettings s;
    s.key = params.str("key");
    s.separator = params.str("separator");
    s.stream_identity_key = params.str("stream_identity_key");
    s.timeout_label = params.str("timeout_label");
    if (lines) {
      s.n_lines = params.integer("n_lines");
      if (s.n_lines < 1) throw ConfigException(params.pos("n_lines"), "concat: n_lines must be at least 1");
    }
    if (params.has("multiline_start_regexp")) s.start_regexp = concat_regexp(params.str("multiline_start_regexp"));
    if (params.has("multiline_end_regexp")) s.end_regexp = concat_regexp(params.str("multiline_end_regexp"));
    if (params.has("continuous_line_regexp")) s.continuous_regexp = concat_regexp(params.str("continuous_line_regexp"));
    s.flush_interval = params.seconds("flush_interval");
    s.use_first_timestamp = params.flag("use_first_timestamp");
    s.buffer_limit_size = params.size("buffer_limit_size");
    if (!s.timeout_label.empty() && ctx.label_emitter && !ctx.label_emitter(s.timeout_label))
      throw ConfigException(params.pos("timeout_label"), "concat: no <label " + s.timeout_label + "> for timeout_label");
    return std::make_unique<concat::LineJoiner>(ctx, std::move(s));
  });
}

}  // namespace sluice
