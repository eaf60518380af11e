#include "core/plugin.h"
#include "core/registry.h"

namespace sluice {

const PluginSpec* PluginContext::check_section(const ConfigSection& section,
                                               const std::string& kind,
                                               const std::string& default_type) const {
  std::string type = section.get("@type", default_type);
  const PluginSpec* spec = registry->spec(kind, type);
  if (!spec) {
    std::string msg = type.empty() ? "<" + section.name + "> needs @type"
                                   : "unknown " + kind + " type '" + type + "' in <" +
                                         section.name + ">";
    if (errors) errors->push_back({section.pos, msg});
    return nullptr;
  }
  if (errors)
    for (auto& e : validate_params(section, *spec)) errors->push_back(e);
  return spec;
}

std::unique_ptr<ParserPlugin> PluginContext::make_parser(const ConfigSection* parse,
                                                         const std::string& default_type) const {
  static const ConfigSection empty{"parse", "", {}, {}, {}};
  std::string type = (parse ? *parse : empty).get("@type", default_type);
  // Fluentd's Plugin.new_parser: a type written `/.../` is a regexp parser with that expression
  // (the v0.12 `format /re/`, multi_format's patterns).
  ConfigSection regexp_form;
  if (parse && type.size() >= 2 && type.front() == '/' && type.back() == '/') {
    regexp_form = *parse;
    const ConfigParam* written = parse->param("@type");
    const SourcePos at = written ? written->pos : parse->pos;
    std::erase_if(regexp_form.params, [](const ConfigParam& p) { return p.key == "@type"; });
    regexp_form.params.push_back({"@type", "regexp", at});
    regexp_form.params.push_back({"expression", type, at});
    type = "regexp";
    parse = &regexp_form;
  }
  const ConfigSection& section = parse ? *parse : empty;
  SourcePos pos = parse ? parse->pos : (this->section ? this->section->pos : SourcePos{});
  const ParserFactory* factory = registry->parser(type);
  const PluginSpec* spec = registry->spec("parser", type);
  if (type.empty())
    throw ConfigException(pos, parse ? "<parse> needs @type (e.g. @type cri)"
                                     : "a <parse> section is required (e.g. <parse> @type cri </parse>)");
  if (!factory || !spec) throw ConfigException(pos, "unknown parser type '" + type + "'");
  if (errors && parse)
    for (auto& e : validate_params(section, *spec)) errors->push_back(e);
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
  if (!factory || !spec)
    throw ConfigException(section.pos, type.empty() ? "<" + section.name + "> needs @type"
                                                    : "unknown output plugin '" + type + "'");
  if (errors)
    for (auto& e : validate_params(section, *spec)) errors->push_back(e);
  PluginContext child = *this;
  child.section = &section;
  child.id = section.get("@id", id + "." + id_suffix);
  Params params(section, *spec);
  return (*factory)(child, params);
}

std::unique_ptr<buffer::Secondary> PluginContext::make_secondary(const ConfigSection& match) const {
  const ConfigSection* section = match.child("secondary");
  if (!section) return nullptr;
  const std::string type = section->get("@type");
  const SecondaryFactory* factory = registry->secondary(type);
  const PluginSpec* spec = registry->spec("secondary", type);
  if (!factory || !spec) {
    std::string known;
    for (const PluginSpec* s : registry->all())
      if (s->kind == "secondary") known += (known.empty() ? "" : ", ") + s->type;
    throw ConfigException(section->pos, (type.empty() ? std::string("<secondary> needs @type")
                                                      : "<secondary> @type " + type + " is not supported") +
                                            ": sluice writes the chunks an output gives up on with " + known +
                                            " (as the output formatted them)");
  }
  if (errors)
    for (auto& e : validate_params(*section, *spec)) errors->push_back(e);
  PluginContext child = *this;
  child.section = section;
  Params params(*section, *spec);
  return (*factory)(child, params);
}

Counter& PluginContext::counter(const std::string& name) const {
  return metrics->counter(name + "{plugin=\"" + id + "\"}");
}

}  // namespace sluice
