#include "core/tcp_listen.h"

#include "core/uv_handle.h"

namespace sluice {

bool ip_address(const std::string& bind, int port, sockaddr_storage& out) {
  out = {};
  return uv_ip4_addr(bind.c_str(), port, reinterpret_cast<sockaddr_in*>(&out)) == 0 ||
         uv_ip6_addr(bind.c_str(), port, reinterpret_cast<sockaddr_in6*>(&out)) == 0;
}

uv_tcp_t* listen_tcp(uv_loop_t* loop, const sockaddr_storage& addr, int backlog, void* owner,
                     uv_connection_cb on_connection, std::string& error) {
  uv_tcp_t* server = new_uv_handle<uv_tcp_t>(owner);
  uv_tcp_init(loop, server);
  int rc = uv_tcp_bind(server, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(server), backlog, on_connection);
  if (rc != 0) {
    error = uv_strerror(rc);
    close_uv_handle(server);
    return nullptr;
  }
  return server;
}

}  // namespace sluice
