#include "format/stdout_printer.h"

#include <string.h>

#include "core/log.h"
#include "format/fd_writer.h"

namespace sluice {

namespace {
RecordInjector injector(const ConfigSection& section, int worker_id, std::vector<ConfigError>* errors) {
  InjectConfig config;
  config.worker_id = worker_id;
  if (const ConfigSection* inject = section.child("inject")) read_inject(*inject, config, errors);
  return RecordInjector(std::move(config));
}
}  // namespace

StdoutPrinter::StdoutPrinter(const ConfigSection& section, std::string what, int fd, int worker_id,
                             std::vector<ConfigError>* errors)
    : format_(LineFormat::configure(section.child("format"), "stdout", &section)),
      inject_(injector(section, worker_id, errors)),
      what_(std::move(what)),
      fd_(fd) {}

void StdoutPrinter::print(const Batch& batch) {
  if (broken_ || batch.records.empty()) return;
  buf_.clear();
  // Fluentd's out_stdout and filter_stdout format inject_values_to_record(tag, time, record).
  const Batch& records = inject_.active() ? inject_.apply(batch) : batch;
  for (const Record& r : records.records) format_.append(buf_, batch.tag, records, r);
  int err = 0;
  switch (write_fully(fd_, buf_, err)) {
    case WriteResult::Ok:
      break;
    case WriteResult::Closed:
      // The reader went away: stop writing for good (SIGPIPE is ignored by main).
      broken_ = true;
      log::error(what_ + ": standard output is closed (" + strerror(err) +
                 "); events are no longer printed");
      break;
    case WriteResult::Failed:
      log::warn_once(what_ + ".write", what_ + ": write failed: " + strerror(err) + "; batch not printed");
      break;
  }
  // Keep a large buffer from one huge batch from staying around forever.
  if (buf_.capacity() > (4u << 20)) std::string().swap(buf_);
}

}  // namespace sluice
