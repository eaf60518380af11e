// A running configuration: routers per label, and the inputs, filters and outputs the config
// declares, built through the registry.
#pragma once

#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/flow.h"
#include "core/metrics.h"
#include "core/plugin.h"
#include "core/registry.h"
#include "core/worker_sections.h"
#include "router/router.h"

namespace sluice {

class Pipeline {
 public:
  Pipeline(uv_loop_t* loop, Registry& registry, Metrics& metrics, int worker_id = 0,
           int workers = 1);
  ~Pipeline();

  // Builds every plugin; returns every error found (empty on success). With dry_run, plugins
  // are built but nothing is opened or started.
  std::vector<ConfigError> build(const ConfigSection& root, bool dry_run);

  void start();
  // Stops the inputs, closes the outputs (flushing them), lets the inputs write their final
  // positions, then calls done.
  void stop(std::function<void()> done);
  bool inputs_at_eof() const;

  FlowControl& flow() { return flow_; }
  const ConfigSection& config() const { return config_; }

 private:
  void build_label(const ConfigSection& body, Router& router, std::vector<ConfigError>& errors);
  void build_source(const ConfigSection& s, std::vector<ConfigError>& errors);
  PluginContext context_for(const ConfigSection& s, const std::string& kind,
                            std::vector<ConfigError>& errors);
  Router& router(const std::string& label);

  uv_loop_t* loop_;
  Registry& registry_;
  Metrics& metrics_;
  FlowControl flow_;
  ConfigSection config_;
  bool dry_run_ = false;
  std::string root_dir_;  // <system> root_dir
  int worker_id_ = 0;
  int workers_ = 1;
  std::map<std::string, std::unique_ptr<Router>> routers_;
  std::vector<std::unique_ptr<Input>> inputs_;
  std::vector<std::unique_ptr<Filter>> filters_;
  std::vector<std::unique_ptr<Output>> outputs_;
  std::map<std::string, int> id_counts_;
  // Sources from <worker> sections, with the workers they run on.
  std::map<const ConfigSection*, WorkerScope> scopes_;
};

// The `<system>` directive's declaration (log_level, workers, ...).
PluginSpec system_spec();
// `<system> workers`, 1 when absent or invalid.
int configured_workers(const ConfigSection& root);

}  // namespace sluice
