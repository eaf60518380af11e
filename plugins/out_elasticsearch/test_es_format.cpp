// The bulk formatter (action lines and documents as fluent-plugin-elasticsearch 5.2.5 writes
// them) and the bulk response reader, against the fixtures in shared/fixtures/es-bulk.
#include <gtest/gtest.h>

#include "es_format.h"
#include "es_response.h"
#include "support/test_support.h"

namespace sluice::es {
namespace {

Batch make_batch(std::string_view tag) {
  Batch b;
  b.tag = tag;
  return b;
}

std::string format(BulkFormatter& f, Batch& b) {
  std::string out;
  f.begin_batch(b);
  for (const Record& r : b.records) {
    std::string_view index = f.index_for(b, r);
    f.append(out, b, r, index);
  }
  return out;
}

TEST(BulkFormatter, LogstashFormatAsObserved) {
  FormatConfig c;
  c.logstash_format = true;
  c.include_tag_key = true;
  c.suppress_type_name = true;
  BulkFormatter f(c);
  f.set_major_version(7);
  Batch b = make_batch("kubernetes.var.log.containers.app");
  b.begin_record(EventTime{1714564800, 250000000});  // 2024-05-01T12:00:00.25Z
  b.add_field("log", Value::of_string("line 0"));
  b.add_field("stream", Value::of_string("stdout"));
  b.begin_record(EventTime{1714521599, 500000000});  // 2024-04-30T23:59:59.5Z
  b.add_field("log", Value::of_string("line 2"));
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_EQ(format(f, b),
            "{\"index\":{\"_index\":\"logstash-2024.05.01\",\"_type\":null}}\n"
            "{\"log\":\"line 0\",\"stream\":\"stdout\",\"@timestamp\":\"2024-05-01T12:00:00.250000000+00:00\","
            "\"tag\":\"kubernetes.var.log.containers.app\"}\n"
            "{\"index\":{\"_index\":\"logstash-2024.04.30\",\"_type\":null}}\n"
            "{\"log\":\"line 2\",\"@timestamp\":\"2024-04-30T23:59:59.500000000+00:00\","
            "\"tag\":\"kubernetes.var.log.containers.app\"}\n");
  f.set_major_version(8);
  EXPECT_EQ(format(f, b).rfind("{\"index\":{\"_index\":\"logstash-2024.05.01\"}}\n{\"log", 0), 0u);
  FormatConfig c6 = c;
  c6.suppress_type_name = false;
  BulkFormatter f7(c6);
  f7.set_major_version(7);
  EXPECT_NE(format(f7, b).find("\"_type\":\"_doc\"}}"), std::string::npos);
  f7.set_major_version(6);
  EXPECT_NE(format(f7, b).find("\"_type\":\"fluentd\"}}"), std::string::npos);
}

// Records whose keys need nothing special go through their shape's rendered keys: the bytes must
// be those of the general path, over value kinds, escapes, long strings, empty records, common
// fields, shapes that change and repeat within and across batches, and day boundaries.
TEST(BulkFormatter, ShapedPathWritesWhatTheGeneralPathWrites) {
  setenv("TZ", "UTC", 1);
  tzset();
  const std::string long_text(5000, 'x');
  std::vector<std::string> keys = {"log", "stream", "message", "a\"b", std::string(40, 'k'), "n"};
  const std::string timestamp_key = "@timestamp";
  std::vector<Value> values = {
      Value::of_string("plain"), Value::of_string("q\"uo\\te\n\x01"), Value::of_string(""),
      Value::of_string(long_text), Value::of_int(-42), Value::of_float(1.5), Value::of_bool(true),
      Value::null(), Value::of_json("{\"x\":[1,2]}")};
  uint32_t seed = 99;
  auto next = [&seed] { return seed = seed * 1103515245u + 12345u; };
  for (bool logstash : {true, false}) {
    for (bool tag_key : {true, false}) {
      for (int precision : {9, 3, 0}) {
        FormatConfig c;
        c.logstash_format = logstash;
        c.include_timestamp = !logstash && precision == 3;
        if (!logstash && precision == 9) {  // as the data stream outputs configure it
          c.data_stream = c.include_timestamp = true;
          c.write_operation = "create";
        }
        c.include_tag_key = tag_key;
        c.time_precision = precision;
        FormatConfig general = c;
        general.use_shapes = false;
        BulkFormatter shaped(c), reference(general);
        for (int batch = 0; batch < 11; ++batch) {
          Batch b = make_batch(batch % 2 ? "app.one" : "app\"two");
          if (batch % 3 != 0) {
            b.common_fields.push_back({"kubernetes", Value::of_json("{\"pod_name\":\"p\"}")});
            b.common_fields.push_back({"docker", Value::of_string("d\"x")});
          }
          for (int r = 0; r < 40; ++r) {
            // Day boundaries: records a few hours apart around midnight.
            b.begin_record(EventTime{1714521599 + int64_t(next() % 5) * 3600 - 7200, next() % 1000000000u});
            // Batches 6-10 have one shape for all their records, as one parser's batch has (but
            // batch 7's last record; batch 8's shape has a key the plain path does not take;
            // record 20 of batch 9 has as many keys, one of them another; batch 10's records are
            // not in the order of their fields).
            size_t shape = batch < 6 ? next() % 4 : 1;
            if (batch == 7 && r == 39) shape = 2;
            const size_t n = shape == 3 ? 0 : shape + 2;
            for (size_t k = 0; k < n; ++k) {
              const bool swapped = batch == 9 && r == 20 && k == 1;
              const std::string& key = swapped ? keys[0] : keys[(k + shape) % keys.size()];
              b.add_field(key, values[next() % values.size()]);
            }
            if (batch == 8) b.add_field(timestamp_key, values[0]);
          }
          if (batch == 10) std::swap(b.records[3], b.records[30]);
          EXPECT_EQ(format(shaped, b), format(reference, b))
              << "logstash " << logstash << " data stream " << c.data_stream << " tag_key " << tag_key
              << " precision " << precision
              << " batch " << batch;
        }
        // Keys that change with every record: past a few shapes per batch the formatter writes
        // keys per record again, mid-batch.
        Batch varied = make_batch("app.varied");
        std::vector<std::string> names;
        for (int r = 0; r < 60; ++r) names.push_back("key" + std::to_string(r));
        for (int r = 0; r < 60; ++r) {
          varied.begin_record(EventTime{1714521599 + r, 0});
          varied.add_field(names[size_t(r)], values[size_t(r) % values.size()]);
          varied.add_field("log", Value::of_string("x"));
        }
        EXPECT_EQ(format(shaped, varied), format(reference, varied));
      }
    }
  }
}

// The output appends a batch whose records all take the fast path in runs (append_run): each run
// writes what record-by-record appends write, holds records of one index only, and stops only at
// a new index, at the limit it is given, or at the end of the batch.
TEST(BulkFormatter, RunsWriteWhatRecordByRecordWritesAndStopAtANewIndexOrTheLimit) {
  setenv("TZ", "UTC", 1);
  tzset();
  uint32_t seed = 5;
  auto next = [&seed] { return seed = seed * 1103515245u + 12345u; };
  for (bool logstash : {true, false}) {
    for (size_t limit : {size_t(0), size_t(700), size_t(5000), SIZE_MAX}) {
      FormatConfig c;
      c.logstash_format = logstash;
      c.index_name = "app";
      FormatConfig general = c;
      general.use_shapes = false;
      BulkFormatter runs(c), reference(general);
      Batch b = make_batch("app.one");
      b.common_fields.push_back({"kubernetes", Value::of_json("{\"pod_name\":\"p\"}")});
      std::vector<std::string> messages;
      for (int r = 0; r < 300; ++r) messages.push_back(std::string(next() % 200, 'm') + "\"q\"");
      for (int r = 0; r < 300; ++r) {
        // Mostly in order, with days that change and change back.
        b.begin_record(EventTime{1714521599 - 3600 + r * 60 - int64_t(next() % 4 == 0) * 7200, next() % 1000u});
        b.add_field("stream", Value::of_string("stdout"));
        b.add_field("message", Value::of_string(messages[size_t(r)]));
      }
      std::vector<std::string> indices;  // of each record, as record-by-record formatting gives it
      reference.begin_batch(b);
      for (const Record& r : b.records) indices.emplace_back(reference.index_for(b, r));
      const std::string expected = format(reference, b);

      std::string out;
      size_t run_count = 0;
      runs.begin_batch(b);
      for (size_t i = 0; i < b.records.size();) {
        // The formatter's own view (a run recognises its index by it); a copy for the checks.
        const std::string_view view = runs.index_for(b, b.records[i]);
        const std::string index(view);
        ASSERT_EQ(index, indices[i]) << i;
        size_t last_start = 0;
        const size_t start = out.size();
        const size_t n = runs.append_run(out, b, i, view, limit, last_start);
        ASSERT_GE(n, 1u) << i;
        ++run_count;
        for (size_t k = i; k < i + n; ++k) EXPECT_EQ(indices[k], index) << k;
        if (n > 1) {
          EXPECT_LT(last_start, limit) << i;  // the last record began under the limit
        }
        EXPECT_EQ(std::count(out.begin() + long(last_start), out.end(), '\n'), 2) << i;
        EXPECT_GE(last_start, start);
        if (i + n < b.records.size()) {  // a run stops for a reason
          EXPECT_TRUE(out.size() >= limit || indices[i + n] != index) << i << " " << n;
        }
        i += n;
      }
      EXPECT_EQ(out, expected) << "logstash " << logstash << " limit " << limit;
      if (limit == SIZE_MAX) {  // without a limit, one run per stretch of one index
        size_t changes = 0;
        for (size_t k = 1; k < indices.size(); ++k) changes += indices[k] != indices[k - 1];
        EXPECT_EQ(run_count, changes + 1);
        EXPECT_EQ(changes == 0, !logstash);
      }
    }
  }
  // A batch whose records do not all take the fast path is left to append.
  FormatConfig c;
  c.logstash_format = true;
  BulkFormatter f(c);
  Batch b = make_batch("app.two");
  b.begin_record(EventTime{1714521599, 0});
  b.add_field("@timestamp", Value::of_string("2024-05-01T00:00:00Z"));
  f.begin_batch(b);
  std::string out;
  size_t last_start = 0;
  EXPECT_EQ(f.append_run(out, b, 0, f.index_for(b, b.records[0]), SIZE_MAX, last_start), 0u);
  EXPECT_EQ(out, "");
}

// The fraction of @timestamp against printf, at every precision, over nanoseconds with every
// digit position exercised.
TEST(BulkFormatter, TimestampFractionDigits) {
  uint32_t seed = 5;
  auto next = [&seed] { return seed = seed * 1103515245u + 12345u; };
  for (int i = 0; i < 20000; ++i) {
    uint32_t nsec = i < 1000 ? uint32_t(i) * 1000003u % 1000000000u : next() % 1000000000u;
    for (int precision : {1, 3, 6, 9, 12}) {
      std::string out;
      BulkFormatter::append_iso8601(out, 1714564800, nsec, 0, precision);
      char digits[16];
      snprintf(digits, sizeof digits, "%09u", nsec);
      std::string expected = "2024-05-01T12:00:00." + std::string(digits).substr(0, size_t(std::min(precision, 9))) +
                             std::string(size_t(std::max(precision - 9, 0)), '0') + "+00:00";
      ASSERT_EQ(out, expected) << nsec << " precision " << precision;
    }
  }
}

TEST(BulkFormatter, ExistingTimestampTimeKeyTagInPlaceAndRemoveKeys) {
  FormatConfig c;
  c.logstash_format = true;
  c.include_tag_key = true;
  c.time_key = "ts";
  c.remove_keys = {"secret"};
  BulkFormatter f(c);
  f.set_major_version(8);
  Batch b = make_batch("t");
  b.begin_record(EventTime{0, 0});
  b.add_field("@timestamp", Value::of_string("2023-01-02T03:04:05Z"));
  b.add_field("tag", Value::of_string("old"));
  b.begin_record(EventTime{0, 0});
  b.add_field("ts", Value::of_string("2022-12-31T23:30:00.5+09:00"));
  b.add_field("secret", Value::of_int(1));
  EXPECT_EQ(format(f, b),
            "{\"index\":{\"_index\":\"logstash-2023.01.02\"}}\n"
            "{\"@timestamp\":\"2023-01-02T03:04:05Z\",\"tag\":\"t\"}\n"
            "{\"index\":{\"_index\":\"logstash-2022.12.31\"}}\n"
            "{\"ts\":\"2022-12-31T23:30:00.5+09:00\",\"@timestamp\":\"2022-12-31T23:30:00.500000000+09:00\","
            "\"tag\":\"t\"}\n");
}

TEST(BulkFormatter, IndexNameIdsAndCreate) {
  FormatConfig c;
  c.index_name = "Logs-${tag[1]}-${tag}";
  c.id_key = "rid";
  c.write_operation = "create";
  BulkFormatter f(c);
  f.set_major_version(8);
  Batch b = make_batch("a.b");
  b.begin_record(EventTime{1, 0});
  b.add_field("rid", Value::of_int(7));
  b.begin_record(EventTime{1, 0});
  b.add_field("x", Value::of_bool(true));
  EXPECT_EQ(format(f, b), "{\"create\":{\"_index\":\"logs-b-a.b\",\"_id\":7}}\n{\"rid\":7}\n");

  FormatConfig d;
  d.deterministic_id = true;
  BulkFormatter g(d);
  g.set_major_version(8);
  Batch e = make_batch("t");
  e.stream_id = "2049:1234";
  e.begin_record(EventTime{5, 6}, 100);
  e.add_field("m", Value::of_string("x"));
  e.begin_record(EventTime{5, 6}, 200);
  e.add_field("m", Value::of_string("x"));
  std::string out = format(g, e);
  size_t p1 = out.find("\"_id\":\""), p2 = out.find("\"_id\":\"", p1 + 1);
  ASSERT_NE(p2, std::string::npos);
  std::string id1 = out.substr(p1 + 7, 32), id2 = out.substr(p2 + 7, 32);
  EXPECT_NE(id1, id2);
  EXPECT_EQ(format(g, e), out);  // deterministic
}

// out_elasticsearch_data_stream.rb: `{"create":{}}` (or with the record's _id), @timestamp added
// unless present, the tag set before it; records without an id are written, not dropped.
TEST(BulkFormatter, DataStreamLines) {
  setenv("TZ", "UTC", 1);
  tzset();
  FormatConfig c;
  c.data_stream = c.include_timestamp = c.include_tag_key = true;
  c.write_operation = "create";
  c.index_name = "logs-${tag}";
  c.id_key = "rid";
  BulkFormatter f(c);
  f.set_major_version(8);
  Batch b = make_batch("app");
  b.begin_record(EventTime{1714564800, 250000000});
  b.add_field("rid", Value::of_string("r1"));
  b.begin_record(EventTime{1714564800, 0});
  b.add_field("@timestamp", Value::of_string("2024-01-01T00:00:00Z"));
  b.add_field("log", Value::of_string("x"));
  b.begin_record(EventTime{1714564801, 0});
  b.add_field("log", Value::of_string("y"));
  f.begin_batch(b);
  EXPECT_EQ(f.index_for(b, b.records[0]), "logs-app");
  EXPECT_EQ(format(f, b),
            "{\"create\":{\"_id\":\"r1\"}}\n{\"rid\":\"r1\",\"tag\":\"app\","
            "\"@timestamp\":\"2024-05-01T12:00:00.250000000+00:00\"}\n"
            "{\"create\":{}}\n{\"@timestamp\":\"2024-01-01T00:00:00Z\",\"log\":\"x\",\"tag\":\"app\"}\n"
            "{\"create\":{}}\n{\"log\":\"y\",\"tag\":\"app\",\"@timestamp\":\"2024-05-01T12:00:01.000000000+00:00\"}\n");

  FormatConfig d = c;
  d.id_key.clear();
  d.include_tag_key = false;
  d.deterministic_id = true;
  BulkFormatter g(d);
  g.set_major_version(8);
  Batch e = make_batch("app");
  e.stream_id = "2049:1234";
  e.begin_record(EventTime{5, 0}, 100);
  const std::string out = format(g, e);
  EXPECT_EQ(out.rfind("{\"create\":{\"_id\":\"", 0), 0u) << out;
  EXPECT_EQ(out.find("\"}}\n{\"@timestamp\":"), std::string_view("{\"create\":{\"_id\":\"").size() + kDeterministicIdSize) << out;
}

// A routing key without an id: the action line has the routing and no _id.
TEST(BulkFormatter, RoutingWithoutId) {
  FormatConfig c;
  c.routing_key = "user";
  BulkFormatter f(c);
  f.set_major_version(8);
  Batch b = make_batch("t");
  b.begin_record(EventTime{1, 0});
  b.add_field("user", Value::of_string("u1"));
  EXPECT_EQ(format(f, b), "{\"index\":{\"_index\":\"fluentd\",\"routing\":\"u1\"}}\n{\"user\":\"u1\"}\n");
}

TEST(BulkResponse, SplitsItems) {
  auto items = split_items("{a}\n{b}\n{c}\n{d}\n");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].first, 8u);
  EXPECT_EQ(items[1].second, 16u);
}

