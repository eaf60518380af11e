// One worker: an event loop with its own pipeline (inputs, filters, outputs), as a Fluentd
// worker process is. Worker 0 runs on the main thread and owns the signals; the others run on
// threads of their own and are told to stop through an async handle.
#pragma once

#include <uv.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "config/config.h"
#include "core/pipeline.h"

namespace sluice {

class Worker {
 public:
  Worker(int id, int workers, Registry& registry, Metrics& metrics);
  ~Worker();

  std::vector<ConfigError> build(const ConfigSection& root, bool dry_run);
  // Runs the loop on the calling thread until the pipeline has stopped.
  void run(bool exit_on_eof);
  // Runs on a new thread.
  void run_in_thread(bool exit_on_eof);
  void join();
  // Thread-safe: asks the worker to stop (flush, write positions, end its loop).
  void request_stop(const char* why);
  bool stopped() const { return stopped_; }

 private:
  void begin_shutdown();
  static void close_everything(uv_loop_t* loop);

  int id_;
  uv_loop_t loop_;
  std::unique_ptr<Pipeline> pipeline_;
  uv_async_t* stop_async_ = nullptr;
  uv_timer_t* eof_timer_ = nullptr;
  uv_timer_t* watchdog_ = nullptr;
  std::atomic<const char*> stop_reason_{nullptr};
  bool stopping_ = false;
  std::atomic<bool> stopped_{false};
  int eof_checks_ = 0;
  std::thread thread_;
};

}  // namespace sluice
