// The credential parameters the AWS outputs share (fluent-plugin-s3, fluent-plugin-cloudwatch-logs):
// `aws_key_id` / `aws_sec_key` and the `<web_identity_credentials>` section (EKS IRSA), read into
// an AwsCredentialsProvider's configuration.
#pragma once

#include "config/params.h"
#include "http/aws_credentials.h"

namespace sluice::http::aws {

// `<web_identity_credentials>`: role_arn, role_session_name, web_identity_token_file, policy,
// duration_seconds; with `sts_params` also sts_region, sts_endpoint_url and (refused)
// sts_http_proxy, as fluent-plugin-s3 has them.
PluginSpec web_identity_spec(bool sts_params);

// aws_key_id and aws_sec_key of `p` into `c`: both or neither (ConfigException naming the one
// given alone).
void read_static_keys(const Params& p, CredentialsConfig& c);

// The `<web_identity_credentials>` child of `section`, checked against `spec` (ConfigException
// with file:line), into `c`. False when there is none.
bool read_web_identity(const ConfigSection& section, const PluginSpec& spec, CredentialsConfig& c);

}  // namespace sluice::http::aws
