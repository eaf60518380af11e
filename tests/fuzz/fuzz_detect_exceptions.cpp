// libFuzzer target: detect_exceptions over container log lines. The input's lines are records
// {"log": line, "stream": stdout|stderr} in batches of 1 to 4 whose bytes are freed after each
// batch, so a held trace that still views its batch is caught by ASan. Tags vary so that records
// come back to the output under a shorter tag (a <match> matching them again) or loop on the same
// one; every batch carries a claim, and once the held traces are flushed every claim must be free.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../../plugins/out_detect_exceptions/trace_output.h"
#include "core/delivery.h"
#include "fuzz_support.h"

namespace {

using namespace sluice;

// The label's router: tags still starting with "raw." go back to the output; the rest are
// formatted as outputs would.
struct Router : Emitter {
  Output* output = nullptr;
  void emit(Batch& b) override {
    if (std::string_view(b.tag).substr(0, 4) == "raw.") return output->write(b);
    fuzz::format_batch(b);
  }
};

struct Detector {
  Registry registry;
  Metrics metrics;
  ConfigSection section;
  Router router;
  std::unique_ptr<Output> output;

  explicit Detector(const std::string& body) {
    register_all_plugins(registry);
    auto parsed = parse_config_text("<match raw.**>\n  @type detect_exceptions\n" + body + "</match>\n", "fuzz.conf", ".");
    SLUICE_FUZZ_CHECK(parsed.errors.empty());
    section = parsed.root.children.at(0);
    PluginContext ctx;
    ctx.registry = &registry;
    ctx.metrics = &metrics;
    ctx.section = &section;
    ctx.id = "fuzz_detect_exceptions";
    ctx.emitter = &router;
    output = (*registry.output("detect_exceptions"))(ctx, Params(section, *registry.spec("output", "detect_exceptions")));
    router.output = output.get();
  }
  void flush_all() { static_cast<detect_exceptions::TraceOutput&>(*output).flush_stale(UINT64_MAX / 2); }
};

const char* const kTags[] = {"raw.app", "raw.raw.app", "raw.other", "app"};

void run(Detector& d, std::string_view in) {
  DeliveryTracker tracker;
  uint64_t offset = 0;
  int n = 0;
  while (!in.empty()) {
    // The first byte of a batch picks its tag, its size and whether held traces time out first.
    const uint8_t control = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    if (control & 0x80) d.flush_all();
    Batch batch;
    batch.tag = kTags[control & 3];
    std::vector<std::unique_ptr<char[]>> bytes;
    for (int i = 0; i <= ((control >> 2) & 3) && !in.empty(); ++i, ++n) {
      size_t nl = in.find('\n');
      std::string_view line = in.substr(0, nl == std::string_view::npos ? in.size() : nl + 1);
      in.remove_prefix(line.size());
      offset += line.size();
      // Alternately with and without the newline (docker and CRI messages).
      if ((control & 0x10) && !line.empty() && line.back() == '\n') line.remove_suffix(1);
      bytes.push_back(std::make_unique<char[]>(line.size() + 1));
      std::copy(line.begin(), line.end(), bytes.back().get());
      batch.begin_record({1700000000 + n, 0, false}, offset);
      batch.add_field((control & 0x20) ? "message" : "log", Value::of_string({bytes.back().get(), line.size()}));
      batch.add_field("stream", Value::of_string(n % 3 ? "stdout" : "stderr"));
    }
    batch.claim = tracker.open(offset);
    d.output->write(batch);
    batch.claim->release();
  }
  d.flush_all();
  SLUICE_FUZZ_CHECK(tracker.idle());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Detector* all = new Detector("  remove_tag_prefix raw\n  stream stream\n  multiline_flush_interval 5\n");
  static Detector* few = new Detector(
      "  remove_tag_prefix raw\n  message log\n  languages go, python, dart\n  force_line_breaks true\n"
      "  max_lines 4\n  max_bytes 200\n  multiline_flush_interval 1\n");
  std::string_view in(reinterpret_cast<const char*>(data), size);
  run(*all, in);
  run(*few, in);
  return 0;
}
