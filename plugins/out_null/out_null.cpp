// `@type null`: discards everything (Fluentd's out_null). Accepts a `<buffer>` section, as
// Fluentd's does, and ignores it.
#include "core/registry.h"

namespace sluice {

namespace {

class NullOutput : public Output {
 public:
  void write(const Batch&) override {}
};

}  // namespace

void register_out_null(Registry& registry) {
  PluginSpec spec{"output", "null", "Discards all events (Fluentd's out_null).", {}, {"buffer"}};
  ParamSpec never_flush{"never_flush", ParamType::Bool, "false",
                        "Accepted for compatibility; nothing is buffered."};
  never_flush.ignored = true;
  spec.params = {never_flush};
  registry.add_output(std::move(spec), [](PluginContext&, const Params&) {
    return std::make_unique<NullOutput>();
  });
}

}  // namespace sluice
