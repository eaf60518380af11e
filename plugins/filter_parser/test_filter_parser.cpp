#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include "config/config.h"
#include "core/registry.h"
#include "format/json.h"
#include "support/plugin_config.h"

using namespace sluice;

namespace {

// The @ERROR label: keeps what it is sent as JSON lines.
struct ErrorLabel : Emitter {
  std::vector<std::string> records;
  std::string tag;
  void emit(Batch& b) override {
    tag = std::string(b.tag);
    for (const Record& r : b.records) {
      std::string out;
      json::append_record(out, b, r);
      records.push_back(out + " @" + std::to_string(r.time.sec));
    }
  }
};

struct Env : sluice::testing::PluginConfig {
  ErrorLabel error_label;
  bool with_error_label = true;
  Env() {
    setenv("TZ", "UTC", 1);
    tzset();
  }

  std::unique_ptr<Filter> make(const std::string& body) {
    PluginContext ctx = parse("filter", "filter", "parser", body, "fp0");
    ctx.label_emitter = [this](const std::string& label) -> Emitter* {
      return with_error_label && label == "@ERROR" ? &error_label : nullptr;
    };
    return (*registry.filter("parser"))(ctx, params());
  }
  std::string config_error(const std::string& body) {
    return error_of([&] { make(body); });
  }
};

const char* const kJson = "  key_name log\n  <parse>\n    @type json\n  </parse>\n";

// Records as a container log: {"log": <line>, "stream": "stdout"} at time 1700000000+i.
Batch logs(std::initializer_list<std::string> lines) {
  Batch b;
  b.tag = "kubernetes.var.log.containers.web.log";
  int i = 0;
  for (const std::string& line : lines) {
    b.begin_record({1700000000 + i, 0, false}, 100 * i);
    b.add_field("log", Value::of_string(b.arena.copy(line)));
    b.add_field("stream", Value::of_string("stdout"));
    ++i;
  }
  return b;
}

std::vector<std::string> records(const Batch& b) {
  std::vector<std::string> out;
  for (const Record& r : b.records) {
    std::string s;
    json::append_record(s, b, r);
    out.push_back(s + " @" + std::to_string(r.time.sec));
  }
  return out;
}

using Lines = std::vector<std::string>;

}  // namespace

TEST(FilterParser, ReplacesTheRecordWithTheParsedFields) {
  Env env;
  auto f = env.make(kJson);
  Batch b = logs({R"({"level":"info","msg":"up","n":3,"ctx":{"a":[1,2]}})", R"({"msg":"time","time":1690000000})"});
  f->filter(b);
  EXPECT_EQ(records(b), (Lines{R"({"level":"info","msg":"up","n":3,"ctx":{"a":[1,2]}} @)" +
                                   std::to_string(b.records[0].time.sec),
                               R"({"msg":"time"} @1690000000)"}));
  // No time field: the parser's estimate is now (Fluentd's estimate_current_event), not the record's.
  EXPECT_GT(b.records[0].time.sec, 1700000000 + 86400);
  EXPECT_EQ(b.records[1].offset, 100u);
  EXPECT_TRUE(env.error_label.records.empty());
}

TEST(FilterParser, ReserveDataMergesAfterTheCommonFieldsAndRemovesTheKey) {
  Env env;
  auto f = env.make(std::string(kJson) + "  reserve_data true\n  remove_key_name_field true\n  reserve_time true\n");
  Batch b = logs({R"({"stream":"app","level":"warn"})", "not json"});
  b.common_fields.push_back({"kubernetes", Value::of_json(R"({"pod_name":"web-1"})")});
  f->filter(b);
  EXPECT_EQ(records(b),
            (Lines{R"({"stream":"app","kubernetes":{"pod_name":"web-1"},"level":"warn"} @1700000000)",
                   R"({"log":"not json","stream":"stdout","kubernetes":{"pod_name":"web-1"}} @1700000001)"}));
  EXPECT_TRUE(b.common_fields.empty());
  // The unparsable record also goes to @ERROR, whole and with its own time.
  EXPECT_EQ(env.error_label.records,
            (Lines{R"({"log":"not json","stream":"stdout","kubernetes":{"pod_name":"web-1"}} @1700000001)"}));
  EXPECT_EQ(env.error_label.tag, "kubernetes.var.log.containers.web.log");
}

