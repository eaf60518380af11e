// `@type sample` (alias `dummy`): Fluentd's in_sample. Generates `rate` events a second from the
// `sample` records in turn (one batch of `size` records per event), for trying a pipeline out.
#include <simdjson.h>

#include <memory>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/registry.h"
#include "core/uv_handle.h"
#include "format/json_dom_fields.h"
#include "format/time.h"

namespace sluice {

namespace {

// The sample records, parsed once into `samples` (whose arena keeps their texts).
void parse_samples(const std::string& json, const SourcePos& pos, Batch& samples) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element doc;
  if (auto err = parser.parse(padded).get(doc))
    throw ConfigException(pos, std::string("sample: invalid JSON: ") + simdjson::error_message(err));
  std::vector<simdjson::dom::element> items;
  simdjson::dom::array array;
  if (!doc.get_array().get(array)) {
    for (simdjson::dom::element e : array) items.push_back(e);
  } else {
    items.push_back(doc);
  }
  for (size_t i = 0; i < items.size(); ++i) {
    simdjson::dom::object obj;
    if (items[i].get_object().get(obj))
      throw ConfigException(pos, std::to_string(i) + "th element of sample, " + simdjson::minify(items[i]) +
                                     ", is not a hash");
    samples.begin_record({});
    add_dom_fields(samples, obj);
  }
}

class SampleInput final : public Input {
 public:
  SampleInput(const PluginContext& ctx, std::string tag, int64_t size, int64_t rate, std::string increment_key)
      : loop_(ctx.loop), emitter_(ctx.emitter), flow_(ctx.flow), dry_run_(ctx.dry_run), tag_(std::move(tag)),
        size_(size), rate_(rate), increment_key_(std::move(increment_key)) {}
  Batch& samples() { return samples_; }
  ~SampleInput() override { close_uv_handle(timer_); }

  void start() override {
    if (dry_run_ || !loop_) return;
    timer_ = new_uv_handle<uv_timer_t>(this);
    uv_timer_init(loop_, timer_);
    // Tenths of a second, as Fluentd spreads a second's events over ten bins.
    uv_timer_start(timer_, [](uv_timer_t* t) {
      if (auto* self = static_cast<SampleInput*>(t->data)) self->tick();
    }, 100, 100);
  }
  void stop() override { close_uv_handle(timer_); }

  // One tenth of a second: rate/10 events, and the remainder in the last tenth.
  void tick() {
    int64_t n = rate_ / 10 + (bin_ == 9 ? rate_ % 10 : 0);
    bin_ = (bin_ + 1) % 10;
    if (flow_ && flow_->blocked()) return;  // outputs are full: generate nothing rather than queue
    for (int64_t i = 0; i < n; ++i) emit_event();
  }

  void emit_event() {
    batch_.clear();
    batch_.tag = tag_;
    EventTime t = now();
    for (int64_t i = 0; i < size_; ++i) {
      const Record& s = samples_.records[next_++ % samples_.records.size()];
      batch_.begin_record(t);
      bool counted = increment_key_.empty();
      for (const Field* f = samples_.begin(s); f != samples_.end(s); ++f) {
        if (!counted && f->key == increment_key_) {
          batch_.add_field(f->key, Value::of_int(++counter_));  // Hash#[]= keeps the key's place
          counted = true;
        } else {
          batch_.add_field(f->key, f->value);
        }
      }
      if (!counted) batch_.add_field(increment_key_, Value::of_int(++counter_));
    }
    if (emitter_) emitter_->emit(batch_);
  }

 private:
  uv_loop_t* loop_;
  Emitter* emitter_;
  FlowControl* flow_;
  bool dry_run_;
  std::string tag_;
  int64_t size_, rate_;
  std::string increment_key_;
  Batch samples_;
  uv_timer_t* timer_ = nullptr;
  Batch batch_;
  size_t next_ = 0;
  int bin_ = 0;
  int64_t counter_ = -1;
};

}  // namespace

void register_in_sample(Registry& registry) {
  for (const char* type : {"sample", "dummy"}) {
    PluginSpec spec{"input", type, "Generates events from sample records (Fluentd's in_sample).", {}, {"storage"}};
    spec.params = {
        {"tag", ParamType::String, "", "Tag of the events.", {}, false, true},
        {"size", ParamType::Integer, "1", "Records in each event stream."},
        {"rate", ParamType::Integer, "1", "Event streams a second."},
        {"auto_increment_key", ParamType::String, "", "Field for a counter from 0.", {}, false},
        {"sample", ParamType::String, "[{\"message\":\"sample\"}]", "A JSON object or array of objects, used in turn."},
        {"dummy", ParamType::String, "", "Old name of `sample`.", {}, false},
        {"reuse_record", ParamType::Bool, "false", "Accepted: records are never changed in place here."},
        {"suspend", ParamType::Bool, "false", "Accepted and ignored, as in Fluentd (deprecated)."},
    };
    registry.add_input(std::move(spec), [](PluginContext& ctx, const Params& params) {
      const char* key = params.has("sample") || !params.has("dummy") ? "sample" : "dummy";
      int64_t size = params.integer("size"), rate = params.integer("rate");
      if (size < 1 || size > 100000) throw ConfigException(params.pos("size"), "size must be 1 to 100000");
      if (rate < 0 || rate > 10000000) throw ConfigException(params.pos("rate"), "rate must be 0 to 10000000");
      auto input = std::make_unique<SampleInput>(ctx, params.str("tag"), size, rate, params.str("auto_increment_key"));
      parse_samples(params.str(key), params.pos(key), input->samples());
      if (input->samples().records.empty()) throw ConfigException(params.pos(key), "sample: no records");
      return input;
    });
  }
}

}  // namespace sluice
