// Unit tests of the Kafka output's record mapping, formats and parameter handling (no broker;
// delivery is covered by tests/integration/test_kafka_output.py against a mock cluster).
#include <gtest/gtest.h>

#include <memory>
#include <stdlib.h>

#include <fstream>
#include <sstream>

#include "config/config.h"
#include "core/registry.h"
#include "kafka_format.h"
#include "kafka_settings.h"

using namespace sluice;
using namespace sluice::kafka;

namespace {

Batch sample_batch() {
  Batch b;
  b.tag = "kube.app";
  b.begin_record(EventTime{1714564800, 123456789});
  b.add_field("topic", Value::of_string("orders"));
  b.add_field("message_key", Value::of_string("k1"));
  b.add_field("msg", Value::of_string("a\tb\nc\\d"));
  b.add_field("n", Value::of_int(5));
  b.add_field("trace", Value::of_string("t-1"));
  return b;
}

ConfigSection section(std::vector<std::pair<std::string, std::string>> params,
                      std::vector<ConfigSection> children = {}) {
  ConfigSection s{"match", "**", {"test.conf", 1}, {}, std::move(children)};
  int line = 2;
  for (auto& [k, v] : params) s.params.push_back({k, v, {"test.conf", line++}, false});
  return s;
}

Settings settings(Variant v, const ConfigSection& s) {
  static PluginSpec spec;
  spec = make_spec(v);
  Params p(s, spec);
  return build_settings(v, p, s.child("buffer"), nullptr);
}

std::map<std::string, std::string> props(const Settings& s) {
  std::map<std::string, std::string> m;
  for (auto& p : s.props) m[p.name] = p.value;
  return m;
}

// The mapper lives until the next call: meta's topic, keys and headers are views into its scratch
// strings, as they are in the output until the message is produced.
std::string map_one(const MapperConfig& c, MessageMeta& meta, LineFormat line = {}) {
  static std::unique_ptr<RecordMapper> mapper;
  mapper = std::make_unique<RecordMapper>(c, std::move(line));
  static Batch b;
  b = sample_batch();
  std::string out;
  mapper->map(b, b.records[0], out, meta);
  return out;
}

}  // namespace

TEST(KafkaFormat, JsonLikeKafka2WithInjectAndExcludedTopic) {
  MapperConfig c;
  c.exclude_topic_key = true;
  c.inject.tag_key = "tag";
  c.inject.time_key = "time";
  c.headers = {{"env", "prod"}};
  c.headers_from_record = {{"trace", {"trace"}}, {"missing", {"nope"}}};
  MessageMeta meta;
  std::string out = map_one(c, meta);
  EXPECT_EQ(out,
            R"({"message_key":"k1","msg":"a\tb\nc\\d","n":5,"trace":"t-1","tag":"kube.app","time":1714564800.123456})");
  EXPECT_EQ(meta.topic, "orders");
  ASSERT_TRUE(meta.key.has_value());
  EXPECT_EQ(*meta.key, "k1");
  EXPECT_FALSE(meta.pkey.has_value());
  EXPECT_FALSE(meta.partition.has_value());
  ASSERT_EQ(meta.headers.size(), 3u);
  EXPECT_EQ(meta.headers[0].first, "env");
  EXPECT_EQ(*meta.headers[0].second, "prod");
  EXPECT_EQ(*meta.headers[1].second, "t-1");
  EXPECT_FALSE(meta.headers[2].second.has_value());
}

TEST(KafkaFormat, DefaultsApplyWhenTheRecordHasNoValue) {
  MapperConfig c;
  c.message_key_key = "absent";
  c.default_message_key = "dk";
  c.default_partition_key = "pk";
  c.default_partition = 2;
  c.topic_key = "absent";
  MessageMeta meta;
  map_one(c, meta);
  EXPECT_EQ(meta.topic, "");
  EXPECT_EQ(*meta.key, "dk");
  EXPECT_EQ(*meta.pkey, "pk");
  EXPECT_EQ(*meta.partition, 2);
}

