#include "es_config.h"

#include "core/log.h"
#include "http/ascii.h"

#include <stdlib.h>
#include <string.h>

#include <simdjson.h>

#include <utility>

namespace sluice::es {

namespace {

std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// fluent-plugin-elasticsearch's `hosts`: `host:port,host:port` or URLs
// `https://user:pass@host:port/path`.
std::vector<Host> parse_hosts(const std::string& text, const std::string& scheme, int port,
                              const SourcePos& pos) {
  std::vector<Host> out;
  std::vector<std::string> items;
  parse_array(text, items);
  for (auto item : items) {
    item = trim(item);
    if (item.empty()) continue;
    Host h;
    h.scheme = scheme;
    h.port = port;
    size_t sep = item.find("://");
    if (sep == std::string::npos) {
      size_t colon = item.find(':');
      h.host = item.substr(0, colon);
      if (colon != std::string::npos) h.port = atoi(item.c_str() + colon + 1);
    } else {
      h.scheme = item.substr(0, sep);
      std::string rest = item.substr(sep + 3);
      size_t slash = rest.find('/');
      std::string authority = rest.substr(0, slash);
      if (slash != std::string::npos) h.path = rest.substr(slash);
      size_t at = authority.rfind('@');
      if (at != std::string::npos) {
        std::string userinfo = authority.substr(0, at);
        authority = authority.substr(at + 1);
        size_t c = userinfo.find(':');
        h.user = http::percent_decode(userinfo.substr(0, c), false);
        if (c != std::string::npos) h.password = http::percent_decode(userinfo.substr(c + 1), false);
      }
      h.port = h.scheme == "https" ? 443 : 80;
      if (!authority.empty() && authority[0] == '[') {
        size_t close = authority.find(']');
        h.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size() && authority[close + 1] == ':')
          h.port = atoi(authority.c_str() + close + 2);
      } else {
        size_t colon = authority.find(':');
        h.host = authority.substr(0, colon);
        if (colon != std::string::npos) h.port = atoi(authority.c_str() + colon + 1);
      }
    }
    if (h.host.empty() || h.port <= 0 || h.port > 65535)
      throw ConfigException(pos, "invalid entry in hosts: '" + item + "'");
    if (h.scheme != "http" && h.scheme != "https")
      throw ConfigException(pos, "unsupported scheme in hosts: '" + h.scheme + "'");
    out.push_back(std::move(h));
  }
  if (out.empty()) throw ConfigException(pos, "hosts is empty");
  return out;
}

// elasticsearch_tls.rb with Ruby's OpenSSL >= 2.1: TLS 1.2 to 1.3 unless both ends are given.
void parse_tls_versions(const Params& p, http::TlsOptions& tls) {
  const bool has_min = p.has("ssl_min_version"), has_max = p.has("ssl_max_version");
  if (has_min != has_max)
    throw ConfigException(p.pos(has_min ? "ssl_min_version" : "ssl_max_version"),
                          has_min ? "When you set 'ssl_min_version', must set 'ssl_max_version' together."
                                  : "When you set 'ssl_max_version', must set 'ssl_min_version' together.");
  tls.min_version = http::TlsVersion::V1_2;
  tls.max_version = http::TlsVersion::V1_3;
  if (!has_min) return;
  auto version = [&](const char* name) {
    const std::string& v = p.str(name);
    const auto parsed = http::parse_tls_version(v);
    if (!parsed || v.substr(0, 4) != "TLSv")
      throw ConfigException(p.pos(name), std::string(name) + " '" + v +
                                             "' is not one of TLSv1, TLSv1_1, TLSv1_2, TLSv1_3");
    return *parsed;
  };
  tls.min_version = version("ssl_min_version");
  tls.max_version = version("ssl_max_version");
  if (tls.min_version > tls.max_version)
    throw ConfigException(p.pos("ssl_min_version"), "ssl_min_version is above ssl_max_version");
}

}  // namespace

constexpr auto& P = spec::with_default;
constexpr auto& Opt = spec::optional;
constexpr auto& Ign = spec::ignored;

