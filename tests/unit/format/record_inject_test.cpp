// <inject> as Fluentd's inject_values_to_record: Hash#merge order, the time types.
#include "format/record_inject.h"

#include <gtest/gtest.h>

#include "format/json.h"

namespace sluice {
namespace {

ConfigSection inject(std::vector<ConfigParam> params) { return {"inject", "", {"t.conf", 7}, std::move(params), {}}; }

std::string json_of(const Batch& b, size_t i) {
  std::string out;
  json::append_record(out, b, b.records[i]);
  return out;
}

TEST(RecordInject, MergeKeepsThePlaceOfKeysTheRecordHas) {
  // The fluentd-kubernetes-daemonset S3 image's <inject>.
  InjectConfig c;
  std::vector<ConfigError> errors;
  auto s = inject({{"time_key", "time", {}}, {"tag_key", "tag", {}}, {"localtime", "false", {}}});
  read_inject(s, c, &errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(c.time_type, InjectConfig::TimeType::Float);
  EXPECT_TRUE(c.utc);
  RecordInjector injector(c);
  Batch b;
  b.tag = "kubernetes.var.log.containers.a.log";
  b.begin_record({1714564800, 123456789});
  b.add_field("time", Value::of_string("2024-05-01T12:00:00.123456789Z"));
  b.add_field("log", Value::of_string("x"));
  const Batch& out = injector.apply(b);
  EXPECT_EQ(json_of(out, 0), "{\"time\":1714564800.123456,\"log\":\"x\",\"tag\":\"kubernetes.var.log.containers.a.log\"}");
  EXPECT_EQ(json_of(b, 0), "{\"time\":\"2024-05-01T12:00:00.123456789Z\",\"log\":\"x\"}");  // untouched
}

TEST(RecordInject, StringTimesHostnameWorkerIdAndErrors) {
  InjectConfig c;
  c.worker_id = 3;
  std::vector<ConfigError> errors;
  auto s = inject({{"time_key", "ts", {}}, {"time_type", "string", {}}, {"utc", "true", {}},
                   {"hostname_key", "host", {}}, {"hostname", "node-1", {}}, {"worker_id_key", "w", {}},
                   {"tag_kye", "tag", {"t.conf", 9}}});
  read_inject(s, c, &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].to_string(), "t.conf:9: unknown parameter 'tag_kye' in <inject>");
  RecordInjector injector(c);
  Batch b;
  b.tag = "t";
  b.begin_record({1714564800, 0});
  EXPECT_EQ(json_of(injector.apply(b), 0), "{\"host\":\"node-1\",\"w\":3,\"ts\":\"2024-05-01T12:00:00Z\"}");
  InjectConfig bad;
  auto wrong = inject({{"time_key", "t", {}}, {"time_type", "iso", {"t.conf", 8}}});
  EXPECT_THROW(read_inject(wrong, bad, nullptr), ConfigException);
}

}  // namespace
}  // namespace sluice
