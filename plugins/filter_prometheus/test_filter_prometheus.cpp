#include <gtest/gtest.h>

#include "core/registry.h"
#include "metric_labels.h"
#include "prometheus_family.h"
#include "support/plugin_config.h"

namespace sluice {
namespace {

using prometheus::Family;
using prometheus::Kind;

TEST(PrometheusFamily, RendersAsTheRubyClient) {
  Family counter("in_records_total", Kind::Counter, "The total number of incoming records", {"tag"}, {});
  counter.update("{tag=\"a\"}", 1);
  counter.update("{tag=\"a\"}", 2);
  counter.update("{tag=\"b\"}", 0.5);
  std::string out;
  counter.render(out);
  EXPECT_EQ(out,
            "# TYPE in_records_total counter\n# HELP in_records_total The total number of incoming records\n"
            "in_records_total{tag=\"a\"} 3.0\nin_records_total{tag=\"b\"} 0.5\n");

  Family histogram("latency", Kind::Histogram, "h", {}, {{0.5, "0.5"}, {1, "1"}});
  for (double v : {0.2, 0.7, 3.0}) histogram.update("", v);
  out.clear();
  histogram.render(out);
  EXPECT_EQ(out,
            "# TYPE latency histogram\n# HELP latency h\nlatency_bucket{le=\"0.5\"} 1.0\nlatency_bucket{le=\"1\"} 2.0\n"
            "latency_bucket{le=\"+Inf\"} 3.0\nlatency_sum 3.9\nlatency_count 3.0\n");

  Family summary("size", Kind::Summary, "s", {"a"}, {});
  summary.update("{a=\"x\"}", 10);
  summary.update("{a=\"x\"}", 1e-5);
  out.clear();
  summary.render(out);
  EXPECT_EQ(out, "# TYPE size summary\n# HELP size s\nsize_sum{a=\"x\"} 10.00001\nsize_count{a=\"x\"} 2.0\n");
}

TEST(PrometheusFamily, SeriesAreBounded) {
  Family gauge("g", Kind::Gauge, "g", {"k"}, {});
  for (size_t i = 0; i < Family::kMaxSeries; ++i) ASSERT_TRUE(gauge.update("{k=\"" + std::to_string(i) + "\"}", 1));
  EXPECT_FALSE(gauge.update("{k=\"one more\"}", 1));
  EXPECT_TRUE(gauge.update("{k=\"7\"}", 5));  // existing series still move
}

TEST(PrometheusLabels, PlaceholdersAccessorsAndEscapes) {
  using prometheus::Label;
  using prometheus::LabelValue;
  prometheus::Placeholders p;
  p.tag.prepare("kubernetes.var.log.containers.app");
  p.hostname = "node-1";
  p.worker_id = "0";
  Batch b;
  b.tag = "kubernetes.var.log.containers.app";
  const Record& r = b.begin_record({1, 0});
  b.add_field("level", Value::of_string("warn \"x\"\n"));
  b.add_field("code", Value::of_int(404));
  b.add_field("arr", Value::of_json("[\"a\",\"b\"]"));
  b.common_fields.push_back({"kubernetes", Value::of_json(R"({"namespace_name":"prod","labels":{"app":"web"}})")});
  std::vector<Label> labels = {
      {"tag", LabelValue("${tag}")},
      {"first", LabelValue("${tag_parts[0]}-${tag_parts[-1]}")},
      {"prefix", LabelValue("${tag_prefix[1]}")},
      {"suffix", LabelValue("${tag_suffix[1]}")},
      {"host", LabelValue("${hostname}/${worker_id}")},
      {"ns", LabelValue("$.kubernetes.namespace_name")},
      {"app", LabelValue("${kubernetes[\"namespace_name\"]}")},
      {"level", LabelValue("${level}")},
      {"code", LabelValue("${code}")},
      {"elem", LabelValue("${arr[1]}")},
      {"unknown", LabelValue("${tag_parts[9]}${nope}")},
  };
  std::string out;
  LabelValue::Scratch scratch;
  prometheus::render_labels(out, labels, p, &b, &r, scratch);
  EXPECT_EQ(out,
            "{tag=\"kubernetes.var.log.containers.app\",first=\"kubernetes-app\",prefix=\"kubernetes.var\","
            "suffix=\"containers.app\",host=\"node-1/0\",ns=\"prod\",app=\"prod\",level=\"warn \\\"x\\\"\\n\","
            "code=\"404\",elem=\"b\",unknown=\"${tag_parts[9]}${nope}\"}");
  EXPECT_EQ(scratch.unknown, "${tag_parts[9]}");
  EXPECT_FALSE(labels[0].value.per_record());
  EXPECT_TRUE(labels[5].value.per_record());
  EXPECT_TRUE(labels[7].value.per_record());
}

struct Env : testing::PluginConfig {
  Metrics metrics;
  std::unique_ptr<Filter> make(const std::string& body) {
    PluginContext ctx = parse("filter", "filter", "prometheus", body, "prom0");
    ctx.metrics = &metrics;
    return (*registry.filter("prometheus"))(ctx, params());
  }
  std::string config_error(const std::string& body) {
    return error_of([&] { make(body); });
  }
};

TEST(FilterPrometheus, CountsRecordsAndValuesPerLabelSet) {
  Env env;
  auto filter = env.make("<metric>\n  name in_records_total\n  type counter\n  desc records\n"
                         "  <labels>\n    tag ${tag}\n  </labels>\n</metric>\n"
                         "<metric>\n  name bytes_total\n  type counter\n  desc bytes\n  key size\n"
                         "  <labels>\n    level $.level\n  </labels>\n</metric>\n"
                         "<labels>\n  host fixed\n</labels>\n");
  Batch b;
  b.tag = "app";
  for (auto [level, size] : {std::pair{"info", 10}, {"warn", 5}, {"info", 1}}) {
    b.begin_record({1, 0});
    b.add_field("level", Value::of_string(level));
    b.add_field("size", Value::of_int(size));
  }
  b.begin_record({1, 0});
  b.add_field("level", Value::of_string("info"));
  b.add_field("size", Value::of_string("many"));  // not a number: not counted, the record goes on
  filter->filter(b);
  EXPECT_EQ(b.records.size(), 4u);
  EXPECT_EQ(env.metrics.render_families(),
            "# TYPE bytes_total counter\n# HELP bytes_total bytes\n"
            "bytes_total{host=\"fixed\",level=\"info\"} 11.0\nbytes_total{host=\"fixed\",level=\"warn\"} 5.0\n"
            "# TYPE in_records_total counter\n# HELP in_records_total records\n"
            "in_records_total{host=\"fixed\",tag=\"app\"} 4.0\n");
  EXPECT_EQ(env.metrics.value("sluice_prometheus_instrument_errors_total{plugin=\"prom0\"}"), 1u);
}

TEST(FilterPrometheus, ConfigurationErrors) {
  auto error = [](const std::string& body) { return Env().config_error(body); };
  EXPECT_NE(error("<metric>\n  name g\n  type gauge\n  desc d\n</metric>\n").find("gauge metric requires 'key' option"),
            std::string::npos);
  EXPECT_NE(error("<metric>\n  name g\n  type meter\n  desc d\n</metric>\n").find("type"), std::string::npos);
  EXPECT_NE(error("<metric>\n  name a\n  type counter\n  desc d\n</metric>\n"
                  "<metric>\n  name a\n  type gauge\n  key v\n  desc d\n</metric>\n")
                .find("a has already been registered as counter type"),
            std::string::npos);
  EXPECT_NE(error("<metric>\n  name h\n  type histogram\n  key v\n  desc d\n  buckets 1,0.5\n</metric>\n")
                .find("increasing order"),
            std::string::npos);
}

}  // namespace
}  // namespace sluice
