// `@type relabel` with `@label @X`: re-emits every batch into that label's pipeline.
#include "core/log.h"
#include "core/registry.h"

namespace sluice {

namespace {

class RelabelOutput : public Output {
 public:
  explicit RelabelOutput(Emitter* target) : target_(target) {}

  void write(const Batch& batch) override {
    // The label's filters may change the batch, but outputs must see their input unchanged
    // (a `copy` store after this one gets the same batch), so the label gets a shallow copy:
    // field values are views into memory the original keeps alive during emit; new bytes
    // go to the copy's own arena. A reusable batch saves allocations, except when re-entered
    // (a label routing back here).
    Batch local;
    Batch& copy = busy_ ? local : scratch_;
    copy.clear();
    copy.tag = batch.tag;
    copy.records = batch.records;
    copy.fields = batch.fields;
    copy.common_fields = batch.common_fields;
    copy.take_origin(batch);
    bool was_busy = busy_;
    busy_ = true;
    try {
      target_->emit(copy);
    } catch (...) {
      busy_ = was_busy;
      throw;
    }
    busy_ = was_busy;
    copy.clear();
  }

 private:
  Emitter* target_;
  Batch scratch_;
  bool busy_ = false;
};

}  // namespace

void register_out_relabel(Registry& registry) {
  PluginSpec spec{"output", "relabel",
                  "Re-emits events into the label named by `@label` (Fluentd's out_relabel).",
                  {},
                  {}};
  registry.add_output(std::move(spec), [](PluginContext& ctx, const Params& params) {
    const ConfigSection& section = params.section();
    const ConfigParam* label = section.param("@label");
    if (!label || label->value.empty())
      throw ConfigException(section.pos, "relabel needs `@label @NAME`");
    Emitter* target = ctx.label_emitter ? ctx.label_emitter(label->value) : nullptr;
    if (!target)
      throw ConfigException(label->pos, "unknown label '" + label->value + "' for relabel");
    return std::make_unique<RelabelOutput>(target);
  });
}

}  // namespace sluice
