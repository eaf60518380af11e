// `@type stdout`: Fluentd's out_stdout. Each batch is formatted into one reusable buffer and
// written to fd 1 with as few write(2) calls as the pipe allows.
#include <unistd.h>

#include "core/registry.h"
#include "format/stdout_printer.h"

namespace sluice {

namespace {

class StdoutOutput : public Output {
 public:
  StdoutOutput(const PluginContext& ctx, const ConfigSection& section, int fd)
      : printer_(section, "stdout output", fd, ctx.worker_id, ctx.errors) {}

  // stdout writes synchronously, so the batch's claim is not retained: once write() returns,
  // the records are in the kernel.
  void write(const Batch& batch) override { printer_.print(batch); }

 private:
  StdoutPrinter printer_;
};

}  // namespace

void register_out_stdout(Registry& registry) {
  PluginSpec spec{"output", "stdout",
                  "Prints events to standard output (Fluentd's out_stdout): "
                  "`<time> <tag>: <json>`.",
                  {},
                  {"format", "buffer", "inject"}};
  spec.params = {
      {"output_type", ParamType::String, "json",
       "Record format after `<time> <tag>: ` (json, hash, ltsv, single_value); same as "
       "`<format> output_type`."},
  };
  registry.add_output(std::move(spec), [](PluginContext& ctx, const Params& params) {
    return std::make_unique<StdoutOutput>(ctx, params.section(), STDOUT_FILENO);
  });
}

}  // namespace sluice
