// A record becomes a log event as out_cloudwatch_logs.rb's write makes it (names, removed keys,
// drop_empty_record, scrub, the three message forms, max_message_length, the time in ms), and the
// parameters are read as the plugin reads them.
#include <gtest/gtest.h>

#include "cwl_config.h"
#include "cwl_events.h"
#include "cwl_format.h"
#include "support/plugin_config.h"

namespace sluice::cwl {
namespace {

struct Env : sluice::testing::PluginConfig {
  OutputConfig config(const std::string& body) {
    PluginContext ctx = parse("match", "output", "cloudwatch_logs", "  region eu-west-1\n" + body, "cwl_0");
    EXPECT_TRUE(errors.empty()) << errors[0].to_string();
    return parse_config(ctx, params());
  }
  std::string config_error(const std::string& body) {
    return error_of([&] {
      PluginContext ctx = parse("match", "output", "cloudwatch_logs", "  region eu-west-1\n" + body, "cwl_0");
      if (errors.empty()) parse_config(ctx, params());
    });
  }
};

Batch sample() {
  Batch b;
  b.tag = "kube.app";
  b.begin_record(EventTime{1700000000, 123456789});
  b.add_field("group", Value::of_string("g-rec"));
  b.add_field("stream", Value::of_string("s-rec"));
  b.add_field("message", Value::of_string("hello \x01"));
  b.add_field("empty", Value::of_string(""));
  b.add_field("n", Value::of_int(3));
  b.common_fields.push_back({"kubernetes", Value::of_json(R"({"pod_name":"p"})")});
  return b;
}

struct Out {
  EventFormatter::Outcome outcome;
  Event event;
  std::string payload;
};

Out format(const std::string& body, const Batch& b) {
  Env env;
  OutputConfig c = env.config(body);
  EventFormatter f(c.format_settings, std::move(c.format));
  Out out;
  out.outcome = f.append(out.payload, b, b.records[0]);
  std::vector<Event> events;
  EXPECT_TRUE(read_entries(out.payload, events));
  if (!events.empty()) out.event = events[0];
  return out;
}

TEST(CwlFormat, TimeInMillisecondsAsRubyFloors) {
  EXPECT_EQ(time_ms(EventTime{1700000000, 123456789}), 1700000000123);
  EXPECT_EQ(time_ms(EventTime{1700000000, 0, true}), 1700000000000);
  EXPECT_EQ(time_ms(EventTime{1700000000, 1000000}), 1700000000001);
  // 1_700_000_000.999999999 is 1_700_000_001.0 as a double (steps of 2**-22 there): Ruby's
  // to_f rounds it up before the floor, and so does this.
  EXPECT_EQ(time_ms(EventTime{1700000000, 999999999}), 1700000001000);
}

TEST(CwlFormat, TheRecordAsYajlJsonWithoutEmptyValues) {
  Out o = format("  log_group_name g\n  log_stream_name s\n", sample());
  ASSERT_EQ(o.outcome, EventFormatter::Outcome::Entry);
  EXPECT_EQ(o.event.group, "");  // the template's, at flush
  EXPECT_EQ(o.event.stream, "");
  EXPECT_EQ(o.event.time_ms, 1700000000123);
  EXPECT_EQ(o.event.message,
            R"({"group":"g-rec","stream":"s-rec","message":"hello \u0001","n":3,"kubernetes":{"pod_name":"p"}})");
  Out json = format("  log_group_name g\n  log_stream_name s\n  json_handler json\n", sample());
  EXPECT_NE(json.event.message.find(R"("hello \u0001")"), std::string::npos);
}

TEST(CwlFormat, NamesFromRecordKeysAndTheTag) {
  Out o = format("  log_group_name_key group\n  log_stream_name_key stream\n  remove_log_group_name_key true\n"
                 "  remove_log_stream_name_key true\n",
                 sample());
  ASSERT_EQ(o.outcome, EventFormatter::Outcome::Entry);
  EXPECT_EQ(o.event.group, "g-rec");
  EXPECT_EQ(o.event.stream, "s-rec");
  EXPECT_EQ(o.event.message, R"({"message":"hello \u0001","n":3,"kubernetes":{"pod_name":"p"}})");
  Out tag = format("  use_tag_as_group true\n  use_tag_as_stream true\n", sample());
  EXPECT_EQ(tag.event.group, "kube.app");
  EXPECT_EQ(tag.event.stream, "kube.app");
  EXPECT_EQ(format("  log_group_name g\n  log_stream_name_key nope\n", sample()).outcome,
            EventFormatter::Outcome::NoStream);
  EXPECT_EQ(format("  log_group_name_key nope\n  log_stream_name s\n", sample()).outcome,
            EventFormatter::Outcome::NoGroup);
  // The group's key deleted first leaves no stream of the same key.
  EXPECT_EQ(format("  log_group_name_key group\n  remove_log_group_name_key true\n  log_stream_name_key group\n",
                   sample())
                .outcome,
            EventFormatter::Outcome::NoStream);
}

TEST(CwlFormat, MessageKeysJoinedAndEmptyOnesSkipped) {
  Out o = format("  log_group_name g\n  log_stream_name s\n  message_keys n,empty,message,kubernetes\n", sample());
  EXPECT_EQ(o.event.message, "3 hello \x01 {\"pod_name\"=>\"p\"}");
  EXPECT_EQ(format("  log_group_name g\n  log_stream_name s\n  message_keys empty,none\n", sample()).outcome,
            EventFormatter::Outcome::EmptyMessage);
}

TEST(CwlFormat, FormatSectionDefaultsToJsonWithItsNewline) {
  Out o = format("  log_group_name g\n  log_stream_name s\n  <format>\n  </format>\n", sample());
  EXPECT_EQ(o.event.message.back(), '\n');
  Out single = format("  log_group_name g\n  log_stream_name s\n  <format>\n    @type single_value\n"
                      "    add_newline false\n  </format>\n",
                      sample());
  EXPECT_EQ(single.event.message, "hello \x01");
}

TEST(CwlFormat, ScrubbedToReplacementCharactersAndCutByCharacters) {
  Batch b;
  b.tag = "t";
  b.begin_record(EventTime{1, 0});
  b.add_field("message", Value::of_string("\xC3\xA9t\xC3\xA9 \xFF!"));
  Out o = format("  log_group_name g\n  log_stream_name s\n  message_keys message\n", b);
  EXPECT_EQ(o.event.message, "\xC3\xA9t\xC3\xA9 \xEF\xBF\xBD!");
  Out cut = format("  log_group_name g\n  log_stream_name s\n  message_keys message\n  max_message_length 2\n", b);
  EXPECT_EQ(cut.event.message, "\xC3\xA9t");
  EXPECT_EQ(first_chars("abc", 5), "abc");
}

TEST(CwlConfig, DefaultsAndWhereRequestsGo) {
  Env env;
  OutputConfig c = env.config("  log_group_name g\n  log_stream_name s\n");
  EXPECT_EQ(c.settings.url, "https://logs.eu-west-1.amazonaws.com/");
  EXPECT_EQ(c.settings.max_events_per_batch, 10000u);
  EXPECT_EQ(c.settings.put_retry_limit, 17);
  EXPECT_DOUBLE_EQ(c.settings.put_retry_wait, 1.0);
  EXPECT_FALSE(c.settings.auto_create_stream);
  EXPECT_EQ(c.buffer.type, buffer::Config::Type::Memory);
  EXPECT_TRUE(c.settings.tls.verify_peer);
  Env e2;
  OutputConfig local = e2.config("  log_group_name g\n  log_stream_name s\n  endpoint http://localhost:5000\n"
                                 "  ssl_verify_peer false\n  include_time_key true\n  utc true\n");
  EXPECT_EQ(local.settings.url, "http://localhost:5000/");
  EXPECT_FALSE(local.settings.tls.verify_peer);
  EXPECT_EQ(local.inject.time_key, "time");
  EXPECT_EQ(local.inject.time_type, InjectConfig::TimeType::String);
  EXPECT_TRUE(local.inject.utc);
  // The daemonset image's retention_in_days "#{ENV['RETENTION_IN_DAYS'] || 'nil'}": "nil".to_i.
  Env e3;
  EXPECT_EQ(e3.config("  log_group_name g\n  log_stream_name s\n  retention_in_days nil\n").settings.retention_in_days, 0);
  Env e4;
  EXPECT_EQ(e4.config("  log_group_name g\n  log_stream_name s\n  retention_in_days 14\n").settings.retention_in_days, 14);
}

TEST(CwlConfig, RefusedWithFileAndLine) {
  Env env;
  EXPECT_EQ(env.config_error("  log_group_name g\n  log_stream_name s\n  aws_use_sts true\n  aws_sts_role_arn r\n"),
            "t.conf:6: aws_use_sts is not supported: AssumeRole with other credentials is not implemented; use "
            "<web_identity_credentials> (EKS IRSA), EKS Pod Identity, aws_key_id/aws_sec_key or the instance "
            "profile");
  Env e2;
  EXPECT_EQ(e2.config_error("  log_group_name g\n  use_tag_as_group true\n  log_stream_name s\n"),
            "t.conf:4: Set only one of log_group_name, use_tag_as_group and log_group_name_key");
  Env e3;
  EXPECT_NE(e3.config_error("  log_group_name ${tag}\n  log_stream_name s\n").find("t.conf:4: log_group_name: "
                                                                                   "placeholder ${tag}"),
            std::string::npos);
  Env e4;
  EXPECT_EQ(e4.config_error("  log_group_name ${tag}\n  log_stream_name ${host}\n  <buffer tag,host>\n  </buffer>\n"),
            "");
  Env e5;
  EXPECT_NE(e5.config_error("  log_group_name g\n  log_stream_name s\n  max_events_per_batch 0\n").find("t.conf:6"),
            std::string::npos);
}

}  // namespace
}  // namespace sluice::cwl
