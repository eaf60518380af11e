// `@type container` (alias `auto`): each line is detected as docker json-file (starts with `{`)
// or CRI and parsed as `docker` or `cri` would, so one tail can read both formats.
#include <memory>

#include "../parser_cri/parser_cri.h"
#include "../parser_json/parser_json.h"
#include "core/registry.h"

namespace sluice {
namespace parsers {

namespace {

class ContainerParser final : public Parser {
 public:
  ContainerParser(std::unique_ptr<Parser> cri, std::unique_ptr<Parser> docker)
      : cri_(std::move(cri)), docker_(std::move(docker)) {}

  void parse(std::span<const Line> lines, Batch& out) override {
    // Runs of lines of one format go to that parser together.
    size_t i = 0;
    while (i < lines.size()) {
      const bool json = is_json(lines[i].bytes);
      size_t j = i + 1;
      while (j < lines.size() && is_json(lines[j].bytes) == json) ++j;
      (json ? docker_ : cri_)->parse(lines.subspan(i, j - i), out);
      i = j;
    }
  }
  void flush(Batch& out) override {
    docker_->flush(out);
    cri_->flush(out);
  }
  uint64_t held_from() const override { return std::min(cri_->held_from(), docker_->held_from()); }

 private:
  static bool is_json(std::string_view s) { return !s.empty() && s[0] == '{'; }
  std::unique_ptr<Parser> cri_, docker_;
};

class ContainerPlugin final : public ParserPlugin {
 public:
  ContainerPlugin(PluginContext& ctx, const Params& params) {
    const bool merge = params.flag("merge_partial");
    const uint64_t limit = params.size("max_partial_size");
    CriOptions c;
    c.time.configure(params);
    c.time.keep = params.has("keep_time_key") ? params.flag("keep_time_key") : true;
    c.merge_partial = merge;
    c.max_partial_size = limit;
    cri_ = std::make_unique<CriPlugin>(ctx, std::move(c), "container");
    JsonOptions j;
    j.time.configure(params);
    j.time.keep = params.has("keep_time_key") ? params.flag("keep_time_key") : false;
    j.docker = merge;
    j.max_partial_size = limit;
    docker_ = std::make_unique<JsonPlugin>(ctx, std::move(j), "container");
  }
  std::unique_ptr<Parser> open_stream(std::string_view name) override {
    return std::make_unique<ContainerParser>(cri_->open_stream(name), docker_->open_stream(name));
  }

 private:
  std::unique_ptr<CriPlugin> cri_;
  std::unique_ptr<JsonPlugin> docker_;
};

PluginSpec container_spec(const char* type) {
  PluginSpec spec;
  spec.kind = "parser";
  spec.type = type;
  spec.doc = "Container logs in either format, detected per line: docker json-file (a line starting with `{`) "
             "as `docker`, anything else as `cri`. Partial lines of both formats are joined.";
  auto add = [&](std::string name, ParamType t, std::string def, std::string doc, bool has_default = true) {
    ParamSpec p;
    p.name = std::move(name);
    p.type = t;
    p.default_value = std::move(def);
    p.has_default = has_default;
    p.doc = std::move(doc);
    spec.params.push_back(std::move(p));
  };
  add("time_key", ParamType::String, "time", "Field holding the time (CRI: the stamp; docker: `time`).");
  add("time_format", ParamType::String, "%Y-%m-%dT%H:%M:%S.%N%:z",
      "Format of the time stamps (RFC 3339 by default, read on a fast path).");
  add("keep_time_key", ParamType::Bool, "", "Keep the time field (default: true for CRI lines, false for docker lines).",
      false);
  add("localtime", ParamType::Bool, "true", "Times without a zone are local time.");
  add("utc", ParamType::Bool, "false", "Times without a zone are UTC.");
  add("timezone", ParamType::String, "", "Zone for times without one (fixed offset).", false);
  add("merge_partial", ParamType::Bool, "true",
      "Join CRI P lines and docker 16 KiB split lines of one stream into one record.");
  add("max_partial_size", ParamType::Size, "1m",
      "Bound on a joined message; beyond it the collected part is emitted with _partial_truncated true.");
  return spec;
}

}  // namespace

}  // namespace parsers

void register_parser_container(Registry& registry) {
  for (const char* type : {"container", "auto"}) {
    registry.add_parser(parsers::container_spec(type), [](PluginContext& ctx, const Params& params) {
      return std::make_unique<parsers::ContainerPlugin>(ctx, params);
    });
  }
}

}  // namespace sluice
