// `@type cri` (fluent-plugin-parser-cri): `<time> <stream> <P|F> <message>` lines, with P/F
// partial lines joined per stream (a deliberate difference, see README.md).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "../parser_none/parser_common.h"

namespace sluice::parsers {

struct CriOptions {
  TimeOptions time;               // time_key "time", keep_time_key true by default
  bool merge_partial = true;      // merge_cri_partial
  uint64_t max_partial_size = 1024 * 1024;
  bool merge_cri_fields = true;   // with a nested <parse>
};

class CriPlugin final : public ParserPlugin {
 public:
  CriPlugin(PluginContext& ctx, const Params& params);
  // For `container`: CRI with the given options and no nested parser.
  CriPlugin(PluginContext& ctx, CriOptions options, std::string type_name);
  std::unique_ptr<Parser> open_stream(std::string_view stream_name) override;

  const CriOptions& options() const { return options_; }
  ErrorSink& errors() { return errors_; }
  Counter* truncated_counter() const { return truncated_; }
  ParserPlugin* sub_parser() const { return sub_.get(); }

 private:
  CriOptions options_;
  ErrorSink errors_;
  Counter* truncated_ = nullptr;
  std::unique_ptr<ParserPlugin> sub_;
};

PluginSpec cri_spec();

}  // namespace sluice::parsers