namespace {

PluginSpec endpoint_spec() {
  PluginSpec s{"aws-endpoint", "endpoint", "", {}, {}};
  ParamSpec url = Opt("url", ParamType::String, "The domain's endpoint, https://search-....es.amazonaws.com.");
  url.required = true;
  ParamSpec region = Opt("region", ParamType::String, "The domain's region, e.g. eu-west-1.");
  region.required = true;
  s.params = {
      url,
      region,
      Opt("access_key_id", ParamType::String, "Static credentials (else the environment, IRSA, ...)."),
      spec::secret("secret_access_key", ParamType::String, "Static credentials."),
      Opt("assume_role_arn", ParamType::String, "Role taken with assume_role_web_identity_token_file."),
      P("assume_role_session_name", ParamType::String, "fluentd", "STS session name."),
      Opt("assume_role_web_identity_token_file", ParamType::String,
          "Web identity token (EKS IRSA: AWS_WEB_IDENTITY_TOKEN_FILE)."),
      Opt("sts_credentials_region", ParamType::String, "STS region (default: region)."),
      Opt("ecs_container_credentials_relative_uri", ParamType::String,
          "Container credentials path (default: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)."),
      P("refresh_credentials_interval", ParamType::Duration, "5h", "Temporary credentials are fetched again "
                                                                     "after this long, or before they expire."),
      spec::choice("aws_service_name", "es", {"es", "aoss"}, "es: OpenSearch Service; aoss: Serverless."),
  };
  return s;
}

std::unique_ptr<AwsEndpoint> parse_endpoint(const ConfigSection& section) {
  static const PluginSpec spec = endpoint_spec();
  auto errors = validate_params(section, spec);
  if (!errors.empty()) throw ConfigException(errors[0].pos, errors[0].message);
  Params p(section, spec);
  auto e = std::make_unique<AwsEndpoint>();
  e->url = p.str("url");
  while (!e->url.empty() && e->url.back() == '/') e->url.pop_back();
  http::aws::CredentialsConfig& c = e->credentials;
  c.region = p.str("region");
  e->service = p.str("aws_service_name");
  c.access_key_id = p.str("access_key_id");
  c.secret_access_key = p.str("secret_access_key");
  if (c.access_key_id.empty() != c.secret_access_key.empty())
    throw ConfigException(section.pos, "<endpoint> needs both access_key_id and secret_access_key, or neither");
  c.assume_role_arn = p.str("assume_role_arn");
  c.assume_role_session_name = p.str("assume_role_session_name");
  c.web_identity_token_file = p.str("assume_role_web_identity_token_file");
  if (!c.assume_role_arn.empty() && c.web_identity_token_file.empty()) {
    const char* from_env = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    if (!from_env || !*from_env)
      throw ConfigException(p.pos("assume_role_arn"),
                            "assume_role_arn needs assume_role_web_identity_token_file (AssumeRole with other "
                            "credentials is not supported)");
    c.web_identity_token_file = from_env;
  }
  c.sts_region = p.str("sts_credentials_region");
  c.container_relative_uri = p.str("ecs_container_credentials_relative_uri");
  c.refresh_interval = p.seconds("refresh_credentials_interval");
  return e;
}

}  // namespace

const Dialect kElasticsearch{"elasticsearch", "Elasticsearch", "es", "default_elasticsearch_version",
                             "5", false, false};
const Dialect kOpenSearch{"opensearch", "OpenSearch", "os", "default_opensearch_version", "1", true, false};
const Dialect kElasticsearchDataStream{"elasticsearch_data_stream", "Elasticsearch", "es",
                                       "default_elasticsearch_version", "5", false, true};
const Dialect kOpenSearchDataStream{"opensearch_data_stream", "OpenSearch", "os", "default_opensearch_version",
                                    "1", true, true};

int action_line_version(const Dialect& dialect, int server_major, bool suppress_type_name) {
  if (!dialect.opensearch) return server_major;
  return server_major >= 2 || suppress_type_name ? 8 : 7;
}

namespace {

std::string versioned(const Dialect& d, const char* before, const char* after) {
  return std::string(before) + std::string(d.param_infix) + after;
}

}  // namespace

