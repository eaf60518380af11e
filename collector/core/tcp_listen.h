// A listening TCP socket on the loop, for inputs that serve clients (forward, metrics).
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <string>

namespace sluice {

// An IPv4 or IPv6 literal and a port; false when `bind` is neither.
bool ip_address(const std::string& bind, int port, sockaddr_storage& out);

// Binds and listens; returns the handle (with `owner` in its data) or null with `error` set.
// Close it with close_uv_handle.
uv_tcp_t* listen_tcp(uv_loop_t* loop, const sockaddr_storage& addr, int backlog, void* owner,
                     uv_connection_cb on_connection, std::string& error);

}  // namespace sluice
