// `@type none`: the whole line is the record's message ({"message": line}), time = now.
#include "core/registry.h"
#include "parser_common.h"

namespace sluice {

namespace {

class NoneParser final : public Parser {
 public:
  explicit NoneParser(std::string_view key) : key_(key) {}
  void parse(std::span<const Line> lines, Batch& out) override {
    const EventTime t = now();
    for (const Line& line : lines) {
      out.begin_record(t, line.offset);
      out.add_field(key_, Value::of_string(line.bytes));
    }
  }

 private:
  std::string_view key_;
};

class NonePlugin final : public ParserPlugin {
 public:
  explicit NonePlugin(const Params& params) : key_(params.str("message_key")) {}
  std::unique_ptr<Parser> open_stream(std::string_view) override { return std::make_unique<NoneParser>(key_); }

 private:
  std::string key_;
};

}  // namespace

void register_parser_none(Registry& registry) {
  PluginSpec spec;
  spec.kind = "parser";
  spec.type = "none";
  spec.doc = "The whole line as {\"message\": line}, with the current time (Fluentd parser_none).";
  ParamSpec key;
  key.name = "message_key";
  key.default_value = "message";
  key.doc = "Field the line is stored in.";
  spec.params.push_back(key);
  parsers::add_base_params(spec, {});
  registry.add_parser(std::move(spec), [](PluginContext&, const Params& params) {
    return std::make_unique<NonePlugin>(params);
  });
}

}  // namespace sluice
