// The push body as fluent-plugin-grafana-loki builds it: the cases of its
// spec/gems/fluent/plugin/loki_output_spec.rb, and the byte-level details (escaping, label
// rendering, grouping, ordering) read from out_loki.rb.
#include <gtest/gtest.h>

#include "loki_format.h"

namespace sluice::loki {
namespace {

constexpr int64_t kSec = 1546270458;  // the spec's Time.at(1_546_270_458)

FormatConfig::Label label(std::string name, std::string accessor) {
  return {sanitize_label_name(name), RecordPath(accessor.empty() ? name : accessor)};
}

std::string body(Formatter& f, const Batch& b, std::string_view thread = {}) {
  std::string payload, out, error;
  f.begin_batch();
  for (const Record& r : b.records) f.append(payload, b, r);
  EXPECT_TRUE(build_body(payload, thread, out, error)) << error;
  EXPECT_EQ(count_entries(payload), int64_t(b.records.size()));
  return out;
}

TEST(LokiFormat, KeyValueLineWithoutLabels) {
  Formatter f(FormatConfig{});
  Batch b;
  b.begin_record(EventTime{kSec, 0});
  b.add_field("message", Value::of_string("Jan 1 host app: say \"hi\" a=b"));
  b.add_field("stream", Value::of_string("stdout"));
  b.add_field("number", Value::of_float(1.2345));
  b.add_field("empty", Value::null());
  EXPECT_EQ(body(f, b),
            R"({"streams":[{"stream":{},"values":[["1546270458000000000",)"
            R"("message=\"Jan 1 host app: say \\\"hi\\\" a=b\" stream=stdout number=1.2345 empty="]]}]})");
}

TEST(LokiFormat, KeyValueReplacesInvalidUtf8AndBackslashes) {
  Formatter f(FormatConfig{});
  Batch b;
  b.begin_record(EventTime{kSec, 0});
  b.add_field("message", Value::of_string("\xC1 rest of line"));
  b.add_field("path", Value::of_string("C:\\x"));
  b.add_field("k", Value::of_json(R"({"a":1,"b":null})"));
  EXPECT_EQ(body(f, b),
            R"({"streams":[{"stream":{},"values":[["1546270458000000000",)"
            R"("message=\"? rest of line\" path=C:\\\\x k=\"{\\\"a\\\"=>1, \\\"b\\\"=>nil}\""]]}]})");
}

TEST(LokiFormat, JsonLineKeepsInvalidBytesAsYajlDoes) {
  FormatConfig c;
  c.line_format = FormatConfig::LineFormat::Json;
  Formatter f(c);
  Batch b;
  b.begin_record(EventTime{kSec, 0});
  b.add_field("message", Value::of_string("\xC1 rest of line\n\x01"));
  b.add_field("number", Value::of_float(1.2345));
  b.add_field("stream", Value::of_string("stdout"));
  EXPECT_EQ(body(f, b),
            "{\"streams\":[{\"stream\":{},\"values\":[[\"1546270458000000000\","
            "\"{\\\"message\\\":\\\"\xC1 rest of line\\\\n\\\\u0001\\\",\\\"number\\\":1.2345,"
            "\\\"stream\\\":\\\"stdout\\\"}\"]]}]}");
}

