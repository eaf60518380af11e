// Prints batches the way Fluentd's out_stdout does (`<time> <tag>: <json>`, or any `<format>`),
// one write per batch. Shared by the stdout output and the stdout filter.
#pragma once

#include <string>

#include "config/config.h"
#include "core/event.h"
#include "format/line_format.h"
#include "format/record_inject.h"

namespace sluice {

class StdoutPrinter {
 public:
  // `what` names the plugin in log lines ("stdout output", "stdout filter"). Reads `<format>`,
  // `output_type` and `<inject>` (its unknown parameters into `errors` when given).
  StdoutPrinter(const ConfigSection& section, std::string what, int fd, int worker_id = 0,
                std::vector<ConfigError>* errors = nullptr);

  // Formats and writes the batch. After the reader of the descriptor went away, nothing more is
  // written (logged once).
  void print(const Batch& batch);

 private:
  LineFormat format_;
  RecordInjector inject_;
  std::string what_;
  int fd_;
  std::string buf_;
  bool broken_ = false;
};

}  // namespace sluice
