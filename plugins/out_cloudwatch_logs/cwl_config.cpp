#include "cwl_config.h"

#include <stdlib.h>

#include "core/log.h"
#include "cwl_events.h"
#include "http/aws_credentials_config.h"

namespace sluice::cwl {

namespace {

constexpr auto& P = spec::with_default;
constexpr auto& Opt = spec::optional;
constexpr auto& Ign = spec::ignored;

std::string where(const SourcePos& pos) { return pos.file + ":" + std::to_string(pos.line) + ": "; }

// Ruby's String#to_i: leading blanks, a sign, digits; the rest ignored; 0 without digits.
int64_t ruby_to_i(const std::string& text) {
  size_t i = text.find_first_not_of(" \t\n");
  if (i == std::string::npos) return 0;
  bool negative = false;
  if (text[i] == '+' || text[i] == '-') negative = text[i++] == '-';
  int64_t n = 0;
  for (; i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '_'); ++i)
    if (text[i] != '_' && n < (int64_t(1) << 40)) n = n * 10 + (text[i] - '0');
  return negative ? -n : n;
}

std::string env(const char* name) {
  const char* v = getenv(name);
  return v ? v : "";
}

// Parameters of out_cloudwatch_logs.rb that sluice does not do: declared, so that giving one says
// why instead of "unknown parameter".
const std::vector<std::pair<std::string, std::string>>& refused_params() {
  static const std::vector<std::pair<std::string, std::string>> list = {
      {"aws_use_sts",
       "AssumeRole with other credentials is not implemented; use <web_identity_credentials> (EKS IRSA), "
       "EKS Pod Identity, aws_key_id/aws_sec_key or the instance profile"},
      {"aws_sts_role_arn", "it goes with aws_use_sts, which is not implemented"},
      {"aws_sts_session_name", "it goes with aws_use_sts, which is not implemented"},
      {"aws_sts_external_id", "it goes with aws_use_sts, which is not implemented"},
      {"aws_sts_policy", "it goes with aws_use_sts, which is not implemented"},
      {"aws_sts_duration_seconds", "it goes with aws_use_sts, which is not implemented"},
      {"aws_sts_endpoint_url", "it goes with aws_use_sts, which is not implemented"},
      {"log_group_aws_tags_key",
       "tags taken from a record are not implemented; use log_group_aws_tags (placeholders work)"},
      {"remove_log_group_aws_tags_key", "it goes with log_group_aws_tags_key, which is not implemented"},
      {"retention_in_days_key",
       "a retention taken from a record is not implemented; use retention_in_days"},
      {"remove_retention_in_days_key", "it goes with retention_in_days_key, which is not implemented"},
      {"use_todays_log_stream", "it is a parameter of the in_cloudwatch_logs input, not of this output"},
      {"timezone", "give utc or localtime (or an <inject> section)"},
  };
  return list;
}

void read_credentials(const Params& p, Settings& s) {
  http::aws::CredentialsConfig& c = s.credentials;
  c.region = s.region;
  http::aws::read_static_keys(p, c);
  // The plugin's start: aws_use_sts, then <web_identity_credentials>, then aws_ecs_authentication,
  // then the keys; without any, the SDK's default chain (environment, IRSA, container, IMDS).
  static const PluginSpec web_spec = http::aws::web_identity_spec(false);
  http::aws::CredentialsConfig web = c;
  if (http::aws::read_web_identity(p.section(), web_spec, web)) {
    c = web;
    c.access_key_id.clear();
    c.secret_access_key.clear();
    return;
  }
  if (p.flag("aws_ecs_authentication")) {
    c.access_key_id.clear();
    c.secret_access_key.clear();
    c.container_relative_uri = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    if (c.container_relative_uri.empty())
      throw ConfigException(p.pos("aws_ecs_authentication"),
                            "aws_ecs_authentication needs AWS_CONTAINER_CREDENTIALS_RELATIVE_URI in the "
                            "environment");
    c.instance_profile_only = true;
  }
}

// region: the parameter, else the SDK's AWS_REGION / AWS_DEFAULT_REGION.
std::string read_region(const Params& p) {
  std::string region = p.str("region");
  if (region.empty()) region = env("AWS_REGION");
  if (region.empty()) region = env("AWS_DEFAULT_REGION");
  if (region.empty())
    throw ConfigException(p.has("region") ? p.pos("region") : p.section().pos,
                          "region is not set: give region, or AWS_REGION in the environment (the AWS SDK's "
                          "MissingRegionError)");
  for (char ch : region)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
      throw ConfigException(p.pos("region"), "region '" + region + "' is not a region name");
  return region;
}

std::string read_url(const Params& p, const std::string& region) {
  if (!p.has("endpoint")) {
    // The SDK's endpoint rules: amazonaws.com.cn for the China partition.
    const bool china = region.rfind("cn-", 0) == 0;
    return "https://logs." + region + ".amazonaws.com" + (china ? ".cn" : "") + "/";
  }
  std::string url = p.str("endpoint");
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos || (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0))
    throw ConfigException(p.pos("endpoint"), "endpoint must be a URL like https://logs.eu-west-1.amazonaws.com");
  if (url.find('/', scheme + 3) == std::string::npos) url.push_back('/');
  return url;
}

