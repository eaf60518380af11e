#include "exception_detector.h"

#include <string.h>

#include <algorithm>
#include <initializer_list>
#include <stdexcept>

#include "../parser_none/parser_common.h"

namespace sluice::detect_exceptions {

namespace {

struct RuleText {
  std::initializer_list<State> from;
  const char* pattern;
  State to;
  // Literals of which any match contains at least one ("" separated by '|'); null: none known.
  // Shared spellings ("xception", "rror") let one search serve several rules.
  const char* needles = nullptr;
};

using S = State;

// The plugin's rules, in its order (the first rule of a state that matches wins). Ruby's \s and
// \d are ASCII-only, Oniguruma's are Unicode: they are spelled out as ASCII classes here.
const RuleText kJava[] = {
    {{S::Start, S::JavaStartException}, "(?:Exception|Error|Throwable|V8 errors stack trace)[:\\r\\n]",
     S::JavaAfterException, "xception|rror|Throwable"},
    {{S::JavaAfterException}, "^[\\t ]*nested exception is:[\\t ]*", S::JavaStartException, "nested exception is:"},
    {{S::JavaAfterException}, "^[\\r\\n]*$", S::JavaAfterException},
    {{S::JavaAfterException, S::Java}, "^[\\t ]+(?:eval )?at ", S::Java, "at "},
    // C#: a nested exception, and an exception from async code.
    {{S::JavaAfterException, S::Java}, "^[\\t ]+--- End of inner exception stack trace ---$", S::Java,
     "--- End of inner"},
    {{S::JavaAfterException, S::Java}, "^--- End of stack trace from previous location where exception was thrown ---$",
     S::Java, "--- End of stack"},
    {{S::JavaAfterException, S::Java}, "^[\\t ]*(?:Caused by|Suppressed):", S::JavaAfterException,
     "Caused by:|Suppressed:"},
    // The dots are the plugin's: any three characters.
    {{S::JavaAfterException, S::Java}, "^[\\t ]*... [0-9]+ (?:more|common frames omitted)", S::Java,
     " more| common frames omitted"},
};

const RuleText kPython[] = {
    {{S::Start}, "^Traceback \\(most recent call last\\):$", S::Python, "Traceback"},
    {{S::Python}, "^[\\t ]+File ", S::PythonCode, "File "},
    {{S::PythonCode}, "[^\\t ]", S::Python},
    {{S::Python}, "^(?:[^ \\t\\r\\n\\f\\v.():]+\\.)*[^ \\t\\r\\n\\f\\v.():]+:", S::Start, ":"},
};

const RuleText kPhp[] = {
    {{S::Start}, "(?:PHP (?:Notice|Parse error|Fatal error|Warning):)|(?:exception '[^']+' with message ')",
     S::PhpStackBegin, "PHP |xception"},
    {{S::PhpStackBegin}, "^Stack trace:", S::PhpStackFrames, "Stack trace:"},
    {{S::PhpStackFrames}, "^#[0-9]", S::PhpStackFrames, "#"},
    {{S::PhpStackFrames}, "^[ \\t\\r\\n\\f\\v]+thrown in ", S::Start, "thrown in "},
};

const RuleText kGo[] = {
    {{S::Start}, "\\bpanic: ", S::GoAfterPanic, "panic"},
    {{S::Start}, "http: panic serving", S::GoGoroutine, "panic"},
    {{S::GoAfterPanic}, "^$", S::GoGoroutine},
    {{S::GoAfterPanic, S::GoAfterSignal, S::GoFrameLine1}, "^$", S::GoGoroutine},
    {{S::GoAfterPanic}, "^\\[signal ", S::GoAfterSignal, "[signal "},
    {{S::GoGoroutine}, "^goroutine [0-9]+ \\[[^\\]]+\\]:$", S::GoFrameLine1, "goroutine "},
    {{S::GoFrameLine1}, "^(?:[^ \\t\\r\\n\\f\\v.:]+\\.)*[^ \\t\\r\\n\\f\\v.():]+\\(|^created by ", S::GoFrameLine2},
    {{S::GoFrameLine2}, "^[ \\t\\r\\n\\f\\v]", S::GoFrameLine1},
};

const RuleText kRuby[] = {
    {{S::Start}, "Error \\(.*\\):$", S::RubyBeforeRailsTrace, "rror"},
    {{S::RubyBeforeRailsTrace}, "^  $", S::Ruby},
    {{S::RubyBeforeRailsTrace}, "^[\\t ]+.*?\\.rb:[0-9]+:in `", S::Ruby, ".rb:"},
    {{S::Ruby}, "^[\\t ]+.*?\\.rb:[0-9]+:in `", S::Ruby, ".rb:"},
};

constexpr const char* kDartFrame = "^#[0-9]+[ \\t\\r\\n\\f\\v]+.+?\\(.+?\\)$";

const RuleText kDart[] = {
    {{S::Start}, "^Unhandled exception:$", S::DartExc, "xception"},
    {{S::DartExc}, "^Instance of", S::DartStack},
    {{S::DartExc}, "^Exception", S::DartStack},
    {{S::DartExc}, "^Bad state", S::DartStack},
    {{S::DartExc}, "^IntegerDivisionByZeroException", S::DartStack},
    {{S::DartExc}, "^Invalid argument", S::DartStack},
    {{S::DartExc}, "^RangeError", S::DartStack},
    {{S::DartExc}, "^Assertion failed", S::DartStack},
    {{S::DartExc}, "^Cannot instantiate", S::DartStack},
    {{S::DartExc}, "^Reading static variable", S::DartStack},
    {{S::DartExc}, "^UnimplementedError", S::DartStack},
    {{S::DartExc}, "^Unsupported operation", S::DartStack},
    {{S::DartExc}, "^Concurrent modification", S::DartStack},
    {{S::DartExc}, "^Out of Memory", S::DartStack},
    {{S::DartExc}, "^Stack Overflow", S::DartStack},
    {{S::DartExc}, "^'.+?':.+?$", S::DartTypeErrLine1},
    {{S::DartTypeErrLine1}, kDartFrame, S::DartStack},
    {{S::DartTypeErrLine1}, "^.+?$", S::DartTypeErrLine2},
    {{S::DartTypeErrLine2}, "^.*?\\^.*?$", S::DartTypeErrLine3},
    {{S::DartTypeErrLine3}, "^$", S::DartTypeErrLine4},
    {{S::DartTypeErrLine4}, "^$", S::DartStack},
    {{S::DartExc}, "^FormatException", S::DartFormatErrLine1},
    {{S::DartFormatErrLine1}, kDartFrame, S::DartStack},
    {{S::DartFormatErrLine1}, "^.", S::DartFormatErrLine2},
    {{S::DartFormatErrLine2}, "^.*?\\^", S::DartFormatErrLine3},
    {{S::DartFormatErrLine3}, "^$", S::DartStack},
    {{S::DartExc}, "^NoSuchMethodError:", S::DartMethodErrLine1},
    {{S::DartMethodErrLine1}, "^Receiver:", S::DartMethodErrLine2},
    {{S::DartMethodErrLine2}, "^Tried calling:", S::DartMethodErrLine3},
    {{S::DartMethodErrLine3}, "^Found:", S::DartStack},
    {{S::DartMethodErrLine3}, kDartFrame, S::DartStack},
    {{S::DartStack}, kDartFrame, S::DartStack},
    {{S::DartStack}, "^<asynchronous suspension>$", S::DartStack},
};

struct RuleSet {
  const RuleText* begin;
  const RuleText* end;
};

template <size_t N>
constexpr RuleSet set_of(const RuleText (&rules)[N]) {
  return {rules, rules + N};
}

// The plugin's RULES_BY_LANG.
bool rules_for(std::string language, std::vector<RuleSet>& out) {
  std::transform(language.begin(), language.end(), language.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  if (language == "java" || language == "javascript" || language == "js" || language == "csharp") {
    out.push_back(set_of(kJava));
  } else if (language == "python" || language == "py") {
    out.push_back(set_of(kPython));
  } else if (language == "php") {
    out.push_back(set_of(kPhp));
  } else if (language == "go") {
    out.push_back(set_of(kGo));
  } else if (language == "ruby" || language == "rb") {
    out.push_back(set_of(kRuby));
  } else if (language == "dart") {
    out.push_back(set_of(kDart));
  } else if (language == "all") {
    for (RuleSet s : {set_of(kJava), set_of(kPython), set_of(kPhp), set_of(kGo), set_of(kRuby), set_of(kDart)})
      out.push_back(s);
  } else {
    return false;
  }
  return true;
}

}  // namespace

struct ExceptionDetector::Rule {
  uint32_t regexp;
  State to;
  uint32_t needles;  // bits into the state's needles; 0: the regexp always runs
};

struct ExceptionDetector::StateRules {
  std::vector<Rule> rules;
  std::vector<std::string> needles;
};

struct ExceptionDetector::Compiled {
  explicit Compiled(const char* p) : pattern(p), re(p), match(re) {}
  std::string pattern;
  parsers::RubyRegex re;
  parsers::RubyRegex::Matcher match;
};

bool ExceptionDetector::known_language(std::string_view name) {
  std::vector<RuleSet> ignored;
  return rules_for(std::string(name), ignored);
}

ExceptionDetector::ExceptionDetector(const std::vector<std::string>& languages, bool prefilter) {
  std::vector<RuleSet> sets;
  for (const std::string& language : languages)
    if (!rules_for(language, sets)) throw std::invalid_argument("Unknown language: " + language);
  if (languages.empty()) rules_for("all", sets);

  states_.resize(static_cast<size_t>(State::Count));
  auto regexp_index = [&](const char* pattern) {
    for (size_t i = 0; i < regexps_.size(); ++i)
      if (regexps_[i]->pattern == pattern) return static_cast<uint32_t>(i);
    regexps_.push_back(std::make_unique<Compiled>(pattern));
    return static_cast<uint32_t>(regexps_.size() - 1);
  };
  auto needle_bits = [](StateRules& state, const char* needles) {
    uint32_t bits = 0;
    for (std::string_view rest = needles ? needles : ""; !rest.empty();) {
      size_t bar = rest.find('|');
      std::string_view needle = rest.substr(0, bar);
      rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
      auto it = std::find(state.needles.begin(), state.needles.end(), needle);
      if (it == state.needles.end()) it = state.needles.insert(it, std::string(needle));
      bits |= 1u << (it - state.needles.begin());
    }
    return bits;
  };
  for (RuleSet set : sets) {
    for (const RuleText* r = set.begin; r != set.end; ++r) {
      const uint32_t regexp = regexp_index(r->pattern);
      for (State from : r->from) {
        StateRules& state = states_[static_cast<size_t>(from)];
        // A rule that is already there (the same language twice, java and js) is not added
        // again: the plugin keeps each (pattern, target) once per state.
        bool seen = false;
        for (const Rule& have : state.rules) seen |= have.regexp == regexp && have.to == r->to;
        if (!seen) state.rules.push_back({regexp, r->to, prefilter ? needle_bits(state, r->needles) : 0});
      }
    }
  }
}

ExceptionDetector::~ExceptionDetector() = default;

bool ExceptionDetector::transition(State& state, std::string_view message) {
  const StateRules& rules = states_[static_cast<size_t>(state)];
  uint32_t searched = 0, present = 0;
  for (const Rule& rule : rules.rules) {
    if (rule.needles) {
      bool any = (rule.needles & present) != 0;
      for (uint32_t todo = rule.needles & ~searched; todo && !any; todo &= todo - 1) {
        const uint32_t bit = todo & (~todo + 1);
        const std::string& needle = rules.needles[static_cast<size_t>(__builtin_ctz(bit))];
        searched |= bit;
        if (memmem(message.data(), message.size(), needle.data(), needle.size())) {
          present |= bit;
          any = true;
        }
      }
      if (!any) continue;
    }
    if (regexps_[rule.regexp]->match.search(message)) {
      state = rule.to;
      return true;
    }
  }
  state = State::Start;
  return false;
}

Status ExceptionDetector::update(State& state, std::string_view message) {
  const bool from_start = state == State::Start;
  const bool continued = transition(state, message);
  // A message no rule of the current state takes may begin another trace. From the start state
  // that question has just been answered.
  if (!continued && !from_start) transition(state, message);
  const bool inside = state != State::Start;
  if (continued) return inside ? Status::InsideTrace : Status::EndTrace;
  return inside ? Status::StartTrace : Status::NoTrace;
}

}  // namespace sluice::detect_exceptions