TEST(LokiFormat, LabelsAreTakenOutOfTheLine) {
  FormatConfig c;
  c.line_format = FormatConfig::LineFormat::Json;
  c.labels = {label("stream", ""), label("pod", "$.kubernetes.pod")};
  c.extra_labels = {{"env", "test"}};
  Formatter f(c);
  Batch b;
  b.begin_record(EventTime{kSec, 5});
  b.add_field("message", Value::of_string("m"));
  b.add_field("stream", Value::of_string("stdout"));
  b.common_fields.push_back({"kubernetes", Value::of_json(R"({"pod":"podname","ns":"x"})")});
  EXPECT_EQ(body(f, b),
            R"({"streams":[{"stream":{"stream":"stdout","pod":"podname","env":"test"},"values":)"
            R"([["1546270458000000005","{\"message\":\"m\",\"kubernetes\":{\"ns\":\"x\"}}"]]}]})");
  c.remove_keys = {RecordPath("kubernetes")};
  Formatter g(c);
  EXPECT_NE(body(g, b).find(R"("{\"message\":\"m\"}")"), std::string::npos);
}

TEST(LokiFormat, DropSingleKeyLineIsTheValue) {
  FormatConfig c;
  c.line_format = FormatConfig::LineFormat::Json;
  c.drop_single_key = true;
  c.labels = {label("stream", "")};
  Formatter f(c);
  Batch b;
  b.begin_record(EventTime{kSec, 0});
  b.add_field("message", Value::of_string("raw \"line\""));
  b.add_field("stream", Value::of_string("stdout"));
  b.begin_record(EventTime{kSec, 0});
  b.add_field("message", Value::of_int(5));  // the plugin sends the number itself
  b.add_field("stream", Value::of_string("stdout"));
  EXPECT_EQ(body(f, b),
            R"({"streams":[{"stream":{"stream":"stdout"},"values":[["1546270458000000000","raw \"line\""],)"
            R"(["1546270458000000000",5]]}]})");
}

TEST(LokiFormat, StreamsInFirstSeenOrderEntriesStablySortedByTime) {
  FormatConfig c;
  c.drop_single_key = true;
  c.labels = {label("stream", "")};
  Formatter f(c);
  Batch b;
  const std::pair<int64_t, const char*> lines[] = {{kSec + 2, "4"}, {kSec + 1, "2"}, {kSec, "1"},
                                                   {kSec + 1, "3"}, {kSec - 8, "0"}, {kSec + 2, "5"}};
  for (auto [t, m] : lines) {
    b.begin_record(EventTime{t, 0});
    b.add_field("message", Value::of_string(m));
    b.add_field("stream", Value::of_string(m[0] == '3' ? "stderr" : "stdout"));
  }
  EXPECT_EQ(body(f, b),
            R"({"streams":[{"stream":{"stream":"stdout"},"values":[["1546270450000000000","0"],)"
            R"(["1546270458000000000","1"],["1546270459000000000","2"],["1546270460000000000","4"],)"
            R"(["1546270460000000000","5"]]},{"stream":{"stream":"stderr"},"values":[["1546270459000000000","3"]]}]})");
}

TEST(LokiFormat, LabelValuesRenderedAsThePluginDoes) {
  FormatConfig c;
  c.labels = {label("app.kubernetes.io/name", "app"), label("code", ""), label("quote", "")};
  c.extra_labels = {{"code", "fixed"}, {"env", "dev"}};
  Formatter f(c);
  Batch b;
  b.begin_record(EventTime{kSec, 0});
  b.add_field("app", Value::of_string("web"));
  b.add_field("code", Value::of_string("a"));
  b.add_field("quote", Value::of_string("say \"x\""));
  b.begin_record(EventTime{kSec, 0});
  b.add_field("app", Value::of_int(7));  // not a string: left out of the labels
  b.add_field("code", Value::of_string("b"));  // replaced by the extra label, still its own stream
  b.add_field("quote", Value::of_string("say \"x\""));
  EXPECT_EQ(body(f, b),
            R"({"streams":[{"stream":{"app_kubernetes_io_name":"web","code":"fixed","quote":"say \\\"x\\\"","env":"dev"},)"
            R"("values":[["1546270458000000000",""]]},)"
            R"({"stream":{"code":"fixed","quote":"say \\\"x\\\"","env":"dev"},"values":[["1546270458000000000",""]]}]})");
}

TEST(LokiFormat, KubernetesLabelsAndThreadLabel) {
  FormatConfig c;
  c.extract_kubernetes_labels = true;
  c.labels = {label("container", "$.kubernetes.container_name")};
  c.extra_labels = {{"env", "dev"}};
  c.remove_keys = {RecordPath("kubernetes")};
  Formatter f(c);
  Batch b;
  b.begin_record(EventTime{kSec, 0, true});
  b.add_field("log", Value::of_string("x"));
  b.common_fields.push_back(
      {"kubernetes", Value::of_json(R"({"container_name":"c1","labels":{"app.kubernetes.io/name":"web","tier":"db"}})")});
  EXPECT_EQ(body(f, b, "flush_thread_1"),
            R"({"streams":[{"stream":{"container":"c1","app_kubernetes_io_name":"web","tier":"db",)"
            R"("fluentd_thread":"flush_thread_1","env":"dev"},"values":[["1546270458000000000","log=x"]]}]})");
  FormatConfig bare;
  Formatter g(bare);
  Batch e;
  e.begin_record(EventTime{kSec, 0});
  EXPECT_EQ(body(g, e, "flush_thread_0"),
            R"({"streams":[{"stream":{"fluentd_thread":"flush_thread_0"},"values":[["1546270458000000000",""]]}]})");
}