// Exactly one of the three, counting a given `use_tag_as_*` even when false (the plugin's
// `[conf[...], ...].compact.size == 1`).
NameFrom read_name_source(const Params& p, const char* name, const char* use_tag, const char* key,
                          const char* what) {
  const int given = int(p.has(name)) + int(p.has(use_tag)) + int(p.has(key));
  if (given != 1)
    throw ConfigException(p.has(name) ? p.pos(name) : p.has(use_tag) ? p.pos(use_tag) : p.section().pos,
                          std::string("Set only one of ") + name + ", " + use_tag + " and " + key);
  if (p.has(use_tag)) {
    if (!p.flag(use_tag))
      throw ConfigException(p.pos(use_tag), std::string(use_tag) + " false leaves no " + what +
                                                " name: give " + name + " or " + key);
    return NameFrom::Tag;
  }
  if (p.has(key)) {
    if (p.str(key).empty()) throw ConfigException(p.pos(key), std::string(key) + " is empty");
    return NameFrom::RecordKey;
  }
  if (p.str(name).empty()) throw ConfigException(p.pos(name), std::string(name) + " is empty");
  return NameFrom::Template;
}

void check_template(const Params& p, const char* name, const std::string& text, const buffer::ChunkKeys& keys) {
  if (std::string ph = buffer::unfilled_placeholder(text, keys); !ph.empty())
    throw ConfigException(p.pos(name), std::string(name) + ": placeholder " + ph +
                                           " is not a chunk key of <buffer> (Fluentd would send it as it is); "
                                           "add its key, e.g. <buffer tag>");
}

// include_time_key, time_key, include_tag_key... without an <inject> section: Fluentd's
// compat_parameters make one of them (compat_parameters_inject).
void read_compat_inject(const ConfigSection& section, InjectConfig& ic, std::vector<ConfigError>* errors) {
  static const char* const names[] = {"include_time_key", "time_key", "time_format", "include_tag_key",
                                      "tag_key",          "localtime", "utc"};
  bool any = false;
  for (const char* n : names) any = any || section.param(n);
  if (!any) return;
  ConfigSection inject;
  inject.name = "inject";
  inject.pos = section.pos;
  auto copy = [&](const char* from, const char* to) {
    if (const ConfigParam* p = section.param(from)) inject.params.push_back({to, p->value, p->pos, false});
  };
  auto is_true = [&](const char* n) {
    bool b = false;
    const ConfigParam* p = section.param(n);
    if (p && !parse_bool(p->value, b))
      throw ConfigException(p->pos, std::string("invalid value for parameter '") + n + "': expected true or false");
    return b;
  };
  copy("time_key", "time_key");
  copy("time_format", "time_format");
  copy("tag_key", "tag_key");
  if (is_true("include_time_key")) {
    if (!section.param("time_key")) inject.params.push_back({"time_key", "time", section.pos, false});
    if (!section.param("time_format")) inject.params.push_back({"time_type", "string", section.pos, false});
  }
  if (is_true("include_tag_key") && !section.param("tag_key"))
    inject.params.push_back({"tag_key", "tag", section.pos, false});
  const ConfigParam* lt = section.param("localtime");
  const ConfigParam* utc = section.param("utc");
  if (lt && utc && is_true("localtime") == is_true("utc"))
    throw ConfigException(utc->pos, "both of utc and localtime are specified, use only one of them");
  if (lt) inject.params.push_back({"localtime", is_true("localtime") ? "true" : "false", lt->pos, false});
  else if (utc) inject.params.push_back({"localtime", is_true("utc") ? "false" : "true", utc->pos, false});
  read_inject(inject, ic, errors);
}

}  // namespace

