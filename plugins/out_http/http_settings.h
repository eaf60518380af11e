// `<match> @type http`: the parameters of Fluentd 1.18's out_http (lib/fluent/plugin/out_http.rb)
// and what they become: the request settings, the `<format>`, the buffer.
#pragma once

#include <string>
#include <vector>

#include "buffer/buffer.h"
#include "buffer/chunk_placeholders.h"
#include "core/plugin.h"
#include "format/line_format.h"
#include "format/record_path.h"
#include "http/http_client.h"

namespace sluice::http_out {

// The chunk placeholders (buffer/chunk_placeholders.h), shared with other outputs.
using buffer::append_key_value;
using buffer::ChunkKeys;
using buffer::expand_placeholders;
using buffer::key_values;
using buffer::unfilled_placeholder;

struct Settings {
  std::string endpoint;   // a template: placeholders are filled in per chunk
  std::string endpoint_host;  // the host of `endpoint` with its placeholders as a marker
  std::vector<std::string> allowed_hosts;
  std::string method = "POST";
  std::string content_type;
  bool json_array = false;
  bool gzip = false;
  http::HeaderList headers;                    // sent as given
  http::HeaderList headers_from_placeholders;  // values are templates
  std::string authorization;  // `Basic ...` for <auth> method basic, else empty. A secret.
  // <auth> method aws_sigv4: requests are signed for this service and region with credentials
  // from the AWS SDKs' default chain (http/aws_credentials.h).
  bool aws_sigv4 = false;
  std::string aws_service, aws_region;
  std::string proxy;          // empty: libcurl's environment handling
  long open_timeout_ms = 60000;  // Net::HTTP's defaults
  long read_timeout_ms = 60000;
  http::TlsOptions tls;
  std::vector<long> retryable_response_codes;
  bool error_response_as_unrecoverable = true;
};

struct OutputConfig {
  Settings settings;
  LineFormat format;
  buffer::Config buffer;
  std::vector<RecordPath> record_keys;  // of buffer.record_keys, in order
};

PluginSpec plugin_spec();

// Throws ConfigException (file:line) for bad or unsupported values; checks nested sections into
// ctx.errors.
OutputConfig parse_config(PluginContext& ctx, const Params& p);

// out_http.rb's setup_content_type: the Content-Type a format implies.
std::string default_content_type(LineFormat::Type type, bool json_array);

// The request body of a chunk's payload: as it is, or with json_array (records formatted with a
// ',' after each) `[` + payload without its last ',' + `]`, as out_http.rb's create_request.
std::string_view request_body(std::string_view payload, bool json_array, std::string& scratch);

}  // namespace sluice::http_out
