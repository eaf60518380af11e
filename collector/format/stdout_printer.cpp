#include "format/stdout_printer.h"

#include <string.h>

#include "core/log.h"
#include "format/fd_writer.h"

namespace sluice {

StdoutPrinter::StdoutPrinter(const ConfigSection& section, std::string what, int fd)
    : format_(LineFormat::configure(section.child("format"), "stdout", &section)),
      what_(std::move(what)),
      fd_(fd) {
  if (const ConfigSection* inject = section.child("inject"); inject && !inject->params.empty())
    log::warn(inject->pos.file + ":" + std::to_string(inject->pos.line) +
              ": <inject> is not supported by the " + what_ + " and is ignored");
}

void StdoutPrinter::print(const Batch& batch) {
  if (broken_ || batch.records.empty()) return;
  buf_.clear();
  for (const Record& r : batch.records) format_.append(buf_, batch.tag, batch, r);
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
