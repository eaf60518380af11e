// `@type stdout` as a filter: Fluentd's filter_stdout. Prints every event the way out_stdout does
// (`<time> <tag>: <json>` by default, any `<format>`), then passes the batch on unchanged.
#include <unistd.h>

#include "core/registry.h"
#include "format/stdout_printer.h"

namespace sluice {

namespace {

class StdoutFilter : public Filter {
 public:
  StdoutFilter(const PluginContext& ctx, const ConfigSection& section, int fd)
      : printer_(section, "stdout filter", fd, ctx.worker_id, ctx.errors) {}

  // Prints, then passes the batch on unchanged.
  void filter(Batch& batch) override { printer_.print(batch); }

 private:
  StdoutPrinter printer_;
};

}  // namespace

void register_filter_stdout(Registry& registry) {
  PluginSpec spec{"filter", "stdout",
                  "Prints events to standard output like out_stdout and passes them on "
                  "(Fluentd's filter_stdout).",
                  {},
                  {"format", "inject"}};
  spec.params = {
      {"output_type", ParamType::String, "json",
       "Record format after `<time> <tag>: ` (json, hash, ltsv, single_value); same as "
       "`<format> output_type`."},
  };
  registry.add_filter(std::move(spec), [](PluginContext& ctx, const Params& params) {
    return std::make_unique<StdoutFilter>(ctx, params.section(), STDOUT_FILENO);
  });
}

}  // namespace sluice
