// The server of `@type http` (see README.md): every worker listens on the port (as in_forward
// does); each connection reads one request at a time (RequestReader: bounded head and body),
// RequestHandler turns it into a batch and an answer, the batch is emitted, then the answer is
// written, so that "200" means the records were handed to the outputs. HTTP/1.1 keep-alive and
// pipelining; a final answer (an error, a GET) half-closes the connection.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/plugin.h"
#include "request_handler.h"
#include "request_reader.h"

namespace sluice::in_http {

struct Settings {
  std::string bind = "0.0.0.0";
  int port = 9880;
  int backlog = 1024;
  uint64_t keepalive_ms = 10'000;
  ReaderLimits limits;
  bool dump_error_log = true;
  HandlerSettings handler;
};

// Listens at once (unless ctx.dry_run); throws ConfigException when it cannot.
std::unique_ptr<Input> make_server(PluginContext& ctx, Settings settings,
                                   std::unique_ptr<ParserPlugin> custom);

}  // namespace sluice::in_http
