// `@type concat` (fluent-plugin-concat 2.5) in the two forms Kubernetes configurations use it for
// container runtimes' split lines, which sluice's parsers already join:
//
//   use_partial_cri_logtag: the cri parser joined P lines up to their F line. What the filter
//     still does is what concat does to the joined record: remove the logtag key (unless
//     keep_partial_key) and the stream key.
//   multiline_end_regexp /\n$/ (docker json-file's 16 KiB split, usually with separator ""): the
//     docker parser joined the pieces; every record ends its own group, so nothing changes.
//
// Other forms (n_lines, multiline_start_regexp, partial_key, use_partial_metadata) are
// configuration errors that say what to use instead; they are not silently passed through.
#include <memory>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/registry.h"

namespace sluice {

namespace {

class ConcatFilter final : public Filter {
 public:
  ConcatFilter(std::string key, std::vector<std::string> remove) : key_(std::move(key)), remove_(std::move(remove)) {}

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
         " is not supported: sluice's cri and docker parsers join the lines container runtimes "
         "split (use_partial_cri_logtag, multiline_end_regexp /\\n$/ are accepted for that); for "
         "multi-line messages such as stack traces use <parse> @type multiline in the <source>";
}

}  // namespace

void register_filter_concat(Registry& registry) {
  PluginSpec spec{"filter", "concat",
                  "fluent-plugin-concat for split container lines (use_partial_cri_logtag, "
                  "multiline_end_regexp /\\n$/), which the cri and docker parsers join.",
                  {},
                  {}};
  spec.params = {
      {"key", ParamType::String, "", "The field holding the message.", {}, false, true},
      {"separator", ParamType::String, "\n", "Between joined parts: the parsers join without one (see README)."},
      {"use_partial_cri_logtag", ParamType::Bool, "false", "CRI P/F lines (joined by the cri parser)."},
      {"partial_cri_logtag_key", ParamType::String, "", "The logtag field, removed from records.", {}, false},
      {"partial_cri_stream_key", ParamType::String, "stream", "The stream field, removed from records."},
      {"keep_partial_key", ParamType::Bool, "false", "Keep the logtag field."},
      {"multiline_end_regexp", ParamType::String, "", "Only /\\n$/ (docker's split lines, joined by the docker parser).",
       {}, false},
      {"stream_identity_key", ParamType::String, "", "Accepted: the parsers keep streams apart.", {}, false},
      {"flush_interval", ParamType::Duration, "60", "Accepted: the parsers' own flush bounds held lines."},
      {"timeout_label", ParamType::String, "", "Accepted: nothing is held here to time out.", {}, false},
      {"use_first_timestamp", ParamType::Bool, "false", "Must stay false: joined records have the last part's time."},
      {"n_lines", ParamType::Integer, "", "Not supported (configuration error).", {}, false},
      {"multiline_start_regexp", ParamType::String, "", "Not supported (configuration error).", {}, false},
      {"continuous_line_regexp", ParamType::String, "", "Not supported (configuration error).", {}, false},
      {"partial_key", ParamType::String, "", "Not supported (configuration error).", {}, false},
      {"partial_value", ParamType::String, "", "Not supported (configuration error).", {}, false},
      {"use_partial_metadata", ParamType::Bool, "false", "Not supported (configuration error)."},
      {"partial_metadata_format", ParamType::String, "docker-fluentd", "Not supported (configuration error)."},
      {"keep_partial_metadata", ParamType::Bool, "false", "Not supported (configuration error)."},
  };
  registry.add_filter(std::move(spec), [](PluginContext& ctx, const Params& params) {
    for (const char* p : {"n_lines", "multiline_start_regexp", "continuous_line_regexp", "partial_key"})
      if (params.has(p)) throw ConfigException(params.pos(p), unsupported(p));
    if (params.has("use_partial_metadata") && params.flag("use_partial_metadata"))
      throw ConfigException(params.pos("use_partial_metadata"), unsupported("use_partial_metadata"));
    if (params.flag("use_first_timestamp"))
      throw ConfigException(params.pos("use_first_timestamp"),
                            "concat: use_first_timestamp is not supported: the cri parser gives a joined "
                            "record its last part's time, as concat does by default");
    const bool cri = params.flag("use_partial_cri_logtag");
    const bool docker = params.has("multiline_end_regexp");
    if (cri && docker)
      throw ConfigException(params.pos("multiline_end_regexp"),
                            "use_partial_cri_logtag and multiline_start_regexp/multiline_end_regexp are exclusive");
    if (docker && params.str("multiline_end_regexp") != "/\\n$/")
      throw ConfigException(params.pos("multiline_end_regexp"),
                            unsupported("multiline_end_regexp " + params.str("multiline_end_regexp")));
    if (!cri && !docker)
      throw ConfigException(params.section().pos,
                            "concat: Either n_lines, multiline_start_regexp, multiline_end_regexp, partial_key, "
                            "use_partial_metadata or use_partial_cri_logtag is required");
    std::vector<std::string> remove;
    if (cri) {
      if (!params.has("partial_cri_logtag_key"))
        throw ConfigException(params.section().pos, "concat: partial_cri_logtag_key is required with use_partial_cri_logtag");
      if (!params.flag("keep_partial_key")) remove.push_back(params.str("partial_cri_logtag_key"));
      remove.push_back(params.str("partial_cri_stream_key"));
    }
    if (params.str("separator") != "" && !ctx.dry_run)
      log::warn("[" + ctx.id + "] concat: separator " + log::quote_excerpt(params.str("separator")) +
                " is not used: the " + (cri ? "cri" : "docker") +
                " parser joins the parts of a split line as the runtime cut them (concat configurations for "
                "split lines set separator \"\")");
    return std::make_unique<ConcatFilter>(params.str("key"), std::move(remove));
  });
}

}  // namespace sluice
