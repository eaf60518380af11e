// `@type kubernetes` and `@type multiline_kubernetes`: the two parser plugins that
// fluentd-kubernetes-daemonset ships (plugins/parser_kubernetes.rb, parser_multiline_kubernetes.rb)
// for glog lines (`I0204 07:32:30.020537    3368 server.go:1048] message`).
//
// Both are the stock parsers with fixed settings: `kubernetes` is `@type regexp` with the glog
// expression and `time_format %m%d %H:%M:%S.%N`; `multiline_kubernetes` is `@type multiline` with
// `format_firstline /^\w\d{4}/` and the same expression as format1. As in the Ruby plugins, the
// fixed settings replace whatever the section gives for them. The plugins are built through the
// registry, so the regexp and multiline implementations are reused, not copied.
#include <memory>
#include <string>
#include <utility>

#include "../parser_none/parser_common.h"
#include "core/registry.h"

namespace sluice {
namespace {

constexpr const char* kGlogBody =
    R"(^(?<severity>\w)(?<time>\d{4} [^\s]*)\s+(?<pid>\d+)\s+(?<source>[^ \]]+)\] (?<message>.*))";
constexpr const char* kGlogTimeFormat = "%m%d %H:%M:%S.%N";
constexpr const char* kGlogFirstline = R"(/^\w\d{4}/)";

// Builds the registered parser `base` from a copy of the section with `fixed` parameters set.
std::unique_ptr<ParserPlugin> build_with(PluginContext& ctx, const Params& params, const std::string& base,
                                         const std::vector<std::pair<std::string, std::string>>& fixed) {
  const PluginSpec* spec = ctx.registry ? ctx.registry->spec("parser", base) : nullptr;
  const ParserFactory* factory = ctx.registry ? ctx.registry->parser(base) : nullptr;
  if (!spec || !factory)
    throw ConfigException(params.section().pos, "parser type '" + base + "' is not available in this build");
  ConfigSection section = params.section();
  for (const auto& [key, value] : fixed) {
    bool set = false;
    for (ConfigParam& p : section.params) {
      if (p.key != key) continue;
      p.value = value;
      p.is_nil = false;
      set = true;
    }
    if (!set) section.params.push_back(ConfigParam{key, value, section.pos, false});
  }
  for (ConfigParam& p : section.params)
    if (p.key == "@type") p.value = base;
  Params base_params(section, *spec);
  // The base plugin reads its parameters while it is built; `section` need not outlive it.
  return (*factory)(ctx, base_params);
}

PluginSpec base_spec(const std::string& type, const std::string& doc) {
  PluginSpec spec;
  spec.kind = "parser";
  spec.type = type;
  spec.doc = doc;
  parsers::BaseDefaults d;
  d.time_key = "time";
  d.time_format = kGlogTimeFormat;
  parsers::add_base_params(spec, d);
  return spec;
}

}  // namespace

void register_parser_kubernetes(Registry& registry) {
  PluginSpec k8s = base_spec("kubernetes",
                "glog lines (severity, time, pid, source, message): @type regexp with the expression and "
                "time_format %m%d %H:%M:%S.%N of fluentd-kubernetes-daemonset's parser_kubernetes.rb.");
  k8s.params.push_back(spec::ignored("expression", ParamType::String, "Fixed to the glog expression."));
  registry.add_parser(std::move(k8s), [](PluginContext& ctx, const Params& params) {
        return build_with(ctx, params, "regexp",
                          {{"expression", std::string("/") + kGlogBody + "/m"}, {"time_format", kGlogTimeFormat}});
      });

  PluginSpec ml = base_spec("multiline_kubernetes",
                            "Multi-line glog entries: @type multiline with format_firstline /^\\w\\d{4}/ and the "
                            "kubernetes expression as format1 (fluentd-kubernetes-daemonset's "
                            "parser_multiline_kubernetes.rb).");
  // Given in a section, these are replaced by the fixed values (as the Ruby plugin does).
  ml.params.push_back(spec::ignored("format_firstline", ParamType::String, "Fixed to /^\\w\\d{4}/."));
  ml.params.push_back(spec::ignored("format1", ParamType::String, "Fixed to the kubernetes expression."));
  registry.add_parser(std::move(ml), [](PluginContext& ctx, const Params& params) {
    return build_with(ctx, params, "multiline",
                      {{"format_firstline", kGlogFirstline},
                       {"format1", std::string("/") + kGlogBody + "/"},
                       {"time_format", kGlogTimeFormat}});
  });
}

}  // namespace sluice
