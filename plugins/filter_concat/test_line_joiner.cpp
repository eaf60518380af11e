#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include "config/config.h"
#include "core/delivery.h"
#include "core/registry.h"
#include "format/json.h"
#include "line_joiner.h"
#include "support/plugin_config.h"

using namespace sluice;

namespace {

// Where joined records go: the route after the filter, or a label. Keeps "tag @sec json claim".
struct Sink : Emitter {
  std::vector<std::string> got;
  std::vector<Claim*> claims;
  std::string name;
  explicit Sink(std::string n) : name(std::move(n)) {}
  void emit(Batch& b) override {
    for (const Record& r : b.records) {
      std::string s;
      json::append_record(s, b, r);
      got.push_back(name + " " + std::string(b.tag) + " @" + std::to_string(r.time.sec) + " " + s);
      claims.push_back(b.claim);
    }
  }
};

struct Env : sluice::testing::PluginConfig {
  Sink route{"route"}, error{"error"}, timeout{"timeout"};
  bool with_error_label = false;
  Env() {
    setenv("TZ", "UTC", 1);
    tzset();
  }
  std::unique_ptr<Filter> make(const std::string& body) {
    PluginContext ctx = parse("filter", "filter", "concat", body, "concat0");
    EXPECT_TRUE(errors.empty()) << errors[0].to_string();
    ctx.emitter = &route;
    ctx.label_emitter = [this](const std::string& l) -> Emitter* {
      if (l == "@T") return &timeout;
      return l == "@ERROR" && with_error_label ? &error : nullptr;
    };
    return (*registry.filter("concat"))(ctx, params());
  }
};

// A batch of one file's lines {"message": line, "stream": stdout} at times 100, 101, ...
Batch lines(std::initializer_list<const char*> texts, int t0 = 100, Claim* claim = nullptr) {
  Batch b;
  b.tag = "app";
  b.claim = claim;
  int i = 0;
  for (const char* t : texts) {
    b.begin_record({t0 + i, 0, false}, 10 * (t0 + i));
    b.add_field("message", Value::of_string(t));
    b.add_field("stream", Value::of_string("stdout"));
    ++i;
  }
  return b;
}

std::vector<std::string> left(const Batch& b) {
  std::vector<std::string> out;
  for (const Record& r : b.records) {
    std::string s;
    json::append_record(s, b, r);
    out.push_back(s);
  }
  return out;
}

const char* const kJava = "  key message\n  multiline_start_regexp /^\\d{4}-/\n  flush_interval 5\n";

using Strings = std::vector<std::string>;

}  // namespace

TEST(ConcatLines, StackTracesJoinedAsConcatDoes) {
  Env env;
  auto f = env.make(kJava);
  f->start();
  Batch b = lines({"before any group", "2024-05-01 ERROR boom", "\tat a.B(B.java:1)", "\tat c.D(D.java:2)",
                   "2024-05-01 INFO next"});
  f->filter(b);
  // A line outside any group passes; the group leaves when the next first line comes, merged into
  // that record (its time), as concat's filter_stream merges flushed groups into the current one.
  EXPECT_EQ(left(b), Strings{R"({"message":"before any group","stream":"stdout"})"});
  EXPECT_EQ(env.route.got,
            Strings{"route app @104 {\"message\":\"2024-05-01 ERROR boom\\n\\tat a.B(B.java:1)\\n\\tat c.D(D.java:2)\","
                    "\"stream\":\"stdout\"}"});
  // The last group is held across batches and leaves at shutdown with its first line's time.
  Batch c = lines({"\tat e.F(F.java:3)"}, 200);
  f->filter(c);
  EXPECT_TRUE(c.records.empty());
  f->stop();
  ASSERT_EQ(env.route.got.size(), 2u);
  EXPECT_EQ(env.route.got[1], "route app @104 {\"message\":\"2024-05-01 INFO next\\n\\tat e.F(F.java:3)\",\"stream\":\"stdout\"}");
}

TEST(ConcatLines, HeldLinesHoldTheCheckpoint) {
  Env env;
  auto f = env.make(kJava);
  DeliveryTracker tracker;
  Claim* a = tracker.open(1000);
  Batch b = lines({"2024-05-01 ERROR boom", "\tat x"}, 100, a);
  f->filter(b);
  a->release();  // the source's own reference, once routed
  EXPECT_EQ(tracker.committed(), 0u);  // the held lines keep it
  Claim* c = tracker.open(2000);
  Batch next = lines({"2024-05-01 INFO ok"}, 200, c);
  f->filter(next);
  ASSERT_EQ(env.route.claims.size(), 1u);
  EXPECT_EQ(env.route.claims[0], a);  // the joined record carries its oldest line's claim
  EXPECT_EQ(tracker.committed(), 1000u);  // a released (the sink kept nothing); c still the source's
  c->release();
  EXPECT_EQ(tracker.committed(), 1000u);  // c's line is held in the next group
  f->stop();
  EXPECT_EQ(tracker.committed(), 2000u);
}

