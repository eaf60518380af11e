// The `<match> @type loki` parameters (fluent-plugin-grafana-loki's out_loki.rb names and
// defaults) and what they become: the request settings, the body format and the buffer.
#pragma once

#include <string>

#include "buffer/buffer.h"
#include "core/plugin.h"
#include "http/http_client.h"
#include "loki_format.h"

namespace sluice::loki {

struct Settings {
  std::string push_url;  // <url>/loki/api/v1/push
  std::string username, password;
  std::string bearer_token;  // read from bearer_token_file at start-up
  std::string tenant;        // X-Scope-OrgID; `${tag}` expanded per chunk
  bool tenant_has_tag = false;
  http::TlsOptions tls;
  http::HeaderList custom_headers;
  bool gzip = false;
  long request_timeout_ms = 60000;
};

struct OutputConfig {
  Settings settings;
  FormatConfig format;
  buffer::Config buffer;
};

PluginSpec plugin_spec();

// Throws ConfigException (file:line) for bad values; checks the <buffer> section into ctx.errors.
OutputConfig parse_config(PluginContext& ctx, const Params& p);

}  // namespace sluice::loki