PluginSpec plugin_spec(const Dialect& d) {
  const std::string product(d.product);
  PluginSpec s{"output", std::string(d.type),
               d.opensearch
                   ? "Sends records to OpenSearch with _bulk (fluent-plugin-opensearch 1.1.5's "
                     "documents and action lines); at-least-once with <buffer> retries."
                   : "Sends records to Elasticsearch with _bulk (fluent-plugin-elasticsearch "
                     "5.2.5's documents and action lines); at-least-once with <buffer> retries.",
               {},
               {"buffer", "secondary"}};
  if (d.data_stream)
    s.doc = "Sends records to the " + product + " data stream data_stream_name (" +
                    (d.opensearch ? "fluent-plugin-opensearch 1.1.5's opensearch_data_stream"
                                  : "fluent-plugin-elasticsearch 5.2.5's elasticsearch_data_stream") +
                    "): create operations, @timestamp added, the stream set up first.";
  if (d.opensearch) s.sections.push_back("endpoint");
  ParamSpec scheme = P("scheme", ParamType::Enum, "http", "http or https.");
  scheme.choices = {"http", "https"};
  ParamSpec wop = P("write_operation", ParamType::Enum, "index",
                    "index or create (create needs id_key or deterministic_id).");
  wop.choices = {"index", "create", "update", "upsert"};
  ParamSpec comp = P("compression_level", ParamType::Enum, "no_compression", "gzip request bodies.");
  comp.choices = {"no_compression", "best_speed", "best_compression", "default_compression"};
  s.params = {
      P("host", ParamType::String, "localhost", product + " host."),
      P("port", ParamType::Integer, "9200", product + " port."),
      Opt("hosts", ParamType::String,
          "host:port,host:port or URLs (https://user:pass@host:port/path); requests go round-robin, "
          "failing hosts are skipped for a while."),
      scheme,
      Opt("path", ParamType::String, "Path prefix of the REST API."),
      Opt("user", ParamType::String, "Basic auth user."),
      spec::secret("password", ParamType::String, "Basic auth password."),
      P("ssl_verify", ParamType::Bool, "true", "Verify the server certificate and host name."),
      Opt("ca_file", ParamType::String, "CA bundle (PEM)."),
      Opt("client_cert", ParamType::String, "Client certificate (PEM)."),
      Opt("client_key", ParamType::String, "Client key (PEM)."),
      Ign("client_key_pass", ParamType::String, "Accepted; encrypted client keys are not supported."),
      Ign("ssl_version", ParamType::String,
          "Accepted; no effect, as with Ruby's OpenSSL >= 2.1 (ssl_min_version/ssl_max_version do it)."),
      Opt("ssl_min_version", ParamType::String, "Lowest TLS version (TLSv1 ... TLSv1_3), with ssl_max_version."),
      Opt("ssl_max_version", ParamType::String, "Highest TLS version, with ssl_min_version."),
      P("index_name", ParamType::String, "fluentd",
        "Index; ${tag}, ${tag[N]} and, with a time chunk key, strftime placeholders."),
      P("logstash_format", ParamType::Bool, "false", "Index <prefix><sep><date>, adds @timestamp."),
      P("logstash_prefix", ParamType::String, "logstash", "Index prefix (${tag} allowed)."),
      P("logstash_prefix_separator", ParamType::String, "-", "Between prefix and date."),
      P("logstash_dateformat", ParamType::String, "%Y.%m.%d", "strftime of the index date."),
      P("utc_index", ParamType::Bool, "true", "Index date in UTC (else local time)."),
      P("include_tag_key", ParamType::Bool, "false", "Add the tag to the document."),
      P("tag_key", ParamType::String, "tag", "Field name for include_tag_key."),
      P("include_timestamp", ParamType::Bool, "false", "Add @timestamp without logstash_format."),
      Opt("time_key", ParamType::String, "Field holding the time (for the index and @timestamp)."),
      Opt("time_key_format", ParamType::String, "strptime format of time_key."),
      P("time_precision", ParamType::Integer, "9", "Fraction digits of @timestamp."),
      P("time_key_exclude_timestamp", ParamType::Bool, "false", "Do not copy time_key to @timestamp."),
      Opt("id_key", ParamType::String, "Field used as the document _id."),
      P("deterministic_id", ParamType::Bool, "false",
        "sluice: _id = hash of (source stream, line offset, time), so a record re-read after a crash "
        "overwrites instead of duplicating."),
      Opt("routing_key", ParamType::String, "Field used as routing."),
      Opt("remove_keys", ParamType::String, "Comma-separated fields removed from documents."),
      Opt("target_index_key", ParamType::String, "Field holding the index (removed from documents)."),
      wop,
      P("suppress_type_name", ParamType::Bool, "false",
        d.opensearch ? "No _type on OpenSearch 1 (2 has none)." : "_type null on Elasticsearch 7."),
      Opt("pipeline", ParamType::String, "Ingest pipeline."),
      P("request_timeout", ParamType::Duration, "5s", "Per request."),
      comp,
      P(versioned(d, "verify_", "_version_at_startup"), ParamType::Bool, "true",
        "GET / for the version (sources wait until it is known)."),
      P(std::string(d.default_version_param), ParamType::Integer, std::string(d.default_version),
        "Version when not verified."),
      P(versioned(d, "max_retry_get_", "_version"), ParamType::Integer, "15",
        "GET / attempts before the default."),
      P(versioned(d, "fail_on_detecting_", "_version_retry_exceed"), ParamType::Bool, "true",
        "true: keep trying GET / (sources wait); false: use " + std::string(d.default_version_param) +
            "."),
      Opt("unrecoverable_error_types", ParamType::Array,
          "Item error types dead-lettered instead of retried (sluice never drops a whole chunk)."),
      P(versioned(d, "log_", "_400_reason"), ParamType::Bool, "false", "Log 400 reasons at warn."),
      Opt("custom_headers", ParamType::Hash, "Extra request headers."),
      Opt("dead_letter_path", ParamType::String,
          "sluice: file (NDJSON) for rejected records when there is no @ERROR label; default "
          "<file buffer path>/dead-letter.ndjson, else /var/log/sluice/<id>.dead-letter.ndjson."),
      P("emit_error_for_missing_id", ParamType::Bool, "false",
        "Accepted; records without _id for create are dropped and counted."),
      Ign("http_backend", ParamType::String, "Accepted; sluice uses libcurl."),
      Ign("http_backend_excon_nonblock", ParamType::Bool, "Accepted; sluice never blocks."),
      Ign("reload_connections", ParamType::Bool, "Accepted; no sniffing."),
      Ign("reconnect_on_error", ParamType::Bool, "Accepted; connections are re-made on errors."),
      Ign("reload_on_failure", ParamType::Bool, "Accepted; failing hosts are skipped."),
      Ign("reload_after", ParamType::Integer, "Accepted; ignored."),
      Ign("resurrect_after", ParamType::Duration, "Accepted; ignored."),
      Ign("sniffer_class_name", ParamType::String, "Accepted; no sniffing."),
      Ign("selector_class_name", ParamType::String, "Accepted; round robin."),
      Ign("application_name", ParamType::String, "Accepted; used by ILM only."),
      Ign("template_name", ParamType::String, "Accepted; templates are not installed (yet)."),
      Ign("template_file", ParamType::String, "Accepted; templates are not installed (yet)."),
      Ign("template_overwrite", ParamType::Bool, "Accepted; ignored."),
      Ign("templates", ParamType::Hash, "Accepted; ignored."),
      Ign("customize_template", ParamType::Hash, "Accepted; ignored."),
      Ign("max_retry_putting_template", ParamType::Integer, "Accepted; ignored."),
      Ign("fail_on_putting_template_retry_exceed", ParamType::Bool, "Accepted; ignored."),
      Ign("use_legacy_template", ParamType::Bool, "Accepted; ignored."),
      Ign("index_date_pattern", ParamType::String, "Accepted; ignored."),
      Ign("with_transporter_log", ParamType::Bool, "Accepted; ignored."),
      Ign("content_type", ParamType::String, "Accepted; bulk bodies are application/x-ndjson."),
      Ign("validate_client_version", ParamType::Bool, "Accepted; ignored."),
      Ign("prefer_oj_serializer", ParamType::Bool, "Accepted; JSON is written Oj-style."),
      Ign("retry_tag", ParamType::String, "Accepted; failed items are retried from the buffer."),
      Ign("time_parse_error_tag", ParamType::String, "Accepted; ignored."),
      Ign("bulk_message_request_threshold", ParamType::Size,
          "Accepted; one request per chunk (use chunk_limit_size)."),
      Ign("include_index_in_url", ParamType::Bool, "Accepted; _index is always in the action line."),
      Ign("flatten_hashes", ParamType::Bool, "Accepted; not supported."),
      Ign("flatten_hashes_separator", ParamType::String, "Accepted; ignored."),
      Ign("target_type_key", ParamType::String, "Accepted; ignored (types are gone in ES 7+)."),
      Ign("parent_key", ParamType::String, "Accepted; ignored."),
      Ign("ignore_exceptions", ParamType::Array, "Accepted; ignored."),
      Ign("exception_backup", ParamType::Bool, "Accepted; ignored."),
      Ign("suppress_doc_wrap", ParamType::Bool, "Accepted; ignored (update not supported)."),
      Ign("remove_keys_on_update", ParamType::String, "Accepted; ignored."),
      Ign("remove_keys_on_update_key", ParamType::String, "Accepted; ignored."),
      Ign("truncate_caches_interval", ParamType::Duration, "Accepted; ignored."),
      Ign("catch_transport_exception_on_retry", ParamType::Bool, "Accepted; ignored."),
      Ign("target_index_affinity", ParamType::Bool, "Accepted; ignored."),
  };
  const std::vector<ParamSpec> own =
      d.opensearch
          ? std::vector<ParamSpec>{
                P("emit_error_label_event", ParamType::Bool, "true",
                  "Rejected records go to the @ERROR label when there is one; false: to "
                  "dead_letter_path."),
                Opt("unrecoverable_record_types", ParamType::Array,
                    "Item error types dead-lettered instead of retried, as unrecoverable_error_types."),
                Ign("index_separator", ParamType::String, "Accepted; used by templates only."),
            }
          : std::vector<ParamSpec>{
                spec::secret("api_key", ParamType::String,
                             "Sent as `Authorization: ApiKey base64(api_key)`."),
                P("type_name", ParamType::String, "fluentd", "_type for Elasticsearch < 7."),
                Ign("enable_ilm", ParamType::Bool, "Accepted; ILM setup is not done (yet)."),
                Ign("ilm_policy_id", ParamType::String, "Accepted; ignored."),
                Ign("ilm_policy", ParamType::Hash, "Accepted; ignored."),
                Ign("ilm_policies", ParamType::Hash, "Accepted; ignored."),
                Ign("ilm_policy_overwrite", ParamType::Bool, "Accepted; ignored."),
                Ign("rollover_index", ParamType::Bool, "Accepted; ignored."),
                Ign("deflector_alias", ParamType::String, "Accepted; ignored."),
                Ign("cloud_id", ParamType::String, "Accepted; not supported (use hosts)."),
                Ign("cloud_auth", ParamType::String, "Accepted; not supported."),
                Ign("ssl_verify_hostname", ParamType::Bool, "Accepted; ssl_verify covers it."),
            };
  s.params.insert(s.params.end(), own.begin(), own.end());
  if (d.data_stream) {
    ParamSpec name = Opt("data_stream_name", ParamType::String,
                         "The data stream (lowercase); ${tag}, ${tag[N]} and, with a time chunk key, strftime "
                         "placeholders.");
    name.required = true;
    s.params.push_back(name);
    s.params.push_back(Opt("data_stream_template_name", ParamType::String,
                           "Index template created for the stream (default <data_stream_name>_template)."));
    if (!d.opensearch) {
      s.params.push_back(Opt("data_stream_ilm_name", ParamType::String,
                             "ILM policy of the template (default <data_stream_name>_policy)."));
      s.params.push_back(Opt("data_stream_ilm_policy", ParamType::String,
                             "The policy's JSON (default: rollover at 50gb or 30d)."));
      s.params.push_back(P("data_stream_ilm_policy_overwrite", ParamType::Bool, "false",
                           "PUT the policy even when it, the template or the stream exists."));
      s.params.push_back(P("data_stream_template_use_index_patterns_wildcard", ParamType::Bool, "true",
                           "The template's index_patterns: <data_stream_name>* (else the name alone)."));
    }
  }
  return s;
}

