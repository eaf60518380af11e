// The sluice binary: parse the command line and configuration, build the pipeline, run the loop
// until a signal (or the end of input with `tail --exit-on-eof`), then shut down cleanly.
#include <signal.h>
#include <uv.h>

#include <cstdio>
#include <iostream>

#include "app/cli.h"
#include "config/config.h"
#include "config/ruby_eval.h"
#include "core/log.h"
#include "core/pipeline.h"
#include "core/registry.h"
#include "app/worker.h"

#include <pthread.h>
#include <sys/resource.h>
#include <thread>

namespace sluice {
namespace {

void print_plugins(const Registry& registry) {
  for (const PluginSpec* s : registry.all()) {
    std::cout << s->kind << " " << s->type << ": " << s->doc << "\n";
    for (auto& p : s->params) {
      std::cout << "    " << p.name;
      if (p.required) std::cout << " (required)";
      else if (p.has_default && !p.default_value.empty()) std::cout << " [" << p.default_value << "]";
      if (p.ignored) std::cout << " (accepted, ignored)";
      std::cout << "  " << p.doc << "\n";
    }
  }
}

int run(int argc, char** argv) {
  CliOptions options;
  std::string error;
  if (!parse_cli(argc, argv, options, error)) {
    std::cerr << "sluice: " << error << "\n\n" << usage();
    return 2;
  }
  if (options.mode == CliOptions::Mode::Help) {
    std::cout << usage();
    return 0;
  }
  if (options.mode == CliOptions::Mode::Version) {
    std::cout << "sluice " SLUICE_VERSION "\n";
    return 0;
  }
  log::Level cli_level = log::Level::Info;
  if (!options.log_level.empty()) {
    if (!log::parse_level(options.log_level, cli_level)) {
      std::cerr << "sluice: unknown log level '" << options.log_level << "'\n";
      return 2;
    }
    log::set_level(cli_level);
  }

  Registry registry;
  register_all_plugins(registry);
  registry.add_spec(system_spec());
  if (options.mode == CliOptions::Mode::Plugins) {
    print_plugins(registry);
    return 0;
  }

  std::string tail_text;
  if (options.mode == CliOptions::Mode::Tail && !tail_config(options, tail_text, error)) {
    std::cerr << "sluice: " << error << "\n";
    return 2;
  }
  // Read once per worker: "#{worker_id}" gives each its own id, as in Fluentd's worker processes.
  auto read_config = [&](int worker_id) {
    ruby::set_worker_id(worker_id);
    if (options.mode == CliOptions::Mode::Tail) return parse_config_text(tail_text, "<sluice tail>", ".");
    if (options.config_path.empty())
      return parse_config_text(default_config(), "<embedded default>", ".");
    return parse_config_file(options.config_path);
  };
  ParseConfigResult parsed = read_config(0);

  Metrics metrics;
  bool dry_run = options.mode == CliOptions::Mode::DryRun;
  int workers = parsed.errors.empty() ? configured_workers(parsed.root) : 1;
  std::vector<std::unique_ptr<Worker>> pool;
  std::vector<ConfigError> errors = parsed.errors;
  if (errors.empty()) {
    for (int id = 0; id < workers && errors.empty(); ++id) {
      if (id > 0) {
        parsed = read_config(id);
        errors.insert(errors.end(), parsed.errors.begin(), parsed.errors.end());
        if (!errors.empty()) break;
      }
      pool.push_back(std::make_unique<Worker>(id, workers, registry, metrics));
      auto build_errors = pool.back()->build(parsed.root, dry_run);
      errors.insert(errors.end(), build_errors.begin(), build_errors.end());
    }
  }
  // The command line wins over <system> log_level, as in Fluentd.
  if (!options.log_level.empty()) log::set_level(cli_level);
  if (!errors.empty()) {
    for (auto& e : errors) std::cerr << e.to_string() << "\n";
    std::cerr << "sluice: " << errors.size() << " configuration error"
              << (errors.size() == 1 ? "" : "s") << "\n";
    return 1;
  }
  if (dry_run) {
    std::cout << "configuration is valid\n";
    return 0;
  }

  signal(SIGPIPE, SIG_IGN);
  // A node has thousands of container logs: take every descriptor the hard limit allows.
  rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  // Signals are handled on their own thread so that every worker loop can be told to stop.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  log::info("sluice " SLUICE_VERSION " starting with " + std::to_string(workers) + " worker" +
            (workers == 1 ? "" : "s"));
  for (size_t i = 1; i < pool.size(); ++i) pool[i]->run_in_thread(options.exit_on_eof);
  std::thread signal_thread([&pool, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    const char* why = sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "shutdown";
    for (auto& w : pool) w->request_stop(why);
  });
  pool[0]->run(options.exit_on_eof);
  for (size_t i = 1; i < pool.size(); ++i) pool[i]->join();
  // Wake the signal thread if the workers ended on their own (--exit-on-eof).
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  pool.clear();
  log::info("sluice stopped");
  return 0;
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) { return sluice::run(argc, argv); }
