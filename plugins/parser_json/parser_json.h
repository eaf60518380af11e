// `@type json` (Fluentd parser_json, with simdjson On Demand) and `@type docker` (the same on
// docker json-file lines, joining the 16 KiB split lines of one stream).
#pragma once

#include <memory>
#include <string>

#include "../parser_none/parser_common.h"

namespace sluice::parsers {

struct JsonOptions {
  TimeOptions time;
  ValueConverter convert;
  bool docker = false;  // join `log` values that do not end in "\n" (per `stream`)
  uint64_t max_partial_size = 1024 * 1024;
};

class JsonPlugin final : public ParserPlugin {
 public:
  JsonPlugin(PluginContext& ctx, const Params& params, bool docker);
  // For `container`: docker json-file parsing with the given options.
  JsonPlugin(PluginContext& ctx, JsonOptions options, std::string type_name);
  std::unique_ptr<Parser> open_stream(std::string_view stream_name) override;

  const JsonOptions& options() const { return options_; }
  ErrorSink& errors() { return errors_; }
  Counter* truncated_counter() const { return truncated_; }

 private:
  JsonOptions options_;
  ErrorSink errors_;
  Counter* truncated_ = nullptr;
};

PluginSpec json_spec(bool docker);

}  // namespace sluice::parsers