namespace {

// out_elasticsearch_data_stream.rb's default-ilm-policy.json.
constexpr std::string_view kDefaultIlmPolicy =
    R"({"policy":{"phases":{"hot":{"actions":{"rollover":{"max_size":"50gb","max_age":"30d"}}}}}})";

// The data stream outputs write every record with `create` to the stream, @timestamp added
// (their write replaces the index-name, logstash, routing and pipeline logic, so those
// parameters have no effect there either).
std::unique_ptr<DataStreamSettings> parse_data_stream(const Params& p, const Dialect& d, FormatConfig& f) {
  auto ds = std::make_unique<DataStreamSettings>();
  ds->name = p.str("data_stream_name");
  ds->template_name = p.has("data_stream_template_name") ? p.str("data_stream_template_name")
                                                          : ds->name + "_template";
  ds->placeholders = ds->name.find("${") != std::string::npos || ds->name.find('%') != std::string::npos;
  if (!d.opensearch) {
    ds->ilm_name = p.has("data_stream_ilm_name") ? p.str("data_stream_ilm_name") : ds->name + "_policy";
    ds->ilm_policy = p.has("data_stream_ilm_policy") ? p.str("data_stream_ilm_policy")
                                                       : std::string(kDefaultIlmPolicy);
    simdjson::dom::parser parser;
    simdjson::dom::object policy;
    if (parser.parse(simdjson::padded_string(ds->ilm_policy)).get(policy))
      throw ConfigException(p.pos("data_stream_ilm_policy"), "data_stream_ilm_policy is not a JSON object");
    ds->ilm_policy_overwrite = p.flag("data_stream_ilm_policy_overwrite");
    ds->index_patterns_wildcard = p.flag("data_stream_template_use_index_patterns_wildcard");
  }
  for (const char* name : {"data_stream_template_name", "data_stream_ilm_name"})
    if (p.has(name) && p.str(name).find('%') != std::string::npos)
      throw ConfigException(p.pos(name), std::string(name) + ": time placeholders are not supported (${tag} is)");
  if (!ds->placeholders) {
    const std::pair<const char*, const std::string*> names[] = {
        {"data_stream_name", &ds->name},
        {"data_stream_template_name", &ds->template_name},
        {"data_stream_ilm_name", &ds->ilm_name}};
    for (auto [param, value] : names) {
      if (value->empty() && d.opensearch) continue;
      if (std::string problem = data_stream_name_problem(param, *value); !problem.empty())
        throw ConfigException(p.pos(p.has(param) ? param : "data_stream_name"), problem);
    }
  }
  for (const char* ignored : {"index_name", "logstash_format", "target_index_key", "routing_key", "pipeline",
                              "write_operation", "time_key", "include_timestamp"})
    if (p.has(ignored))
      log::warn(p.pos(ignored).where() + ignored + " has no effect with @type " + std::string(d.type));
  f.data_stream = true;
  f.index_name = ds->name;
  f.write_operation = "create";
  f.include_timestamp = true;
  f.logstash_format = false;
  f.time_key.clear();
  f.target_index_key.clear();
  f.routing_key.clear();
  f.pipeline.clear();
  return ds;
}

}  // namespace

