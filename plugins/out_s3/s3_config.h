// The `<match> @type s3` parameters (fluent-plugin-s3 1.8's out_s3.rb names and defaults) and
// what they become: where objects go, how their keys are made, how they are compressed, which
// credentials sign the requests, and the buffer.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "buffer/buffer.h"
#include "core/plugin.h"
#include "format/line_format.h"
#include "format/record_inject.h"
#include "http/aws_credentials.h"
#include "http/http_client.h"
#include "s3_object_key.h"

namespace sluice::s3 {

// store_as: the compressors out_s3 has built in (gzip, json, text) and s3_compressor_zstd.rb.
enum class Store { Gzip, Json, Text, Zstd };

struct Settings {
  std::string bucket;
  std::string region;
  std::string bucket_url;  // https://bucket.s3.region.amazonaws.com, or <endpoint>/bucket (path style)
  std::string path;        // the `path` prefix (ListObjects at start)
  Store store = Store::Gzip;
  int zstd_level = 3;
  std::string content_type = "application/x-gzip";
  bool check_object = true;
  bool overwrite = false;
  bool check_bucket = true;
  bool auto_create_bucket = true;
  bool check_apikey_on_start = true;
  http::HeaderList put_headers;  // storage class, ACL, grants, encryption, tagging
  std::vector<std::pair<std::string, std::string>> metadata;  // s3_metadata: x-amz-meta-<k>, templates
  double warn_for_delay = 0;                                  // 0: off
  http::TlsOptions tls;
  std::string proxy;
  http::aws::CredentialsConfig credentials;
};

struct OutputConfig {
  Settings settings;
  KeyFormatOptions key;
  LineFormat format;
  InjectConfig inject;
  buffer::Config buffer;
};

PluginSpec plugin_spec();

// Throws ConfigException (file:line) for bad or unsupported values; warns as out_s3 does.
OutputConfig parse_config(PluginContext& ctx, const Params& p);

}  // namespace sluice::s3
