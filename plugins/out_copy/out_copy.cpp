// `@type copy`: hands every batch to each `<store>` output (Fluentd's out_copy).
#include <exception>
#include <memory>
#include <vector>

#include "core/log.h"
#include "core/registry.h"

namespace sluice {

namespace {

struct Store {
  std::unique_ptr<Output> output;
  bool ignore_error = false;
  bool ignore_if_prev_success = false;
  std::string id;
};

class CopyOutput : public Output {
 public:
  explicit CopyOutput(std::vector<Store> stores) : stores_(std::move(stores)) {}

  void start() override {
    for (auto& s : stores_) s.output->start();
  }

  // As in Fluentd, an error in a store stops the batch from reaching the stores after it,
  // unless that store is marked `ignore_error`; `ignore_if_prev_success` skips a store when
  // the one before it succeeded (a fallback store).
  void write(const Batch& batch) override {
    bool prev_ok = false;
    for (size_t i = 0; i < stores_.size(); ++i) {
      Store& s = stores_[i];
      if (i > 0 && s.ignore_if_prev_success && prev_ok) continue;
      try {
        s.output->write(batch);
        prev_ok = true;
      } catch (const std::exception& e) {
        prev_ok = false;
        log::error("copy: store " + s.id + " failed: " + e.what());
        if (!s.ignore_error) return;
      }
    }
  }

  void close(std::function<void()> done) override {
    close_next(0, std::move(done));
  }

 private:
  void close_next(size_t i, std::function<void()> done) {
    if (i >= stores_.size()) {
      done();
      return;
    }
    stores_[i].output->close([this, i, done = std::move(done)]() mutable {
      close_next(i + 1, std::move(done));
    });
  }

  std::vector<Store> stores_;
};

}  // namespace

void register_out_copy(Registry& registry) {
  PluginSpec spec{"output", "copy", "Sends every event to each <store> (Fluentd's out_copy).", {},
                  {"store"}};
  spec.params = {
      {"copy_mode", ParamType::Enum, "no_copy",
       "no_copy, shallow, deep or marshal. All behave alike here: outputs never change the "
       "records they are given.",
       {"no_copy", "shallow", "deep", "marshal"}},
      {"deep_copy", ParamType::Bool, "false", "Deprecated alias of copy_mode deep; accepted."},
  };
  registry.add_output(std::move(spec), [](PluginContext& ctx, const Params& params) {
    const ConfigSection& section = params.section();
    std::vector<Store> stores;
    for (const ConfigSection& child : section.children) {
      if (child.name != "store") continue;
      Store s;
      // The argument is a space or comma separated list of flags.
      std::string arg = child.arg;
      for (char& c : arg)
        if (c == ',') c = ' ';
      size_t pos = 0;
      while (pos < arg.size()) {
        size_t start = arg.find_first_not_of(' ', pos);
        if (start == std::string::npos) break;
        size_t end = arg.find(' ', start);
        if (end == std::string::npos) end = arg.size();
        std::string flag = arg.substr(start, end - start);
        if (flag == "ignore_error")
          s.ignore_error = true;
        else if (flag == "ignore_if_prev_success")
          s.ignore_if_prev_success = true;
        else
          throw ConfigException(child.pos, "unknown <store> argument '" + flag +
                                               "' (expected ignore_error or "
                                               "ignore_if_prev_success)");
        pos = end;
      }
      std::string suffix = "store" + std::to_string(stores.size());
      s.id = child.get("@id", ctx.id + "." + suffix);
      s.output = ctx.make_output(child, suffix);
      stores.push_back(std::move(s));
    }
    if (stores.empty()) throw ConfigException(section.pos, "copy needs at least one <store>");
    return std::make_unique<CopyOutput>(std::move(stores));
  });
}

}  // namespace sluice