std::string data_stream_name_problem(const char* param, const std::string& value) {
  const std::string shown = std::string("'") + param + "'";
  if (value == "." || value == "..") return shown + " must not be . or ..: <" + value + ">";
  if (!value.empty() && strchr("-_+.", value[0]))
    return shown + " must not start with -,_,+,.: <" + value + ">";
  if (value.find_first_of("\\/*?\"<>| ,#:") != std::string::npos)
    return shown + " must not contain invalid characters \\,/,*,?,\",<,>,|, ,,,#,:: <" + value + ">";
  for (char c : value)
    if (c >= 'A' && c <= 'Z') return shown + " must be lowercase only: <" + value + ">";
  if (value.size() > 255) return shown + " must not be longer than 255 bytes: <" + value + ">";
  return {};
}

OutputConfig parse_config(PluginContext& ctx, const Params& p, const Dialect& d) {
  const ConfigSection& section = p.section();

  FormatConfig f;
  f.logstash_format = p.flag("logstash_format");
  f.logstash_prefix = p.str("logstash_prefix");
  f.logstash_prefix_separator = p.str("logstash_prefix_separator");
  f.logstash_dateformat = p.str("logstash_dateformat");
  f.utc_index = p.flag("utc_index");
  f.index_name = p.str("index_name");
  f.include_timestamp = p.flag("include_timestamp");
  f.time_key = p.str("time_key");
  f.time_key_format = p.str("time_key_format");
  f.time_precision = int(p.integer("time_precision"));
  f.time_key_exclude_timestamp = p.flag("time_key_exclude_timestamp");
  f.include_tag_key = p.flag("include_tag_key");
  f.tag_key = p.str("tag_key");
  f.id_key = p.str("id_key");
  f.routing_key = p.str("routing_key");
  f.pipeline = p.str("pipeline");
  if (p.has("remove_keys")) {
    for (auto& k : p.list("remove_keys")) f.remove_keys.push_back(trim(k));
  }
  f.target_index_key = p.str("target_index_key");
  f.write_operation = p.str("write_operation");
  if (f.write_operation == "update" || f.write_operation == "upsert")
    throw ConfigException(p.pos("write_operation"),
                          "write_operation " + f.write_operation + " is not supported (index, create)");
  f.type_name = d.opensearch ? "_doc" : p.str("type_name");
  f.suppress_type_name = p.flag("suppress_type_name");
  f.deterministic_id = p.flag("deterministic_id");
  if (f.id_key.find('.') != std::string::npos || f.id_key.rfind("$", 0) == 0)
    throw ConfigException(p.pos("id_key"), "id_key: nested record accessors are not supported");

  std::unique_ptr<DataStreamSettings> ds;
  if (d.data_stream) ds = parse_data_stream(p, d, f);

  buffer::Config::Defaults bd;
  bd.chunk_keys = {"tag"};  // the plugin's config_set_default
  bd.timekey_use_utc = true;
  buffer::Config bc = buffer::Config::parse_for_output(ctx, section, bd);
  f.time_chunk_key = bc.key_time;
  f.timekey = bc.timekey;
  f.timekey_use_utc = bc.timekey_use_utc;
  if (f.index_name.find('%') != std::string::npos && !bc.key_time && !f.logstash_format)
    throw ConfigException(p.pos(ds ? "data_stream_name" : "index_name"),
                          "index_name '" + f.index_name +
                              "' has timestamp placeholders, but chunk key 'time' is not configured");

  Settings s;
  s.dialect = &d;
  s.data_stream = std::move(ds);
  std::string scheme = p.str("scheme");
  int port = int(p.integer("port"));
  if (p.has("hosts") && !p.str("hosts").empty()) {
    s.hosts = parse_hosts(p.str("hosts"), scheme, port, p.pos("hosts"));
  } else {
    Host h;
    h.scheme = scheme;
    h.host = p.str("host");
    h.port = port;
    s.hosts.push_back(h);
  }
  for (auto& h : s.hosts) {
    if (h.user.empty() && p.has("user")) {
      h.user = p.str("user");
      h.password = p.str("password");
    }
    if (h.path.empty() && p.has("path")) h.path = p.str("path");
  }
  if (const ConfigSection* endpoint = section.child("endpoint")) {
    if (p.has("user") && !p.str("user").empty())
      throw ConfigException(p.pos("user"), "user and <endpoint> exclude each other: requests are signed with AWS "
                                           "credentials");
    s.aws = parse_endpoint(*endpoint);
    s.hosts = parse_hosts(s.aws->url, scheme, port, endpoint->pos);
  }
  if (p.has("user") && !p.has("password"))
    throw ConfigException(section.pos, "`password` must be present if `user` is present");
  if (!d.opensearch) s.api_key = p.str("api_key");
  s.tls.verify_peer = s.tls.verify_host = p.flag("ssl_verify");
  s.tls.ca_file = p.str("ca_file");
  s.tls.client_cert = p.str("client_cert");
  s.tls.client_key = p.str("client_key");
  parse_tls_versions(p, s.tls);
  s.request_timeout_ms = long(p.seconds("request_timeout") * 1000);
  std::string level = p.str("compression_level");
  s.compression_level = level == "best_speed" ? 1 : level == "best_compression" ? 9
                        : level == "default_compression"                     ? 6
                                                                              : 0;
  s.verify_version = p.flag(versioned(d, "verify_", "_version_at_startup"));
  s.default_version = int(p.integer(std::string(d.default_version_param)));
  s.max_retry_get_es_version = int(p.integer(versioned(d, "max_retry_get_", "_version")));
  s.fail_on_detecting_version = p.flag(versioned(d, "fail_on_detecting_", "_version_retry_exceed"));
  for (const char* key : {"unrecoverable_error_types", "unrecoverable_record_types"})
    if (p.has(key))
      for (auto& type : p.list(key)) s.unrecoverable_error_types.push_back(trim(type));
  s.log_es_400_reason = p.flag(versioned(d, "log_", "_400_reason"));
  if (d.opensearch) s.emit_error_label_event = p.flag("emit_error_label_event");
  if (p.has("custom_headers"))
    for (auto& kv : p.hash("custom_headers")) s.custom_headers.push_back(kv);
  s.dead_letter_path = p.str("dead_letter_path");
  if (s.dead_letter_path.empty())
    s.dead_letter_path = bc.type == buffer::Config::Type::File
                             ? bc.path + "/dead-letter.ndjson"
                             : "/var/log/sluice/" + ctx.id + ".dead-letter.ndjson";
  return OutputConfig{std::move(s), std::move(f), std::move(bc)};
}

}  // namespace sluice::es