TEST(BulkResponse, FixtureBulkError) {
  std::string body = sluice::testing::read_file(sluice::testing::fixture_path(
      "es-bulk/uken-fluent-plugin-elasticsearch/test_bulk_error.response.json"));
  BulkResult r = read_bulk_response(body, "create", 4, {});
  ASSERT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.succeeded, 1u);
  EXPECT_EQ(r.duplicates, 1u);  // 409 on create
  ASSERT_EQ(r.failures.size(), 2u);
  EXPECT_EQ(r.failures[0].index, 0u);
  EXPECT_EQ(r.failures[0].kind, ItemFailure::Retry);
  EXPECT_EQ(r.failures[1].index, 2u);
}

TEST(BulkResponse, FixtureRetryError) {
  std::string body = sluice::testing::read_file(sluice::testing::fixture_path(
      "es-bulk/uken-fluent-plugin-elasticsearch/test_retry_error.response.json"));
  BulkResult r = read_bulk_response(body, "create", 8, {});
  ASSERT_TRUE(r.ok) << r.problem;
  std::vector<std::pair<size_t, int>> got;
  for (auto& f : r.failures) got.emplace_back(f.index, f.kind);
  // 500 typed -> retry; 500 untyped -> retried too (sluice retries 5xx); 400 -> dead;
  // json_parse_exception -> dead.
  EXPECT_EQ(got, (std::vector<std::pair<size_t, int>>{{1, ItemFailure::Retry},
                                                       {3, ItemFailure::Retry},
                                                       {4, ItemFailure::Dead},
                                                       {5, ItemFailure::Dead},
                                                       {6, ItemFailure::Retry},
                                                       {7, ItemFailure::Dead}}));
  EXPECT_NE(r.failures[2].error_json.find("mapper_parsing_exception"), std::string::npos);
}

TEST(BulkResponse, FixturesRejectedAndMismatch) {
  std::string body = sluice::testing::read_file(sluice::testing::fixture_path(
      "es-bulk/uken-fluent-plugin-elasticsearch/test_es_rejected_execution_exception_responses.response.json"));
  BulkResult r = read_bulk_response(body, "create", 1, {});
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].status, 429);
  EXPECT_EQ(r.failures[0].kind, ItemFailure::Retry);
  EXPECT_FALSE(read_bulk_response(body, "create", 2, {}).ok);
  EXPECT_FALSE(read_bulk_response("<html>", "index", 1, {}).ok);
  BulkResult u = read_bulk_response(body, "create", 1, {"es_rejected_execution_exception"});
  EXPECT_EQ(u.failures[0].kind, ItemFailure::Dead);
}

}  // namespace
}  // namespace sluice::es
