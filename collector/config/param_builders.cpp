#include "config/params.h"

namespace sluice::spec {

ParamSpec with_default(std::string name, ParamType type, std::string default_value, std::string doc) {
  ParamSpec p;
  p.name = std::move(name);
  p.type = type;
  p.default_value = std::move(default_value);
  p.doc = std::move(doc);
  return p;
}

ParamSpec optional(std::string name, ParamType type, std::string doc) {
  ParamSpec p = with_default(std::move(name), type, "", std::move(doc));
  p.has_default = false;
  return p;
}

ParamSpec secret(std::string name, ParamType type, std::string doc) {
  ParamSpec p = optional(std::move(name), type, std::move(doc));
  p.secret = true;
  return p;
}

ParamSpec ignored(std::string name, ParamType type, std::string doc) {
  ParamSpec p = optional(std::move(name), type, std::move(doc));
  p.ignored = true;
  return p;
}

ParamSpec choice(std::string name, std::string default_value, std::vector<std::string> choices,
                 std::string doc) {
  ParamSpec p = with_default(std::move(name), ParamType::Enum, std::move(default_value), std::move(doc));
  p.choices = std::move(choices);
  return p;
}

}  // namespace sluice::spec
