// The output as the plugin's test_out_detect_exceptions.rb and the TraceAccumulator tests of
// test_exception_detector.rb drive it, plus what sluice adds: batches, claims, bounds.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/delivery.h"
#include "core/registry.h"
#include "format/json.h"
#include "support/plugin_config.h"
#include "trace_output.h"
#include "trace_samples.h"

using namespace sluice;
namespace samples = sluice::detect_exceptions::samples;

namespace {

using samples::lines_of;

const std::string kArbitrary = "This line is not an exception.\n";
const std::string kJava = "SomeException: foo\n  at bar\nCaused by: org.AnotherException\n  at bar2\n  at bar3\n";
const std::string kPhp =
    "exception 'Exception' with message 'Custom exception' in /home/joe/work/test-php/test.php:5\n"
    "Stack trace:\n#0 /home/joe/work/test-php/test.php(9): func1()\n#1 /home/joe/work/test-php/test.php(13): func2()\n"
    "#2 {main}\n";
const std::string kPython =
    "Traceback (most recent call last):\n"
    "  File \"/base/data/home/runtimes/python27/python27_lib/versions/third_party/webapp2-2.5.2/webapp2.py\", line "
    "1535, in __call__\n    rv = self.handle_exception(request, response, e)\nException: ('spam', 'eggs')\n";
const std::string kRuby =
    "examble.rb:18:in `thrower': An error has occurred. (RuntimeError)\n  from examble.rb:14:in `caller'\n"
    "  from examble.rb:10:in `helper'\n  from examble.rb:6:in `writer'\n  from examble.rb:2:in `runner'\n"
    "  from examble.rb:21:in `<main>'\n";

std::vector<std::string> concat(std::initializer_list<std::vector<std::string>> parts) {
  std::vector<std::string> out;
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// What the label's router is sent: "tag @sec {json}" per record, and each record's claim. Tags
// starting with `loop_prefix` go back to the output, as a <match> matching them again would.
struct Router : Emitter {
  std::vector<std::string> got;
  std::vector<Claim*> claims;
  std::vector<const char*> texts;  // where each record's `message` bytes are
  Output* loop_back = nullptr;
  std::string loop_prefix;
  void emit(Batch& b) override {
    if (loop_back && std::string_view(b.tag).starts_with(loop_prefix)) return loop_back->write(b);
    for (const Record& r : b.records) {
      std::string s;
      json::append_record(s, b, r);
      got.push_back(std::string(b.tag) + " @" + std::to_string(r.time.sec) + " " + s);
      claims.push_back(b.claim);
      const Value* m = b.find(r, "message");
      texts.push_back(m ? m->text.data() : nullptr);
    }
  }
};

struct Env : sluice::testing::PluginConfig {
  Router router;
  Metrics metrics;
  std::unique_ptr<Output> make(const std::string& body) {
    PluginContext ctx = parse("match", "output", "detect_exceptions", body, "dx0");
    ctx.metrics = &metrics;
    ctx.emitter = &router;
    return (*registry.output("detect_exceptions"))(ctx, params());
  }
  std::string config_error(const std::string& body) {
    return error_of([&] { make(body); });
  }
};

// Records {"message": line, "count": n[, "stream": s]} at times t0 + n, as the plugin's tests
// feed them; `field` renames "message".
struct Feed {
  std::string tag = "prefix.test.tag";
  std::string field = "message";
  const char* stream = nullptr;
  int64_t t0 = 1000;
  Claim* claim = nullptr;
  bool strip_newlines = false;

  Batch batch(const std::vector<std::string>& lines, int first_count = 0) const {
    Batch b;
    b.tag = tag;
    b.claim = claim;
    int n = first_count;
    for (const std::string& line : lines) {
      std::string_view text = line;
      if (strip_newlines && !text.empty() && text.back() == '\n') text.remove_suffix(1);
      b.begin_record({t0 + n, 0, false}, static_cast<uint64_t>(n) * 100);
      b.add_field(field, Value::of_string(b.arena.copy(text)));
      b.add_field("count", Value::of_int(n));
      if (stream) b.add_field("stream", Value::of_string(stream));
      ++n;
    }
    return b;
  }
};

// The records the plugin emits for messages that leave as they are or joined: each message's
// record is the one of its first line.
std::vector<std::string> expected(const Feed& f, const std::vector<std::string>& messages,
                                  const std::string& out_tag = "test.tag", int first_count = 0) {
  std::vector<std::string> out;
  int n = first_count;
  for (const std::string& m : messages) {
    Feed one = f;
    one.t0 = f.t0;
    Batch b = one.batch({m}, n);
    std::string s;
    json::append_record(s, b, b.records[0]);
    out.push_back(out_tag + " @" + std::to_string(f.t0 + n) + " " + s);
    n += static_cast<int>(lines_of(m).size());
  }
  return out;
}

const char* const kConfig = "  remove_tag_prefix prefix\n";

}  // namespace

TEST(DetectExceptions, JoinsATraceBetweenOrdinaryLines) {
  Env env;
  auto out = env.make(kConfig);
  Feed f;
  out->write(f.batch(concat({{kArbitrary}, lines_of(kJava), {kArbitrary}})));
  EXPECT_EQ(env.router.got, expected(f, {kArbitrary, kJava, kArbitrary}));
}

TEST(DetectExceptions, OneLinePerBatchGivesTheSameRecords) {
  Env env;
  auto out = env.make(kConfig);
  Feed f;
  auto lines = concat({{kArbitrary}, lines_of(kJava), {kArbitrary}, lines_of(kPython), lines_of(kPhp)});
  for (size_t i = 0; i < lines.size(); ++i) {
    Batch b = f.batch({lines[i]}, static_cast<int>(i));
    out->write(b);
  }  // each batch's bytes are gone now: held records were kept
  out->close([] {});
  EXPECT_EQ(env.router.got, expected(f, {kArbitrary, kJava, kArbitrary, kPython, kPhp}));
}

TEST(DetectExceptions, OrdinaryRecordsViewTheIncomingBytes) {
  Env env;
  auto out = env.make(kConfig);
  Feed f;
  Batch b = f.batch({kArbitrary, "Error: not a trace after all\n", "plain\n"});
  out->write(b);
  ASSERT_EQ(env.router.texts.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(env.router.texts[i], b.fields[b.records[i].first_field].value.text.data());
}

TEST(DetectExceptions, HeldLinesKeepTheirClaimsUntilTheTraceLeaves) {
  Env env;
  auto out = env.make(kConfig);
  DeliveryTracker tracker;
  Feed f;
  auto lines = concat({{kArbitrary}, lines_of(kJava), {kArbitrary}});
  std::vector<Claim*> claims;
  for (size_t i = 0; i < lines.size(); ++i) {
    f.claim = tracker.open(100 * (i + 1));
    claims.push_back(f.claim);
    out->write(f.batch({lines[i]}, static_cast<int>(i)));
    f.claim->release();  // the source's own reference, once routed
    if (i >= 1 && i < 6) {
      EXPECT_EQ(tracker.committed(), 100u) << "line " << i;  // the trace is held
    }
  }
  // The router keeps nothing, so once the trace has left every claim is free.
  EXPECT_EQ(tracker.committed(), 700u);
  ASSERT_EQ(env.router.claims.size(), 3u);
  EXPECT_EQ(env.router.claims[1], claims[1]);  // the joined record carries its first line's claim
  EXPECT_EQ(env.router.claims[2], claims[6]);
}

TEST(DetectExceptions, OnlyConfiguredLanguages) {
  Env env;
  auto out = env.make(std::string(kConfig) + "  languages java\n");
  Feed f;
  out->write(f.batch(concat({{kArbitrary}, lines_of(kJava), lines_of(kPython)})));
  out->close([] {});
  EXPECT_EQ(env.router.got, expected(f, concat({{kArbitrary}, {kJava}, lines_of(kPython)})));

  Env env2;
  auto out2 = env2.make(std::string(kConfig) + "  languages python, java\n");
  out2->write(f.batch(concat({{kArbitrary}, lines_of(kJava), lines_of(kPython)})));
  out2->close([] {});
  EXPECT_EQ(env2.router.got, expected(f, {kArbitrary, kJava, kPython}));
}

TEST(DetectExceptions, TracesInsideOneJsonLineAreNotJoined) {
  for (auto [language, trace] : {std::pair{"php", kPhp}, {"python", kPython}, {"ruby", kRuby}}) {
    Env env;
    auto out = env.make(std::string(kConfig) + "  languages " + language + "\n");
    std::string escaped;
    for (char c : trace) escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
    std::string with = "{\"message\":\"" + escaped + "\",\"severity\":\"ERROR\"}\n";
    std::string without = "{\"message\":\"next line\",\"severity\":\"INFO\"}\n";
    Feed f;
    out->write(f.batch({with, without}));
    out->close([] {});
    EXPECT_EQ(env.router.got, expected(f, {with, without})) << language;
  }
}

TEST(DetectExceptions, AHeldTraceLeavesAfterTheFlushInterval) {
  Env env;
  auto out = env.make(std::string(kConfig) + "  multiline_flush_interval 1\n");
  auto& dx = static_cast<detect_exceptions::TraceOutput&>(*out);
  Feed f;
  out->write(f.batch(lines_of(kJava)));
  EXPECT_TRUE(env.router.got.empty());
  dx.flush_stale(uv_hrtime() / 1000000 + 500);
  EXPECT_TRUE(env.router.got.empty());
  dx.flush_stale(uv_hrtime() / 1000000 + 1500);
  EXPECT_EQ(env.router.got, expected(f, {kJava}));
  // What follows starts from scratch: frames alone are no trace.
  Feed later = f;
  later.t0 = 2000;
  out->write(later.batch({"  at x\n", "  at y\n"}));
  EXPECT_EQ(env.router.got, concat({expected(f, {kJava}), expected(later, {"  at x\n", "  at y\n"})}));
}

TEST(DetectExceptions, WithoutAFlushIntervalATraceWaitsAndCloseFlushesIt) {
  Env env;
  auto out = env.make(kConfig);
  auto& dx = static_cast<detect_exceptions::TraceOutput&>(*out);
  Feed f;
  out->write(f.batch(lines_of(kJava)));
  dx.flush_stale(uv_hrtime() / 1000000 + 3600 * 1000);
  out->write(f.batch({"  at x\n", "  at y\n"}, 5));
  EXPECT_TRUE(env.router.got.empty());
  bool done = false;
  out->close([&] { done = true; });
  EXPECT_TRUE(done);
  EXPECT_EQ(env.router.got, expected(f, {kJava + "  at x\n  at y\n"}));
  EXPECT_EQ(dx.holding(), 0u);
}

TEST(DetectExceptions, RemoveTagPrefixIsRequiredAndRemovedWithItsDot) {
  Env env;
  EXPECT_NE(env.config_error("").find("remove_tag_prefix"), std::string::npos);
  for (auto [prefix, want] : {std::pair{"prefix.plus", "rest.of.the.tag"}, {"prefix.pl", "prefix.plus.rest.of.the.tag"},
                              {"does.not.occur", "prefix.plus.rest.of.the.tag"}}) {
    Env e;
    auto out = e.make(std::string("  remove_tag_prefix ") + prefix + "\n");
    Feed f;
    f.tag = "prefix.plus.rest.of.the.tag";
    out->write(f.batch({kArbitrary}));
    if (std::string(want) == f.tag) {
      // The same tag would come back here forever: dropped and counted.
      EXPECT_TRUE(e.router.got.empty());
      EXPECT_EQ(e.metrics.value("sluice_detect_exceptions_loop_dropped_records_total{plugin=\"dx0\"}"), 1u);
    } else {
      ASSERT_EQ(e.router.got.size(), 1u);
      EXPECT_EQ(e.router.got[0].substr(0, e.router.got[0].find(' ')), want);
    }
  }
}

TEST(DetectExceptions, ForceLineBreaks) {
  Env env;
  auto out = env.make(std::string(kConfig) + "  force_line_breaks true\n");
  Feed f;
  out->write(f.batch(lines_of(kJava)));  // lines with their newline get none added
  Feed bare = f;
  bare.strip_newlines = true;
  bare.t0 = 2000;
  out->write(bare.batch(lines_of(kJava)));
  out->close([] {});
  Feed want = bare;
  want.strip_newlines = false;
  EXPECT_EQ(env.router.got,
            concat({expected(f, {kJava}), expected(want, {kJava.substr(0, kJava.size() - 1)})}));
}

TEST(DetectExceptions, MaxLinesCutsTraces) {
  Env env;
  auto out = env.make(std::string(kConfig) + "  max_lines 2\n");
  Feed f;
  out->write(f.batch(concat({lines_of(kPython), lines_of(kJava)})));
  out->close([] {});
  auto py = lines_of(kPython), java = lines_of(kJava);
  EXPECT_EQ(env.router.got, expected(f, {py[0] + py[1], py[2], py[3], java[0] + java[1], java[2] + java[3], java[4]}));
}

TEST(DetectExceptions, MaxBytesCutsTraces) {
  const std::string part1(samples::kJavaExcPart1), part2(samples::kJavaExcPart2);
  const auto rest = lines_of(part2);
  // Just too small for one more line, and exceeded by the first byte after part 1.
  for (size_t max_bytes : {part1.size() + rest[0].size() - 1, part1.size()}) {
    Env env;
    auto out = env.make(std::string(kConfig) + "  max_bytes " + std::to_string(max_bytes) + "\n");
    Feed f;
    out->write(f.batch(lines_of(part1 + part2)));
    out->close([] {});
    EXPECT_EQ(env.router.got, expected(f, concat({{part1}, rest}))) << max_bytes;
  }
}

TEST(DetectExceptions, StreamsOfOneTagAreSeparate) {
  Env env;
  auto out = env.make(std::string(kConfig) + "  stream stream\n");
  Feed java, python;
  java.stream = "java";
  python.stream = "python";
  auto j = lines_of(kJava), p = lines_of(kPython);
  out->write(java.batch({j[0]}));
  out->write(python.batch({p[0], p[1]}));
  out->write(java.batch({j.begin() + 1, j.end()}, 1));
  out->write(java.batch(j, 5));
  out->write(python.batch({p.begin() + 2, p.end()}, 2));
  out->write(java.batch({"something else"}, 10));
  // The second Java trace leaves only when "something else" ends it.
  EXPECT_EQ(env.router.got, concat({expected(java, {kJava}), expected(python, {kPython}),
                                    expected(java, {kJava}, "test.tag", 5),
                                    expected(java, {"something else"}, "test.tag", 10)}));
}

TEST(DetectExceptions, MessageFieldIsLearnedOrConfigured) {
  auto run = [](const std::string& configured, const std::string& actual) {
    Env env;
    auto out = env.make(std::string(kConfig) + (configured.empty() ? "" : "  message " + configured + "\n"));
    Feed f;
    f.field = actual;
    out->write(f.batch(concat({lines_of(kPython), lines_of(samples::kArbitraryText), lines_of(samples::kGoExc)})));
    out->close([] {});
    return std::pair{env.router.got, f};
  };
  auto joined = concat({{kPython}, lines_of(samples::kArbitraryText), {std::string(samples::kGoExc)}});
  auto apart = concat({lines_of(kPython), lines_of(samples::kArbitraryText), lines_of(samples::kGoExc)});
  for (auto [configured, actual, want] : {std::tuple{"mydata", "mydata", joined}, {"", "message", joined},
                                          {"", "log", joined}, {"doesnotexist", "mydata", apart},
                                          {"", "mydata", apart}}) {
    auto [got, f] = run(configured, actual);
    EXPECT_EQ(got, expected(f, want)) << configured << "/" << actual;
  }
}

TEST(DetectExceptions, LanguageScenariosOfTheAccumulator) {
  const std::string java = std::string(samples::kJavaExcPart1) + std::string(samples::kJavaExcPart2);
  const std::string arbitrary(samples::kArbitraryText), python(samples::kPythonExc), go(samples::kGoExc);
  struct Case {
    const char* languages;
    std::vector<std::string> input, want;
  };
  for (const Case& c : {
           Case{"all", {java, arbitrary, python, go}, concat({{java}, lines_of(arbitrary), {python, go}})},
           Case{"go", {java, arbitrary, go}, concat({lines_of(java), lines_of(arbitrary), {go}})},
           Case{"python", {java, python, go}, concat({lines_of(java), {python}, lines_of(go)})},
           Case{"ruby", {java, python, go}, concat({lines_of(java), lines_of(python), lines_of(go)})},
       }) {
    Env env;
    auto out = env.make(std::string(kConfig) + "  languages " + c.languages + "\n");
    Feed f;
    int n = 0;
    // The accumulator's test flushes after each message.
    for (const std::string& m : c.input) {
      out->write(f.batch(lines_of(m), n));
      out->close([] {});
      n += static_cast<int>(lines_of(m).size());
    }
    EXPECT_EQ(env.router.got, expected(f, c.want)) << c.languages;
  }
}

TEST(DetectExceptions, ARecordWithoutMessageEndsATraceAndPasses) {
  Env env;
  auto out = env.make(std::string(kConfig) + "  message message\n");
  Feed f;
  Feed other = f;
  other.field = "other";
  out->write(f.batch(lines_of(kJava)));
  out->write(other.batch({"no message here"}, 5));
  EXPECT_EQ(env.router.got, concat({expected(f, {kJava}), expected(other, {"no message here"}, "test.tag", 5)}));
}

TEST(DetectExceptions, ConfigurationErrorsNameTheLine) {
  Env env;
  EXPECT_EQ(env.config_error(std::string(kConfig) + "  languages java, cobol\n"),
            "t.conf:4: detect_exceptions: unknown language \"cobol\" (known: java, javascript, js, csharp, python, "
            "py, php, go, ruby, rb, dart, all)");
  EXPECT_NE(env.config_error(std::string(kConfig) + "  max_lines lots\n").find("t.conf:4"), std::string::npos);
}

TEST(DetectExceptions, ReEmittedRecordsMayComeBackUnderAShorterTag) {
  Env env;
  auto out = env.make("  remove_tag_prefix raw\n");
  env.router.loop_back = out.get();
  env.router.loop_prefix = "raw.";
  Feed f;
  f.tag = "raw.raw.app";
  out->write(f.batch(concat({{kArbitrary}, lines_of(kJava), {kArbitrary}})));
  EXPECT_EQ(env.router.got, expected(f, {kArbitrary, kJava, kArbitrary}, "app"));
  // A trace held at close leaves, is held again under raw.app, and leaves from there too.
  env.router.got.clear();
  out->write(f.batch(lines_of(kJava), 7));
  out->close([] {});
  EXPECT_EQ(env.router.got, expected(f, {kJava}, "app", 7));
}

TEST(DetectExceptions, StreamsAreBoundedIdleOnesForgottenHoldingOnesKept) {
  Env env;
  PluginContext ctx = env.parse("match", "output", "detect_exceptions", kConfig, "dx0");
  ctx.metrics = &env.metrics;
  ctx.emitter = &env.router;
  detect_exceptions::Settings s;
  s.remove_tag_prefix = "prefix";
  s.stream_key = "stream";
  s.max_streams = 2;
  detect_exceptions::TraceOutput out(ctx, s);
  Feed a, b, c;
  a.stream = "a";
  b.stream = "b";
  c.stream = "c";
  auto j = lines_of(kJava);
  out.write(a.batch({j[0], j[1]}));  // holds
  out.write(b.batch({kArbitrary}));  // idle
  out.write(c.batch({j[0]}));        // the idle stream b makes room
  EXPECT_EQ(out.streams(), 2u);
  EXPECT_EQ(out.holding(), 2u);
  Feed d = c;
  d.stream = "d";
  out.write(d.batch({j[0], j[1]}));  // both hold: d passes without detection
  EXPECT_EQ(env.metrics.value("sluice_detect_exceptions_untracked_records_total{plugin=\"dx0\"}"), 2u);
  out.close([] {});
  EXPECT_EQ(env.router.got.size(), 5u);  // b's line, d's two lines, then a's and c's traces
  EXPECT_EQ(out.holding(), 0u);
}
