// `@type stdout` as a filter: Fluentd's filter_stdout. Prints every event the way out_stdout does
// (`<time> <tag>: <json>` by default, any `<format>`), then passes the batch on unchanged.
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

class StdoutFilter : public Filter {
 public:
  StdoutFilter(LineFormat format, int fd) : format_(std::move(format)), fd_(fd) {}

  void filter(Batch& batch) override {
    if (broken_ || batch.records.empty()) return;
    buf_.clear();
    for (const Record& r : batch.records) format_.append(buf_, batch.tag, batch, r);
    write_all();
    if (buf_.capacity() > (4u << 20)) std::string().swap(buf_);
  }

 private:
  void write_all() {
    int err = 0;
    switch (write_fully(fd_, buf_, err)) {
      case WriteResult::Ok:
        return;
      case WriteResult::Closed:
        broken_ = true;
        log::error(std::string("stdout filter: standard output is closed (") + strerror(err) +
                   "); events are passed on but no longer printed");
        return;
      case WriteResult::Failed:
        log::warn_once("filter_stdout.write",
                       std::string("stdout filter: write failed: ") + strerror(err));
        return;
    }
  }

  LineFormat format_;
  int fd_;
  std::string buf_;
  bool broken_ = false;
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
    (void)ctx;
    const ConfigSection& section = params.section();
    if (const ConfigSection* inject = section.child("inject"); inject && !inject->params.empty())
      log::warn(inject->pos.file + ":" + std::to_string(inject->pos.line) +
                ": <inject> is not supported by the stdout filter and is ignored");
    LineFormat format = LineFormat::configure(section.child("format"), "stdout", &section);
    return std::make_unique<StdoutFilter>(std::move(format), STDOUT_FILENO);
  });
}

}  // namespace sluice
