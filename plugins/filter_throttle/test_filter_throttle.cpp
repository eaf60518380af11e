#include <gtest/gtest.h>

#include "core/log.h"
#include "support/plugin_config.h"
#include "support/test_support.h"
#include "throttle.h"

using namespace sluice;
using sluice::throttle::Settings;
using sluice::throttle::ThrottleFilter;

namespace {

struct Clock {
  double now = 1700000000.0;  // a multiple of 60 and of 10
};

Batch records(const std::vector<std::string>& containers) {
  Batch b;
  b.tag = "t";
  for (const std::string& c : containers) {
    b.begin_record({1, 0, false});
    b.add_field("log", Value::of_string("x"));
    b.add_field("kubernetes", Value::of_json(b.arena.copy("{\"container_name\":\"" + c + "\"}")));
  }
  return b;
}

size_t pass(ThrottleFilter& f, const std::string& container, int n) {
  Batch b = records(std::vector<std::string>(static_cast<size_t>(n), container));
  f.filter(b);
  return b.records.size();
}

Settings settings(int64_t period, int64_t limit) {
  Settings s;
  s.bucket_period_s = period;
  s.bucket_limit = limit;
  s.reset_rate_s = s.rate_limit();
  return s;
}

TEST(Throttle, DropsWhatExceedsTheLimitPerPeriodAndGroup) {
  Clock clock;
  ThrottleFilter f(settings(10, 5), "th0", nullptr, [&] { return clock.now; });
  EXPECT_EQ(pass(f, "a", 4), 4u);
  EXPECT_EQ(pass(f, "a", 4), 1u);  // the 5th passes, then the bucket is empty
  EXPECT_EQ(pass(f, "b", 3), 3u);  // another group has its own bucket
  clock.now += 5;
  EXPECT_EQ(pass(f, "a", 1), 0u);  // same period
  clock.now += 5;  // the next period; the approximate rate (0) is below the reset rate (0)? no
  // rate_limit = 5 / 10 = 0, so the reset rate is 0: a rate of 0 is not below it, still dropped
  EXPECT_EQ(pass(f, "a", 1), 0u);
}

TEST(Throttle, ResetsWhenTheRateIsBackDownInANewPeriod) {
  Clock clock;
  Settings s = settings(10, 100);  // rate limit 10/s, reset rate 10/s
  ThrottleFilter f(s, "th0", nullptr, [&] { return clock.now; });
  EXPECT_EQ(pass(f, "a", 150), 100u);
  for (int i = 1; i < 10; ++i) {  // 50 records a second: dropped for the rest of the period
    clock.now += 1;
    EXPECT_EQ(pass(f, "a", 50), 0u);
  }
  clock.now += 1;  // next period, but the rate measured over the last second is 50/s >= 10/s
  EXPECT_EQ(pass(f, "a", 1), 0u);
  clock.now += 10;  // one record in 10 s: the rate is 0 < 10/s, the group is reset
  EXPECT_EQ(pass(f, "a", 3), 3u);
}

TEST(Throttle, AQuietGroupIsResetAtTheNextPeriod) {
  Clock clock;
  ThrottleFilter f(settings(10, 100), "th0", nullptr, [&] { return clock.now; });
  EXPECT_EQ(pass(f, "a", 150), 100u);
  clock.now += 1;  // the approximate rate becomes 151/s
  EXPECT_EQ(pass(f, "a", 1), 0u);
  clock.now += 9;  // the next period's first record measures 1 record in 9 s: rate 0
  EXPECT_EQ(pass(f, "a", 1), 1u);
}

TEST(Throttle, ResetRateMinusOneResetsAtTheNextPeriod) {
  Clock clock;
  Settings s = settings(10, 2);
  s.reset_rate_s = -1;
  ThrottleFilter f(s, "th0", nullptr, [&] { return clock.now; });
  EXPECT_EQ(pass(f, "a", 5), 2u);
  clock.now += 10;
  EXPECT_EQ(pass(f, "a", 5), 2u);
}

TEST(Throttle, WithoutDropOnlyWarnsAtTheWarningDelay) {
  Clock clock;
  Settings s = settings(60, 2);
  s.drop_logs = false;
  s.warning_delay_s = 10;
  ThrottleFilter f(s, "th0", nullptr, [&] { return clock.now; });
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(pass(f, "web", 4), 4u);
  clock.now += 5;
  EXPECT_EQ(pass(f, "web", 1), 1u);  // within the delay: no second warning
  clock.now += 5;
  EXPECT_EQ(pass(f, "web", 1), 1u);
  std::string err = ::testing::internal::GetCapturedStderr();
  size_t first = err.find("[th0] rate exceeded group_key=[\"web\"] rate_s=Infinity period_s=60 "
                          "limit=2 rate_limit_s=0 reset_rate_s=0");
  EXPECT_NE(first, std::string::npos) << err;
  size_t second = err.find("rate exceeded", first + 20);
  EXPECT_NE(second, std::string::npos) << err;
  EXPECT_EQ(err.find("rate exceeded", second + 20), std::string::npos) << err;
}

TEST(Throttle, LogsRateBackDownWithTheGroup) {
  Clock clock;
  Settings s = settings(10, 100);
  s.group_key_paths = {{"kubernetes", "container_name"}, {"log"}};
  ThrottleFilter f(s, "th0", nullptr, [&] { return clock.now; });
  log::set_level(log::Level::Info);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(pass(f, "a", 101), 100u);
  clock.now += 20;
  EXPECT_EQ(pass(f, "a", 1), 1u);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("[th0] rate back down group_key=[\"a\", \"x\"]"), std::string::npos) << err;
}