TEST(FilterParser, WithoutReserveDataUnparsableAndMissingValuesLeaveTheBatch) {
  Env env;
  auto f = env.make(kJson);
  Batch b = logs({"{\"a\":1}", "{truncated", "[1]"});
  b.begin_record({1700000009, 0, false});
  b.add_field("message", Value::of_string("no log field"));
  b.begin_record({1700000010, 0, false});
  b.add_field("log", Value::of_int(7));
  f->filter(b);
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_EQ(records(b)[0].substr(0, 8), "{\"a\":1} ");
  EXPECT_EQ(env.error_label.records,
            (Lines{R"({"log":"{truncated","stream":"stdout"} @1700000001)", R"({"log":"[1]","stream":"stdout"} @1700000002)",
                   R"({"message":"no log field"} @1700000009)", R"({"log":7} @1700000010)"}));
}

TEST(FilterParser, NoErrorEventsWhenTurnedOffAndNoLabelNeeded) {
  Env env;
  env.with_error_label = false;
  auto f = env.make(std::string(kJson) + "  emit_invalid_record_to_error false\n  reserve_data true\n");
  Batch b = logs({"nope"});
  f->filter(b);
  EXPECT_EQ(records(b), (Lines{R"({"log":"nope","stream":"stdout"} @1700000000)"}));
  env.with_error_label = true;
  Batch c = logs({"nope"});
  f->filter(c);
  EXPECT_TRUE(env.error_label.records.empty());
}

TEST(FilterParser, ArraysYieldARecordPerObject) {
  Env env;
  auto f = env.make(std::string(kJson) + "  reserve_time true\n");
  Batch b = logs({R"([{"i":1},{"i":2}])", R"({"i":3})"});
  f->filter(b);
  EXPECT_EQ(records(b), (Lines{R"({"i":1} @1700000000)", R"({"i":2} @1700000000)", R"({"i":3} @1700000001)"}));
  // Distinct offsets, so that deterministic document ids differ.
  EXPECT_EQ(b.records[0].offset, 0u);
  EXPECT_EQ(b.records[1].offset, 1u);
  EXPECT_EQ(b.records[2].offset, 100u);
}

TEST(FilterParser, PrefixAndHashValueField) {
  Env env;
  auto f = env.make(std::string(kJson) +
                    "  reserve_data true\n  reserve_time true\n  inject_key_prefix app.\n  hash_value_field parsed\n");
  Batch b = logs({R"({"level":"info","tags":["a"]})", "bad"});
  f->filter(b);
  EXPECT_EQ(records(b),
            (Lines{R"({"log":"{\"level\":\"info\",\"tags\":[\"a\"]}","stream":"stdout","parsed":{"app.level":"info","app.tags":["a"]}} @1700000000)",
                   R"({"log":"bad","stream":"stdout","parsed":{}} @1700000001)"}));
}

TEST(FilterParser, MergedKeysReplaceValuesInPlace) {
  Env env;
  auto f = env.make(std::string(kJson) + "  reserve_data true\n  reserve_time true\n");
  Batch b = logs({R"({"log":"inner","x":1})"});
  f->filter(b);
  EXPECT_EQ(records(b), (Lines{R"({"log":"inner","stream":"stdout","x":1} @1700000000)"}));
}

