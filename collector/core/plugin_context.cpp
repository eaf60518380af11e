#include "core/plugin.h"
#include "core/registry.h"

namespace sluice {

std::unique_ptr<ParserPlugin> PluginContext::make_parser(const ConfigSection* parse,
                                                         const std::string& default_type) const {
  static const ConfigSection empty;
  const ConfigSection& section = parse ? *parse : empty;
  std::string type = section.get("@type", default_type);
  SourcePos pos = parse ? parse->pos : (this->section ? this->section->pos : SourcePos{});
  const ParserFactory* factory = registry->parser(type);
  const PluginSpec* spec = registry->spec("parser", type);
  if (!factory || !spec) throw ConfigException(pos, "unknown parser type '" + type + "'");
  PluginContext child = *this;
  child.section = &section;
  Params params(section, *spec);
  return (*factory)(child, params);
}

std::unique_ptr<Output> PluginContext::make_output(const ConfigSection& section,
                                                   const std::string& id_suffix) const {
  std::string type = section.get("@type");
  const OutputFactory* factory = registry->output(type);
  const PluginSpec* spec = registry->spec("output", type);
  if (!factory || !spec) throw ConfigException(section.pos, "unknown output plugin '" + type + "'");
  PluginContext child = *this;
  child.section = &section;
  child.id = section.get("@id", id + "." + id_suffix);
  Params params(section, *spec);
  return (*factory)(child, params);
}

}  // namespace sluice
