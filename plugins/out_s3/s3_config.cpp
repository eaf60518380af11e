#include "s3_config.h"

#include <stdlib.h>

#include "core/hostname.h"
#include "core/log.h"
#include "http/aws_credentials_config.h"

namespace sluice::s3 {

namespace {

constexpr auto& P = spec::with_default;
constexpr auto& Opt = spec::optional;
constexpr auto& Ign = spec::ignored;


// A parameter of out_s3.rb that sluice does not do: declared, so that giving it says why.
ParamSpec refused(std::string name, ParamType type, std::string why) {
  ParamSpec s = Opt(std::move(name), type, "Not supported: " + why);
  return s;
}

const std::vector<std::pair<std::string, std::string>>& refused_params() {
  static const std::vector<std::pair<std::string, std::string>> list = {
      {"aws_profile",
       "~/.aws/credentials profiles are not read; use aws_key_id/aws_sec_key, "
       "<web_identity_credentials>, <instance_profile_credentials> or the environment"},
      {"aws_credential_process", "sluice runs no credential commands"},
      {"ssl_ca_directory", "use ssl_ca_bundle (a PEM file)"},
      {"checksum_algorithm", "objects are checked with X-Amz-Content-Sha256 (the SHA-256 of the body)"},
  };
  return list;
}

const std::vector<std::pair<std::string, std::string>>& refused_sections() {
  static const std::vector<std::pair<std::string, std::string>> list = {
      {"assume_role_credentials",
       "AssumeRole signed with other credentials is not supported; use "
       "<web_identity_credentials> (EKS IRSA) or <instance_profile_credentials>"},
      {"shared_credentials", "~/.aws/credentials files are not read"},
      {"bucket_lifecycle_rule", "sluice does not change bucket lifecycle rules; set them on the bucket"},
  };
  return list;
}

PluginSpec instance_profile_spec() {
  PluginSpec s{"aws-credentials", "instance_profile_credentials", "", {}, {}};
  s.params = {Ign("retries", ParamType::Integer, "Accepted; a failed fetch is retried with the chunk."),
              Opt("ip_address", ParamType::String, "Instance metadata address (default 169.254.169.254)."),
              Opt("port", ParamType::Integer, "Instance metadata port (default 80)."),
              Opt("http_open_timeout", ParamType::Float, "Seconds (default 5 for the whole request)."),
              Opt("http_read_timeout", ParamType::Float, "Seconds (default 5 for the whole request).")};
  return s;
}

const ConfigSection* checked_child(const ConfigSection& section, const char* name, const PluginSpec& spec) {
  const ConfigSection* child = section.child(name);
  if (!child) return nullptr;
  auto errors = validate_params(*child, spec);
  if (!errors.empty()) throw ConfigException(errors[0].pos, errors[0].message);
  return child;
}

void read_credentials(const Params& p, http::aws::CredentialsConfig& c) {
  const ConfigSection& section = p.section();
  http::aws::read_static_keys(p, c);
  static const PluginSpec web_spec = http::aws::web_identity_spec(true);
  static const PluginSpec imds_spec = instance_profile_spec();
  http::aws::CredentialsConfig web = c;
  const bool has_web = http::aws::read_web_identity(section, web_spec, web);
  const ConfigSection* imds = checked_child(section, "instance_profile_credentials", imds_spec);
  if (!c.access_key_id.empty()) return;  // the keys come before any section, as in setup_credentials
  if (has_web) {
    c = web;
    return;
  }
  const bool iam_retries = p.has("aws_iam_retries");
  if (imds || iam_retries) {
    if (iam_retries && !imds)
      log::warn(p.pos("aws_iam_retries").where() +
                "'aws_iam_retries' parameter is deprecated. Use 'instance_profile_credentials' instead");
    c.instance_profile_only = true;
    if (imds) {
      Params i(*imds, imds_spec);
      if (i.has("ip_address") || i.has("port"))
        c.imds_endpoint = "http://" +
                          (i.has("ip_address") ? i.str("ip_address") : std::string("169.254.169.254")) + ":" +
                          (i.has("port") ? std::to_string(i.integer("port")) : std::string("80"));
      double seconds = 0;
      if (i.has("http_open_timeout")) seconds += i.real("http_open_timeout");
      if (i.has("http_read_timeout")) seconds += i.real("http_read_timeout");
      if (seconds > 0) c.imds_timeout_ms = long(seconds * 1000);
    }
  }
}

// Where the bucket is: Amazon S3 by region, or s3_endpoint (MinIO, Ceph...), virtual-hosted
// (bucket.host) unless force_path_style, a bucket name that is no DNS label, or an IP address
// endpoint, where the AWS SDK's endpoint rules also fall back to the path.
std::string bucket_url(const Params& p, const std::string& bucket, const std::string& region) {
  const bool path_style = p.flag("force_path_style");
  bool dns_bucket = !bucket.empty() && bucket.find("..") == std::string::npos;
  for (char ch : bucket)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.')) dns_bucket = false;
  std::string endpoint = p.str("s3_endpoint");
  if (endpoint.empty()) {
    std::string host = p.flag("enable_transfer_acceleration") ? "s3-accelerate"
                       : p.flag("enable_dual_stack")          ? "s3.dualstack." + region
                       : region == "us-east-1"                ? std::string("s3")
                                                              : "s3." + region;
    if (p.flag("enable_transfer_acceleration") && p.flag("enable_dual_stack"))
      host = "s3-accelerate.dualstack";
    host += ".amazonaws.com";
    // Dots in a bucket name do not fit the *.s3 wildcard certificate.
    if (path_style || !dns_bucket || bucket.find('.') != std::string::npos)
      return "https://" + host + "/" + bucket;
    return "https://" + bucket + "." + host;
  }
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  const size_t scheme_end = endpoint.find("://");
  if (scheme_end == std::string::npos)
    throw ConfigException(p.pos("s3_endpoint"), "s3_endpoint must be a URL like https://minio.example:9000");
  const std::string scheme = endpoint.substr(0, scheme_end);
  std::string authority = endpoint.substr(scheme_end + 3);
  if (scheme != "http" && scheme != "https")
    throw ConfigException(p.pos("s3_endpoint"), "s3_endpoint must start with http:// or https://");
  if (authority.find('/') != std::string::npos)
    throw ConfigException(p.pos("s3_endpoint"), "s3_endpoint must not have a path");
  std::string host = authority.substr(0, authority.rfind(':') == std::string::npos || authority.back() == ']'
                                             ? authority.size()
                                             : authority.rfind(':'));
  bool ip = host.find(':') != std::string::npos || host.front() == '[';
  if (!ip) {
    ip = true;
    for (char ch : host)
      if (!((ch >= '0' && ch <= '9') || ch == '.')) ip = false;
  }
  if (path_style || ip || !dns_bucket || host == "localhost") return endpoint + "/" + bucket;
  return scheme + "://" + bucket + "." + authority;
}

// out_s3.rb's reject_s3_endpoint?: s3_endpoint is for S3-compatible services.
bool amazon_s3_endpoint(const std::string& e) {
  auto ends_with = [&](const std::string& s) {
    return e.size() >= s.size() && e.compare(e.size() - s.size(), s.size(), s) == 0;
  };
  return !ends_with("vpce.amazonaws.com") && ends_with("amazonaws.com") &&
         e.find("fips") == std::string::npos && e.find("gov") == std::string::npos;
}

void read_store_as(PluginContext& ctx, const Params& p, Settings& s, KeyFormatOptions& k) {
  const std::string store = p.str("store_as");
  if (store == "gzip") {
    s.store = Store::Gzip;
    k.file_extension = "gz";
    s.content_type = "application/x-gzip";
  } else if (store == "json") {
    s.store = Store::Json;
    k.file_extension = "json";
    s.content_type = "application/json";
  } else if (store == "zstd") {
    s.store = Store::Zstd;
    k.file_extension = "zst";
    s.content_type = "application/x-zst";
    if (const ConfigSection* compress = p.section().child("compress")) {
      PluginSpec spec{
          "s3-compressor", "compress", "", {P("level", ParamType::Integer, "3", "zstd level, 1-22.")}, {}};
      auto errors = validate_params(*compress, spec);
      if (!errors.empty()) throw ConfigException(errors[0].pos, errors[0].message);
      Params c(*compress, spec);
      s.zstd_level = int(c.integer("level"));
      if (s.zstd_level < 1 || s.zstd_level > 22) throw ConfigException(c.pos("level"), "level must be 1-22");
    }
  } else if (store == "lzo" || store == "lzma2" || store == "gzip_command" || store == "parquet") {
    throw ConfigException(p.pos("store_as"), "store_as " + store +
                                                 " is not supported (it runs an external command); use gzip, "
                                                 "zstd, json or text");
  } else {
    if (store != "text")
      // out_s3.rb: an unknown compressor falls back to text with a warning.
      log::warn(p.pos("store_as").where() + "'" + store + "' not supported. Use 'text' instead");
    s.store = Store::Text;
    k.file_extension = "txt";
    s.content_type = "text/plain";
  }
  if (s.store != Store::Zstd && p.section().child("compress"))
    throw ConfigException(p.section().child("compress")->pos, "<compress> is for store_as zstd");
  (void)ctx;
}

void read_put_headers(const Params& p, Settings& s) {
  std::string storage_class = p.str("storage_class");
  if (p.flag("reduced_redundancy")) {
    log::warn(p.pos("reduced_redundancy").where() +
              "reduced_redundancy parameter is deprecated. Use storage_class parameter instead");
    storage_class = "REDUCED_REDUNDANCY";
  }
  s.put_headers.emplace_back("x-amz-storage-class", storage_class);
  const std::pair<const char*, const char*> optional[] = {
      {"acl", "x-amz-acl"},
      {"grant_full_control", "x-amz-grant-full-control"},
      {"grant_read", "x-amz-grant-read"},
      {"grant_read_acp", "x-amz-grant-read-acp"},
      {"grant_write_acp", "x-amz-grant-write-acp"},
      {"use_server_side_encryption", "x-amz-server-side-encryption"},
      {"ssekms_key_id", "x-amz-server-side-encryption-aws-kms-key-id"},
      {"sse_customer_algorithm", "x-amz-server-side-encryption-customer-algorithm"},
      {"sse_customer_key", "x-amz-server-side-encryption-customer-key"},
      {"sse_customer_key_md5", "x-amz-server-side-encryption-customer-key-MD5"},
      {"tagging", "x-amz-tagging"},
  };
  for (auto [param, header] : optional)
    if (p.has(param)) s.put_headers.emplace_back(header, p.str(param));
  if (p.has("s3_metadata"))
    for (auto& [k, v] : p.hash("s3_metadata")) s.metadata.emplace_back("x-amz-meta-" + k, v);
}

}  // namespace

PluginSpec plugin_spec() {
  PluginSpec s{
      "output",
      "s3",
      "Stores each buffer chunk as one S3 object (fluent-plugin-s3 1.8's out_s3: keys, gzip/zstd, "
      "check_object); SigV4, at-least-once with <buffer> retries.",
      {},
      {"buffer", "format", "secondary", "web_identity_credentials", "instance_profile_credentials",
       "compress", "inject", "assume_role_credentials", "shared_credentials", "bucket_lifecycle_rule"}};
  ParamSpec bucket = Opt("s3_bucket", ParamType::String, "The bucket.");
  bucket.required = true;
  const char* env_region = getenv("AWS_REGION");
  s.params = {
      bucket,
      P("path", ParamType::String, "", "Key prefix (%{path}); strftime and ${tag} placeholders."),
      spec::secret("aws_key_id", ParamType::String, "Access key id (else the environment, IRSA, ...)."),
      spec::secret("aws_sec_key", ParamType::String, "Secret access key."),
      P("s3_region", ParamType::String, env_region && *env_region ? env_region : "us-east-1",
        "Region (default AWS_REGION, else us-east-1)."),
      Opt("s3_endpoint", ParamType::String, "S3-compatible service URL (MinIO, Ceph); not for Amazon S3."),
      P("force_path_style", ParamType::Bool, "false",
        "<endpoint>/<bucket>/<key> instead of <bucket>.<host>."),
      P("enable_transfer_acceleration", ParamType::Bool, "false", "bucket.s3-accelerate.amazonaws.com."),
      P("enable_dual_stack", ParamType::Bool, "false", "s3.dualstack.<region>.amazonaws.com."),
      P("ssl_verify_peer", ParamType::Bool, "true", "Verify the server certificate."),
      Opt("ssl_ca_bundle", ParamType::String, "CA bundle (PEM)."),
      P("s3_object_key_format", ParamType::String, "%{path}%{time_slice}_%{index}.%{file_extension}",
        "Object keys: %{path} %{time_slice} %{index} %{file_extension} %{hex_random} %{uuid_flush} "
        "%{hostname} ${chunk_id} ${tag} strftime."),
      P("store_as", ParamType::String, "gzip", "gzip, zstd, json or text."),
      P("auto_create_bucket", ParamType::Bool, "true", "Create the bucket at start when it is missing."),
      P("check_apikey_on_start", ParamType::Bool, "true",
        "List one object at start to check the credentials."),
      P("check_bucket", ParamType::Bool, "true", "HEAD the bucket at start."),
      P("check_object", ParamType::Bool, "true", "HEAD each key first; %{index} grows until one is free."),
      Opt("proxy_uri", ParamType::String, "HTTP proxy."),
      P("reduced_redundancy", ParamType::Bool, "false", "Deprecated: storage_class REDUCED_REDUNDANCY."),
      P("storage_class", ParamType::String, "STANDARD", "x-amz-storage-class."),
      Opt("acl", ParamType::String, "Canned ACL (x-amz-acl)."),
      Opt("grant_full_control", ParamType::String, "x-amz-grant-full-control."),
      Opt("grant_read", ParamType::String, "x-amz-grant-read."),
      Opt("grant_read_acp", ParamType::String, "x-amz-grant-read-acp."),
      Opt("grant_write_acp", ParamType::String, "x-amz-grant-write-acp."),
      P("hex_random_length", ParamType::Integer, "4", "Length of %{hex_random} (at most 16)."),
      P("index_format", ParamType::String, "%d", "sprintf of %{index}: %d, %x, %X, %0Nd..."),
      P("overwrite", ParamType::Bool, "false", "With check_object: a key without %{index} is overwritten."),
      Opt("use_server_side_encryption", ParamType::String, "AES256 or aws:kms."),
      spec::secret("ssekms_key_id", ParamType::String, "KMS key for aws:kms."),
      Opt("sse_customer_algorithm", ParamType::String, "SSE-C algorithm."),
      spec::secret("sse_customer_key", ParamType::String, "SSE-C key."),
      spec::secret("sse_customer_key_md5", ParamType::String, "SSE-C key MD5."),
      Opt("tagging", ParamType::String, "x-amz-tagging (k=v&k2=v2)."),
      Opt("s3_metadata", ParamType::Hash, "x-amz-meta-* headers; placeholders and %{index}."),
      Opt("warn_for_delay", ParamType::Duration, "Warn when a chunk's time slot is older than this."),
      Opt("time_slice_format", ParamType::String, "strftime of %{time_slice} (else from timekey)."),
      Opt("utc", ParamType::Bool,
          "v0.12 style: the out_file format's times in UTC; with time_slice_format and no <buffer>, the time "
          "slots too."),
      Opt("localtime", ParamType::Bool, "v0.12 style: the opposite of utc."),
      Opt("format", ParamType::String, "v0.12 style format type; prefer <format @type>."),
      Opt("delimiter", ParamType::String, "v0.12 style: <format> delimiter."),
      Opt("output_tag", ParamType::Bool, "v0.12 style: <format> output_tag."),
      Opt("output_time", ParamType::Bool, "v0.12 style: <format> output_time."),
      Opt("time_format", ParamType::String, "v0.12 style: <format> time_format."),
      Opt("message_key", ParamType::String, "v0.12 style: <format> message_key (single_value)."),
      Opt("add_newline", ParamType::Bool, "v0.12 style: <format> add_newline (single_value)."),
      Opt("json_parser", ParamType::String, "v0.12 style: <format> json_parser (json)."),
      Opt("label_delimiter", ParamType::String, "v0.12 style: <format> label_delimiter (ltsv)."),
      Opt("aws_iam_retries", ParamType::Integer, "Deprecated: <instance_profile_credentials>."),
      Ign("use_bundled_cert", ParamType::Bool, "Accepted; the system's CA certificates (or ssl_ca_bundle)."),
      Ign("compute_checksums", ParamType::Bool, "Accepted; bodies are checked with X-Amz-Content-Sha256."),
      spec::choice("signature_version", "v4", {"v4", "s3"}, "Only v4 (SigV4) is supported."),
  };
  for (auto& [name, why] : refused_params()) s.params.push_back(refused(name, ParamType::String, why));
  return s;
}

OutputConfig parse_config(PluginContext& ctx, const Params& p) {
  const ConfigSection& section = p.section();
  for (auto& [name, why] : refused_params())
    if (p.has(name)) throw ConfigException(p.pos(name), name + " is not supported: " + why);
  for (auto& [name, why] : refused_sections())
    if (const ConfigSection* c = section.child(name))
      throw ConfigException(c->pos, "<" + name + "> is not supported: " + why);
  if (p.str("signature_version") != "v4")
    throw ConfigException(p.pos("signature_version"),
                          "signature_version s3 (SigV2) is not supported; use v4");

  OutputConfig out;
  Settings& s = out.settings;
  KeyFormatOptions& k = out.key;
  s.bucket = p.str("s3_bucket");
  if (s.bucket.empty()) throw ConfigException(p.pos("s3_bucket"), "s3_bucket is empty");
  s.region = p.str("s3_region");
  const std::string endpoint = p.str("s3_endpoint");
  if (!endpoint.empty() && amazon_s3_endpoint(endpoint))
    throw ConfigException(p.pos("s3_endpoint"),
                          "s3_endpoint parameter is not supported for S3, use s3_region "
                          "instead. This parameter is for S3 compatible services");
  s.bucket_url = bucket_url(p, s.bucket, s.region);
  s.path = p.str("path");
  read_store_as(ctx, p, s, k);
  read_put_headers(p, s);
  read_credentials(p, s.credentials);
  s.credentials.region = s.region;
  s.check_object = p.flag("check_object");
  s.overwrite = p.flag("overwrite");
  s.check_bucket = p.flag("check_bucket");
  s.auto_create_bucket = p.flag("auto_create_bucket");
  s.check_apikey_on_start = p.flag("check_apikey_on_start");
  if (p.has("warn_for_delay")) s.warn_for_delay = p.seconds("warn_for_delay");
  s.tls.verify_peer = s.tls.verify_host = p.flag("ssl_verify_peer");
  s.tls.ca_file = p.str("ssl_ca_bundle");
  s.proxy = p.str("proxy_uri");

  // The buffer: out_s3.rb's config_set_default chunk_keys ['time'], timekey 1d; with
  // time_slice_format and no <buffer>, Fluentd's compat_parameters derive the timekey from it.
  const ConfigSection* bsec = section.child("buffer");
  if (bsec && ctx.errors) ctx.check_section(*bsec, "buffer", "memory");
  buffer::Config::Defaults bd;
  bd.worker_id = ctx.worker_id;
  bd.workers = ctx.workers;
  bd.chunk_keys = {"time"};
  bd.timekey = 86400;
  const std::string slice_format = p.str("time_slice_format");
  if (p.has("utc") && p.has("localtime"))
    throw ConfigException(p.pos("utc"), "both of utc and localtime are specified, use only one of them");
  if (!bsec && !slice_format.empty()) {
    bd.timekey = slice_format.find("%S") != std::string::npos   ? 1
                 : slice_format.find("%M") != std::string::npos ? 60
                 : slice_format.find("%H") != std::string::npos ? 3600
                 : slice_format.find("%d") != std::string::npos ? 86400
                                                                : 0;
    if (bd.timekey == 0)
      throw ConfigException(p.pos("time_slice_format"), "time_slice_format only with %Y or %m is too long");
    if (p.has("utc")) bd.timekey_use_utc = p.flag("utc");
    if (p.has("localtime")) bd.timekey_use_utc = !p.flag("localtime");
  }
  out.buffer = buffer::Config::parse(bsec, bd, ctx.id);
  const buffer::Config& b = out.buffer;

  k.format = p.str("s3_object_key_format");
  if (!p.has("s3_object_key_format"))
    log::warn(section.pos.where() +
              "The default value of s3_object_key_format will use ${chunk_id} instead of "
              "%{index} to avoid object conflict in v2");
  for (const char* removed : {"%{uuid}", "%{uuid:random}", "%{uuid:hostname}", "%{uuid:timestamp}"})
    if (k.format.find(removed) != std::string::npos)
      throw ConfigException(p.pos("s3_object_key_format"),
                            std::string(removed) + " placeholder in s3_object_key_format is removed");
  if (size_t at = k.format.find("%{hostname}"); at != std::string::npos) {
    log::warn(p.pos("s3_object_key_format").where() +
              "%{hostname} will be removed in the future. Use \"#{Socket.gethostname}\" instead");
    const std::string host = local_hostname();
    for (; at != std::string::npos; at = k.format.find("%{hostname}", at)) k.format.replace(at, 11, host);
  }
  s.check_object = p.flag("check_object");
  if (!s.check_object) {
    if (p.has("s3_object_key_format")) {
      log::warn(
          p.pos("check_object").where() +
          "Set 'check_object false' and s3_object_key_format is specified. Check s3_object_key_format is "
          "unique in each write. If not, existing file will be overwritten.");
    } else {
      log::warn(p.pos("check_object").where() +
                "Set 'check_object false' and s3_object_key_format is not specified. Use "
                "'%{path}/%{time_slice}_%{hms_slice}.%{file_extension}' for s3_object_key_format");
      k.format = "%{path}/%{time_slice}_%{hms_slice}.%{file_extension}";
    }
  }
  if ((b.flush_thread_count > 1 || ctx.workers > 1) && k.format.find("${chunk_id}") == std::string::npos &&
      k.format.find("%{uuid_flush}") == std::string::npos &&
      k.format.find("%{hex_random}") == std::string::npos)
    log::warn(
        p.pos("s3_object_key_format").where() +
        "No ${chunk_id}, %{uuid_flush} or %{hex_random} in s3_object_key_format with multiple flush threads "
        "or multiple workers. Recommend to set ${chunk_id}, %{uuid_flush} or %{hex_random} to avoid data "
        "lost by object conflict");
  k.path = s.path;
  k.time_slice_format = slice_format;
  k.index_format = p.str("index_format");
  if (!valid_index_format(k.index_format))
    throw ConfigException(
        p.pos("index_format"),
        "index_format parameter should follow `%[flags][width]type`. `0` is the only supported "
        "flag, and is mandatory if width is specified. `d`, `x` and `X` are supported types");
  k.hex_random_length = int(p.integer("hex_random_length"));
  if (k.hex_random_length > 16 || k.hex_random_length < 0)
    throw ConfigException(p.pos("hex_random_length"),
                          "hex_random_length parameter must be less than or equal to 16");
  k.check_object = s.check_object;
  k.key_tag = b.key_tag;
  k.key_time = b.key_time;
  k.timekey = b.timekey;
  k.utc = b.timekey_use_utc;

  // LineFormat checks <format> itself (unknown types are errors, unknown parameters warnings).
  // Without one, Fluentd's compat_parameters make it of the v0.12 parameters of the section
  // (format, utc, localtime, delimiter, output_tag, output_time...).
  const ConfigSection* fsec = section.child("format");
  out.format = LineFormat::configure(fsec, "out_file", fsec ? nullptr : &section);
  out.inject.worker_id = ctx.worker_id;
  if (const ConfigSection* inject = section.child("inject")) read_inject(*inject, out.inject, ctx.errors);
  return out;
}

}  // namespace sluice::s3
