// The `<match> @type cloudwatch_logs` parameters (fluent-plugin-cloudwatch-logs 0.15's
// out_cloudwatch_logs.rb names and defaults) and what they become: where the events go, how a
// record becomes an event's message, which credentials sign the requests, and the buffer.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "buffer/buffer.h"
#include "buffer/chunk_placeholders.h"
#include "core/plugin.h"
#include "format/json.h"
#include "format/line_format.h"
#include "format/record_inject.h"
#include "http/aws_credentials.h"
#include "http/http_client.h"

namespace sluice::cwl {

// Where a record's log group (or stream) name comes from.
enum class NameFrom { Template, Tag, RecordKey };

// How a record becomes the message (the plugin's @formatter_proc).
enum class MessageFrom { Json, MessageKeys, Format };

struct FormatSettings {
  NameFrom group_from = NameFrom::Template, stream_from = NameFrom::Template;
  std::string group_key, stream_key;  // log_group_name_key, log_stream_name_key
  bool remove_group_key = false, remove_stream_key = false;
  MessageFrom message_from = MessageFrom::Json;
  std::vector<std::string> message_keys;
  json::HexCase hex = json::HexCase::Upper;  // json_handler yajl (upper) or json (lower)
  int64_t max_message_length = 0;            // characters; 0: no limit
};

struct Settings {
  std::string region;
  std::string url;  // POST target: https://logs.<region>.amazonaws.com/ or endpoint
  http::TlsOptions tls;
  std::string proxy;
  http::aws::CredentialsConfig credentials;
  std::string group_template, stream_template;  // log_group_name, log_stream_name (placeholders)
  bool auto_create_stream = false;
  int64_t retention_in_days = 0;  // 0: none
  std::vector<std::pair<std::string, std::string>> group_tags;  // log_group_aws_tags (placeholders)
  size_t max_events_per_batch = 10000;
  double put_retry_wait = 1.0;  // put_log_events_retry_wait
  int64_t put_retry_limit = 17;
  bool put_retry_forever = false;  // put_log_events_disable_retry_limit
  int concurrency = 1;
  bool log_rejected_request = false;
  long request_timeout_ms = 60000;
};

struct OutputConfig {
  Settings settings;
  FormatSettings format_settings;
  LineFormat format;  // with MessageFrom::Format
  InjectConfig inject;
  buffer::Config buffer;
  std::vector<std::string> record_keys;  // <buffer> record chunk keys (top-level names)
};

PluginSpec plugin_spec();

// Throws ConfigException (file:line) for bad or unsupported values.
OutputConfig parse_config(PluginContext& ctx, const Params& p);

}  // namespace sluice::cwl
