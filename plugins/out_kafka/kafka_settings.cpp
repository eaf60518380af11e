#include "kafka_settings.h"

#include <algorithm>
#include <cmath>


namespace sluice::kafka {

namespace {

std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string ms(double seconds) {
  return std::to_string(static_cast<int64_t>(std::llround(seconds * 1000.0)));
}

// Typed access where "" means "not given".
struct Reader {
  const ConfigSection& s;

  const ConfigParam* p(const std::string& name) const {
    const ConfigParam* x = s.param(name);
    return x && !trim(x->value).empty() ? x : nullptr;
  }
  SourcePos pos(const std::string& name) const {
    const ConfigParam* x = s.param(name);
    return x ? x->pos : s.pos;
  }
  [[noreturn]] void bad(const std::string& name, const std::string& what) const {
    throw ConfigException(pos(name), "invalid value for parameter '" + name + "': " + what);
  }
  std::optional<std::string> str(const std::string& name) const {
    if (auto* x = p(name)) return trim(x->value);
    return std::nullopt;
  }
  std::string str(const std::string& name, const std::string& def) const {
    return str(name).value_or(def);
  }
  bool flag(const std::string& name, bool def) const {
    auto* x = p(name);
    if (!x) return def;
    bool b;
    if (!parse_bool(trim(x->value), b)) bad(name, "expected true or false, got '" + x->value + "'");
    return b;
  }
  std::optional<int64_t> integer(const std::string& name) const {
    auto* x = p(name);
    if (!x) return std::nullopt;
    int64_t v;
    if (!parse_integer(trim(x->value), v)) bad(name, "expected an integer, got '" + x->value + "'");
    return v;
  }
  std::optional<uint64_t> size(const std::string& name) const {
    auto* x = p(name);
    if (!x) return std::nullopt;
    uint64_t v;
    if (!parse_size(trim(x->value), v)) bad(name, "expected a size (e.g. 1m), got '" + x->value + "'");
    return v;
  }
  std::optional<double> seconds(const std::string& name) const {
    auto* x = p(name);
    if (!x) return std::nullopt;
    double v;
    if (!parse_duration(trim(x->value), v)) bad(name, "expected a duration (e.g. 5s), got '" + x->value + "'");
    return v;
  }
  std::vector<std::string> list(const std::string& name) const {
    std::vector<std::string> v;
    auto* x = p(name);
    if (!x) return v;
    if (!parse_array(trim(x->value), v)) bad(name, "expected a comma-separated list or JSON array");
    for (auto& e : v) e = trim(e);
    v.erase(std::remove(v.begin(), v.end(), std::string()), v.end());
    return v;
  }
  std::vector<std::pair<std::string, std::string>> hash(const std::string& name) const {
    std::vector<std::pair<std::string, std::string>> v;
    auto* x = p(name);
    if (!x) return v;
    // Never echo the value: rdkafka_options may hold passwords.
    if (!parse_hash(trim(x->value), v)) bad(name, "expected k1:v1,k2:v2 or a JSON object");
    return v;
  }
};

ParamSpec P(std::string name, ParamType t, std::string def, std::string doc) {
  ParamSpec p;
  p.name = std::move(name);
  p.type = t;
  p.default_value = std::move(def);
  p.has_default = !p.default_value.empty();
  p.doc = std::move(doc);
  return p;
}
ParamSpec Secret(std::string name, std::string doc) {
  ParamSpec p = P(std::move(name), ParamType::String, "", std::move(doc));
  p.secret = true;
  return p;
}
ParamSpec Ignored(std::string name, ParamType t, std::string doc) {
  ParamSpec p = P(std::move(name), t, "", std::move(doc));
  p.ignored = true;
  return p;
}

}  // namespace

bool given(const ConfigSection& s, const std::string& name) {
  const ConfigParam* p = s.param(name);
  return p && !trim(p->value).empty();
}

bool is_secret_property(const std::string& name) {
  for (const char* w : {"password", "secret", "jaas", "key.pem", "oauthbearer.config", "token"})
    if (name.find(w) != std::string::npos) return true;
  return false;
}

PluginSpec make_spec(Variant v) {
  using T = ParamType;
  PluginSpec spec;
  spec.kind = "output";
  spec.type = v == Variant::Kafka2 ? "kafka2" : v == Variant::Rdkafka2 ? "rdkafka2" : "kafka_buffered";
  spec.doc = v == Variant::KafkaBuffered
                 ? "Sends records to Kafka (fluent-plugin-kafka's kafka_buffered parameters) through "
                   "librdkafka; delivery reports advance the sources' positions."
                 : "Sends records to Kafka (fluent-plugin-kafka's " + spec.type +
                       ") through librdkafka; delivery reports advance the sources' positions.";
  spec.sections = {"format", "inject", "buffer"};
  spec.params = {
      P("brokers", T::String, "localhost:9092", "Bootstrap brokers, host:port[,host:port...]."),
      P("topic", T::String, "", "Fixed topic (${tag} and ${tag[N]} allowed); overrides topic_key."),
      P("default_topic", T::String, "", "Topic when the record has no topic_key field (else the tag)."),
      P("topic_key", T::String, "topic", "Record field naming the topic."),
      P("exclude_topic_key", T::Bool, "false", "Remove topic_key from the record."),
      P("default_message_key", T::String, "", "Message key when the record has none."),
      P("message_key_key", T::String, "message_key", "Record field holding the message key."),
      P("exclude_message_key", T::Bool, "false", "Remove message_key_key from the record."),
      P("default_partition_key", T::String, "", "Partition key when the record has none."),
      P("partition_key_key", T::String, "partition_key",
        "Record field holding the partition key (hashed to choose the partition)."),
      P("exclude_partition_key", T::Bool, "false", "Remove partition_key_key from the record."),
      P("partition_key", T::String, "partition", "Record field holding an explicit partition number."),
      P("default_partition", T::Integer, "", "Partition when the record has none."),
      P("exclude_partition", T::Bool, "false", "Remove partition_key from the record."),
      P("exclude_fields", T::Array, "", "Record fields ($.name) removed before formatting."),
      P("headers", T::Hash, "", "Static message headers, k1:v1,k2:v2."),
      P("headers_from_record", T::Hash, "", "Headers taken from record fields, name:$.field."),
      P("use_event_time", T::Bool, "false", "Use the event time as the Kafka message timestamp."),
      P("use_default_for_unknown_topic", T::Bool, "false",
        "Send to default_topic when the record's topic does not exist."),
      P("use_default_for_unknown_partition_error", T::Bool, "false",
        "Let the partitioner choose when an explicit partition does not exist."),
      P("partitioner_hash_function", T::String, "crc32", "crc32 (ruby-kafka's default) or murmur2."),
      P("client_id", T::String, "fluentd", "Kafka client.id."),
      P("compression_codec", T::String, "",
        "none, gzip, snappy, lz4 or zstd (\"\" is none: see README)."),
      P("required_acks", T::Integer, "-1", "-1 (all in-sync replicas), 0 or 1."),
      P("ack_timeout", T::Duration, "", "Broker-side ack timeout (librdkafka request.timeout.ms)."),
      P("max_send_retries", T::Integer, "2",
        "librdkafka retries per send when idempotence is off (sluice re-produces failed "
        "messages itself, see <buffer> retry_*)."),
      P("idempotent", T::Bool, "true",
        "Idempotent producer (sluice's default is true; off when required_acks is not -1)."),
      P("max_send_limit_bytes", T::Size, "",
        "Records whose formatted value is larger are dead-lettered, not sent (\"\" is unlimited)."),
      P("discard_kafka_delivery_failed", T::Bool, "false",
        "Dead-letter messages whose delivery failed instead of re-producing them."),
      P("discard_kafka_delivery_failed_regex", T::String, "",
        "Only failures whose error text matches are discarded."),
      P("get_kafka_client_log", T::Bool, "false", "Forward librdkafka's own log lines."),
      P("connect_timeout", T::Duration, "", "TCP connect timeout (socket.connection.setup.timeout.ms)."),
      P("socket_timeout", T::Duration, "", "Network request timeout (socket.timeout.ms)."),
      P("ssl_ca_cert", T::Array, "", "CA certificate file(s) (ssl.ca.location; one file)."),
      P("ssl_client_cert", T::String, "", "Client certificate file (ssl.certificate.location)."),
      P("ssl_client_cert_key", T::String, "", "Client key file (ssl.key.location)."),
      Secret("ssl_client_cert_key_password", "Client key password (ssl.key.password)."),
      Ignored("ssl_client_cert_chain", T::String, "Put the chain in the ssl_client_cert file."),
      P("ssl_ca_certs_from_system", T::Bool, "false", "Use the system CA store (ssl.ca.location probe)."),
      P("ssl_verify_hostname", T::Bool, "true", "Verify the broker host name."),
      P("sasl_over_ssl", T::Bool, "true", "SASL_SSL (true) or SASL_PLAINTEXT (false) with username."),
      P("username", T::String, "", "SASL user (PLAIN, or SCRAM with scram_mechanism)."),
      Secret("password", "SASL password."),
      P("scram_mechanism", T::String, "", "sha256 or sha512 (SCRAM-SHA-256/512)."),
      P("principal", T::String, "", "Kerberos principal (GSSAPI)."),
      P("keytab", T::String, "", "Kerberos keytab file (GSSAPI)."),
      P("service_name", T::String, "", "Kerberos service name."),
      P("rdkafka_options", T::Hash, "",
        "librdkafka properties passed through (applied last), e.g. {\"linger.ms\":\"20\"}."),
      P("dead_letter_path", T::String, "",
        "sluice: append dead-lettered messages to this file as JSON lines."),
      P("close_timeout", T::Duration, "15s",
        "sluice: how long shutdown waits for outstanding deliveries (positions keep "
        "undelivered records for the next start)."),
      Ignored("share_producer", T::Bool, "One producer per output is always used."),
      Ignored("active_support_notification_regex", T::String, "Ruby instrumentation."),
      Ignored("monitoring_list", T::Array, "Use the metrics endpoint."),
      Ignored("sasl_aws_msk_iam_auth", T::Bool, "Not supported."),
      Ignored("max_send_limit_bytes_type", T::String, "Not used."),
  };
  if (v == Variant::Rdkafka2) {
    spec.params.push_back(P("rdkafka_buffering_max_ms", T::Integer, "", "linger.ms."));
    spec.params.push_back(P("rdkafka_buffering_max_messages", T::Integer, "",
                            "queue.buffering.max.messages."));
    spec.params.push_back(P("rdkafka_message_max_bytes", T::Integer, "", "message.max.bytes."));
    spec.params.push_back(P("rdkafka_message_max_num", T::Integer, "", "batch.num.messages."));
    spec.params.push_back(Ignored("rdkafka_delivery_handle_poll_timeout", T::Integer,
                                  "Delivery reports are event driven."));
    spec.params.push_back(Ignored("max_enqueue_retries", T::Integer,
                                  "A full queue pauses the sources instead."));
    spec.params.push_back(Ignored("max_enqueue_bytes_per_second", T::Size, "Not supported."));
  }
  if (v == Variant::KafkaBuffered) {
    spec.params.push_back(P("output_data_type", T::String, "json",
                            "json, ltsv, msgpack, attr:field1,field2, or a formatter type."));
    spec.params.push_back(P("output_include_tag", T::Bool, "false", "Add the tag as `tag`."));
    spec.params.push_back(P("output_include_time", T::Bool, "false",
                            "Add the time as `time` (seconds, or time_format)."));
    spec.params.push_back(P("time_format", T::String, "", "strftime format for output_include_time."));
    spec.params.push_back(P("field_separator", T::String, "TAB",
                            "attr: separator (TAB, SPACE, COMMA, SOH)."));
    spec.params.push_back(P("kafka_agg_max_bytes", T::Size, "", "batch.size."));
    spec.params.push_back(P("kafka_agg_max_messages", T::Integer, "", "batch.num.messages."));
    spec.params.push_back(Ignored("zookeeper", T::String, "Brokers are found from `brokers`."));
    spec.params.push_back(Ignored("zookeeper_path", T::String, "Brokers are found from `brokers`."));
  }
  return spec;
}

PluginSpec buffer_fallback_spec() {
  using T = ParamType;
  PluginSpec spec;
  spec.kind = "buffer";
  spec.type = "memory";
  spec.doc = "Fluentd buffer parameters as the Kafka output reads them (librdkafka is the buffer).";
  spec.params = {
      P("flush_interval", T::Duration, "", "linger.ms (capped at 1s)."),
      P("flush_mode", T::String, "", "immediate: linger.ms 0."),
      P("chunk_limit_size", T::Size, "", "batch.size (capped at 1000000)."),
      P("chunk_limit_records", T::Integer, "", "batch.num.messages."),
      P("total_limit_size", T::Size, "",
        "Memory for queued messages (default 64 MiB): queue.buffering.max.kbytes gets half."),
      P("retry_forever", T::Bool, "false", "Re-produce failed messages forever."),
      P("retry_timeout", T::Duration, "72h", "Give up (dead-letter) after this long."),
      P("retry_max_times", T::Integer, "", "Give up after this many re-produces."),
      P("retry_wait", T::Duration, "1s", "First re-produce delay."),
      P("retry_max_interval", T::Duration, "30s", "Longest re-produce delay."),
      P("retry_exponential_backoff_base", T::Float, "2", "Backoff factor."),
      Ignored("retry_type", T::String, "Always exponential backoff."),
      Ignored("retry_randomize", T::Bool, "Not randomized."),
      Ignored("retry_secondary_threshold", T::Float, "No <secondary>."),
      Ignored("flush_thread_count", T::Integer, "librdkafka has its own threads."),
      Ignored("flush_thread_interval", T::Duration, "Event driven."),
      Ignored("flush_thread_burst_interval", T::Duration, "Event driven."),
      Ignored("flush_at_shutdown", T::Bool, "Always flushed within close_timeout."),
      Ignored("delayed_commit_timeout", T::Duration, "Delivery reports are the commit."),
      Ignored("queue_limit_length", T::Integer, "Use total_limit_size."),
      Ignored("queued_chunks_limit_size", T::Integer, "Use total_limit_size."),
      Ignored("overflow_action", T::String, "A full queue always pauses the sources."),
      Ignored("compress", T::String, "Use compression_codec."),
      Ignored("path", T::String, "The log files are the durable buffer."),
      Ignored("timekey", T::Duration, "No time chunks."),
      Ignored("timekey_wait", T::Duration, "No time chunks."),
      Ignored("timekey_use_utc", T::Bool, "No time chunks."),
      Ignored("timekey_zone", T::String, "No time chunks."),
      Ignored("chunk_full_threshold", T::Float, "Not used."),
      Ignored("disable_chunk_backup", T::Bool, "Not used."),
  };
  return spec;
}

Settings build_settings(Variant v, const Params& params, const ConfigSection* buffer,
                        std::vector<ConfigError>* errors) {
  const ConfigSection& sec = params.section();
  Reader r{sec};
  Settings s;
  auto prop = [&](const std::string& name, const std::string& value, const std::string& from,
                  bool secret = false) {
    s.props.push_back({name, value, r.pos(from), secret || is_secret_property(name)});
  };

  // --- connection ---
  std::vector<std::string> brokers = r.list("brokers");
  if (brokers.empty()) {
    brokers = {"localhost:9092"};
    if (sec.param("brokers")) s.notes.push_back("brokers is empty; using localhost:9092");
  }
  std::string bootstrap;
  for (auto& b : brokers) bootstrap += (bootstrap.empty() ? "" : ",") + b;
  prop("bootstrap.servers", bootstrap, "brokers");
  prop("client.id", r.str("client_id", "fluentd"), "client_id");
  prop("log.queue", "true", "");  // logs are served on the event loop
  if (auto t = r.seconds("connect_timeout")) prop("socket.connection.setup.timeout.ms", ms(*t), "connect_timeout");
  if (auto t = r.seconds("socket_timeout")) prop("socket.timeout.ms", ms(*t), "socket_timeout");

  // --- security (ruby-kafka's rules) ---
  std::vector<std::string> ca = r.list("ssl_ca_cert");
  bool ssl = !ca.empty() || r.p("ssl_client_cert") || r.flag("ssl_ca_certs_from_system", false);
  if (ca.size() > 1)
    throw ConfigException(r.pos("ssl_ca_cert"),
                          "ssl_ca_cert: librdkafka takes one CA file; concatenate the certificates");
  auto user = r.str("username");
  auto principal = r.str("principal");
  bool sasl = user.has_value() || principal.has_value();
  bool sasl_ssl = r.flag("sasl_over_ssl", true);
  if (sasl) {
    prop("security.protocol", sasl_ssl ? "SASL_SSL" : "SASL_PLAINTEXT", user ? "username" : "principal");
    if (principal) {
      prop("sasl.mechanisms", "GSSAPI", "principal");
      prop("sasl.kerberos.principal", *principal, "principal");
      if (auto k = r.str("keytab")) prop("sasl.kerberos.keytab", *k, "keytab");
      if (auto n = r.str("service_name")) prop("sasl.kerberos.service.name", *n, "service_name");
    } else {
      std::string mech = "PLAIN";
      if (auto m = r.str("scram_mechanism")) {
        std::string lower = *m;
        std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
        if (lower == "sha256" || lower == "scram-sha-256") mech = "SCRAM-SHA-256";
        else if (lower == "sha512" || lower == "scram-sha-512") mech = "SCRAM-SHA-512";
        else throw ConfigException(r.pos("scram_mechanism"), "scram_mechanism must be sha256 or sha512");
      }
      prop("sasl.mechanisms", mech, "username");
      prop("sasl.username", *user, "username");
      prop("sasl.password", r.str("password", ""), "password", true);
    }
  } else if (ssl) {
    prop("security.protocol", "SSL", "ssl_ca_cert");
  }
  if (ssl || (sasl && sasl_ssl)) {
    if (!ca.empty()) prop("ssl.ca.location", ca[0], "ssl_ca_cert");
    else if (r.flag("ssl_ca_certs_from_system", false)) prop("ssl.ca.location", "probe", "ssl_ca_certs_from_system");
    if (auto c = r.str("ssl_client_cert")) prop("ssl.certificate.location", *c, "ssl_client_cert");
    if (auto k = r.str("ssl_client_cert_key")) prop("ssl.key.location", *k, "ssl_client_cert_key");
    if (auto pw = r.str("ssl_client_cert_key_password"))
      prop("ssl.key.password", *pw, "ssl_client_cert_key_password", true);
    if (!r.flag("ssl_verify_hostname", true))
      prop("ssl.endpoint.identification.algorithm", "none", "ssl_verify_hostname");
  }

  // --- delivery guarantees ---
  int64_t acks = r.integer("required_acks").value_or(-1);
  if (acks != -1 && acks != 0 && acks != 1)
    throw ConfigException(r.pos("required_acks"), "required_acks must be -1, 0 or 1");
  bool idempotent;
  if (r.p("idempotent")) {
    idempotent = r.flag("idempotent", true);
    if (idempotent && acks != -1)
      throw ConfigException(r.pos("idempotent"),
                            "idempotent true needs required_acks -1 (all in-sync replicas)");
  } else {
    idempotent = acks == -1;
    if (!idempotent)
      s.notes.push_back("required_acks " + std::to_string(acks) + ": idempotence is off");
  }
  prop("acks", acks == -1 ? "all" : std::to_string(acks), "required_acks");
  prop("enable.idempotence", idempotent ? "true" : "false", "idempotent");
  if (!idempotent) {
    int64_t retries = r.integer("max_send_retries").value_or(2);
    if (retries < 0) retries = 0;
    prop("message.send.max.retries", std::to_string(retries), "max_send_retries");
  }
  if (auto t = r.seconds("ack_timeout")) prop("request.timeout.ms", ms(*t), "ack_timeout");

  if (auto c = r.str("compression_codec")) {
    std::string codec = *c;
    std::transform(codec.begin(), codec.end(), codec.begin(), ::tolower);
    if (codec != "none" && codec != "gzip" && codec != "snappy" && codec != "lz4" && codec != "zstd")
      throw ConfigException(r.pos("compression_codec"),
                            "unknown compression_codec '" + *c + "' (none, gzip, snappy, lz4, zstd)");
    prop("compression.codec", codec, "compression_codec");
  }
  s.max_send_limit_bytes = r.size("max_send_limit_bytes");
  if (s.max_send_limit_bytes && *s.max_send_limit_bytes == 0)
    throw ConfigException(r.pos("max_send_limit_bytes"), "max_send_limit_bytes must be > 0");
  if (s.max_send_limit_bytes && *s.max_send_limit_bytes + 512 > 1000000)
    prop("message.max.bytes", std::to_string(std::min<uint64_t>(*s.max_send_limit_bytes + 512, 1000000000)),
         "max_send_limit_bytes");

  // sluice defaults: a bounded in-memory queue (the log files are the buffer). librdkafka holds a
  // queued message about twice (the message, then its copy in the batch being built and sent):
  // measured 1.8-2.1x the queue on the 1 GiB benchmark, so the queue gets half of the limit.
  uint64_t total_bytes = 64ull << 20;
  std::optional<double> linger;
  std::optional<uint64_t> batch_size;
  std::optional<int64_t> batch_num;

  // --- <buffer> ---
  if (buffer) {
    Reader b{*buffer};
    if (auto t = b.seconds("flush_interval")) linger = std::min(*t, 1.0);
    if (auto m = b.str("flush_mode"); m && *m == "immediate") linger = 0.0;
    if (auto c = b.size("chunk_limit_size")) batch_size = std::min<uint64_t>(*c, 1000000);
    if (auto n = b.integer("chunk_limit_records")) batch_num = *n;
    if (auto t = b.size("total_limit_size")) total_bytes = std::max<uint64_t>(*t, 2 << 20);
    s.retry_forever = b.flag("retry_forever", false);
    if (auto t = b.seconds("retry_timeout")) s.retry_timeout = *t;
    s.retry_max_times = b.integer("retry_max_times");
    if (auto t = b.seconds("retry_wait")) s.retry_wait = std::max(*t, 0.05);
    if (auto t = b.seconds("retry_max_interval")) s.retry_max_interval = std::max(*t, s.retry_wait);
    if (auto t = b.str("@type"); t && *t == "file")
      s.notes.push_back("<buffer> @type file: Kafka keeps its queue in memory; the log files and "
                        "their positions are the durable buffer");
    if (auto o = b.str("overflow_action"); o && *o != "block")
      s.notes.push_back("<buffer> overflow_action " + *o +
                        ": sluice always pauses the sources when the queue is full");
  }
  if (v == Variant::Rdkafka2) {
    if (auto x = r.integer("rdkafka_buffering_max_ms")) linger = static_cast<double>(*x) / 1000.0;
    if (auto x = r.integer("rdkafka_buffering_max_messages"))
      prop("queue.buffering.max.messages", std::to_string(*x), "rdkafka_buffering_max_messages");
    if (auto x = r.integer("rdkafka_message_max_bytes"))
      prop("message.max.bytes", std::to_string(*x), "rdkafka_message_max_bytes");
    if (auto x = r.integer("rdkafka_message_max_num")) batch_num = *x;
  }
  if (v == Variant::KafkaBuffered) {
    if (auto x = r.size("kafka_agg_max_bytes")) batch_size = std::min<uint64_t>(*x, 1000000);
    if (auto x = r.integer("kafka_agg_max_messages")) batch_num = *x;
  }
  prop("queue.buffering.max.kbytes", std::to_string((total_bytes / 2 + 1023) / 1024),
       buffer && buffer->param("total_limit_size") ? "total_limit_size" : "");
  if (linger) prop("linger.ms", ms(*linger), "");
  if (batch_size) prop("batch.size", std::to_string(*batch_size), "");
  if (batch_num) prop("batch.num.messages", std::to_string(*batch_num), "");

  // --- passthrough, last ---
  for (auto& [k, val] : r.hash("rdkafka_options")) prop(trim(k), trim(val), "rdkafka_options");

  // --- routing and records ---
  s.topic = r.str("topic", "");
  s.default_topic = r.str("default_topic", "");
  s.use_default_for_unknown_topic = r.flag("use_default_for_unknown_topic", false);
  s.use_default_for_unknown_partition_error = r.flag("use_default_for_unknown_partition_error", false);
  std::string hash_fn = r.str("partitioner_hash_function", "crc32");
  if (hash_fn != "crc32" && hash_fn != "murmur2")
    throw ConfigException(r.pos("partitioner_hash_function"), "partitioner_hash_function must be crc32 or murmur2");
  s.murmur2 = hash_fn == "murmur2";
  s.use_event_time = r.flag("use_event_time", false);
  s.discard_delivery_failed = r.flag("discard_kafka_delivery_failed", false);
  s.discard_delivery_failed_regex = r.str("discard_kafka_delivery_failed_regex", "");
  s.client_log = r.flag("get_kafka_client_log", false);
  s.dead_letter_path = r.str("dead_letter_path", "");
  if (auto t = r.seconds("close_timeout")) s.close_timeout = *t;

  MapperConfig& m = s.mapper;
  m.topic_key = r.str("topic_key", "topic");
  m.exclude_topic_key = r.flag("exclude_topic_key", false);
  m.message_key_key = r.str("message_key_key", "message_key");
  m.exclude_message_key = r.flag("exclude_message_key", false);
  if (auto k = r.str("default_message_key")) m.default_message_key = *k;
  m.partition_key_key = r.str("partition_key_key", "partition_key");
  m.exclude_partition_key = r.flag("exclude_partition_key", false);
  if (auto k = r.str("default_partition_key")) m.default_partition_key = *k;
  m.partition_key = r.str("partition_key", "partition");
  m.exclude_partition = r.flag("exclude_partition", false);
  if (auto p = r.integer("default_partition")) m.default_partition = static_cast<int32_t>(*p);
  m.headers = r.hash("headers");
  for (auto& [name, path] : r.hash("headers_from_record")) {
    std::vector<std::string> keys;
    if (!parse_record_accessor(trim(path), keys))
      throw ConfigException(r.pos("headers_from_record"), "headers_from_record: bad accessor '" + path + "'");
    if (keys.size() != 1)
      throw ConfigException(r.pos("headers_from_record"),
                            "headers_from_record: only top-level fields ($.name) are supported");
    m.headers_from_record.emplace_back(name, keys);
  }
  for (auto& f : r.list("exclude_fields")) {
    std::vector<std::string> keys;
    if (!parse_record_accessor(f, keys) || keys.size() != 1)
      throw ConfigException(r.pos("exclude_fields"),
                            "exclude_fields: only top-level fields ($.name) are supported: '" + f + "'");
    m.exclude_fields.push_back(keys);
  }

  // --- format and inject ---
  const ConfigSection* format = sec.child("format");
  const ConfigSection* inject = sec.child("inject");
  if (v == Variant::KafkaBuffered && !format) {
    std::string type = r.str("output_data_type", "json");
    if (type.rfind("attr:", 0) == 0) {
      m.format = MapperConfig::Format::Attr;
      std::vector<std::string> fields;
      parse_array(type.substr(5), fields);
      for (auto& f : fields)
        if (!trim(f).empty()) m.attr_fields.push_back(trim(f));
      std::string sep = r.str("field_separator", "TAB");
      std::transform(sep.begin(), sep.end(), sep.begin(), ::toupper);
      m.attr_separator = sep == "SPACE" ? " " : sep == "COMMA" ? "," : sep == "SOH" ? "\x01" : "\t";
    }
    s.format_type = m.format == MapperConfig::Format::Attr ? "attr" : type;
    bool include_time = r.flag("output_include_time", false);
    bool include_tag = r.flag("output_include_tag", false);
    if (m.format == MapperConfig::Format::Attr) {
      if (include_time) m.attr_fields.insert(m.attr_fields.begin(), "time");
      if (include_tag) m.attr_fields.insert(m.attr_fields.begin(), "tag");
    }
    if (include_tag) m.inject.tag_key = "tag";
    if (include_time) {
      m.inject.time_key = "time";
      if (auto tf = r.str("time_format")) {
        m.inject.time_type = InjectConfig::TimeType::String;
        m.inject.time_format = *tf;
      } else {
        m.inject.time_type = InjectConfig::TimeType::Unixtime;
      }
    }
  } else {
    s.format_type = format ? Reader{*format}.str("@type", "json") : "json";
  }
  if (m.format != MapperConfig::Format::Attr) {
    if (s.format_type == "json") m.format = MapperConfig::Format::Json;
    else if (s.format_type == "msgpack") m.format = MapperConfig::Format::Msgpack;
    else if (s.format_type == "ltsv") m.format = MapperConfig::Format::Ltsv;
    else m.format = MapperConfig::Format::Line;
  }
  s.format_section = format;

  if (inject) read_inject(*inject, m.inject, errors);
  return s;
}

}  // namespace sluice::kafka
