// What an output that sends its buffer's chunks over HTTP holds beside its own formatting: the
// buffer, the client, the flag its callbacks check, and the wait for start-up checks, created
// and torn down in the one safe order (the buffer first: its timers and sends use the client).
#pragma once

#include <functional>
#include <memory>

#include <uv.h>

#include "buffer/buffer.h"
#include "http/http_client.h"

namespace sluice {
struct PluginContext;
class FlowControl;
}  // namespace sluice

namespace sluice::http {

class BufferedSender {
 public:
  // The buffer with `hooks` and the <secondary> of the plugin's section. Aborting the buffer
  // runs hooks.abort when given (the output's own timers...), then closes the client's transfers;
  // so do close and the destructor.
  BufferedSender(PluginContext& ctx, buffer::Config config, buffer::Buffer::Hooks hooks);
  ~BufferedSender();
  BufferedSender(const BufferedSender&) = delete;
  BufferedSender& operator=(const BufferedSender&) = delete;

  buffer::Buffer& buffer() { return *buffer_; }
  const buffer::Buffer& buffer() const { return *buffer_; }
  HttpClient& client() { return *client_; }  // from start_client on
  // False once the output is gone: callbacks that outlive it check it first.
  std::weak_ptr<bool> alive() const { return alive_; }
  const std::shared_ptr<bool>& alive_flag() const { return alive_; }

  void start_client(const HttpClient::Options& options);
  // Start-up checks that must pass before chunks go out (a server version, a bucket): the
  // sources wait meanwhile; `retry_in` runs the next attempt on a timer freed at close, and
  // `ready` starts the buffer and lets the sources go.
  void hold_sources();
  void retry_in(double seconds, std::function<void()> attempt);
  void ready();

  // Flushes and closes the buffer (its flush_at_shutdown), then the client; then `done`.
  void close(std::function<void()> done);

 private:
  uv_loop_t* loop_;
  FlowControl* flow_;
  std::shared_ptr<bool> alive_;
  std::unique_ptr<HttpClient> client_;
  std::unique_ptr<buffer::Buffer> buffer_;
  bool holding_ = false;
  uv_timer_t* retry_timer_ = nullptr;
  std::function<void()> attempt_;
  std::function<void()> also_abort_;

  void stop_transfers();
};

}  // namespace sluice::http
