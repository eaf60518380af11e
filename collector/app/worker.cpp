#include "app/worker.h"

#include "core/log.h"
#include "core/uv_handle.h"

namespace sluice {

namespace {
constexpr uint64_t kShutdownTimeoutMs = 20000;
}

Worker::Worker(int id, int workers, Registry& registry, Metrics& metrics) : id_(id) {
  uv_loop_init(&loop_);
  pipeline_ = std::make_unique<Pipeline>(&loop_, registry, metrics, id, workers);
  // Made before any thread can ask the worker to stop.
  stop_async_ = new_uv_handle<uv_async_t>(this);
  uv_async_init(&loop_, stop_async_, [](uv_async_t* h) {
    auto* self = static_cast<Worker*>(h->data);
    if (self) self->begin_shutdown();
  });
}

Worker::~Worker() {
  join();
  pipeline_.reset();
  close_everything(&loop_);
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
  // The worker's own handles, closed by close_everything above (without a callback to free them).
  delete stop_async_;
  delete eof_timer_;
  delete watchdog_;
}

std::vector<ConfigError> Worker::build(const ConfigSection& root, bool dry_run) {
  return pipeline_->build(root, dry_run);
}

void Worker::close_everything(uv_loop_t* loop) {
  uv_walk(
      loop,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
}

void Worker::run(bool exit_on_eof) {
  if (exit_on_eof) {
    eof_timer_ = new_uv_handle<uv_timer_t>(this);
    uv_timer_init(&loop_, eof_timer_);
    uv_timer_start(
        eof_timer_,
        [](uv_timer_t* t) {
          auto* self = static_cast<Worker*>(t->data);
          // At the end twice in a row, so a read that was just scheduled is not missed.
          self->eof_checks_ = self->pipeline_->inputs_at_eof() ? self->eof_checks_ + 1 : 0;
          if (self->eof_checks_ >= 2) {
            self->stop_reason_ = "end of input";
            self->begin_shutdown();
          }
        },
        50, 50);
  }
  pipeline_->start();
  // The line Fluentd prints once a worker runs; tests and operators wait for it.
  log::info("worker is now running worker=" + std::to_string(id_));
  uv_run(&loop_, UV_RUN_DEFAULT);
  // Handles closed at the end need one more turn to run their close callbacks.
  uv_run(&loop_, UV_RUN_DEFAULT);
  stopped_ = true;
}

void Worker::run_in_thread(bool exit_on_eof) {
  thread_ = std::thread([this, exit_on_eof] { run(exit_on_eof); });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::request_stop(const char* why) {
  const char* expected = nullptr;
  stop_reason_.compare_exchange_strong(expected, why);
  uv_async_send(stop_async_);
}

void Worker::begin_shutdown() {
  if (stopping_) return;
  stopping_ = true;
  const char* why = stop_reason_.load();
  log::info(std::string("shutting down worker=") + std::to_string(id_) + " (" +
            (why ? why : "requested") + ")");
  if (eof_timer_) uv_timer_stop(eof_timer_);
  watchdog_ = new_uv_handle<uv_timer_t>(this);
  uv_timer_init(&loop_, watchdog_);
  uv_timer_start(
      watchdog_,
      [](uv_timer_t* t) {
        log::error("outputs did not finish within the shutdown timeout; exiting with what was "
                   "acknowledged");
        close_everything(t->loop);
        uv_stop(t->loop);
      },
      kShutdownTimeoutMs, 0);
  pipeline_->stop([this] { close_everything(&loop_); });
}

}  // namespace sluice
