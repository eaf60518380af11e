#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/delivery.h"
#include "core/registry.h"
#include "support/test_support.h"

using namespace sluice;

namespace {

using sluice::testing::CaptureStdout;

struct Env {
  Registry reg;
  PluginContext ctx;
  Env() {
    setenv("TZ", "UTC", 1);
    tzset();
    register_all_plugins(reg);
    ctx.registry = &reg;
    ctx.id = "stdout0";
  }
  std::unique_ptr<Output> make(ConfigSection s) {
    section = std::move(s);
    return ctx.make_output(section, "x");
  }
  ConfigSection section;
};

ConfigSection stdout_section() {
  return {"match", "**", {"t.conf", 1}, {{"@type", "stdout", {"t.conf", 2}}}, {}};
}

}  // namespace

TEST(OutStdout, FluentdLineFormat) {
  Env env;
  auto out = env.make(stdout_section());
  Batch b;
  b.tag = "cri.var.log.containers.cri-test_ns_c-1.log";
  b.begin_record({1714564800, 123456789});
  b.add_field("stream", Value::of_string("stdout"));
  b.add_field("logtag", Value::of_string("F"));
  b.add_field("message", Value::of_string("hello plain text"));
  b.add_field("time", Value::of_string("2024-05-01T12:00:00.123456789Z"));
  Batch b2;
  b2.tag = "test.py.plain";
  b2.begin_record({1795779412, 0, true});
  b2.add_field("msg", Value::of_string("from python"));
  b2.add_field("list", Value::of_json("[1,2,3]"));
  b2.add_field("f", Value::of_float(1.5));
  CaptureStdout cap;
  out->write(b);
  out->write(b2);
  EXPECT_EQ(cap.finish(),
            "2024-05-01 12:00:00.123456789 +0000 cri.var.log.containers.cri-test_ns_c-1.log: "
            "{\"stream\":\"stdout\",\"logtag\":\"F\",\"message\":\"hello plain text\",\"time\":"
            "\"2024-05-01T12:00:00.123456789Z\"}\n"
            "2026-11-27 11:36:52.000000000 +0000 test.py.plain: "
            "{\"msg\":\"from python\",\"list\":[1,2,3],\"f\":1.5}\n");
}

TEST(OutStdout, EdgeCaseEncodingIsOj) {
  Env env;
  auto out = env.make(stdout_section());
  Batch b;
  b.tag = "t";
  b.begin_record({1714564800, 5});
  b.add_field("message", Value::of_string("bad\xff\xfe" "bytes ctrl\x01\x1f del\x7f ls\xe2\x80\xa8 "
                                          "emoji\xf0\x9f\x98\x80 tab\there"));
  CaptureStdout cap;
  out->write(b);
  EXPECT_EQ(cap.finish(),
            "2024-05-01 12:00:00.000000005 +0000 t: {\"message\":\"bad\xff\xfe" "bytes "
            "ctrl\\u0001\\u001f del\x7f ls\xe2\x80\xa8 emoji\xf0\x9f\x98\x80 tab\\there\"}\n");
}

TEST(OutStdout, ManyRecordsOneBatchAndCommonFields) {
  Env env;
  auto out = env.make(stdout_section());
  Batch b;
  b.tag = "t";
  for (int i = 0; i < 3; ++i) {
    b.begin_record({1714564800 + i, 0});
    b.add_field("i", Value::of_int(i));
  }
  b.common_fields.push_back({"k", Value::of_json("{\"a\":null}")});
  CaptureStdout cap;
  out->write(b);
  EXPECT_EQ(cap.finish(),
            "2024-05-01 12:00:00.000000000 +0000 t: {\"i\":0,\"k\":{\"a\":null}}\n"
            "2024-05-01 12:00:01.000000000 +0000 t: {\"i\":1,\"k\":{\"a\":null}}\n"
            "2024-05-01 12:00:02.000000000 +0000 t: {\"i\":2,\"k\":{\"a\":null}}\n");
}