// Records holding none of the keys the mapper takes are written without being collected first:
// value and meta as the general path gives them (forced here by excluding a key no record has),
// whatever the values, with the batch's common fields, and with keys as long as a taken one.
TEST(KafkaFormat, RecordsWithoutTakenKeysMapAsTheGeneralPathDoes) {
  MapperConfig plain;
  plain.default_message_key = "dk";
  plain.default_partition_key = "pk";
  plain.default_partition = 3;
  plain.headers = {{"env", "prod"}};
  MapperConfig general = plain;
  general.exclude_fields = {{"absent"}};
  RecordMapper a(plain, {}), b(general, {});
  Batch batch;
  batch.tag = "kube.app";
  batch.common_fields.push_back({"kubernetes", Value::of_json(R"({"pod_name":"p"})")});
  auto record = [&](std::vector<Field> fields) {
    batch.begin_record(EventTime{1714564800, 5});
    for (Field& f : fields) batch.add_field(f.key, f.value);
  };
  record({{"log", Value::of_string("a \"quoted\"\tline\n")}, {"stream", Value::of_string("stdout")}});
  record({{"topix", Value::of_int(-7)}, {"partitio_", Value::of_float(1.5)}, {"b", Value::of_bool(true)},
          {"z", Value::null()}, {"message_kex", Value::of_string("")}});
  record({{"log", Value::of_string("x")}, {"topic", Value::of_string("orders")}});
  for (size_t i = 0; i < batch.records.size(); ++i) {
    std::string va, vb;
    MessageMeta ma, mb;
    a.map(batch, batch.records[i], va, ma);
    b.map(batch, batch.records[i], vb, mb);
    EXPECT_EQ(va, vb) << i;
    EXPECT_EQ(ma.topic, mb.topic) << i;
    EXPECT_EQ(ma.key, mb.key) << i;
    EXPECT_EQ(ma.pkey, mb.pkey) << i;
    EXPECT_EQ(ma.partition, mb.partition) << i;
    EXPECT_EQ(ma.headers, mb.headers) << i;
  }
  std::string value;
  MessageMeta meta;
  a.map(batch, batch.records[0], value, meta);
  EXPECT_EQ(value, R"({"log":"a \"quoted\"\tline\n","stream":"stdout","kubernetes":{"pod_name":"p"}})");
  EXPECT_EQ(meta.topic, "");
  EXPECT_EQ(meta.key, std::optional<std::string_view>("dk"));
  EXPECT_EQ(meta.pkey, std::optional<std::string_view>("pk"));
  EXPECT_EQ(meta.partition, std::optional<int32_t>(3));
  value.clear();
  a.map(batch, batch.records[2], value, meta);
  EXPECT_EQ(meta.topic, "orders");  // a taken key: the general path
}

TEST(KafkaFormat, MsgpackIsTheRecordMap) {
  MapperConfig c;
  c.format = MapperConfig::Format::Msgpack;
  c.topic_key = "";
  c.exclude_fields = {{"msg"}, {"trace"}, {"topic"}};
  MessageMeta meta;
  std::string out = map_one(c, meta);
  // {"message_key":"k1","n":5}
  EXPECT_EQ(out, std::string("\x82\xabmessage_key\xa2k1\xa1n\x05", 19));
}

TEST(KafkaFormat, LtsvLikeTheLtsvGem) {
  MapperConfig c;
  c.format = MapperConfig::Format::Ltsv;
  c.exclude_fields = {{"topic"}, {"message_key"}, {"trace"}};
  MessageMeta meta;
  // tab/LF/CR become \t \n \r; the backslash is kept as is (the gem's gsub is a no-op for it)
  EXPECT_EQ(map_one(c, meta), "msg:a\\tb\\nc\\d\tn:5");
}

TEST(KafkaFormat, AttrLikeKafkaBuffered) {
  MapperConfig c;
  c.format = MapperConfig::Format::Attr;
  c.attr_fields = {"tag", "n", "absent", "msg"};
  c.attr_separator = ",";
  c.inject.tag_key = "tag";
  MessageMeta meta;
  EXPECT_EQ(map_one(c, meta), "kube.app,5,,a\tb\nc\\d");
}

TEST(KafkaFormat, SingleValueKeepsFluentdsNewline) {
  MapperConfig c;
  c.format = MapperConfig::Format::Line;
  ConfigSection f{"format", "", {}, {{"@type", "single_value", {}, false}, {"message_key", "trace", {}, false}}, {}};
  MessageMeta meta;
  EXPECT_EQ(map_one(c, meta, LineFormat::configure(&f, "json")), "t-1\n");
}

TEST(KafkaFormat, InjectTimeTypes) {
  MapperConfig c;
  c.topic_key = "";
  c.exclude_fields = {{"topic"}, {"message_key"}, {"msg"}, {"n"}, {"trace"}};
  c.inject.time_key = "t";
  c.inject.time_type = InjectConfig::TimeType::Unixtime;
  MessageMeta meta;
  EXPECT_EQ(map_one(c, meta), R"({"t":1714564800})");
  c.inject.time_type = InjectConfig::TimeType::String;
  c.inject.time_format = "%Y-%m-%dT%H:%M:%S.%3N%z";
  c.inject.utc = true;
  EXPECT_EQ(map_one(c, meta), R"({"t":"2024-05-01T12:00:00.123+0000"})");
}

