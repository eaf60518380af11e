// The state machine of fluent-plugin-detect-exceptions 0.0.16: it reads one message at a time
// and says whether the message starts, continues or ends a stack trace, by the plugin's rules
// for Java (also JavaScript and C#), Python, PHP, Go, Ruby and Dart.
//
// The rules are compiled once per output and shared by all its streams; a stream keeps only its
// State. Most messages are not part of a trace, so each rule of the start state carries the
// literal text any match must contain, and its regexp runs only when that text is there.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::detect_exceptions {

enum class State : uint8_t {
  Start,
  JavaStartException,
  JavaAfterException,
  Java,
  Python,
  PythonCode,
  PhpStackBegin,
  PhpStackFrames,
  GoAfterPanic,
  GoAfterSignal,
  GoGoroutine,
  GoFrameLine1,
  GoFrameLine2,
  RubyBeforeRailsTrace,
  Ruby,
  DartExc,
  DartStack,
  DartTypeErrLine1,
  DartTypeErrLine2,
  DartTypeErrLine3,
  DartTypeErrLine4,
  DartFormatErrLine1,
  DartFormatErrLine2,
  DartFormatErrLine3,
  DartMethodErrLine1,
  DartMethodErrLine2,
  DartMethodErrLine3,
  Count,
};

// What a message is to the trace around it (the plugin's update result).
enum class Status : uint8_t { NoTrace, StartTrace, InsideTrace, EndTrace };

class ExceptionDetector {
 public:
  // `languages` as configured (java, javascript, js, csharp, python, py, php, go, ruby, rb, dart,
  // all; any case); empty means all. Throws std::invalid_argument naming an unknown language.
  // Without `prefilter` every regexp runs (tests compare the two).
  explicit ExceptionDetector(const std::vector<std::string>& languages, bool prefilter = true);
  ~ExceptionDetector();
  ExceptionDetector(const ExceptionDetector&) = delete;
  ExceptionDetector& operator=(const ExceptionDetector&) = delete;

  // Moves `state` on by `message` and tells what the message is to the trace.
  Status update(State& state, std::string_view message);

  static bool known_language(std::string_view name);

 private:
  struct Rule;
  struct StateRules;
  // Follows the first rule of `state` that matches; false (and Start) when none does.
  bool transition(State& state, std::string_view message);

  std::vector<StateRules> states_;
  struct Compiled;
  std::vector<std::unique_ptr<Compiled>> regexps_;
};

}  // namespace sluice::detect_exceptions