TEST(ConcatLines, IdleGroupsGoToTheErrorLabelOrTheTimeoutLabel) {
  {
    Env env;
    env.with_error_label = true;
    auto f = env.make(kJava);
    Batch b = lines({"2024-05-01 ERROR boom", "\tat x"});
    f->filter(b);
    auto* joiner = static_cast<concat::LineJoiner*>(f.get());
    joiner->flush_idle(uv_hrtime() / 1000000 + 1000);  // not idle for 5 s yet
    EXPECT_TRUE(env.error.got.empty());
    joiner->flush_idle(uv_hrtime() / 1000000 + 6000);
    ASSERT_EQ(env.error.got.size(), 1u);
    EXPECT_NE(env.error.got[0].find("\"message\":\"2024-05-01 ERROR boom\\n\\tat x\""), std::string::npos);
    EXPECT_EQ(joiner->held_groups(), 0u);
  }
  {
    Env env;
    auto f = env.make(std::string(kJava) + "  timeout_label @T\n  use_first_timestamp true\n");
    Batch b = lines({"2024-05-01 ERROR boom", "\tat x"});
    f->filter(b);
    static_cast<concat::LineJoiner*>(f.get())->flush_idle(uv_hrtime() / 1000000 + 6000);
    ASSERT_EQ(env.timeout.got.size(), 1u);
    EXPECT_EQ(env.timeout.got[0].substr(0, 18), "timeout app @100 {");
  }
  {
    // Neither label: on down the route rather than lost.
    Env env;
    auto f = env.make(kJava);
    Batch b = lines({"2024-05-01 ERROR boom"});
    f->filter(b);
    static_cast<concat::LineJoiner*>(f.get())->flush_idle(uv_hrtime() / 1000000 + 6000);
    EXPECT_EQ(env.route.got.size(), 1u);
  }
}

TEST(ConcatLines, EndRegexpContinuousLinesAndNLines) {
  Env env;
  // Docker's split pieces arrive joined by the parser: each ends in \n and passes unchanged.
  auto docker = env.make("  key message\n  multiline_end_regexp /\\n$/\n  separator \"\"\n");
  Batch b = lines({"whole\n", "piece one ", "piece two\n", "next\n"});
  docker->filter(b);
  EXPECT_EQ(left(b), (Strings{R"({"message":"whole\n","stream":"stdout"})", R"({"message":"next\n","stream":"stdout"})"}));
  EXPECT_EQ(env.route.got, Strings{R"(route app @102 {"message":"piece one piece two\n","stream":"stdout"})"});

  Env env2;
  auto cont = env2.make("  key message\n  multiline_start_regexp /^START/\n  continuous_line_regexp /^ /\n");
  Batch c = lines({"START a", " b", "other", "START c"});
  cont->filter(c);
  EXPECT_EQ(env2.route.got, Strings{R"(route app @102 {"message":"START a\n b","stream":"stdout"})"});
  EXPECT_EQ(left(c), Strings{R"({"message":"other","stream":"stdout"})"});

  Env env3;
  auto pairs = env3.make("  key message\n  n_lines 2\n  separator \" | \"\n");
  Batch d = lines({"1", "2", "3"});
  pairs->filter(d);
  EXPECT_TRUE(d.records.empty());
  EXPECT_EQ(env3.route.got, Strings{R"(route app @101 {"message":"1 | 2","stream":"stdout"})"});
}

TEST(ConcatLines, GroupsAreBoundedAndStreamsKeptApart) {
  Env env;
  auto f = env.make(std::string(kJava) + "  buffer_limit_size 20\n  stream_identity_key stream\n");
  Batch b = lines({"2024-05-01 E", "\tat 0123456", "\tat 0123456789"});
  b.fields[b.records[1].first_field + 1].value = Value::of_string("stderr");  // another stream: in no group
  f->filter(b);
  // "2024-05-01 E" + "\tat 0123456789" would pass 20 bytes: the group leaves first, merged into
  // the line that did not fit, which then passes on its own (it opens no group).
  EXPECT_EQ(env.route.got, Strings{R"(route app @102 {"message":"2024-05-01 E","stream":"stdout"})"});
  EXPECT_EQ(left(b), (Strings{R"({"message":"\tat 0123456","stream":"stderr"})",
                              R"({"message":"\tat 0123456789","stream":"stdout"})"}));
  EXPECT_EQ(static_cast<concat::LineJoiner*>(f.get())->held_groups(), 0u);
}
