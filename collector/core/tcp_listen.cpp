#include "core/tcp_listen.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "core/uv_handle.h"

namespace sluice {

bool ip_address(const std::string& bind, int port, sockaddr_storage& out) {
  out = {};
  return uv_ip4_addr(bind.c_str(), port, reinterpret_cast<sockaddr_in*>(&out)) == 0 ||
         uv_ip6_addr(bind.c_str(), port, reinterpret_cast<sockaddr_in6*>(&out)) == 0;
}

static uv_tcp_t* listen_on(uv_loop_t* loop, int fd, const sockaddr_storage* addr, int backlog,
                           void* owner, uv_connection_cb on_connection, std::string& error) {
  uv_tcp_t* server = new_uv_handle<uv_tcp_t>(owner);
  uv_tcp_init(loop, server);
  int rc = fd >= 0 ? uv_tcp_open(server, fd)
                   : uv_tcp_bind(server, reinterpret_cast<const sockaddr*>(addr), 0);
  if (rc != 0 && fd >= 0) ::close(fd);  // not the handle's
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(server), backlog, on_connection);
  if (rc != 0) {
    error = uv_strerror(rc);
    close_uv_handle(server);
    return nullptr;
  }
  return server;
}

uv_tcp_t* listen_tcp(uv_loop_t* loop, const sockaddr_storage& addr, int backlog, void* owner,
                     uv_connection_cb on_connection, std::string& error) {
  return listen_on(loop, -1, &addr, backlog, owner, on_connection, error);
}

namespace {

socklen_t address_size(const sockaddr_storage& a) {
  return a.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

// A bound socket (not yet listening); -1 with `error` set.
int bound_socket(const sockaddr_storage& addr, bool reuse_port, std::string& error) {
  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int on = 1;
  if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0 &&
      (!reuse_port || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) == 0) &&
      ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), address_size(addr)) == 0)
    return fd;
  error = uv_strerror(uv_translate_sys_error(errno));
  if (fd >= 0) ::close(fd);
  return -1;
}

// The sockets of every worker, bound to one port; or why they could not be.
struct SocketGroup {
  std::vector<int> fds;  // by worker; -1 once taken
  std::string error;
  int taken = 0;
};

SocketGroup bind_group(sockaddr_storage addr, int workers) {
  SocketGroup g;
  // Without SO_REUSEPORT first: fails when any other socket holds the port. Port 0 picks one.
  int probe = bound_socket(addr, false, g.error);
  if (probe < 0) return g;
  socklen_t len = sizeof addr;
  getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(probe);
  for (int w = 0; w < workers; ++w) {
    int fd = bound_socket(addr, true, g.error);
    if (fd < 0) {
      for (int f : g.fds) ::close(f);
      g.fds.clear();
      return g;
    }
    g.fds.push_back(fd);
  }
  return g;
}

}  // namespace

uv_tcp_t* listen_tcp_shared(uv_loop_t* loop, const std::string& group, int worker, int workers,
                            const sockaddr_storage& addr, int backlog, void* owner,
                            uv_connection_cb on_connection, std::string& error) {
  if (workers <= 1) return listen_tcp(loop, addr, backlog, owner, on_connection, error);
  // Process-wide; an entry lives until its last worker has taken its socket.
  static std::mutex mu;
  static auto* groups = new std::map<std::string, SocketGroup>;
  int fd = -1;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = groups->find(group);
    if (it == groups->end()) it = groups->emplace(group, bind_group(addr, workers)).first;
    SocketGroup& g = it->second;
    if (g.fds.empty()) {
      error = g.error;
    } else if (g.fds.at(static_cast<size_t>(worker)) < 0) {
      error = "worker " + std::to_string(worker) + " asked twice";
    } else {
      fd = g.fds.at(static_cast<size_t>(worker));
      g.fds[static_cast<size_t>(worker)] = -1;
    }
    if (++g.taken == workers) groups->erase(it);
  }
  if (fd < 0) return nullptr;
  return listen_on(loop, fd, nullptr, backlog, owner, on_connection, error);
}

}  // namespace sluice
