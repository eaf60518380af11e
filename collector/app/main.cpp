// The sluice binary: parse the command line and configuration, build the pipeline, run the loop
// until a signal (or the end of input with `tail --exit-on-eof`), then shut down cleanly.
#include <signal.h>
#include <uv.h>

#include <cstdio>
#include <iostream>

#include "app/cli.h"
#include "config/config.h"
#include "core/log.h"
#include "core/pipeline.h"
#include "core/registry.h"

namespace sluice {
namespace {

constexpr uint64_t kShutdownTimeoutMs = 20000;

struct App {
  uv_loop_t* loop;
  Pipeline* pipeline;
  bool exit_on_eof = false;
  bool stopping = false;
  int eof_checks = 0;
  uv_signal_t sigterm, sigint;
  uv_timer_t eof_timer, watchdog;
};

void close_everything(uv_loop_t* loop) {
  uv_walk(
      loop,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
}

void begin_shutdown(App& app, const char* why) {
  if (app.stopping) return;
  app.stopping = true;
  log::info(std::string("shutting down (") + why + ")");
  uv_timer_init(app.loop, &app.watchdog);
  app.watchdog.data = &app;
  uv_timer_start(
      &app.watchdog,
      [](uv_timer_t* t) {
        log::error("outputs did not finish within the shutdown timeout; exiting with what was "
                   "acknowledged");
        auto* a = static_cast<App*>(t->data);
        close_everything(a->loop);
        uv_stop(a->loop);
      },
      kShutdownTimeoutMs, 0);
  app.pipeline->stop([&app] { close_everything(app.loop); });
}

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
  if (!options.log_level.empty()) {
    log::Level level;
    if (!log::parse_level(options.log_level, level)) {
      std::cerr << "sluice: unknown log level '" << options.log_level << "'\n";
      return 2;
    }
    log::set_level(level);
  }

  Registry registry;
  register_all_plugins(registry);
  registry.add_spec(system_spec());
  if (options.mode == CliOptions::Mode::Plugins) {
    print_plugins(registry);
    return 0;
  }

  ParseConfigResult parsed;
  if (options.mode == CliOptions::Mode::Tail) {
    std::string text;
    if (!tail_config(options, text, error)) {
      std::cerr << "sluice: " << error << "\n";
      return 2;
    }
    parsed = parse_config_text(text, "<sluice tail>", ".");
  } else if (options.config_path.empty()) {
    parsed = parse_config_text(default_config(), "<embedded default>", ".");
  } else {
    parsed = parse_config_file(options.config_path);
  }

  uv_loop_t* loop = uv_default_loop();
  Metrics metrics;
  Pipeline pipeline(loop, registry, metrics);
  std::vector<ConfigError> errors = parsed.errors;
  bool dry_run = options.mode == CliOptions::Mode::DryRun;
  if (errors.empty()) {
    auto build_errors = pipeline.build(parsed.root, dry_run);
    errors.insert(errors.end(), build_errors.begin(), build_errors.end());
  }
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
  App app{loop, &pipeline};
  app.exit_on_eof = options.exit_on_eof;
  uv_signal_init(loop, &app.sigterm);
  uv_signal_init(loop, &app.sigint);
  app.sigterm.data = app.sigint.data = &app;
  uv_signal_start(&app.sigterm, [](uv_signal_t* s, int) { begin_shutdown(*static_cast<App*>(s->data), "SIGTERM"); }, SIGTERM);
  uv_signal_start(&app.sigint, [](uv_signal_t* s, int) { begin_shutdown(*static_cast<App*>(s->data), "SIGINT"); }, SIGINT);
  if (app.exit_on_eof) {
    uv_timer_init(loop, &app.eof_timer);
    app.eof_timer.data = &app;
    uv_timer_start(
        &app.eof_timer,
        [](uv_timer_t* t) {
          auto* a = static_cast<App*>(t->data);
          // Seen at the end twice in a row, so a read that was just scheduled is not missed.
          a->eof_checks = a->pipeline->inputs_at_eof() ? a->eof_checks + 1 : 0;
          if (a->eof_checks >= 2) {
            uv_timer_stop(t);
            begin_shutdown(*a, "end of input");
          }
        },
        50, 50);
  }
  log::info("sluice " SLUICE_VERSION " starting");
  pipeline.start();
  // The line Fluentd prints once its worker runs; tests and operators wait for it.
  log::info("worker is now running worker=0");
  uv_run(loop, UV_RUN_DEFAULT);
  // Handles closed by close_everything need one more turn to run their close callbacks.
  uv_run(loop, UV_RUN_DEFAULT);
  log::info("sluice stopped");
  return 0;
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) { return sluice::run(argc, argv); }
