// `@type detect_exceptions` (fluent-plugin-detect-exceptions 0.0.16), as the fluentd-elasticsearch
// addon of Kubernetes and GKE configure it: see trace_output.h and README.md.
#include <memory>
#include <stdexcept>
#include <string>

#include "core/registry.h"
#include "trace_output.h"

namespace sluice {

void register_out_detect_exceptions(Registry& registry) {
  PluginSpec spec{"output", "detect_exceptions",
                  "Re-emits records without a tag prefix, joining the lines of stack traces into one record "
                  "(fluent-plugin-detect-exceptions).",
                  {},
                  {}};
  spec.params = {
      {"remove_tag_prefix", ParamType::String, "", "Removed, with the dot after it, from the tag records leave with.",
       {}, false, true},
      {"message", ParamType::String, "", "Field holding the message; \"\": the first of message, log a stream has."},
      {"languages", ParamType::Array, "", "java, js, csharp, python, php, go, ruby, dart, all (default: all)."},
      {"multiline_flush_interval", ParamType::Duration, "", "A trace held this long leaves (unset: never).", {},
       false},
      {"force_line_breaks", ParamType::Bool, "false", "Join messages without a newline with one."},
      {"max_lines", ParamType::Integer, "1000", "A trace this long leaves (0: no limit)."},
      {"max_bytes", ParamType::Integer, "0", "A trace that a message would take past this leaves first (0: no limit)."},
      {"stream", ParamType::String, "", "Field whose values tell streams of one tag apart."},
  };
  registry.add_output(std::move(spec), [](PluginContext& ctx, const Params& params) -> std::unique_ptr<Output> {
    detect_exceptions::Settings s;
    s.remove_tag_prefix = params.str("remove_tag_prefix");
    s.message_key = params.str("message");
    s.stream_key = params.str("stream");
    s.languages = params.list("languages");
    for (const std::string& language : s.languages)
      if (!detect_exceptions::ExceptionDetector::known_language(language))
        throw ConfigException(params.pos("languages"),
                              "detect_exceptions: unknown language \"" + language +
                                  "\" (known: java, javascript, js, csharp, python, py, php, go, ruby, rb, dart, all)");
    if (params.has("multiline_flush_interval")) s.flush_interval = params.seconds("multiline_flush_interval");
    s.force_line_breaks = params.flag("force_line_breaks");
    s.max_lines = params.integer("max_lines");
    s.max_bytes = params.integer("max_bytes");
    return std::make_unique<detect_exceptions::TraceOutput>(ctx, std::move(s));
  });
}

}  // namespace sluice