TEST(KafkaFormat, RecordAccessors) {
  std::vector<std::string> p;
  ASSERT_TRUE(parse_record_accessor("$.a.b", p));
  EXPECT_EQ(p, (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(parse_record_accessor("$['a']['b c']", p));
  EXPECT_EQ(p, (std::vector<std::string>{"a", "b c"}));
  ASSERT_TRUE(parse_record_accessor("plain", p));
  EXPECT_EQ(p, (std::vector<std::string>{"plain"}));
  EXPECT_FALSE(parse_record_accessor("$.", p));
}

TEST(KafkaSettings, EmptyStringsFromUnsetEnvAreUnset) {
  // What the daemonset's "#{ENV['X'] || nil}" lines give with the env unset.
  auto s = section({{"brokers", ""},
                    {"default_topic", ""},
                    {"default_message_key", ""},
                    {"default_partition_key", ""},
                    {"compression_codec", ""},
                    {"max_send_limit_bytes", ""},
                    {"ack_timeout", ""},
                    {"max_send_retries", "1"},
                    {"required_acks", "-1"},
                    {"exclude_topic_key", "false"}});
  Settings st = settings(Variant::Kafka2, s);
  auto p = props(st);
  EXPECT_EQ(p["bootstrap.servers"], "localhost:9092");
  EXPECT_EQ(p.count("compression.codec"), 0u);
  EXPECT_EQ(p.count("request.timeout.ms"), 0u);
  EXPECT_FALSE(st.max_send_limit_bytes.has_value());
  EXPECT_FALSE(st.mapper.default_message_key.has_value());
  EXPECT_FALSE(st.mapper.default_partition_key.has_value());
  EXPECT_EQ(st.default_topic, "");
  EXPECT_EQ(p["acks"], "all");
  EXPECT_EQ(p["enable.idempotence"], "true");
}

TEST(KafkaSettings, ProducerOptions) {
  auto s = section({{"brokers", "b1:9092, b2:9093"},
                    {"compression_codec", "zstd"},
                    {"ack_timeout", "5s"},
                    {"max_send_limit_bytes", "2m"},
                    {"client_id", "me"},
                    {"rdkafka_options", R"({"linger.ms":"50","queue.buffering.max.kbytes":"1024"})"}});
  auto p = props(settings(Variant::Kafka2, s));
  EXPECT_EQ(p["bootstrap.servers"], "b1:9092,b2:9093");
  EXPECT_EQ(p["compression.codec"], "zstd");
  EXPECT_EQ(p["request.timeout.ms"], "5000");
  EXPECT_EQ(p["message.max.bytes"], std::to_string((2 << 20) + 512));
  EXPECT_EQ(p["client.id"], "me");
  EXPECT_EQ(p["linger.ms"], "50");                        // rdkafka_options win
  EXPECT_EQ(p["queue.buffering.max.kbytes"], "1024");
}

TEST(KafkaSettings, AcksAndIdempotence) {
  auto p = props(settings(Variant::Kafka2, section({{"required_acks", "1"}, {"max_send_retries", "3"}})));
  EXPECT_EQ(p["acks"], "1");
  EXPECT_EQ(p["enable.idempotence"], "false");
  EXPECT_EQ(p["message.send.max.retries"], "3");
  EXPECT_THROW(settings(Variant::Kafka2, section({{"required_acks", "1"}, {"idempotent", "true"}})),
               ConfigException);
  EXPECT_THROW(settings(Variant::Kafka2, section({{"required_acks", "2"}})), ConfigException);
  EXPECT_THROW(settings(Variant::Kafka2, section({{"compression_codec", "brotli"}})), ConfigException);
}

TEST(KafkaSettings, BufferSectionMapsToLibrdkafka) {
  ConfigSection buf{"buffer", "", {"test.conf", 9}, {}, {}};
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"flush_interval", "5s"}, {"chunk_limit_size", "2M"}, {"chunk_limit_records", "5000"},
           {"total_limit_size", "128m"}, {"retry_forever", "true"}, {"retry_max_interval", "10"}})
    buf.params.push_back({k, v, {"test.conf", 10}, false});
  Settings st = settings(Variant::Kafka2, section({}, {buf}));
  auto p = props(st);
  EXPECT_EQ(p["linger.ms"], "1000");
  EXPECT_EQ(p["batch.size"], "1000000");
  EXPECT_EQ(p["batch.num.messages"], "5000");
  EXPECT_EQ(p["queue.buffering.max.kbytes"], std::to_string(64 * 1024));  // half the limit
  EXPECT_TRUE(st.retry_forever);
  EXPECT_EQ(st.retry_max_interval, 10.0);
  // Defaults without <buffer>: a 64 MiB queue, librdkafka's linger.
  auto d = props(settings(Variant::Kafka2, section({})));
  EXPECT_EQ(d["queue.buffering.max.kbytes"], "32768");
  EXPECT_EQ(d.count("linger.ms"), 0u);
}