PluginSpec plugin_spec() {
  PluginSpec s{"output",
               "cloudwatch_logs",
               "Sends records to Amazon CloudWatch Logs (PutLogEvents) as fluent-plugin-cloudwatch-logs 0.15 "
               "does: group and stream from names, tags or record keys, created with auto_create_stream; "
               "SigV4; throttling and 5xx retried, other errors not (to <secondary>, else the backup file).",
               {},
               {"buffer", "format", "inject", "secondary", "web_identity_credentials"}};
  s.params = {
      Opt("log_group_name", ParamType::String, "The log group; ${tag} and record-key placeholders of <buffer>."),
      Opt("log_stream_name", ParamType::String, "The log stream; ${tag} and record-key placeholders of <buffer>."),
      Opt("use_tag_as_group", ParamType::Bool, "The record's tag is the log group."),
      Opt("use_tag_as_stream", ParamType::Bool, "The record's tag is the log stream."),
      Opt("log_group_name_key", ParamType::String, "Record key holding the log group."),
      Opt("log_stream_name_key", ParamType::String, "Record key holding the log stream."),
      P("remove_log_group_name_key", ParamType::Bool, "false", "Leave log_group_name_key out of the message."),
      P("remove_log_stream_name_key", ParamType::Bool, "false", "Leave log_stream_name_key out of the message."),
      P("auto_create_stream", ParamType::Bool, "false", "Create missing log groups and streams."),
      Opt("retention_in_days", ParamType::String,
          "PutRetentionPolicy on log groups this output creates; read as Ruby's to_i (\"nil\", 0: none)."),
      Opt("log_group_aws_tags", ParamType::Hash, "Tags of log groups this output creates; placeholders."),
      P("message_keys", ParamType::Array, "",
        "The message is these keys' values joined with spaces (else the record as JSON)."),
      spec::choice("json_handler", "yajl", {"yajl", "json"},
                   "JSON of the record: yajl (\\u001F) or json (\\u001f); otherwise the same."),
      Opt("max_message_length", ParamType::Integer, "Messages are cut to this many characters."),
      P("max_events_per_batch", ParamType::Integer, "10000", "Events per PutLogEvents request (at most 10000)."),
      Opt("region", ParamType::String, "AWS region (default AWS_REGION, then AWS_DEFAULT_REGION)."),
      Opt("endpoint", ParamType::String, "Service URL (default https://logs.<region>.amazonaws.com)."),
      P("ssl_verify_peer", ParamType::Bool, "true", "Verify the server certificate."),
      Opt("http_proxy", ParamType::String, "HTTP proxy URL."),
      spec::secret("aws_key_id", ParamType::String, "Access key id (else the default chain: environment, IRSA...)."),
      spec::secret("aws_sec_key", ParamType::String, "Secret access key."),
      P("aws_ecs_authentication", ParamType::Bool, "false",
        "Credentials from the container endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)."),
      Ign("aws_instance_profile_credentials_retries", ParamType::Integer,
          "Accepted; a failed credentials fetch is retried with the chunk."),
      P("put_log_events_retry_wait", ParamType::Duration, "1s",
        "First wait after a ThrottlingException; doubles each time (+-12.5% jitter)."),
      P("put_log_events_retry_limit", ParamType::Integer, "17",
        "Throttled retries of one request before the chunk goes back to <buffer>'s retries."),
      P("put_log_events_disable_retry_limit", ParamType::Bool, "false", "Retry throttled requests without limit."),
      P("concurrency", ParamType::Integer, "1", "Log streams of a chunk sent at once."),
      P("log_rejected_request", ParamType::Bool, "false", "Warn with rejectedLogEventsInfo when AWS rejects events."),
      Opt("include_time_key", ParamType::Bool, "v0.12 style <inject>: add the time (key `time`, a string)."),
      Opt("time_key", ParamType::String, "v0.12 style <inject> time_key."),
      Opt("time_format", ParamType::String, "v0.12 style <inject> time_format."),
      Opt("include_tag_key", ParamType::Bool, "v0.12 style <inject>: add the tag (key `tag`)."),
      Opt("tag_key", ParamType::String, "v0.12 style <inject> tag_key."),
      Opt("localtime", ParamType::Bool, "v0.12 style <inject>: local time (the default) for include_time_key."),
      Opt("utc", ParamType::Bool, "v0.12 style <inject>: UTC for include_time_key."),
      P("request_timeout", ParamType::Duration, "60s", "sluice: per request (the SDK's http_read_timeout)."),
  };
  for (auto& [name, why] : refused_params())
    s.params.push_back(Opt(name, ParamType::String, "Not supported: " + why));
  return s;
}