TEST(Throttle, GroupsFromCommonFieldsMissingKeysAndNonMaps) {
  Clock clock;
  sluice::testing::JsonLinesEmitter error_label;
  ThrottleFilter f(settings(60, 1), "th0",
                   [&](const std::string& l) -> Emitter* { return l == "@ERROR" ? &error_label : nullptr; },
                   [&] { return clock.now; });
  Batch b;
  b.tag = "t";
  b.begin_record({1, 0, false});
  b.add_field("log", Value::of_string("common group"));
  b.begin_record({2, 0, false});
  b.add_field("log", Value::of_string("common group, dropped"));
  b.begin_record({3, 0, false});
  b.add_field("log", Value::of_string("own string: Hash#dig raises"));
  b.add_field("kubernetes", Value::of_string("not a map"));
  b.begin_record({4, 0, false});
  b.add_field("log", Value::of_string("own map without the key: group [nil]"));
  b.add_field("kubernetes", Value::of_json("{}"));
  b.common_fields.push_back({"kubernetes", Value::of_json(R"({"container_name":"c"})")});
  f.filter(b);
  ASSERT_EQ(b.records.size(), 2u);
  EXPECT_EQ(b.records[0].time.sec, 1);
  EXPECT_EQ(b.records[1].time.sec, 4);
  ASSERT_EQ(error_label.records.size(), 1u);
  EXPECT_EQ(error_label.records[0],
            R"({"log":"own string: Hash#dig raises","kubernetes":"not a map"})");
  EXPECT_EQ(f.groups(), 2u);
}

TEST(Throttle, IdleGroupsAreForgotten) {
  Clock clock;
  ThrottleFilter f(settings(10, 5), "th0", nullptr, [&] { return clock.now; });
  pass(f, "a", 1);
  pass(f, "b", 1);
  EXPECT_EQ(f.groups(), 2u);
  clock.now += 21;  // more than two periods
  pass(f, "b", 1);
  EXPECT_EQ(f.groups(), 1u);
}

struct Env : sluice::testing::PluginConfig {
  std::string refused(const std::string& body) {
    PluginContext ctx = parse("filter", "filter", "throttle", body, "th0");
    return error_of([&] { (*registry.filter("throttle"))(ctx, params()); });
  }
};

TEST(Throttle, ParametersAreCheckedAtStartUp) {
  Env env;
  EXPECT_EQ(env.refused(""), "");
  EXPECT_EQ(env.refused("  group_bucket_period_s 0\n"),
            "t.conf:3: throttle: group_bucket_period_s must be > 0");
  EXPECT_EQ(env.refused("  group_bucket_limit 0\n"), "t.conf:3: throttle: group_bucket_limit must be > 0");
  EXPECT_EQ(env.refused("  group_reset_rate_s 101\n"),
            "t.conf:3: throttle: group_reset_rate_s must be <= group_bucket_limit / "
            "group_bucket_period_s (100)");
  EXPECT_EQ(env.refused("  group_reset_rate_s -2\n"), "t.conf:3: throttle: group_reset_rate_s must be >= -1");
  EXPECT_EQ(env.refused("  group_warning_delay_s 0\n"),
            "t.conf:3: throttle: group_warning_delay_s must be >= 1");
  EXPECT_EQ(env.refused("  group_key .\n"), "t.conf:3: throttle: group_key: '.' names no record key");
  EXPECT_NE(env.refused("  group_bucket_limit many\n"), "");
}

}  // namespace
