// The `<match> @type elasticsearch` parameters (fluent-plugin-elasticsearch 5.2.5's names), or
// `@type opensearch`'s (fluent-plugin-opensearch 1.1.5, a fork of it), and their `_data_stream`
// variants, and what they become: the hosts, the request settings, the document format and the
// buffer.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "buffer/buffer.h"
#include "core/plugin.h"
#include "es_format.h"
#include "http/aws_credentials.h"
#include "http/http_client.h"

namespace sluice::es {

// What tells the two plugins apart. The documents and the bulk protocol are the same; parameter
// names, defaults and how the server's version decides the action line's `_type` differ.
struct Dialect {
  std::string_view type;         // the `@type`
  std::string_view product;      // in messages: "Elasticsearch", "OpenSearch"
  std::string_view param_infix;  // "es" / "os": verify_es_version_at_startup, log_os_400_reason
  std::string_view default_version_param;
  std::string_view default_version;
  bool opensearch;
  bool data_stream;  // `elasticsearch_data_stream` / `opensearch_data_stream`
};
extern const Dialect kElasticsearch;
extern const Dialect kOpenSearch;
extern const Dialect kElasticsearchDataStream;
extern const Dialect kOpenSearchDataStream;

// What the data stream outputs create before the first document of a stream goes: on
// Elasticsearch an ILM policy, an index template and the data stream; on OpenSearch the index
// template (the stream is created by the first write).
struct DataStreamSettings {
  std::string name;           // data_stream_name (the bulk requests' index)
  std::string template_name;  // data_stream_template_name, default <name>_template
  std::string ilm_name;       // data_stream_ilm_name, default <name>_policy (Elasticsearch)
  std::string ilm_policy;     // the PUT _ilm/policy body
  bool ilm_policy_overwrite = false;
  bool index_patterns_wildcard = true;  // the template's index_patterns: <name>* or <name>
  // The names hold placeholders: each chunk's stream is set up before its first bulk request.
  bool placeholders = false;
};

// `<endpoint>` of fluent-plugin-opensearch: an Amazon OpenSearch Service domain.
struct AwsEndpoint {
  std::string url;
  std::string service = "es";  // aws_service_name: es, or aoss (OpenSearch Serverless)
  http::aws::CredentialsConfig credentials;  // its region is the domain's
};

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
  const Dialect* dialect = &kElasticsearch;
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
  bool emit_error_label_event = true;  // rejected records go to @ERROR when there is one
  http::HeaderList custom_headers;
  std::unique_ptr<AwsEndpoint> aws;  // <endpoint>: requests are signed with AWS SigV4
  std::unique_ptr<DataStreamSettings> data_stream;
};

struct OutputConfig {
  Settings settings;
  FormatConfig format;
  buffer::Config buffer;
};

PluginSpec plugin_spec(const Dialect& dialect);

// Why a data stream, template or policy name is refused (out_elasticsearch_data_stream.rb's
// checks and messages), or empty.
std::string data_stream_name_problem(const char* param, const std::string& value);

// Throws ConfigException (file:line) for bad values; checks the <buffer> section into ctx.errors.
OutputConfig parse_config(PluginContext& ctx, const Params& p, const Dialect& dialect);

// The major version of Elasticsearch whose action lines the server takes: OpenSearch 1 is
// Elasticsearch 7.10 with `_type` always `_doc`; OpenSearch 2 has no `_type`, like Elasticsearch 8.
int action_line_version(const Dialect& dialect, int server_major, bool suppress_type_name);

}  // namespace sluice::es
