// The state machine against the traces of the plugin's own tests, checked as its
// test_exception_detector.rb checks them.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "exception_detector.h"
#include "trace_samples.h"

using namespace sluice::detect_exceptions;
namespace samples = sluice::detect_exceptions::samples;

namespace {

using samples::lines_of;

const char* name(Status s) {
  switch (s) {
    case Status::NoTrace: return "no_trace";
    case Status::StartTrace: return "start_trace";
    case Status::InsideTrace: return "inside_trace";
    case Status::EndTrace: return "end_trace";
  }
  return "?";
}

struct Machine {
  ExceptionDetector detector;
  State state = State::Start;
  explicit Machine(std::vector<std::string> languages = {}) : detector(languages) {}

  // The first line gives `first`, the last `last`, every other one inside_trace.
  void multiline(Status first, Status last, std::string_view text) {
    auto lines = lines_of(text);
    for (size_t i = 0; i < lines.size(); ++i) {
      Status got = detector.update(state, lines[i]);
      Status want = i == 0 ? first : i + 1 == lines.size() ? last : Status::InsideTrace;
      EXPECT_STREQ(name(got), name(want)) << "line " << i << ": " << lines[i];
    }
  }
  void no_multiline(std::string_view text) {
    for (std::string_view line : lines_of(text))
      EXPECT_STREQ(name(detector.update(state, line)), "no_trace") << line;
  }
  void exception(std::string_view trace, bool detects_end) {
    const Status after = detects_end ? Status::EndTrace : Status::InsideTrace;
    const Status before_second = detects_end ? Status::InsideTrace : Status::StartTrace;
    multiline(Status::NoTrace, Status::NoTrace, "This is not an exception.\n");
    multiline(Status::InsideTrace, after, trace);
    multiline(Status::NoTrace, Status::NoTrace, "This is not an exception.\n");
    multiline(Status::InsideTrace, after, trace);
    multiline(before_second, after, trace);
  }
};

}  // namespace

const std::string kJavaExc = std::string(samples::kJavaExcPart1) + std::string(samples::kJavaExcPart2);

TEST(ExceptionDetector, Java) {
  for (std::string_view trace : {std::string_view(kJavaExc), samples::kComplexJavaExc, samples::kNestedJavaExc})
    Machine().exception(trace, false);
}

TEST(ExceptionDetector, JavaScript) {
  for (auto trace : {samples::kNodeJsExc, samples::kClientJsExc, samples::kV8JsExc}) Machine().exception(trace, false);
}

TEST(ExceptionDetector, CSharp) {
  for (auto trace : {samples::kCsharpExc, samples::kCsharpNestedExc, samples::kCsharpAsyncExc})
    Machine().exception(trace, false);
}

TEST(ExceptionDetector, PythonTracebackEndsAtItsExceptionLine) { Machine().exception(samples::kPythonExc, true); }

TEST(ExceptionDetector, Php) {
  Machine().exception(samples::kPhpExc, false);
  Machine().exception(samples::kPhpOnGaeExc, true);
}

TEST(ExceptionDetector, Go) {
  for (auto trace : {samples::kGoExc, samples::kGoOnGaeExc, samples::kGoSignalExc, samples::kGoHttp})
    Machine().exception(trace, false);
}

TEST(ExceptionDetector, Ruby) {
  Machine().exception(samples::kRubyExc, false);
  Machine().exception(samples::kRailsExc, false);
}

const std::string_view kDart[] = {
    samples::kDartErr, samples::kDartExc, samples::kDartAsyncErr, samples::kDartDivideByZeroErr,
    samples::kDartArgumentErr, samples::kDartRangeErr, samples::kDartReadStaticErr, samples::kDartUnimplementedError,
    samples::kDartUnsupportedErr, samples::kDartConcurrentModificationErr, samples::kDartOomErr,
    samples::kDartStackOverflowErr, samples::kDartFallthroughErr, samples::kDartTypeErr, samples::kDartFormatErr,
    samples::kDartFormatWithCodeErr, samples::kDartNoMethodErr, samples::kDartNoMethodGlobalErr,
    samples::kDartAssertionErr, samples::kDartAbstractClassErr,
};

TEST(ExceptionDetector, Dart) {
  for (auto trace : kDart) Machine().exception(trace, false);
}

