#include "http/aws_credentials_config.h"

namespace sluice::http::aws {

PluginSpec web_identity_spec(bool sts_params) {
  PluginSpec s{"aws-credentials", "web_identity_credentials", "", {}, {}};
  ParamSpec role = spec::optional("role_arn", ParamType::String, "The role to assume.");
  role.required = true;
  ParamSpec session = spec::optional("role_session_name", ParamType::String, "The session's name.");
  session.required = true;
  ParamSpec token = spec::optional("web_identity_token_file", ParamType::String, "The OIDC token file.");
  token.required = true;
  s.params = {
      role,
      session,
      token,
      spec::optional("policy", ParamType::String, "A session policy (JSON)."),
      spec::optional("duration_seconds", ParamType::Integer, "Session length, 900-43200 (default 3600)."),
  };
  if (sts_params) {
    s.params.push_back(spec::optional("sts_region", ParamType::String, "STS region (default the service's)."));
    s.params.push_back(spec::optional("sts_endpoint_url", ParamType::String,
                                      "STS endpoint (default https://sts.<region>.amazonaws.com)."));
    s.params.push_back(spec::optional("sts_http_proxy", ParamType::String,
                                      "Not supported: STS requests use the environment's proxy settings."));
  }
  return s;
}

void read_static_keys(const Params& p, CredentialsConfig& c) {
  c.access_key_id = p.str("aws_key_id");
  c.secret_access_key = p.str("aws_sec_key");
  // The plugins take the keys only when both are given; one alone is a mistake.
  if (c.access_key_id.empty() != c.secret_access_key.empty())
    throw ConfigException(p.pos(c.access_key_id.empty() ? "aws_sec_key" : "aws_key_id"),
                          "aws_key_id and aws_sec_key go together");
}

bool read_web_identity(const ConfigSection& section, const PluginSpec& spec, CredentialsConfig& c) {
  const ConfigSection* web = section.child("web_identity_credentials");
  if (!web) return false;
  auto errors = validate_params(*web, spec);
  if (!errors.empty()) throw ConfigException(errors[0].pos, errors[0].message);
  Params w(*web, spec);
  if (w.has("sts_http_proxy"))
    throw ConfigException(w.pos("sts_http_proxy"),
                          "sts_http_proxy is not supported (STS requests use the environment's https_proxy)");
  c.assume_role_arn = w.str("role_arn");
  c.assume_role_session_name = w.str("role_session_name");
  c.web_identity_token_file = w.str("web_identity_token_file");
  c.policy = w.str("policy");
  if (w.has("duration_seconds")) c.duration_seconds = int(w.integer("duration_seconds"));
  if (w.has("sts_region")) c.sts_region = w.str("sts_region");
  if (w.has("sts_endpoint_url")) c.sts_endpoint_url = w.str("sts_endpoint_url");
  return true;
}

}  // namespace sluice::http::aws