TEST(KafkaSettings, SaslAndSslFollowRubyKafka) {
  auto st = settings(Variant::Kafka2, section({{"username", "u"}, {"password", "hunter2"},
                                               {"scram_mechanism", "sha512"},
                                               {"ssl_ca_cert", "/ca.pem"}}));
  auto p = props(st);
  EXPECT_EQ(p["security.protocol"], "SASL_SSL");
  EXPECT_EQ(p["sasl.mechanisms"], "SCRAM-SHA-512");
  EXPECT_EQ(p["ssl.ca.location"], "/ca.pem");
  for (auto& prop : st.props) {
    if (prop.name == "sasl.password") {
      EXPECT_TRUE(prop.secret);
    }
  }
  for (auto& n : st.notes) EXPECT_EQ(n.find("hunter2"), std::string::npos);
  auto plain = props(settings(Variant::Kafka2, section({{"username", "u"}, {"password", "p"},
                                                         {"sasl_over_ssl", "false"}})));
  EXPECT_EQ(plain["security.protocol"], "SASL_PLAINTEXT");
  EXPECT_EQ(plain["sasl.mechanisms"], "PLAIN");
  EXPECT_TRUE(is_secret_property("sasl.password"));
  EXPECT_TRUE(is_secret_property("ssl.key.password"));
  EXPECT_FALSE(is_secret_property("linger.ms"));
}

TEST(KafkaSettings, KafkaBufferedOutputDataType) {
  auto st = settings(Variant::KafkaBuffered,
                     section({{"output_data_type", "attr:msg, n"}, {"output_include_tag", "true"},
                              {"output_include_time", "true"}, {"field_separator", "COMMA"}}));
  EXPECT_EQ(st.mapper.format, MapperConfig::Format::Attr);
  EXPECT_EQ(st.mapper.attr_fields, (std::vector<std::string>{"tag", "time", "msg", "n"}));
  EXPECT_EQ(st.mapper.attr_separator, ",");
  auto js = settings(Variant::KafkaBuffered, section({{"output_data_type", "json"}, {"output_include_time", "true"}}));
  EXPECT_EQ(js.mapper.format, MapperConfig::Format::Json);
  EXPECT_EQ(js.mapper.inject.time_key, "time");
  EXPECT_EQ(js.mapper.inject.time_type, InjectConfig::TimeType::Unixtime);
}

// The real daemonset <match> blocks (kafka2 and kafka_buffered) build in dry-run mode with the
// environment unset.
TEST(KafkaOutput, DaemonsetConfigsValidateWithUnsetEnv) {
  Registry reg;
  register_all_plugins(reg);
  for (std::string variant : {"debian-kafka2", "debian-kafka"}) {
    std::string path = std::string(SLUICE_FIXTURES) + "/fluentd-k8s-daemonset/docker-image/v1.18/" +
                       variant + "/conf/fluent.conf";
    std::ifstream in(path);
    if (!in) GTEST_SKIP() << "fixture missing: " << path;
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    size_t b = text.find("<match **>");
    size_t e = text.find("</match>", b);
    ASSERT_NE(b, std::string::npos);
    ParseConfigResult parsed = parse_config_text(text.substr(b, e + 8 - b), "fluent.conf", ".");
    ASSERT_TRUE(parsed.errors.empty()) << parsed.errors[0].to_string();
    ASSERT_EQ(parsed.root.children.size(), 1u);
    const ConfigSection& match = parsed.root.children[0];
    std::vector<ConfigError> errors;
    Metrics metrics;
    PluginContext ctx;
    ctx.registry = &reg;
    ctx.metrics = &metrics;
    ctx.dry_run = true;
    ctx.errors = &errors;
    ctx.id = "k";
    auto out = ctx.make_output(match, "0");
    ASSERT_TRUE(out);
    for (auto& err : errors) ADD_FAILURE() << variant << ": " << err.to_string();
  }
}

TEST(KafkaOutput, AliasesAreRegistered) {
  Registry reg;
  register_all_plugins(reg);
  for (const char* t : {"kafka2", "rdkafka2", "kafka_buffered"}) {
    EXPECT_NE(reg.output(t), nullptr) << t;
    EXPECT_NE(reg.spec("output", t), nullptr) << t;
  }
}