TEST(ExceptionDetector, MixedLanguagesOneAfterAnotherOnOneMachine) {
  Machine m;
  m.exception(kJavaExc, false);
  m.exception(samples::kPythonExc, true);
  for (auto trace : {samples::kComplexJavaExc, samples::kNodeJsExc, samples::kPhpExc}) m.exception(trace, false);
  m.exception(samples::kPhpOnGaeExc, true);
  for (auto trace : {samples::kClientJsExc, samples::kGoExc, samples::kGoOnGaeExc, samples::kGoSignalExc,
                     samples::kCsharpExc, samples::kCsharpNestedExc, samples::kCsharpAsyncExc, samples::kV8JsExc,
                     samples::kRubyExc})
    m.exception(trace, false);
  for (auto trace : kDart) m.exception(trace, false);
}

TEST(ExceptionDetector, ResetForgetsTheTrace) {
  Machine m;
  m.multiline(Status::InsideTrace, Status::InsideTrace, samples::kJavaExcPart1);
  m.multiline(Status::InsideTrace, Status::InsideTrace, samples::kJavaExcPart2);
  m.multiline(Status::StartTrace, Status::InsideTrace, samples::kJavaExcPart1);
  m.state = State::Start;
  m.no_multiline(samples::kJavaExcPart2);
}

TEST(ExceptionDetector, ArbitraryTextIsNoTrace) { Machine().no_multiline(samples::kArbitraryText); }

TEST(ExceptionDetector, OnlyTheConfiguredLanguages) {
  Machine go({"go"});
  go.no_multiline(samples::kJavaExcPart1);
  go.multiline(Status::InsideTrace, Status::InsideTrace, samples::kGoSignalExc);
  Machine py({"Python", "JAVA"});  // names in any case, as the plugin downcases them
  py.multiline(Status::InsideTrace, Status::EndTrace, samples::kPythonExc);
  py.no_multiline("panic: my panic\n");
}

TEST(ExceptionDetector, UnknownLanguageIsRejected) {
  EXPECT_THROW(ExceptionDetector({"cobol"}), std::invalid_argument);
  EXPECT_TRUE(ExceptionDetector::known_language("CSharp"));
  EXPECT_FALSE(ExceptionDetector::known_language("c#"));
}

TEST(ExceptionDetector, MessagesWithoutTheirNewlineAsCriGivesThem) {
  // `$` and `^$` match at the end of the text as they do before a newline.
  Machine m;
  for (std::string_view line : lines_of(samples::kPythonExc)) {
    if (line.back() == '\n') line.remove_suffix(1);
    Status s = m.detector.update(m.state, line);
    EXPECT_NE(s, Status::NoTrace) << line;
  }
  EXPECT_EQ(m.state, State::Start);
}

// The literal prefilter may only skip regexps that could not match: on every sample line, and on
// lines cut and spliced from them, it gives what running every regexp gives.
TEST(ExceptionDetector, PrefilterNeverChangesTheOutcome) {
  std::vector<std::string> lines;
  for (auto trace : {samples::kComplexJavaExc, samples::kNestedJavaExc, samples::kNodeJsExc, samples::kV8JsExc,
                     samples::kPythonExc, samples::kPhpExc, samples::kPhpOnGaeExc, samples::kGoExc, samples::kGoHttp,
                     samples::kGoSignalExc, samples::kCsharpNestedExc, samples::kCsharpAsyncExc, samples::kRubyExc,
                     samples::kRailsExc, samples::kDartTypeErr, samples::kDartNoMethodErr,
                     samples::kDartFormatWithCodeErr, samples::kArbitraryText})
    for (std::string_view l : lines_of(trace)) lines.emplace_back(l);
  std::mt19937 rng(7);
  const size_t originals = lines.size();
  for (int i = 0; i < 4000; ++i) {
    const std::string& a = lines[rng() % originals];
    const std::string& b = lines[rng() % originals];
    lines.push_back(a.substr(0, rng() % (a.size() + 1)) + b.substr(rng() % (b.size() + 1)));
  }
  ExceptionDetector fast({}), slow({}, false);
  State sf = State::Start, ss = State::Start;
  for (const std::string& line : lines) {
    Status a = fast.update(sf, line), b = slow.update(ss, line);
    ASSERT_EQ(name(a), std::string(name(b))) << line;
    ASSERT_EQ(sf, ss) << line;
  }
}
