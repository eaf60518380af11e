// `@type stdout`: Fluentd's out_stdout. Each batch is formatted into one reusable buffer and
// written to fd 1 with as few write(2) calls as the pipe allows.
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/registry.h"
#include "format/fd_writer.h"
#include "format/line_format.h"

namespace sluice {

namespace {

class StdoutOutput : public Output {
 public:
  StdoutOutput(LineFormat format, int fd) : format_(std::move(format)), fd_(fd) {}

  // stdout writes synchronously, so the batch's claim is not retained: once write() returns,
  // the records are in the kernel.
  void write(const Batch& batch) override {
    if (broken_ || batch.records.empty()) return;
    buf_.clear();
    for (const Record& r : batch.records) format_.append(buf_, batch.tag, batch, r);
    write_all();
    // Keep a large buffer from one huge batch from staying around forever.
    if (buf_.capacity() > (4u << 20)) std::string().swap(buf_);
  }

 private:
  void write_all() {
    int err = 0;
    switch (write_fully(fd_, buf_, err)) {
      case WriteResult::Ok:
        return;
      case WriteResult::Closed:
        // The reader went away: stop writing for good (SIGPIPE is ignored by main).
        broken_ = true;
        log::error(std::string("stdout output: standard output is closed (") + strerror(err) +
                   "); further events to stdout are discarded");
        return;
      case WriteResult::Failed:
        log::warn_once("out_stdout.write", std::string("stdout output: write failed: ") +
                                               strerror(err) + "; batch discarded");
        return;
    }
  }

  LineFormat format_;
  int fd_;
  std::string buf_;
  bool broken_ = false;
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
    const ConfigSection& section = params.section();
    if (const ConfigSection* inject = section.child("inject"); inject && !inject->params.empty())
      log::warn(inject->pos.file + ":" + std::to_string(inject->pos.line) +
                ": <inject> is not supported by stdout and is ignored");
    LineFormat format = LineFormat::configure(section.child("format"), "stdout", &section);
    return std::make_unique<StdoutOutput>(std::move(format), STDOUT_FILENO);
  });
}

}  // namespace sluice