TEST(OutStdout, FormatJsonAndOutputTypeHash) {
  Env env;
  auto s = stdout_section();
  s.children.push_back({"format", "", {"t.conf", 3}, {{"@type", "json", {}}}, {}});
  auto out = env.make(s);
  Batch b;
  b.tag = "t";
  b.begin_record({1714564800, 0});
  b.add_field("a", Value::of_string("x\x01"));
  b.add_field("n", Value::null());
  {
    CaptureStdout cap;
    out->write(b);
    EXPECT_EQ(cap.finish(), "{\"a\":\"x\\u0001\",\"n\":null}\n");
  }
  Env env2;
  auto s2 = stdout_section();
  s2.params.push_back({"output_type", "hash", {}});
  auto out2 = env2.make(s2);
  {
    CaptureStdout cap;
    out2->write(b);
    EXPECT_EQ(cap.finish(), "2024-05-01 12:00:00.000000000 +0000 t: {\"a\"=>\"x\\u0001\", \"n\"=>nil}\n");
  }
}

// Fluentd's out_stdout formats inject_values_to_record(tag, time, record): a key the record has
// keeps its place, the others follow in the order hostname, worker_id, tag, time.
TEST(OutStdout, InjectsTagTimeHostnameAndWorker) {
  Env env;
  env.ctx.worker_id = 1;
  auto s = stdout_section();
  s.children.push_back({"format", "", {"t.conf", 3}, {{"@type", "json", {}}}, {}});
  s.children.push_back({"inject", "", {"t.conf", 6},
                        {{"time_key", "ts", {}}, {"time_type", "unixtime", {}}, {"tag_key", "a", {}},
                         {"hostname_key", "host", {}}, {"hostname", "node-7", {}},
                         {"worker_id_key", "w", {}}},
                        {}});
  auto out = env.make(s);
  Batch b;
  b.tag = "k.web";
  b.begin_record({1714564800, 5});
  b.add_field("a", Value::of_string("replaced"));
  b.add_field("m", Value::of_string("x"));
  CaptureStdout cap;
  out->write(b);
  EXPECT_EQ(cap.finish(), R"({"a":"k.web","m":"x","host":"node-7","w":1,"ts":1714564800})"
                          "\n");
  EXPECT_EQ(b.find(b.records[0], "a")->text, "replaced");  // the batch is not changed
}

TEST(OutStdout, LtsvAndSingleValue) {
  Env env;
  auto s = stdout_section();
  s.children.push_back({"format", "", {"t.conf", 3}, {{"@type", "ltsv", {}}}, {}});
  auto out = env.make(s);
  Batch b;
  b.tag = "t";
  b.begin_record({1714564800, 0});
  b.add_field("message", Value::of_string("a\tb"));
  b.add_field("n", Value::of_int(3));
  {
    CaptureStdout cap;
    out->write(b);
    EXPECT_EQ(cap.finish(), "message:a b\tn:3\n");
  }
  Env env2;
  auto s2 = stdout_section();
  s2.children.push_back({"format", "", {"t.conf", 3}, {{"@type", "single_value", {}}}, {}});
  auto out2 = env2.make(s2);
  CaptureStdout cap;
  out2->write(b);
  EXPECT_EQ(cap.finish(), "a\tb\n");
}

TEST(OutStdout, UnknownFormatIsConfigError) {
  Env env;
  auto s = stdout_section();
  s.children.push_back({"format", "", {"t.conf", 3}, {{"@type", "csvx", {}}}, {}});
  EXPECT_THROW(env.make(s), ConfigException);
}

TEST(OutStdout, ClosedStdoutDoesNotKill) {
  signal(SIGPIPE, SIG_IGN);
  Env env;
  auto out = env.make(stdout_section());
  Batch b;
  b.tag = "t";
  b.begin_record({1714564800, 0});
  b.add_field("a", Value::of_int(1));
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);
  int saved = dup(1);
  dup2(fds[1], 1);
  close(fds[1]);
  out->write(b);  // EPIPE: logged once, then stdout is left alone
  out->write(b);
  dup2(saved, 1);
  close(saved);
  SUCCEED();
}

TEST(OutStdout, DoesNotRetainClaim) {
  Env env;
  auto out = env.make(stdout_section());
  DeliveryTracker tracker;
  Batch b;
  b.tag = "t";
  b.begin_record({1714564800, 0});
  b.claim = tracker.open(7);
  CaptureStdout cap;
  out->write(b);
  cap.finish();
  b.claim->release();
  EXPECT_EQ(tracker.committed(), 7u);
}
