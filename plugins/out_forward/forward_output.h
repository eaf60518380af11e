// out_forward's sending side (forward_output.cpp), built by out_forward.cpp from the checked
// configuration.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "buffer/buffer.h"
#include "core/plugin.h"
#include "core/tls_session.h"
#include "../in_forward/forward_handshake.h"

namespace sluice::forward_out {

struct Server {
  std::string name;
  std::string host;
  int port = 24224;
  int weight = 60;
  bool standby = false;
  forward::Credentials credentials;  // used with <security>
  // Runtime.
  bool available = true;
  double down_until = 0;
  int current = 0;  // smooth weighted round robin
  bool probing = false;
  std::string describe() const {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return (name.empty() ? "" : name + " ") + h + ":" + std::to_string(port);
  }
};

struct Settings {
  std::vector<Server> servers;
  bool require_ack = false;
  double ack_timeout = 190;
  double send_timeout = 60;
  double connect_timeout = 0;  // 0: send_timeout
  bool heartbeat = true;       // transport heartbeat (TCP connect)
  double heartbeat_interval = 1;
  double recover_wait = 10;
  bool keepalive = false;         // a connection carries the next chunks to its server too
  double keepalive_timeout = 0;   // closes a kept connection idle this long; 0: never
  std::string compress = "text";  // text, gzip or zstd: the entries' encoding
  bool time_as_integer = false;
  bool secure = false;  // <security>: each connection starts with the handshake
  std::shared_ptr<TlsContext> tls;  // transport tls; null: plain TCP
};

std::unique_ptr<Output> make_forward_output(PluginContext& ctx, Settings s, buffer::Config bc);

}  // namespace sluice::forward_out
