#include "core/pipeline.h"

#include <set>

#include "core/log.h"

namespace sluice {

PluginSpec system_spec() {
  PluginSpec s{"system", "system", "Process-wide settings (Fluentd's <system>).", {}, {"log"}};
  s.params = {
      {"log_level", ParamType::Enum, "info", "Minimum level of the collector's own log.",
       {"trace", "debug", "info", "warn", "error", "fatal"}},
      {"workers", ParamType::Integer, "1",
       "Worker threads (1-64), each with its own loop and outputs; a tail shares its files "
       "among them. <worker N> / <worker N-M> sections hold directives for some workers only."},
      {"root_dir", ParamType::String, "", "Directory for file buffers and state.", {}, false},
      {"suppress_repeated_stacktrace", ParamType::Bool, "true", "Accepted; ignored.", {}, true,
       false, false, true},
      {"emit_error_log_interval", ParamType::Duration, "0", "Accepted; ignored.", {}, true, false,
       false, true},
      {"suppress_config_dump", ParamType::Bool, "false", "Accepted; ignored.", {}, true, false,
       false, true},
      {"without_source", ParamType::Bool, "false", "Start without inputs."},
      {"process_name", ParamType::String, "", "Accepted; ignored.", {}, true, false, false, true},
      {"enable_input_metrics", ParamType::Bool, "false", "Accepted; ignored.", {}, true, false,
       false, true},
      {"enable_size_metrics", ParamType::Bool, "false", "Accepted; ignored.", {}, true, false,
       false, true},
  };
  return s;
}

Pipeline::Pipeline(uv_loop_t* loop, Registry& registry, Metrics& metrics, int worker_id,
                   int workers)
    : loop_(loop), registry_(registry), metrics_(metrics), worker_id_(worker_id), workers_(workers) {}

int configured_workers(const ConfigSection& root) {
  for (auto& s : root.children)
    if (s.name == "system") {
      try {
        int n = std::stoi(s.get("workers", "1"));
        return n >= 1 && n <= 64 ? n : 1;
      } catch (...) {
        return 1;
      }
    }
  return 1;
}

Pipeline::~Pipeline() = default;

Router& Pipeline::router(const std::string& label) {
  auto& r = routers_[label];
  if (!r) r = std::make_unique<Router>(label, metrics_);
  return *r;
}

PluginContext Pipeline::context_for(const ConfigSection& s, const std::string& kind,
                                    std::vector<ConfigError>& errors) {
  PluginContext ctx;
  ctx.loop = loop_;
  ctx.registry = &registry_;
  ctx.metrics = &metrics_;
  ctx.flow = &flow_;
  ctx.section = &s;
  ctx.dry_run = dry_run_;
  ctx.errors = &errors;
  ctx.worker_id = worker_id_;
  ctx.workers = workers_;
  ctx.root_dir = root_dir_;
  std::string type = s.get("@type");
  std::string prefix = (kind == "input" ? "in_" : kind == "filter" ? "filter_" : "out_") + type;
  auto scoped = scopes_.find(&s);
  if (scoped != scopes_.end()) {
    // A source in <worker N-M> runs on those workers only: to it they are workers 0 to M-N (a
    // tail there shares its files among them alone; a forward input listens on worker N). Its
    // generated id names the range, so that sources of different ranges never share one.
    const WorkerScope& w = scoped->second;
    ctx.worker_id = worker_id_ - w.first;
    ctx.workers = w.size();
    prefix.append("_w").append(std::to_string(w.first));
    if (w.size() > 1) prefix.append("-").append(std::to_string(w.last));
  }
  int n = id_counts_[prefix]++;
  ctx.id = s.get("@id", prefix + "_" + std::to_string(n));
  ctx.label_emitter = [this](const std::string& label) -> Emitter* {
    auto it = routers_.find(label);
    return it == routers_.end() ? nullptr : it->second.get();
  };
  return ctx;
}

namespace {
const PluginSpec* lookup_spec(Registry& registry, const ConfigSection& s, const std::string& kind,
                              std::vector<ConfigError>& errors) {
  std::string type = s.get("@type");
  if (type.empty()) {
    errors.push_back({s.pos, "<" + s.name + "> needs @type"});
    return nullptr;
  }
  const PluginSpec* spec = registry.spec(kind, type);
  if (!spec) {
    errors.push_back({s.pos, "unknown " + kind + " plugin '" + type + "' in <" + s.name +
                                 (s.arg.empty() ? "" : " " + s.arg) + ">"});
    return nullptr;
  }
  for (auto& e : validate_params(s, *spec)) errors.push_back(e);
  return spec;
}
}  // namespace

void Pipeline::build_label(const ConfigSection& body, Router& r, std::vector<ConfigError>& errors) {
  for (auto& s : body.children) {
    if (s.name != "filter" && s.name != "match") continue;
    std::unique_ptr<TagPattern> pattern;
    try {
      pattern = std::make_unique<TagPattern>(s.arg);
    } catch (const std::exception& e) {
      errors.push_back({s.pos, e.what()});
      continue;
    }
    const std::string kind = s.name == "filter" ? "filter" : "output";
    const PluginSpec* spec = lookup_spec(registry_, s, kind, errors);
    if (!spec) continue;
    PluginContext ctx = context_for(s, kind, errors);
    ctx.emitter = &r;
    try {
      Params params(s, *spec);
      if (kind == "filter") {
        filters_.push_back((*registry_.filter(spec->type))(ctx, params));
        r.add_filter(std::move(*pattern), filters_.back().get());
      } else {
        outputs_.push_back((*registry_.output(spec->type))(ctx, params));
        r.add_match(std::move(*pattern), outputs_.back().get());
      }
    } catch (const ConfigException& e) {
      errors.push_back(e.error);
    }
  }
}

void Pipeline::build_source(const ConfigSection& s, std::vector<ConfigError>& errors) {
  const PluginSpec* spec = lookup_spec(registry_, s, "input", errors);
  if (!spec) return;
  PluginContext ctx = context_for(s, "input", errors);
  std::string label = s.get("@label");
  if (!label.empty()) {
    auto it = routers_.find(label);
    if (it == routers_.end()) {
      errors.push_back({s.param("@label")->pos, "unknown label '" + label + "'"});
      return;
    }
    ctx.emitter = it->second.get();
  } else {
    ctx.emitter = &router("");
  }
  try {
    Params params(s, *spec);
    inputs_.push_back((*registry_.input(spec->type))(ctx, params));
  } catch (const ConfigException& e) {
    errors.push_back(e.error);
  }
}

std::vector<ConfigError> Pipeline::build(const ConfigSection& root, bool dry_run) {
  dry_run_ = dry_run;
  std::vector<ConfigError> errors;
  WorkerConfig own = config_for_worker(root, worker_id_, workers_, errors);
  config_ = std::move(own.root);
  for (auto& [index, scope] : own.scoped)
    if (config_.children[index].name == "source") scopes_[&config_.children[index]] = scope;
  static const std::set<std::string> directives = {"source", "match", "filter", "label", "system"};
  for (auto& p : config_.params)
    errors.push_back({p.pos, "parameter '" + p.key + "' outside of any directive"});
  bool without_source = false;
  for (auto& s : config_.children) {
    if (!directives.count(s.name)) {
      errors.push_back({s.pos, "unknown directive <" + s.name + ">"});
      continue;
    }
    if (s.name == "system") {
      PluginSpec spec = system_spec();
      for (auto& e : validate_params(s, spec)) errors.push_back(e);
      // Only when given: a <system> without log_level leaves the level as it is.
      log::Level level;
      if (s.param("log_level") && log::parse_level(s.get("log_level"), level)) log::set_level(level);
      without_source = s.get("without_source") == "true";
      root_dir_ = s.get("root_dir");
    } else if (s.name == "label") {
      if (s.arg.empty() || s.arg[0] != '@')
        errors.push_back({s.pos, "label name must start with '@': '" + s.arg + "'"});
      else if (routers_.count(s.arg))
        errors.push_back({s.pos, "label " + s.arg + " is defined twice"});
      else
        router(s.arg);
    }
  }
  router("");
  // Labels first, so outputs such as relabel and copy can find them.
  for (auto& s : config_.children)
    if (s.name == "label" && !s.arg.empty() && s.arg[0] == '@') build_label(s, router(s.arg), errors);
  build_label(config_, router(""), errors);
  if (!without_source)
    for (auto& s : config_.children)
      if (s.name == "source") build_source(s, errors);

  // Nested sections can report the same problem twice (validation and construction).
  std::set<std::string> seen;
  std::vector<ConfigError> unique;
  for (auto& e : errors)
    if (seen.insert(e.to_string()).second) unique.push_back(e);
  return unique;
}

void Pipeline::start() {
  for (auto& o : outputs_) o->start();
  for (auto& f : filters_) f->start();
  for (auto& i : inputs_) i->start();
}

void Pipeline::stop(std::function<void()> done) {
  for (auto& i : inputs_) i->stop();
  for (auto& f : filters_) f->stop();
  auto remaining = std::make_shared<size_t>(outputs_.size());
  auto finish = [this, done]() {
    for (auto& i : inputs_) i->finish();
    done();
  };
  if (outputs_.empty()) {
    finish();
    return;
  }
  for (auto& o : outputs_)
    o->close([remaining, finish]() {
      if (--*remaining == 0) finish();
    });
}

bool Pipeline::inputs_at_eof() const {
  for (auto& i : inputs_)
    if (!i->at_eof()) return false;
  return true;
}

}  // namespace sluice
