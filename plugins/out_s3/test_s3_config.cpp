// `@type s3` parameters: out_s3.rb's defaults, where requests go, and what is refused (file:line).
#include <gtest/gtest.h>

#include "core/hostname.h"
#include "s3_config.h"
#include "support/plugin_config.h"

namespace sluice::s3 {
namespace {

struct Env : sluice::testing::PluginConfig {
  OutputConfig config(const std::string& body) {
    PluginContext ctx = parse("match", "output", "s3", body, "s3_0");
    EXPECT_TRUE(errors.empty()) << errors[0].to_string();
    return parse_config(ctx, params());
  }
  std::string config_error(const std::string& body) {
    return error_of([&] {
      PluginContext ctx = parse("match", "output", "s3", body, "s3_0");
      if (errors.empty()) parse_config(ctx, params());
    });
  }
};

std::string header(const Settings& s, const std::string& name) {
  for (auto& [k, v] : s.put_headers)
    if (k == name) return v;
  return "(none)";
}

TEST(S3Config, DefaultsOfThePlugin) {
  Env env;
  OutputConfig c = env.config("  s3_bucket logs\n  s3_region eu-west-1\n");
  EXPECT_EQ(c.settings.bucket_url, "https://logs.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(c.key.format, "%{path}%{time_slice}_%{index}.%{file_extension}");
  EXPECT_EQ(c.key.file_extension, "gz");
  EXPECT_EQ(c.settings.content_type, "application/x-gzip");
  EXPECT_TRUE(c.settings.check_object && c.settings.check_bucket && c.settings.auto_create_bucket);
  EXPECT_TRUE(c.buffer.key_time);  // config_set_default chunk_keys ['time'], timekey 1d
  EXPECT_EQ(c.buffer.timekey, 86400);
  EXPECT_EQ(header(c.settings, "x-amz-storage-class"), "STANDARD");
  EXPECT_EQ(c.settings.credentials.region, "eu-west-1");
}

TEST(S3Config, WhereTheBucketIs) {
  Env env;
  auto url = [&](const std::string& extra) {
    return env.config("  s3_bucket logs\n  s3_region eu-west-1\n" + extra).settings.bucket_url;
  };
  EXPECT_EQ(url("  s3_region us-east-1\n"), "https://logs.s3.amazonaws.com");
  EXPECT_EQ(url("  force_path_style true\n"), "https://s3.eu-west-1.amazonaws.com/logs");
  EXPECT_EQ(url("  s3_endpoint http://127.0.0.1:9000/\n"),
            "http://127.0.0.1:9000/logs");  // an IP: path style
  EXPECT_EQ(url("  s3_endpoint https://minio.example:9000\n"), "https://logs.minio.example:9000");
  EXPECT_EQ(url("  s3_endpoint https://minio.example:9000\n  force_path_style true\n"),
            "https://minio.example:9000/logs");
  EXPECT_EQ(url("  s3_endpoint https://bucket.vpce-1a2b.s3.eu-west-1.vpce.amazonaws.com\n"),
            "https://logs.bucket.vpce-1a2b.s3.eu-west-1.vpce.amazonaws.com");
  EXPECT_EQ(url("  enable_dual_stack true\n"), "https://logs.s3.dualstack.eu-west-1.amazonaws.com");
  EXPECT_EQ(env.config("  s3_bucket my.logs\n  s3_region eu-west-1\n").settings.bucket_url,
            "https://s3.eu-west-1.amazonaws.com/my.logs");
}

TEST(S3Config, KeysStorageAndHeaders) {
  Env env;
  OutputConfig c = env.config(
      "  s3_bucket logs\n  check_object false\n  store_as zstd\n  <compress>\n    level 9\n  </compress>\n"
      "  reduced_redundancy true\n  acl bucket-owner-full-control\n  tagging a=b\n"
      "  s3_metadata {\"source\":\"${tag}\"}\n  <buffer tag,time>\n    timekey 1h\n  </buffer>\n");
  EXPECT_EQ(c.key.format, "%{path}/%{time_slice}_%{hms_slice}.%{file_extension}");
  EXPECT_FALSE(c.key.check_object);
  EXPECT_EQ(c.key.file_extension, "zst");
  EXPECT_EQ(c.settings.zstd_level, 9);
  EXPECT_EQ(c.settings.content_type, "application/x-zst");
  EXPECT_TRUE(c.key.key_tag && c.key.key_time);
  EXPECT_EQ(c.key.timekey, 3600);
  EXPECT_EQ(header(c.settings, "x-amz-storage-class"), "REDUCED_REDUNDANCY");
  EXPECT_EQ(header(c.settings, "x-amz-acl"), "bucket-owner-full-control");
  EXPECT_EQ(header(c.settings, "x-amz-tagging"), "a=b");
  ASSERT_EQ(c.settings.metadata.size(), 1u);
  EXPECT_EQ(c.settings.metadata[0].first, "x-amz-meta-source");
  // An unknown store_as falls back to text, as the plugin does.
  EXPECT_EQ(env.config("  s3_bucket logs\n  store_as snappy\n").key.file_extension, "txt");
}

TEST(S3Config, TimeSliceFormatWithoutBufferSetsTheTimekey) {
  Env env;
  OutputConfig c = env.config("  s3_bucket logs\n  time_slice_format %Y%m%d-%H\n  utc true\n");
  EXPECT_EQ(c.buffer.timekey, 3600);
  EXPECT_TRUE(c.buffer.timekey_use_utc);
  EXPECT_EQ(c.key.time_slice_format, "%Y%m%d-%H");
}

// The configuration of the Ruby plugin's test_write_with_custom_s3_object_key_format
// (test/test_out_s3.rb, CONFIG_TIME_SLICE), v0.12 parameters and all: its key and its lines.
TEST(S3Config, TheRubyPluginsTimeSlicedTest) {
  Env env;
  OutputConfig c = env.config(
      "  aws_key_id test_key_id\n  aws_sec_key test_sec_key\n  s3_bucket test_bucket\n"
      "  s3_object_key_format %{path}/events/ts=%{time_slice}/events_%{index}-%{hostname}.%{file_extension}\n"
      "  time_slice_format %Y%m%d-%H\n  path log\n  utc\n  check_bucket true\n  check_object true\n");
  const int64_t t = 1293974055;  // 2011-01-02 13:14:15 UTC
  ChunkKeyInput in;
  in.timekey = t - t % int64_t(c.buffer.timekey);
  in.chunk_id = "00112233445566778899aabbccddeeff";
  std::string key, error;
  ASSERT_TRUE(ObjectKeyFormat(c.key).key(in, 0, key, error)) << error;
  EXPECT_EQ(key, "log/events/ts=20110102-13/events_0-" + local_hostname() + ".gz");
  Batch b;
  b.begin_record({t, 0});
  b.add_field("a", Value::of_int(1));
  std::string line;
  c.format.append(line, "test", b, b.records[0]);
  EXPECT_EQ(line, "2011-01-02T13:14:15Z\ttest\t{\"a\":1}\n");
}

TEST(S3Config, CredentialSections) {
  Env env;
  OutputConfig c = env.config(
      "  s3_bucket logs\n  <web_identity_credentials>\n    role_arn arn:aws:iam::1:role/r\n"
      "    role_session_name s\n    web_identity_token_file /var/run/token\n    duration_seconds 900\n"
      "  </web_identity_credentials>\n");
  EXPECT_EQ(c.settings.credentials.assume_role_arn, "arn:aws:iam::1:role/r");
  EXPECT_EQ(c.settings.credentials.assume_role_session_name, "s");
  EXPECT_EQ(c.settings.credentials.duration_seconds, 900);
  c = env.config(
      "  s3_bucket logs\n  <instance_profile_credentials>\n    ip_address 127.0.0.1\n    port 8080\n"
      "  </instance_profile_credentials>\n");
  EXPECT_TRUE(c.settings.credentials.instance_profile_only);
  EXPECT_EQ(c.settings.credentials.imds_endpoint, "http://127.0.0.1:8080");
}

TEST(S3Config, RefusedWithFileAndLine) {
  Env env;
  EXPECT_EQ(
      env.config_error("  s3_bucket logs\n  <shared_credentials>\n    path /x\n  </shared_credentials>\n"),
      "t.conf:4: <shared_credentials> is not supported: ~/.aws/credentials files are not read");
  EXPECT_EQ(env.config_error("  s3_bucket logs\n  store_as lzma2\n"),
            "t.conf:4: store_as lzma2 is not supported (it runs an external command); use gzip, zstd, json "
            "or text");
  EXPECT_EQ(env.config_error("  s3_bucket logs\n  aws_key_id AKIA\n"),
            "t.conf:4: aws_key_id and aws_sec_key go together");
  EXPECT_EQ(env.config_error("  s3_bucket logs\n  signature_version s3\n"),
            "t.conf:4: signature_version s3 (SigV2) is not supported; use v4");
  EXPECT_EQ(env.config_error("  s3_bucket logs\n  time_slice_format %Y\n"),
            "t.conf:4: time_slice_format only with %Y or %m is too long");
  EXPECT_NE(env.config_error("  path logs/\n").find("s3_bucket"), std::string::npos);
}

}  // namespace
}  // namespace sluice::s3
