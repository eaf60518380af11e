#include "loki_config.h"

#include <sys/stat.h>

#include "buffer/chunk_file.h"
#include "format/tag_placeholders.h"

namespace sluice::loki {

namespace {

constexpr auto& P = spec::with_default;
constexpr auto& Opt = spec::optional;

std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// out_loki.rb raises at configure for a certificate, key or CA file it cannot read.
void check_readable(const Params& p, const char* name) {
  if (!p.has(name)) return;
  struct stat st;
  const std::string path = p.str(name);
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    throw ConfigException(p.pos(name), std::string(name) + " file " + path + " not found");
}

// A record accessor for <label> or remove_keys; deleting an array element is not supported.
RecordPath accessor(const std::string& text, const SourcePos& pos, const char* what) {
  try {
    RecordPath path(text);
    for (auto& step : path.steps())
      if (step.is_index())
        throw ConfigException(pos, std::string(what) + " '" + text +
                                       "': array index steps are not supported (the plugin deletes "
                                       "what it reads)");
    return path;
  } catch (const std::invalid_argument& e) {
    throw ConfigException(pos, std::string(what) + ": " + e.what());
  }
}

}  // namespace

PluginSpec plugin_spec() {
  PluginSpec s{"output", "loki",
               "Pushes records to Grafana Loki (/loki/api/v1/push, JSON) as fluent-plugin-grafana-loki "
               "does: streams by label set, lines as key_value or json; 429 and 5xx retried with "
               "<buffer>, other answers not retried (to <secondary>, else the backup file).",
               {},
               {"buffer", "secondary", "label"}};
  s.params = {
      P("url", ParamType::String, "https://logs-prod-us-central1.grafana.net",
        "Loki base URL; pushes go to <url>/loki/api/v1/push."),
      Opt("username", ParamType::String, "Basic auth user."),
      spec::secret("password", ParamType::String, "Basic auth password."),
      Opt("bearer_token_file", ParamType::String,
          "File whose content is sent as `Authorization: Bearer`; read once at start-up."),
      Opt("cert", ParamType::String, "Client certificate (PEM), with key."),
      Opt("key", ParamType::String, "Client key (PEM), with cert."),
      Opt("ca_cert", ParamType::String, "CA bundle (PEM) for the server certificate."),
      Opt("ciphers", ParamType::String, "OpenSSL cipher list."),
      Opt("min_version", ParamType::String, "Lowest TLS version: TLS1_1, TLS1_2, TLS1_3."),
      P("insecure_tls", ParamType::Bool, "false", "Do not verify the server certificate."),
      Opt("custom_headers", ParamType::Hash, "Extra request headers."),
      spec::choice("compress", "", {"", "gzip"}, "gzip: gzip request bodies."),
      Opt("tenant", ParamType::String, "X-Scope-OrgID header; ${tag} with the tag chunk key."),
      Opt("extra_labels", ParamType::Hash, "Labels added to every stream (they win over record labels)."),
      spec::choice("line_format", "key_value", {"key_value", "json"},
                   "How the record (without label keys) becomes the line."),
      P("extract_kubernetes_labels", ParamType::Bool, "false",
        "kubernetes.labels become stream labels (`.`, `-`, `/` in names as `_`)."),
      Opt("remove_keys", ParamType::Array, "Record keys (record accessors) left out of the line."),
      P("drop_single_key", ParamType::Bool, "false", "A record with one key: the line is its value."),
      P("include_thread_label", ParamType::Bool, "true",
        "With flush_thread_count > 1: a fluentd_thread label naming the flush slot."),
      P("request_timeout", ParamType::Duration, "60s",
        "sluice: per request (Net::HTTP's read timeout is 60 s)."),
  };
  return s;
}

OutputConfig parse_config(PluginContext& ctx, const Params& p) {
  const ConfigSection& section = p.section();
  OutputConfig out;
  Settings& s = out.settings;
  const std::string url = p.str("url");
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    throw ConfigException(p.pos("url"), "URL parameter must have HTTP/HTTPS scheme");
  // out_loki.rb: URI.parse("#{@url}/loki/api/v1/push"), the URL as written.
  s.push_url = url + "/loki/api/v1/push";
  s.username = p.str("username");
  s.password = p.str("password");
  if (p.has("bearer_token_file")) {
    const std::string path = p.str("bearer_token_file");
    std::string error;
    if (!buffer::read_file(path, s.bearer_token, 64 << 10, error))
      throw ConfigException(p.pos("bearer_token_file"), "bearer_token_file " + path + " not found");
    // A token file written with a final newline still works (Net::HTTP refuses one in a header).
    while (!s.bearer_token.empty() && (s.bearer_token.back() == '\n' || s.bearer_token.back() == '\r'))
      s.bearer_token.pop_back();
    if (s.bearer_token.empty())
      throw ConfigException(p.pos("bearer_token_file"), "bearer_token_file " + path + " is empty");
  }
  check_readable(p, "cert");
  check_readable(p, "key");
  if (p.has("ca_cert")) {
    struct stat st;
    if (::stat(p.str("ca_cert").c_str(), &st) != 0)
      throw ConfigException(p.pos("ca_cert"), "CA certificate file " + p.str("ca_cert") + " not found");
  }
  // The plugin presents a client certificate only when both are given.
  if (p.has("cert") && p.has("key")) {
    s.tls.client_cert = p.str("cert");
    s.tls.client_key = p.str("key");
  }
  s.tls.ca_file = p.str("ca_cert");
  s.tls.verify_peer = s.tls.verify_host = !p.flag("insecure_tls");
  s.tls.ciphers = p.str("ciphers");
  if (p.has("min_version")) {
    // Ruby's OpenSSL version names, as out_loki.rb passes min_version to Net::HTTP.
    const auto version = http::parse_tls_version(p.str("min_version"));
    if (!version)
      throw ConfigException(p.pos("min_version"), "min_version '" + p.str("min_version") +
                                                      "' is not one of TLS1, TLS1_1, TLS1_2, TLS1_3");
    s.tls.min_version = *version;
  }
  if (p.has("custom_headers"))
    for (auto& kv : p.hash("custom_headers")) s.custom_headers.push_back(kv);
  s.gzip = p.str("compress") == "gzip";
  s.request_timeout_ms = long(p.seconds("request_timeout") * 1000);

  buffer::Config::Defaults bd;
  bd.type = "memory";  // out_loki.rb DEFAULT_BUFFER_TYPE, chunk_keys []
  out.buffer = buffer::Config::parse_for_output(ctx, section, bd);

  if (p.has("tenant")) {
    // extract_placeholders(@tenant, chunk): sluice's chunks carry the tag, not record keys.
    s.tenant = p.str("tenant");
    s.tenant_has_tag = expand_tag_placeholders(s.tenant, "a") != s.tenant;
    const std::string rest = expand_tag_placeholders(s.tenant, "");
    if (rest.find("${") != std::string::npos || (out.buffer.key_time && rest.find('%') != std::string::npos))
      throw ConfigException(p.pos("tenant"), "tenant '" + s.tenant +
                                                 "': only ${tag} and ${tag[N]} placeholders are "
                                                 "supported");
    if (s.tenant_has_tag && !out.buffer.key_tag)
      throw ConfigException(p.pos("tenant"),
                            "tenant uses ${tag}, but chunk key 'tag' is not configured in <buffer>");
  }

  FormatConfig& f = out.format;
  for (const auto& child : section.children) {
    if (child.name != "label") continue;
    for (const auto& param : child.params) {
      if (param.is_nil) continue;
      // out_loki.rb configure: a key alone reads the record key of the same name.
      const std::string& source = param.value.empty() ? param.key : param.value;
      f.labels.push_back({sanitize_label_name(param.key), accessor(source, param.pos, "<label>")});
    }
    if (!child.children.empty())
      throw ConfigException(child.children[0].pos, "<label> takes no sections");
  }
  if (p.has("extra_labels"))
    for (auto& kv : p.hash("extra_labels")) f.extra_labels.push_back(kv);
  if (p.has("remove_keys"))
    for (auto& k : p.list("remove_keys")) {
      std::string key = trim(k);
      if (!key.empty()) f.remove_keys.push_back(accessor(key, p.pos("remove_keys"), "remove_keys"));
    }
  f.line_format = p.str("line_format") == "json" ? FormatConfig::LineFormat::Json
                                                   : FormatConfig::LineFormat::KeyValue;
  f.drop_single_key = p.flag("drop_single_key");
  f.extract_kubernetes_labels = p.flag("extract_kubernetes_labels");
  f.thread_label = p.flag("include_thread_label") && out.buffer.flush_thread_count > 1;
  // An extra label of that name wins over the thread's (format_labels merges extra_labels last).
  for (auto& [name, value] : f.extra_labels)
    if (name == "fluentd_thread") f.thread_label = false;
  if (f.thread_label)
    for (const auto& child : section.children)
      if (child.name == "label" && child.param("fluentd_thread"))
        throw ConfigException(child.param("fluentd_thread")->pos,
                              "<label> fluentd_thread: the label is the flush thread's with "
                              "flush_thread_count > 1 (set include_thread_label false)");
  return out;
}

}  // namespace sluice::loki