TEST(LokiFormat, MissingAndNullLabelValuesShareAStream) {
  FormatConfig c;
  c.labels = {label("app", ""), label("job", "")};
  Formatter f(c);
  Batch b;
  b.begin_record(EventTime{kSec, 0});
  b.add_field("job", Value::of_string("j"));
  b.begin_record(EventTime{kSec, 1});
  b.add_field("app", Value::null());
  b.add_field("job", Value::of_string("j"));
  EXPECT_EQ(body(f, b), R"({"streams":[{"stream":{"job":"j"},"values":[["1546270458000000000",""],)"
                        R"(["1546270458000000001",""]]}]})");
}

TEST(LokiFormat, CommonFieldLabelsAreReadPerBatchAndOwnFieldsWin) {
  FormatConfig c;
  c.labels = {label("pod", "$.kubernetes.pod")};
  c.remove_keys = {RecordPath("kubernetes")};
  Formatter f(c);
  std::string payload, out, error;
  Batch b;
  for (const char* metadata : {R"({"pod":"a"})", R"({"pod":"b"})"}) {
    b.clear();
    b.common_fields.push_back({"kubernetes", Value::of_json(metadata)});
    b.begin_record(EventTime{kSec, 0});
    b.begin_record(EventTime{kSec, 1});
    b.add_field("kubernetes", Value::of_json(R"({"pod":"own"})"));
    f.begin_batch();
    for (const Record& r : b.records) f.append(payload, b, r);
  }
  ASSERT_TRUE(build_body(payload, {}, out, error));
  EXPECT_EQ(out, R"({"streams":[{"stream":{"pod":"a"},"values":[["1546270458000000000",""]]},)"
                 R"({"stream":{"pod":"own"},"values":[["1546270458000000001",""],["1546270458000000001",""]]},)"
                 R"({"stream":{"pod":"b"},"values":[["1546270458000000000",""]]}]})");
}

TEST(LokiFormat, LaterLabelUnderADeletedPathReadsNil) {
  FormatConfig c;
  c.labels = {label("k", "$.kubernetes"), label("pod", "$.kubernetes.pod")};
  Formatter f(c);
  Batch b;
  b.begin_record(EventTime{kSec, 0});
  b.add_field("kubernetes", Value::of_json(R"({"pod":"p"})"));
  EXPECT_EQ(body(f, b), R"({"streams":[{"stream":{},"values":[["1546270458000000000",""]]}]})");
}

TEST(LokiFormat, DamagedPayloadIsAnError) {
  Formatter f(FormatConfig{});
  Batch b;
  b.begin_record(EventTime{kSec, 0});
  b.add_field("a", Value::of_string("b"));
  std::string payload, out, error;
  f.append(payload, b, b.records[0]);
  for (size_t cut = 1; cut < payload.size(); ++cut) {
    EXPECT_FALSE(build_body(std::string_view(payload).substr(0, cut), {}, out, error)) << cut;
    EXPECT_EQ(count_entries(std::string_view(payload).substr(0, cut)), -1);
  }
  std::string huge = payload;
  huge[0] = '\xff';
  huge[1] = '\xff';
  EXPECT_FALSE(build_body(huge, {}, out, error));
  // Whatever a damaged chunk file holds, reading it stays within its bytes.
  uint32_t seed = 1;
  for (int round = 0; round < 2000; ++round) {
    std::string noise = payload;
    for (int k = 0; k < 3; ++k) {
      seed = seed * 1103515245 + 12345;
      noise[(seed >> 8) % noise.size()] = char(seed >> 16);
    }
    if (build_body(noise, "t", out, error)) {
      EXPECT_EQ(out.front(), '{');
    }
  }
}

}  // namespace
}  // namespace sluice::loki
