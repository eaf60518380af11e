// Listening sockets shared by the workers of one source.
#include "core/tcp_listen.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <vector>

#include "core/uv_handle.h"

namespace sluice {
namespace {

int port_of(uv_tcp_t* server) {
  sockaddr_storage a{};
  int len = sizeof a;
  uv_tcp_getsockname(server, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
}

struct Accepted {
  int count = 0;
};

void on_connection(uv_stream_t* server, int status) {
  ASSERT_EQ(status, 0);
  auto* client = new uv_tcp_t;
  uv_tcp_init(server->loop, client);
  ASSERT_EQ(uv_accept(server, reinterpret_cast<uv_stream_t*>(client)), 0);
  ++static_cast<Accepted*>(server->data)->count;
  uv_close(reinterpret_cast<uv_handle_t*>(client), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
}

TEST(TcpListenShared, EveryWorkerListensOnThePortTheFirstOnePicked) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  sockaddr_storage any_port;
  ASSERT_TRUE(ip_address("127.0.0.1", 0, any_port));
  std::vector<Accepted> accepted(3);
  std::vector<uv_tcp_t*> servers;
  for (int w = 0; w < 3; ++w) {
    std::string error;
    servers.push_back(listen_tcp_shared(&loop, "test_group_port0", w, 3, any_port, 16, &accepted[w],
                                        on_connection, error));
    ASSERT_NE(servers.back(), nullptr) << error;
  }
  int port = port_of(servers[0]);
  EXPECT_NE(port, 0);
  EXPECT_EQ(port_of(servers[1]), port);
  EXPECT_EQ(port_of(servers[2]), port);

  // Connections from 30 source ports: each is accepted by exactly one of the workers.
  sockaddr_storage target;
  ASSERT_TRUE(ip_address("127.0.0.1", port, target));
  std::vector<int> clients;
  for (int i = 0; i < 30; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof(sockaddr_in)), 0);
    clients.push_back(fd);
  }
  int total = 0;
  for (int turn = 0; turn < 1000 && total < 30; ++turn) {
    uv_run(&loop, UV_RUN_NOWAIT);
    total = accepted[0].count + accepted[1].count + accepted[2].count;
  }
  EXPECT_EQ(total, 30);
  // Spread by source port: one worker left out of 30 would be a 1 in 60,000 chance.
  for (const Accepted& a : accepted) EXPECT_GT(a.count, 0);
  for (int fd : clients) close(fd);
  for (uv_tcp_t* s : servers) close_uv_handle(s);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}

TEST(TcpListenShared, APortAnotherSocketHoldsIsRefusedToEveryWorker) {
  // Held with SO_REUSEPORT: binding with SO_REUSEPORT alone would share it without a word.
  int holder = socket(AF_INET, SOCK_STREAM, 0);
  int on = 1;
  setsockopt(holder, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  sockaddr_storage addr;
  ASSERT_TRUE(ip_address("127.0.0.1", 0, addr));
  ASSERT_EQ(bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof(sockaddr_in)), 0);
  ASSERT_EQ(listen(holder, 4), 0);
  socklen_t len = sizeof addr;
  getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len);

  uv_loop_t loop;
  uv_loop_init(&loop);
  for (int w = 0; w < 2; ++w) {
    std::string error;
    EXPECT_EQ(listen_tcp_shared(&loop, "test_group_held", w, 2, addr, 16, nullptr, on_connection, error),
              nullptr);
    EXPECT_EQ(error, "address already in use");
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  close(holder);
}

}  // namespace
}  // namespace sluice
