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

// The same for worker `worker` of `workers` that all serve one address, as Fluentd's workers
// share one port. Each worker gets a socket of its own, bound with SO_REUSEPORT, and the kernel
// spreads the connections over them. `group` names the address's users (the source's id, the same
// in every worker). The first worker to ask binds the sockets of all, after a plain bind has
// checked that no other process holds the port (SO_REUSEPORT would let it share silently).
uv_tcp_t* listen_tcp_shared(uv_loop_t* loop, const std::string& group, int worker, int workers,
                            const sockaddr_storage& addr, int backlog, void* owner,
                            uv_connection_cb on_connection, std::string& error);

}  // namespace sluice