TEST(FilterParser, RegexpParserWithItsTime) {
  Env env;
  auto f = env.make(
      "  key_name message\n  <parse>\n    @type regexp\n"
      "    expression /^(?<time>\\S+) (?<level>[A-Z]+) (?<msg>.*)$/\n"
      "    time_format %Y-%m-%dT%H:%M:%S%z\n  </parse>\n");
  Batch b;
  b.tag = "app";
  b.begin_record({1700000000, 0, false});
  b.add_field("message", Value::of_string("2024-05-01T10:00:00+00:00 ERROR disk full"));
  f->filter(b);
  EXPECT_EQ(records(b), (Lines{R"({"level":"ERROR","msg":"disk full"} @1714557600)"}));
}

TEST(FilterParser, LegacyFormatParameters) {
  Env env;
  auto f = env.make("  key_name log\n  format /^(?<k>\\w+)=(?<v>\\d+)$/\n  types v:integer\n");
  Batch b = logs({"n=42"});
  f->filter(b);
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_EQ(records(b)[0].substr(0, 17), R"({"k":"n","v":42} )");
  Env env2;
  auto g = env2.make("  key_name log\n  format json\n  time_key at\n  time_type unixtime\n");
  Batch c = logs({R"({"at":1600000000,"x":1})"});
  g->filter(c);
  EXPECT_EQ(records(c), (Lines{R"({"x":1} @1600000000)"}));
}

TEST(FilterParser, ReplaceInvalidSequence) {
  Env env;
  auto f = env.make(std::string(kJson) + "  replace_invalid_sequence true\n  reserve_time true\n");
  Batch b = logs({"{\"m\":\"a\xff" "b\"}"});
  f->filter(b);
  EXPECT_EQ(records(b), (Lines{R"({"m":"a?b"} @1700000000)"}));
}

TEST(FilterParser, ConfigurationMistakes) {
  EXPECT_NE(Env().config_error("  <parse>\n    @type json\n  </parse>\n").find("key_name"), std::string::npos);
  EXPECT_NE(Env().config_error("  key_name log\n").find("<parse> section is required"), std::string::npos);
  EXPECT_NE(Env().config_error("  key_name $.a[\n  <parse>\n    @type json\n  </parse>\n").find("t.conf:3: key_name"),
            std::string::npos);
  EXPECT_NE(Env().config_error("  key_name $.a.b\n  reserve_data true\n  remove_key_name_field true\n"
                               "  <parse>\n    @type json\n  </parse>\n")
                .find("t.conf:5: remove_key_name_field with a nested key_name"),
            std::string::npos);
  EXPECT_NE(Env().config_error(std::string(kJson) + "  time_format %s\n").find("t.conf:7: time_format belongs in the <parse>"),
            std::string::npos);
  EXPECT_NE(Env().config_error("  key_name log\n  <parse>\n    @type nginxx\n  </parse>\n").find("unknown parser type 'nginxx'"),
            std::string::npos);
  EXPECT_NE(Env().config_error("  key_name log\n  format apache3\n").find("t.conf:4: unknown parser type 'apache3'"),
            std::string::npos);
  EXPECT_EQ(Env().config_error(kJson), "");
}

TEST(FilterParser, NestedKeyNameReadsIntoMaps) {
  Env env;
  auto f = env.make("  key_name $.payload.msg\n  reserve_data true\n  reserve_time true\n  <parse>\n    @type json\n  </parse>\n");
  Batch b;
  b.tag = "t";
  b.begin_record({1700000000, 0, false});
  b.add_field("payload", Value::of_json(R"({"msg":"{\"level\":\"info\"}","n":1})"));
  b.begin_record({1700000001, 0, false});
  b.add_field("payload", Value::of_json(R"({"msg":7})"));
  b.begin_record({1700000002, 0, false});
  b.add_field("payload", Value::of_string("not a map"));
  f->filter(b);
  EXPECT_EQ(records(b), (Lines{R"({"payload":{"msg":"{\"level\":\"info\"}","n":1},"level":"info"} @1700000000)",
                               R"({"payload":{"msg":7}} @1700000001)", R"({"payload":"not a map"} @1700000002)"}));
  EXPECT_EQ(env.error_label.records.size(), 2u);
}
