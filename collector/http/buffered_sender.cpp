#include "http/buffered_sender.h"

#include "core/flow.h"
#include "core/plugin.h"
#include "core/uv_handle.h"

namespace sluice::http {

BufferedSender::BufferedSender(PluginContext& ctx, buffer::Config config, buffer::Buffer::Hooks hooks)
    : loop_(ctx.loop), flow_(ctx.flow), alive_(std::make_shared<bool>(true)) {
  also_abort_ = std::move(hooks.abort);
  hooks.abort = [this] { stop_transfers(); };
  buffer_ = std::make_unique<buffer::Buffer>(loop_, std::move(config), flow_, ctx.metrics, ctx.id,
                                             std::move(hooks));
  buffer_->set_secondary(ctx.make_secondary(*ctx.section));
}

void BufferedSender::stop_transfers() {
  if (also_abort_) also_abort_();
  if (client_) client_->close();
}

BufferedSender::~BufferedSender() {
  *alive_ = false;
  close_uv_handle(retry_timer_);
  if (also_abort_) also_abort_();
  buffer_.reset();
  if (client_) client_->close();
}

void BufferedSender::start_client(const HttpClient::Options& options) {
  client_ = std::make_unique<HttpClient>(loop_, options);
}

void BufferedSender::hold_sources() {
  holding_ = true;
  flow_->hold(this);
}

void BufferedSender::retry_in(double seconds, std::function<void()> attempt) {
  if (!*alive_) return;
  if (!retry_timer_) {
    retry_timer_ = new_uv_handle<uv_timer_t>(this);
    uv_timer_init(loop_, retry_timer_);
  }
  attempt_ = std::move(attempt);
  uv_timer_start(
      retry_timer_,
      [](uv_timer_t* t) {
        // A copy: the attempt may set the next one.
        if (auto* self = static_cast<BufferedSender*>(t->data)) std::function<void()>(self->attempt_)();
      },
      uint64_t(seconds * 1000), 0);
}

void BufferedSender::ready() {
  buffer_->start();
  if (holding_) {
    holding_ = false;
    flow_->release(this);
  }
}

void BufferedSender::close(std::function<void()> done) {
  // No more start-up attempts: the timer is freed now rather than left to the worker's final
  // sweep, which closes without freeing.
  close_uv_handle(retry_timer_);
  if (holding_) {
    holding_ = false;
    flow_->release(this);
  }
  auto alive = alive_;
  buffer_->close([this, alive, done = std::move(done)] {
    if (*alive) stop_transfers();
    done();
  });
}

}  // namespace sluice::http
