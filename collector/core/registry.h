// The plugin registry. Each plugin folder defines `void register_<folder>(Registry&)`;
// the build generates the call list, so the core never names a plugin.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/params.h"
#include "core/plugin.h"

namespace sluice {

using InputFactory = std::function<std::unique_ptr<Input>(PluginContext&, const Params&)>;
using ParserFactory = std::function<std::unique_ptr<ParserPlugin>(PluginContext&, const Params&)>;
using FilterFactory = std::function<std::unique_ptr<Filter>(PluginContext&, const Params&)>;
using OutputFactory = std::function<std::unique_ptr<Output>(PluginContext&, const Params&)>;
using SecondaryFactory = std::function<std::unique_ptr<buffer::Secondary>(PluginContext&, const Params&)>;

class Registry {
 public:
  void add_input(PluginSpec spec, InputFactory f);
  void add_parser(PluginSpec spec, ParserFactory f);
  void add_filter(PluginSpec spec, FilterFactory f);
  void add_output(PluginSpec spec, OutputFactory f);
  // Writers of given-up chunks for <secondary> sections (kind "secondary").
  void add_secondary(PluginSpec spec, SecondaryFactory f);
  // Other declarations (buffer, formatter kinds) so they are validated and listed.
  void add_spec(PluginSpec spec);

  const PluginSpec* spec(const std::string& kind, const std::string& type) const;
  const InputFactory* input(const std::string& type) const;
  const ParserFactory* parser(const std::string& type) const;
  const FilterFactory* filter(const std::string& type) const;
  const OutputFactory* output(const std::string& type) const;
  const SecondaryFactory* secondary(const std::string& type) const;
  std::vector<const PluginSpec*> all() const;

 private:
  std::map<std::string, PluginSpec> specs_;  // key: kind + "/" + type
  std::map<std::string, InputFactory> inputs_;
  std::map<std::string, ParserFactory> parsers_;
  std::map<std::string, FilterFactory> filters_;
  std::map<std::string, OutputFactory> outputs_;
  std::map<std::string, SecondaryFactory> secondaries_;
};

// Defined in the generated register_plugins.cpp.
void register_all_plugins(Registry& registry);

}  // namespace sluice
