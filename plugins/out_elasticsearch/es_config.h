// The `<match> @type elasticsearch` parameters (fluent-plugin-elasticsearch 5.2.5's names) and
// what they become: the hosts, the request settings, the document format and the buffer.
#pragma once

#include <string>
#include <vector>

#include "buffer/buffer.h"
#include "core/plugin.h"
#include "es_format.h"
#include "http/http_client.h"

namespace sluice::es {

struct Host {
  std::string scheme = "http";
  std::string host = "localhost";
  int port = 9200;
  std::string path;
  std::string user, password;
  double dead_until = 0;
  std::string base() const {
    std::string h = host.find(':') != std::string::npos && host.front() != '[' ? "[" + host + "]" : host;
    std::string p = path;
    while (!p.empty() && p.back() == '/') p.pop_back();
    if (!p.empty() && p.front() != '/') p = "/" + p;
    return scheme + "://" + h + ":" + std::to_string(port) + p;
  }
  std::string describe() const { return scheme + "://" + host + ":" + std::to_string(port) + path; }
};

struct Settings {
  std::vector<Host> hosts;
  std::string api_key;
  http::TlsOptions tls;
  long request_timeout_ms = 5000;
  int compression_level = 0;  // 0: none
  bool verify_version = true;
  int default_version = 5;
  int max_retry_get_es_version = 15;
  bool fail_on_detecting_version = true;
  std::vector<std::string> unrecoverable_error_types;
  std::string dead_letter_path;
  bool log_es_400_reason = false;
  http::HeaderList custom_headers;
};

struct OutputConfig {
  Settings settings;
  FormatConfig format;
  buffer::Config buffer;
};

PluginSpec plugin_spec();

// Throws ConfigException (file:line) for bad values; checks the <buffer> section into ctx.errors.
OutputConfig parse_config(PluginContext& ctx, const Params& p);

}  // namespace sluice::es
