#include "http_settings.h"

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <regex>

#include "core/log.h"
#include "core/registry.h"
#include "format/base64.h"

namespace sluice::http_out {

namespace {

constexpr auto& P = spec::with_default;
constexpr auto& Opt = spec::optional;
constexpr auto& Ign = spec::ignored;
constexpr auto& E = spec::choice;

std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

PluginSpec auth_spec() {
  PluginSpec s{"http-auth", "auth", "", {}, {}};
  s.params = {
      E("method", "basic", {"basic", "aws_sigv4"}, "basic, or aws_sigv4 (AWS Signature Version 4)."),
      Opt("username", ParamType::String, "Basic auth user."),
      spec::secret("password", ParamType::String, "Basic auth password."),
      Opt("aws_service", ParamType::String, "aws_sigv4: the service signed for (e.g. osis, execute-api)."),
      Opt("aws_region", ParamType::String, "aws_sigv4: the region signed for."),
      Opt("aws_role_arn", ParamType::String,
          "aws_sigv4: a role assumed with the default credentials (not supported: use IRSA)."),
  };
  return s;
}

bool is_file(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string url_part(CURLU* u, CURLUPart part) {
  char* v = nullptr;
  std::string out;
  if (curl_url_get(u, part, &v, 0) == CURLUE_OK && v) out = v;
  curl_free(v);
  return out;
}

// The endpoint's scheme and host with every placeholder (${...}, %{...}) as a marker host name
// that no real name equals: a host with a placeholder becomes the marker (out_http.rb's
// REPLACED_ENDPOINT_PLACEHOLDER). Throws for what is no http(s) URL.
std::string template_host(const std::string& endpoint, const SourcePos& pos) {
  static const std::regex placeholder(R"([$%]\{[^}]+\})");
  const std::string url = std::regex_replace(endpoint, placeholder, "placeholder.invalid");
  CURLU* u = curl_url();
  const bool parsed = u && curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK;
  std::string scheme, host, user, password;
  if (parsed) {
    scheme = url_part(u, CURLUPART_SCHEME);
    host = url_part(u, CURLUPART_HOST);
    user = url_part(u, CURLUPART_USER);
    password = url_part(u, CURLUPART_PASSWORD);
  }
  curl_url_cleanup(u);
  // The endpoint is not echoed: it may hold credentials.
  if (!parsed || host.empty() || (scheme != "http" && scheme != "https") ||
      !(endpoint.starts_with("http://") || endpoint.starts_with("https://")))
    throw ConfigException(pos, "Invalid endpoint URI: an http:// or https:// URL is required");
  if (!user.empty() || !password.empty())
    throw ConfigException(pos, "credentials in the endpoint URL are not sent by Fluentd's out_http (Net::HTTP "
                               "ignores them) and would be by sluice: use <auth> method basic");
  if (host.find('%') != std::string::npos)
    throw ConfigException(pos, "Invalid endpoint URI: a strftime placeholder in the host");
  return host.find("placeholder.invalid") != std::string::npos ? "placeholder.invalid" : host;
}

bool has_line_break(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

http::HeaderList header_hash(const Params& p, const char* name) {
  http::HeaderList out;
  if (!p.has(name)) return out;
  for (auto& [k, v] : p.hash(name)) {
    if (k.empty() || has_line_break(k) || has_line_break(v) || k.find(':') != std::string::npos)
      throw ConfigException(p.pos(name), std::string(name) + ": header field names and values cannot include "
                                                              "CR/LF (or names ':')");
    out.emplace_back(k, v);
  }
  return out;
}

void check_ciphers(const std::string& ciphers, const SourcePos& pos) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  const bool ok = ctx && SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) == 1;
  SSL_CTX_free(ctx);
  if (!ok) throw ConfigException(pos, "tls_ciphers: OpenSSL accepts no cipher of '" + ciphers + "'");
}

void parse_auth(const ConfigSection& section, Settings& s) {
  static const PluginSpec spec = auth_spec();
  auto errors = validate_params(section, spec);
  if (!errors.empty()) throw ConfigException(errors[0].pos, errors[0].message);
  Params a(section, spec);
  if (a.str("method") == "aws_sigv4") {
    // out_http.rb's configure: both are required.
    if (!a.has("aws_service")) throw ConfigException(section.pos, "aws_service is required for aws_sigv4 auth");
    if (!a.has("aws_region")) throw ConfigException(section.pos, "aws_region is required for aws_sigv4 auth");
    if (a.has("aws_role_arn"))
      throw ConfigException(a.pos("aws_role_arn"),
                            "aws_role_arn (AssumeRole with the default chain's credentials) is not "
                            "supported; a web identity (EKS IRSA: AWS_ROLE_ARN and "
                            "AWS_WEB_IDENTITY_TOKEN_FILE) is used by the default chain");
    s.aws_sigv4 = true;
    s.aws_service = a.str("aws_service");
    s.aws_region = a.str("aws_region");
    return;
  }
  // Net::HTTP's basic_auth: base64 of "user:password", nil printing as "".
  s.authorization = "Basic " + base64_encode(a.str("username") + ":" + a.str("password"));
}

}  // namespace

PluginSpec plugin_spec() {
  PluginSpec s{"output", "http",
               "Sends each buffer chunk in one HTTP request (Fluentd 1.18's out_http): records "
               "formatted by <format> (json lines by default), retried per <buffer>.",
               {},
               {"buffer", "format", "auth", "secondary"}};
  ParamSpec endpoint = Opt("endpoint", ParamType::String,
                           "http(s) URL; ${tag}, ${tag[N]}, strftime and record-key placeholders "
                           "of the <buffer> chunk keys.");
  endpoint.required = true;
  ParamSpec version = P("tls_version", ParamType::Enum, "TLSv1_2", "Only this TLS version.");
  version.choices = {"TLSv1_1", "TLSv1_2", "TLSv1_3", "TLS1_1", "TLS1_2", "TLS1_3"};
  s.params = {
      endpoint,
      E("http_method", "post", {"post", "put"}, "Request method."),
      Opt("proxy", ParamType::String, "Proxy URL (default: HTTP_PROXY or http_proxy)."),
      Opt("content_type", ParamType::String, "Content-Type (default: from the format)."),
      P("json_array", ParamType::Bool, "false", "Send a JSON array instead of JSON lines (json format only)."),
      Opt("headers", ParamType::Hash, "Extra request headers."),
      Opt("headers_from_placeholders", ParamType::Hash, "Extra request headers with chunk-key placeholders."),
      E("compress", "text", {"text", "gzip"}, "gzip: the body gzipped, with Content-Encoding: gzip."),
      Opt("allowed_hosts", ParamType::Array,
          "Hosts allowed when the endpoint host has a placeholder (required then: Fluentd 1.19.3)."),
      Opt("open_timeout", ParamType::Integer, "Connect timeout in seconds (default 60)."),
      Opt("read_timeout", ParamType::Integer,
          "Seconds to wait for the answer once connected (default 60; sluice bounds the whole exchange)."),
      Ign("ssl_timeout", ParamType::Integer, "Accepted; Ruby's TLS session cache timeout, no effect here."),
      Ign("reuse_connections", ParamType::Bool, "Accepted; sluice always keeps connections alive."),
      Opt("tls_ca_cert_path", ParamType::String, "CA bundle (PEM) for https."),
      Opt("tls_client_cert_path", ParamType::String, "Client certificate chain (PEM)."),
      Opt("tls_private_key_path", ParamType::String, "Client private key (PEM, unencrypted)."),
      spec::secret("tls_private_key_passphrase", ParamType::String, "Not supported (refused)."),
      E("tls_verify_mode", "peer", {"none", "peer"}, "peer: verify the certificate and host name."),
      version,
      P("tls_ciphers", ParamType::String, "ALL:!aNULL:!eNULL:!SSLv2", "OpenSSL cipher list (TLS <= 1.2)."),
      P("error_response_as_unrecoverable", ParamType::Bool, "true",
        "Other non-2xx answers: true, the chunk goes to <secondary> or the backup directory; false, "
        "logged and dropped."),
      Opt("retryable_response_codes", ParamType::Array, "Status codes retried (default [503], with a warning)."),
  };
  return s;
}

std::string default_content_type(LineFormat::Type type, bool json_array) {
  using T = LineFormat::Type;
  switch (type) {
    case T::Json: return json_array ? "application/json" : "application/x-ndjson";
    case T::Ltsv: return "text/tab-separated-values";
    case T::OutFile:
    case T::Stdout:
    case T::SingleValue:
    case T::Hash: return "text/plain";
  }
  return "text/plain";
}

std::string_view request_body(std::string_view payload, bool json_array, std::string& scratch) {
  if (!json_array) return payload;
  scratch.clear();
  scratch.reserve(payload.size() + 2);
  scratch.push_back('[');
  // Ruby's String#chop: the last character (the ',' written after the last record).
  scratch.append(payload.substr(0, payload.empty() ? 0 : payload.size() - 1));
  scratch.push_back(']');
  return scratch;
}

OutputConfig parse_config(PluginContext& ctx, const Params& p) {
  const ConfigSection& section = p.section();
  OutputConfig out;
  Settings& s = out.settings;

  const ConfigSection* bsec = section.child("buffer");
  buffer::Config::Defaults bd;
  bd.record_keys = true;  // out_http sets no default chunk keys
  out.buffer = buffer::Config::parse_for_output(ctx, section, bd);
  for (const std::string& key : out.buffer.record_keys) {
    try {
      out.record_keys.emplace_back(key);
    } catch (const std::invalid_argument& e) {
      throw ConfigException(bsec ? bsec->pos : section.pos, std::string("in chunk_keys: ") + e.what());
    }
  }
  const ChunkKeys keys(out.buffer);

  s.endpoint = p.str("endpoint");
  s.endpoint_host = template_host(s.endpoint, p.pos("endpoint"));
  if (std::string ph = unfilled_placeholder(s.endpoint, keys); !ph.empty())
    throw ConfigException(p.pos("endpoint"), "endpoint: placeholder " + ph +
                                                 " is not a chunk key of <buffer> (Fluentd would send it as "
                                                 "it is); add its key, e.g. <buffer tag>");
  if (p.has("allowed_hosts"))
    for (auto& h : p.list("allowed_hosts"))
      if (!trim(h).empty()) s.allowed_hosts.push_back(trim(h));
  if (s.endpoint_host == "placeholder.invalid" && s.allowed_hosts.empty())
    throw ConfigException(p.pos("endpoint"), "allowed_hosts is strictly required when using placeholders in the "
                                             "endpoint host (Fluentd 1.19.3)");

  s.method = p.str("http_method") == "put" ? "PUT" : "POST";
  s.json_array = p.flag("json_array");
  s.gzip = p.str("compress") == "gzip";
  s.headers = header_hash(p, "headers");
  s.headers_from_placeholders = header_hash(p, "headers_from_placeholders");
  for (auto& [name, value] : s.headers_from_placeholders)
    if (std::string ph = unfilled_placeholder(value, keys); !ph.empty())
      throw ConfigException(p.pos("headers_from_placeholders"),
                            "headers_from_placeholders: placeholder " + ph + " of header '" + name +
                                "' is not a chunk key of <buffer>");

  const ConfigSection* fsec = section.child("format");
  if (fsec && ctx.errors && ctx.registry && ctx.registry->spec("formatter", fsec->get("@type", "json")))
    ctx.check_section(*fsec, "formatter", "json");
  out.format = LineFormat::configure(fsec, "json");
  if (s.json_array && out.format.type() != LineFormat::Type::Json)
    throw ConfigException(p.pos("json_array"), "json_array option could be used with json formatter only");
  s.content_type = p.has("content_type") ? p.str("content_type") : default_content_type(out.format.type(), s.json_array);

  if (const ConfigSection* auth = section.child("auth")) parse_auth(*auth, s);

  if (p.has("proxy")) {
    s.proxy = p.str("proxy");
  } else if (const char* env = getenv("HTTP_PROXY"); env && *env) {
    s.proxy = env;  // out_http.rb's default, for https endpoints too
  } else if (const char* env2 = getenv("http_proxy"); env2 && *env2) {
    s.proxy = env2;
  }
  auto seconds = [&](const char* name, long& ms) {
    if (!p.has(name)) return;
    const int64_t v = p.integer(name);
    if (v <= 0 || v > 86400) throw ConfigException(p.pos(name), std::string(name) + " must be 1 to 86400 seconds");
    ms = long(v) * 1000;
  };
  seconds("open_timeout", s.open_timeout_ms);
  seconds("read_timeout", s.read_timeout_ms);
  for (const char* harmless : {"ssl_timeout", "reuse_connections"})
    if (p.has(harmless))
      log::warn(p.pos(harmless).file + ":" + std::to_string(p.pos(harmless).line) + ": '" + harmless +
                "' is accepted and has no effect in sluice (connections are kept alive; no TLS session cache timeout)");

  if (s.endpoint.starts_with("https")) {
    for (const char* name : {"tls_ca_cert_path", "tls_client_cert_path", "tls_private_key_path"})
      if (p.has(name) && !is_file(p.str(name)))
        throw ConfigException(p.pos(name), std::string(name) + " is wrong: " + p.str(name));
    s.tls.ca_file = p.str("tls_ca_cert_path");
    s.tls.client_cert = p.str("tls_client_cert_path");
    s.tls.client_key = p.str("tls_private_key_path");
    if (p.has("tls_private_key_passphrase"))
      throw ConfigException(p.pos("tls_private_key_passphrase"),
                            "tls_private_key_passphrase is not supported: use an unencrypted key file");
    s.tls.verify_peer = s.tls.verify_host = p.str("tls_verify_mode") == "peer";
    // Fluent::TLS: TLSv1_2 and TLS1_2 both mean exactly TLS 1.2 (min_version = max_version).
    s.tls.min_version = s.tls.max_version = *http::parse_tls_version(p.str("tls_version"));
    s.tls.ciphers = p.str("tls_ciphers");
    check_ciphers(s.tls.ciphers, p.pos("tls_ciphers"));
  }

  s.error_response_as_unrecoverable = p.flag("error_response_as_unrecoverable");
  if (p.has("retryable_response_codes")) {
    for (auto& code : p.list("retryable_response_codes")) {
      int64_t v = 0;
      if (!parse_integer(trim(code), v))
        throw ConfigException(p.pos("retryable_response_codes"),
                              "retryable_response_codes: '" + trim(code) + "' is not an integer");
      s.retryable_response_codes.push_back(long(v));
    }
  } else {
    log::warn("Status code 503 is going to be removed from default `retryable_response_codes` from fluentd v2. "
              "Please add it by yourself if you wish");
    s.retryable_response_codes = {503};
  }
  return out;
}

}  // namespace sluice::http_out
