#include "core/registry.h"

namespace sluice {

namespace {
std::string key(const std::string& kind, const std::string& type) { return kind + "/" + type; }
}  // namespace

void Registry::add_spec(PluginSpec spec) {
  std::string k = key(spec.kind, spec.type);
  specs_[k] = std::move(spec);
}

void Registry::add_input(PluginSpec spec, InputFactory f) {
  inputs_[spec.type] = std::move(f);
  add_spec(std::move(spec));
}

void Registry::add_parser(PluginSpec spec, ParserFactory f) {
  parsers_[spec.type] = std::move(f);
  add_spec(std::move(spec));
}

void Registry::add_filter(PluginSpec spec, FilterFactory f) {
  filters_[spec.type] = std::move(f);
  add_spec(std::move(spec));
}

void Registry::add_output(PluginSpec spec, OutputFactory f) {
  outputs_[spec.type] = std::move(f);
  add_spec(std::move(spec));
}

void Registry::add_secondary(PluginSpec spec, SecondaryFactory f) {
  secondaries_[spec.type] = std::move(f);
  add_spec(std::move(spec));
}

const PluginSpec* Registry::spec(const std::string& kind, const std::string& type) const {
  auto it = specs_.find(key(kind, type));
  return it == specs_.end() ? nullptr : &it->second;
}

template <typename Map>
static auto* lookup(const Map& m, const std::string& type) {
  auto it = m.find(type);
  return it == m.end() ? nullptr : &it->second;
}

const InputFactory* Registry::input(const std::string& type) const { return lookup(inputs_, type); }
const ParserFactory* Registry::parser(const std::string& type) const { return lookup(parsers_, type); }
const FilterFactory* Registry::filter(const std::string& type) const { return lookup(filters_, type); }
const OutputFactory* Registry::output(const std::string& type) const { return lookup(outputs_, type); }
const SecondaryFactory* Registry::secondary(const std::string& type) const { return lookup(secondaries_, type); }

std::vector<const PluginSpec*> Registry::all() const {
  std::vector<const PluginSpec*> out;
  for (auto& [k, v] : specs_) out.push_back(&v);
  return out;
}

}  // namespace sluice
