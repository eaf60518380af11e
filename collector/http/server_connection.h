// The lifecycle pieces shared by the small HTTP servers in plugins (in_prometheus, in_http): a
// connection is a TCP handle and a timer (idle, linger), freed together once libuv has closed
// both; a final answer is followed by a half-close and a bounded wait for the peer to close.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>

namespace sluice::http {

// Closes c->tcp and c->timer (both with `data` = c) and deletes c once both are closed; c->handles
// counts them (starts at 2). When the worker's final sweep closed them already (without this
// callback), libuv may still hold the handles: c is then left alone (freed with the process)
// rather than freed under it.
template <typename Conn>
void close_tcp_and_timer(Conn* c) {
  auto* tcp = reinterpret_cast<uv_handle_t*>(&c->tcp);
  auto* timer = reinterpret_cast<uv_handle_t*>(&c->timer);
  if (uv_is_closing(tcp) || uv_is_closing(timer)) {
    if (!uv_is_closing(tcp)) uv_close(tcp, nullptr);
    if (!uv_is_closing(timer)) uv_close(timer, nullptr);
    return;
  }
  auto done = [](uv_handle_t* h) {
    auto* conn = static_cast<Conn*>(h->data);
    if (--conn->handles == 0) delete conn;
  };
  uv_close(tcp, done);
  uv_close(timer, done);
}

// Closes a server's connection once: marks it closing, drops it from the server's set of
// connections, detaches it from the server and frees its buffer, then closes its handles.
template <typename Conn, typename Set>
void close_connection(Conn* c, Set& connections) {
  if (c->closing) return;
  c->closing = true;
  connections.erase(c);
  c->owner = nullptr;
  c->buf = std::string();
  close_tcp_and_timer(c);
}

// The final answer is written: half-closes the connection and starts `timer` to call `expire`
// after linger_ms (the peer should close first: closing with its bytes unread would reset the
// answer away). False when the shutdown cannot start: close the connection at once.
inline bool shutdown_and_linger(uv_tcp_t* tcp, uv_timer_t* timer, uint64_t linger_ms, uv_timer_cb expire) {
  auto* req = new uv_shutdown_t;
  if (uv_shutdown(req, reinterpret_cast<uv_stream_t*>(tcp), [](uv_shutdown_t* r, int) { delete r; }) != 0) {
    delete req;
    return false;
  }
  uv_timer_start(timer, expire, linger_ms, 0);
  return true;
}

}  // namespace sluice::http
