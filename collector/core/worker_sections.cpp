#include "core/worker_sections.h"

#include <cctype>
#include <set>
#include <string>

namespace sluice {

namespace {

bool parse_id(const std::string& s, int& out) {
  if (s.empty() || s.size() > 3) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  out = std::stoi(s);
  return true;
}

// "N" or "N-M"; false (with the error) when malformed or outside 0..workers-1.
bool parse_scope(const ConfigSection& s, int workers, WorkerScope& scope, std::vector<ConfigError>& errors) {
  std::string arg = s.arg;
  while (!arg.empty() && std::isspace(static_cast<unsigned char>(arg.back()))) arg.pop_back();
  if (arg.empty()) {
    errors.push_back({s.pos, "missing worker id on <worker> directive"});
    return false;
  }
  size_t dash = arg.find('-');
  bool ok = dash == std::string::npos
                ? parse_id(arg, scope.first) && (scope.last = scope.first, true)
                : parse_id(arg.substr(0, dash), scope.first) && parse_id(arg.substr(dash + 1), scope.last);
  if (!ok) {
    errors.push_back({s.pos, "<worker " + arg + ">: expected a worker id or a range like 0-1"});
    return false;
  }
  if (scope.first > scope.last) {
    errors.push_back({s.pos, "<worker " + arg + ">: the first worker id is greater than the last"});
    return false;
  }
  if (scope.last >= workers) {
    errors.push_back({s.pos, "<worker " + arg + ">: worker ids go from 0 to " + std::to_string(workers - 1) +
                                 " (<system> workers " + std::to_string(workers) + ")"});
    return false;
  }
  return true;
}

}  // namespace

WorkerConfig config_for_worker(const ConfigSection& root, int worker, int workers,
                               std::vector<ConfigError>& errors) {
  static const std::set<std::string> allowed = {"source", "filter", "match", "label"};
  WorkerConfig out;
  out.root = root;
  out.root.children.clear();
  std::vector<std::pair<const ConfigSection*, WorkerScope>> sections;
  std::set<int> named;
  for (auto& s : root.children) {
    if (s.name != "worker") {
      out.root.children.push_back(s);
      continue;
    }
    WorkerScope scope;
    if (!parse_scope(s, workers, scope, errors)) continue;
    for (int w = scope.first; w <= scope.last; ++w)
      if (!named.insert(w).second)
        errors.push_back({s.pos, "worker " + std::to_string(w) + " is named by two <worker> sections"});
    for (auto& p : s.params)
      errors.push_back({p.pos, "parameter '" + p.key + "' directly in <worker>"});
    for (auto& c : s.children)
      if (!allowed.count(c.name))
        errors.push_back({c.pos, "<worker> section cannot have <" + c.name + "> directive"});
    sections.emplace_back(&s, scope);
  }
  for (auto& [s, scope] : sections) {
    if (worker < scope.first || worker > scope.last) continue;
    for (auto& c : s->children) {
      if (!allowed.count(c.name)) continue;
      out.scoped[out.root.children.size()] = scope;
      out.root.children.push_back(c);
    }
  }
  return out;
}

}  // namespace sluice