OutputConfig parse_config(PluginContext& ctx, const Params& p) {
  const ConfigSection& section = p.section();
  for (auto& [name, why] : refused_params())
    if (p.has(name)) throw ConfigException(p.pos(name), name + " is not supported: " + why);

  OutputConfig out;
  Settings& s = out.settings;
  FormatSettings& f = out.format_settings;

  // The buffer: memory by default, no default chunk keys; record keys allowed for placeholders.
  buffer::Config::Defaults bd;
  bd.type = "memory";
  bd.record_keys = true;
  out.buffer = buffer::Config::parse_for_output(ctx, section, bd);
  for (const std::string& key : out.buffer.record_keys) {
    if (key.rfind("$", 0) == 0)
      throw ConfigException(section.child("buffer") ? section.child("buffer")->pos : section.pos,
                            "chunk key " + key + ": only top-level record keys are supported here");
    out.record_keys.push_back(key);
  }
  const buffer::ChunkKeys keys(out.buffer);

  f.group_from = read_name_source(p, "log_group_name", "use_tag_as_group", "log_group_name_key", "log group");
  f.stream_from =
      read_name_source(p, "log_stream_name", "use_tag_as_stream", "log_stream_name_key", "log stream");
  s.group_template = p.str("log_group_name");
  s.stream_template = p.str("log_stream_name");
  if (f.group_from == NameFrom::Template) check_template(p, "log_group_name", s.group_template, keys);
  if (f.stream_from == NameFrom::Template) check_template(p, "log_stream_name", s.stream_template, keys);
  f.group_key = p.str("log_group_name_key");
  f.stream_key = p.str("log_stream_name_key");
  f.remove_group_key = p.flag("remove_log_group_name_key");
  f.remove_stream_key = p.flag("remove_log_stream_name_key");

  s.auto_create_stream = p.flag("auto_create_stream");
  if (p.has("retention_in_days")) {
    // Fluentd reads integers with String#to_i: the daemonset image's
    // `retention_in_days "#{ENV['RETENTION_IN_DAYS'] || 'nil'}"` is 0 without the variable, for
    // which the plugin's PutRetentionPolicy fails with a warning. Here 0 sets no policy.
    const std::string text = p.str("retention_in_days");
    s.retention_in_days = ruby_to_i(text);
    if (s.retention_in_days <= 0 && text != "nil" && !text.empty())
      log::warn(where(p.pos("retention_in_days")) + "retention_in_days " + text +
                " is not a number of days; no retention policy is set");
  }
  if (p.has("log_group_aws_tags"))
    for (auto& [k, v] : p.hash("log_group_aws_tags")) {
      check_template(p, "log_group_aws_tags", k + v, keys);
      s.group_tags.emplace_back(k, v);
    }

  if (p.has("message_keys"))
    for (auto& k : p.list("message_keys"))
      if (!k.empty()) f.message_keys.push_back(k);
  f.hex = p.str("json_handler") == "json" ? json::HexCase::Lower : json::HexCase::Upper;
  if (const ConfigSection* fsec = section.child("format")) {
    // The plugin's <format> default @type is json (with its newline).
    out.format = LineFormat::configure(fsec, "json");
    f.message_from = MessageFrom::Format;
  } else {
    f.message_from = f.message_keys.empty() ? MessageFrom::Json : MessageFrom::MessageKeys;
  }
  if (p.has("max_message_length")) {
    f.max_message_length = p.integer("max_message_length");
    if (f.max_message_length <= 0)
      throw ConfigException(p.pos("max_message_length"), "max_message_length must be at least 1");
  }
  const int64_t per_batch = p.integer("max_events_per_batch");
  if (per_batch < 1 || per_batch > int64_t(kMaxBatchEvents))
    throw ConfigException(p.pos("max_events_per_batch"),
                          "max_events_per_batch must be 1-10000 (PutLogEvents takes at most 10,000 events)");
  s.max_events_per_batch = size_t(per_batch);
  s.put_retry_wait = p.seconds("put_log_events_retry_wait");
  s.put_retry_limit = p.integer("put_log_events_retry_limit");
  s.put_retry_forever = p.flag("put_log_events_disable_retry_limit");
  s.concurrency = int(p.integer("concurrency"));
  if (s.concurrency < 1 || s.concurrency > 64)
    throw ConfigException(p.pos("concurrency"), "concurrency must be 1-64");
  s.log_rejected_request = p.flag("log_rejected_request");
  s.request_timeout_ms = long(p.seconds("request_timeout") * 1000);

  s.region = read_region(p);
  s.url = read_url(p, s.region);
  s.tls.verify_peer = s.tls.verify_host = p.flag("ssl_verify_peer");
  s.proxy = p.str("http_proxy");
  read_credentials(p, s);

  out.inject.worker_id = ctx.worker_id;
  if (const ConfigSection* inject = section.child("inject")) read_inject(*inject, out.inject, ctx.errors);
  else read_compat_inject(section, out.inject, ctx.errors);
  return out;
}

}  // namespace sluice::cwl
