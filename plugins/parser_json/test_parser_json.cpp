#include <gtest/gtest.h>

#include <optional>

#include "../parser_none/parser_test_util.h"
#include "flat_object.h"
#include "unescape_blocks.h"
#include "support/fixtures.h"

namespace sluice {
namespace {

using test::ParserHarness;

std::vector<std::string> keys(std::initializer_list<const char*> k) { return {k.begin(), k.end()}; }

TEST(ParserJson, DockerLineWithJsonLikeFluentd) {
  ParserHarness h("json", {{"time_format", "%Y-%m-%dT%H:%M:%S.%NZ"}});
  ASSERT_EQ(h.feed1(R"({"log":"hello\n","stream":"stdout","time":"2024-05-01T12:00:00.123456789Z"})"), 1u);
  EXPECT_EQ(h.keys(0), keys({"log", "stream"}));  // time removed (keep_time_key false)
  EXPECT_EQ(h.str(0, "log"), "hello\n");
  EXPECT_EQ(h.rec(0).time.sec, 1714564800);
  EXPECT_EQ(h.rec(0).time.nsec, 123456789u);
}

TEST(ParserJson, ValueKinds) {
  ParserHarness h("json");
  h.feed1(R"({"s":"plain","e":"a\"b\\c\u00e9\n","i":-42,"f":1.5,"big":123456789012345678901234,"t":true,"n":null,)"
          R"("o":{"a":[1,2,{"b":"x"}]},"arr":[1,"two"],"k\u0041":"v"})");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.keys(0), keys({"s", "e", "i", "f", "big", "t", "n", "o", "arr", "kA"}));
  EXPECT_EQ(h.str(0, "s"), "plain");
  EXPECT_EQ(h.str(0, "e"), "a\"b\\c\xc3\xa9\n");
  EXPECT_EQ(h.find(0, "i")->kind, ValueKind::Int);
  EXPECT_EQ(h.find(0, "i")->integer, -42);
  EXPECT_EQ(h.find(0, "f")->kind, ValueKind::Float);
  EXPECT_DOUBLE_EQ(h.find(0, "f")->real, 1.5);
  EXPECT_EQ(h.find(0, "big")->kind, ValueKind::Float);
  EXPECT_EQ(h.find(0, "t")->kind, ValueKind::Bool);
  EXPECT_TRUE(h.find(0, "t")->boolean);
  EXPECT_EQ(h.find(0, "n")->kind, ValueKind::Null);
  EXPECT_EQ(h.find(0, "o")->kind, ValueKind::Json);
  EXPECT_EQ(h.str(0, "o"), R"({"a":[1,2,{"b":"x"}]})");
  EXPECT_EQ(h.str(0, "arr"), R"([1,"two"])");
  // A string without escapes is a view into the line (zero copy).
  const std::string& line = h.lines.back();
  const char* p = h.find(0, "s")->text.data();
  EXPECT_TRUE(p >= line.data() && p < line.data() + line.size());
  // No time key: now.
  EXPECT_LE(std::abs(h.rec(0).time.sec - now().sec), 5);
}

// Strings are views into the line exactly when they have no escapes; the cases where the
// unescaped length lines up with a quote or backslash of the text must not be taken for plain.
TEST(ParserJson, EscapesAtTheEndOfKeysAndValues) {
  ParserHarness h("json");
  h.feed({R"({"a\\":"b\\","c\"":"d\"","\\\"":"\\\"","":"","u":"\u0022","q":"x\"y"})",
          R"({"a\\":"plain","c\"":"","\\\"":"z","":"e","u":"v","q":"w"})"});
  ASSERT_EQ(h.size(), 2u);
  for (size_t r = 0; r < 2; ++r)
    EXPECT_EQ(h.keys(r), keys({"a\\", "c\"", "\\\"", "", "u", "q"})) << r;
  EXPECT_EQ(h.str(0, "a\\"), "b\\");
  EXPECT_EQ(h.str(0, "c\""), "d\"");
  EXPECT_EQ(h.str(0, "\\\""), "\\\"");
  EXPECT_EQ(h.str(0, ""), "");
  EXPECT_EQ(h.str(0, "u"), "\"");
  EXPECT_EQ(h.str(0, "q"), "x\"y");
  EXPECT_EQ(h.str(1, "a\\"), "plain");
  EXPECT_EQ(h.str(1, ""), "e");
  // Keys are kept across records: the second record's keys are the first one's views.
  for (size_t i = 0; i < 6; ++i)
    EXPECT_EQ(h.batch.fields[h.rec(1).first_field + i].key.data(),
              h.batch.fields[h.rec(0).first_field + i].key.data()) << i;
}

// Flat objects of strings (docker json-file lines) are read without simdjson (flat_object.h); a
// number member sends the same line to simdjson. Both must give the same record, or the same error.
TEST(ParserJson, FlatObjectsGiveWhatSimdjsonGives) {
  const std::vector<std::string> members = {
      R"("log":"hello\n","stream":"stdout","time":"2024-05-01T12:00:00.123456789Z")",
      R"("log":"{\"a\":\"b\"}\ttab \/ \\ \b\f\r\u0041\u00e9\u20ac\n","stream":"stderr","time":"2024-05-01T12:00:01Z")",
      R"("log":"\ud83d\ude00 a pair\n","time":"2024-05-01T12:00:02Z")",
      "\"log\":\"caf\xc3\xa9\\n\",\"time\":\"2024-05-01T12:00:03Z\"",
      R"( "log" : "spaced\n" , "time" : "2024-05-01T12:00:04Z" )",
      R"("log":"dup\n","log":"again\n","time":"2024-05-01T12:00:05Z")",
      R"("log":"bad time\n","time":"yesterday")",
      "\"log\":\"\xff invalid utf-8\\n\",\"time\":\"2024-05-01T12:00:06Z\"",
      R"("log":"bad escape \x\n","time":"2024-05-01T12:00:07Z")",
      std::string("\"log\":\"raw \x01 control\\n\",\"time\":\"2024-05-01T12:00:08Z\"")};
  for (const std::string& m : members) {
    ParserHarness flat("docker"), general("docker");  // each log ends in \n: no joining
    flat.feed1("{" + m + "}");
    general.feed1("{" + m + ",\"n\":1}");
    ASSERT_EQ(flat.size(), 1u) << m;
    ASSERT_EQ(general.size(), 1u) << m;
    const bool kept_raw = flat.find(0, "_parse_error") != nullptr;
    EXPECT_EQ(kept_raw, general.find(0, "_parse_error") != nullptr) << m;
    if (kept_raw) continue;
    std::vector<std::string> general_keys = general.keys(0);
    general_keys.pop_back();  // "n"
    EXPECT_EQ(flat.keys(0), general_keys) << m;
    for (const std::string& k : flat.keys(0)) EXPECT_EQ(flat.str(0, k), general.str(0, k)) << m << " " << k;
    EXPECT_EQ(flat.rec(0).time.sec, general.rec(0).time.sec) << m;
    EXPECT_EQ(flat.rec(0).time.nsec, general.rec(0).time.nsec) << m;
  }
}

// The flat path keeps the zero-copy rule: a value without escapes is a view into the line.
TEST(ParserJson, FlatObjectValuesWithoutEscapesAreViewsIntoTheLine) {
  ParserHarness h("docker");
  h.feed1(R"({"log":"with escape\n","stream":"stdout","time":"2024-05-01T12:00:00Z"})");
  ASSERT_EQ(h.size(), 1u);
  const std::string& line = h.lines.back();
  auto in_line = [&](const char* p) { return p >= line.data() && p < line.data() + line.size(); };
  EXPECT_TRUE(in_line(h.find(0, "stream")->text.data()));
  EXPECT_FALSE(in_line(h.find(0, "log")->text.data()));
  EXPECT_EQ(h.str(0, "log"), "with escape\n");
}

// simdjson 3.0's get_number() returns 0 for floats of more than 19 significant digits; the parser
// reads such tokens again (found by a differential fuzz run of the flat reader against simdjson).
TEST(ParserJson, FloatsWithManyDigitsKeepTheirValue) {
  ParserHarness h("json");
  h.feed1(R"({"a":1.00000000000000000001,"b":123456789012345678901.5,"c":1327649850123456.99990000999900000000001e22})");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.find(0, "a")->real, 1.0);
  EXPECT_EQ(h.find(0, "b")->real, 123456789012345678901.5);
  EXPECT_EQ(h.find(0, "c")->real, 1327649850123456.99990000999900000000001e22);
}

// What the flat reader takes itself, and what it leaves to simdjson.
TEST(ParserJson, FlatReaderTakesObjectsOfStringsOnly) {
  Arena arena;
  parsers::FlatObjectReader reader;
  ASSERT_TRUE(reader.read(R"({"log":"a\"b\u00e9\n","stream":"stdout","time":"2024-05-01T12:00:00Z"})", arena));
  ASSERT_EQ(reader.members().size(), 3u);
  EXPECT_EQ(reader.members()[0].key, "log");
  EXPECT_EQ(reader.members()[0].value, "a\"b\xc3\xa9\n");
  EXPECT_EQ(reader.members()[2].value, "2024-05-01T12:00:00Z");
  for (const char* declined : {R"({"n":1})", R"({"o":{}})", R"({"a":"b"} x)", "{}", R"({"k\n":"v"})",
                               R"({"a":"\ud83d\ude00"})", R"({"a":"b",})", R"({"a":"b")", "[]", "{\"a\":\"\xff\"}"})
    EXPECT_FALSE(reader.read(declined, arena)) << declined;
  // A byte that is not UTF-8 anywhere in a line (the ASCII check reads it 64, 16 and the last 16
  // bytes at a time), and a valid two-byte character in the same places.
  for (size_t at = 8; at < 108; ++at) {
    std::string line = "{\"log\":\"" + std::string(100, 'a') + "\"}";
    line[at] = '\xff';
    EXPECT_FALSE(reader.read(line, arena)) << at;
    line.replace(at, 1, "\xc3\xa9");
    EXPECT_TRUE(reader.read(line, arena)) << at;
  }
}

namespace {
// Runs `check` with each way of unescaping the CPU has (32-byte blocks packed by AVX-512 or
// AVX2, or one escape at a time); the start-up choice is restored after.
template <typename Check>
void with_each_unescaper(Check check) {
  using parsers::Unescaper;
  const Unescaper best = parsers::unescaper();
  for (auto [u, name] : {std::pair{Unescaper::OneAtATime, "one escape at a time"},
                         std::pair{Unescaper::Avx2, "AVX2 blocks"}, std::pair{Unescaper::Avx512, "AVX-512 blocks"}}) {
    if (!parsers::use_unescaper(u)) continue;
    SCOPED_TRACE(name);
    check();
  }
  parsers::use_unescaper(best);
}
}  // namespace

// Escapes are unescaped 32 (with AVX2) or 16 bytes at a time while enough of the line is left
// (docker's messages escape every quote): each escape at every place in and across those blocks,
// back to back and spread out, and the bytes that end the string or decline it at every place too.
TEST(ParserJson, FlatReaderUnescapesAtEveryPlaceOfABlock) {
  with_each_unescaper([] {
    const std::vector<std::pair<std::string, std::string>> escapes = {
        {"\\\"", "\""}, {"\\\\", "\\"}, {"\\n", "\n"}, {"\\/", "/"}, {"\\t", "\t"}, {"\\u0041", "A"}, {"\\u00e9", "\xc3\xa9"}, {"\\u20ac", "\xe2\x82\xac"}};
    Arena arena;
    parsers::FlatObjectReader reader;
    auto value_of = [&](const std::string& text) -> std::optional<std::string> {
      const std::string line = "{\"log\":\"" + text + "\",\"stream\":\"stdout\"}";
      if (!reader.read(line, arena)) return std::nullopt;
      EXPECT_EQ(reader.members().size(), 2u);
      EXPECT_EQ(reader.members()[1].value, "stdout");
      return std::string(reader.members()[0].value);
    };
    for (const auto& [escaped, plain] : escapes) {
      for (size_t before = 0; before < 40; ++before) {
        for (size_t gap : {0, 1, 7, 14, 15, 16, 17, 30}) {
          std::string text = std::string(before, 'a'), expected = text;
          for (int k = 0; k < 6; ++k) {
            text += escaped + std::string(gap, 'b');
            expected += plain + std::string(gap, 'b');
          }
          text += std::string(before % 9, 'c');
          expected += std::string(before % 9, 'c');
          EXPECT_EQ(value_of(text), expected) << text;
        }
      }
    }
    // A control byte, a lone surrogate or a bad escape anywhere after the first escape declines
    // the line; a raw quote ends the string early, so what follows is not JSON and is declined too.
    for (const std::string& bad : {std::string("\x01"), std::string("\\ud800"), std::string("\\x"),
                                  std::string("\"x")}) {
      for (size_t at = 0; at < 60; ++at) {
        std::string text = "\\\"" + std::string(60, 'a');
        text.insert(2 + at, bad);
        EXPECT_EQ(value_of(text), std::nullopt) << at << " " << text;
      }
    }
  });
}

// Random texts dense in escapes, runs of backslashes (`\\\"` is an escaped backslash then an
// escaped quote) and \u escapes, at every length around the blocks: both ways give the text
// that was escaped. The same texts with a control byte or an invalid escape put in are declined
// both ways.
TEST(ParserJson, FlatReaderUnescapesRandomEscapeDenseTexts) {
  const std::vector<std::pair<std::string, std::string>> pieces = {
      {"\\\"", "\""}, {"\\\\", "\\"}, {"\\n", "\n"}, {"\\t", "\t"}, {"\\r", "\r"},
      {"\\b", "\b"}, {"\\f", "\f"}, {"\\/", "/"}, {"\\u0041", "A"}, {"a", "a"},
      {"xyz", "xyz"}, {"/", "/"}, {"\xc3\xa9", "\xc3\xa9"}};
  Arena arena;
  parsers::FlatObjectReader reader;
  uint32_t seed = 4242;
  auto next = [&seed] { return (seed = seed * 1103515245u + 12345u) >> 8; };
  for (int round = 0; round < 3000; ++round) {
    std::string text, expected;
    const size_t target = next() % 140;
    while (text.size() < target) {
      const auto& [escaped, plain] = pieces[next() % pieces.size()];
      text += escaped;
      expected += plain;
    }
    const std::string line =
        "{\"log\":\"" + text + "\",\"stream\":\"stdout\",\"time\":\"2024-05-01T12:00:00Z\"}";
    with_each_unescaper([&] {
      ASSERT_TRUE(reader.read(line, arena)) << line;
      ASSERT_EQ(reader.members().size(), 3u) << line;
      EXPECT_EQ(reader.members()[0].value, expected) << line;
      EXPECT_EQ(reader.members()[1].value, "stdout") << line;
    });
    if (text.empty()) continue;
    std::string bad = line;
    const size_t at = 8 + next() % text.size();
    bad.insert(at, next() % 2 ? std::string("\x02") : std::string("\\q"));
    // Inserted inside an escape the invalid escape may pair up validly (`\\` + `\q`); the
    // control byte never.
    std::optional<bool> accepted;
    with_each_unescaper([&] {
      const bool ok = reader.read(bad, arena);
      if (accepted) {
        EXPECT_EQ(ok, *accepted) << bad;
      }
      accepted = ok;
      if (bad[at] == '\x02') {
        EXPECT_FALSE(ok) << bad;
      }
    });
  }
}

// More keys than the parser keeps (16, up to 64 bytes): the others are views into each line.
TEST(ParserJson, ManyAndLongKeysBeyondTheKeptOnes) {
  ParserHarness h("json");
  std::vector<std::string> lines, expected;
  for (int line = 0; line < 3; ++line) {
    std::string text = "{";
    for (int i = 0; i < 24; ++i) {
      std::string key = "k" + std::to_string(line * 24 + i) + (i % 5 == 0 ? std::string(70, 'x') : "");
      if (line == 2) expected.push_back(key);
      text += (i ? ",\"" : "\"") + key + "\":" + std::to_string(i);
    }
    lines.push_back(text + "}");
  }
  ASSERT_EQ(h.feed(lines), 3u);
  std::vector<std::string> got;
  for (const Field* f = h.batch.begin(h.rec(2)); f != h.batch.end(h.rec(2)); ++f) got.emplace_back(f->key);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(h.find(2, expected[23])->integer, 23);
}

TEST(ParserJson, TimeTypes) {
  {
    // Fluentd's json default is time_type float.
    ParserHarness h("json");
    h.feed({R"({"time":1714564800.5,"a":1})", R"({"time":"1714564800.25"})",
            R"({"time":"2024-05-01T12:00:00Z"})"});
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(h.rec(0).time.sec, 1714564800);
    EXPECT_EQ(h.rec(0).time.nsec, 500000000u);
    EXPECT_EQ(h.rec(1).time.nsec, 250000000u);
    EXPECT_EQ(h.rec(2).time.sec, 1714564800);  // ISO read as ISO (README: difference)
  }
  {
    ParserHarness h("json", {{"time_type", "unixtime"}, {"time_key", "ts"}, {"keep_time_key", "true"}});
    h.feed1(R"({"ts":1714564800,"m":"x"})");
    EXPECT_EQ(h.rec(0).time.sec, 1714564800);
    EXPECT_EQ(h.keys(0), keys({"ts", "m"}));
  }
}

TEST(ParserJson, InvalidInputKeptRawNeighboursParsed) {
  ParserHarness h("json");
  std::vector<std::string> bad = {"",          "{",        "hello world", "123", R"({"a":tru})",
                                  R"({"a":1} x)", "{\"a\":\"\xff\xfe\"}", std::string("{\"a\":\"b\0\"}", 10),
                                  R"({"a":"unterminated)", "[1,2]"};
  std::vector<std::string> in;
  for (auto& b : bad) {
    in.push_back(R"({"ok":1})");
    in.push_back(b);
  }
  in.push_back(R"({"ok":2})");
  h.feed(in);
  ASSERT_EQ(h.size(), in.size());
  for (size_t i = 0; i < bad.size(); ++i) {
    EXPECT_EQ(h.find(2 * i, "ok")->integer, 1) << i;
    EXPECT_EQ(h.keys(2 * i + 1), keys({"message", "_parse_error"})) << bad[i];
    EXPECT_EQ(h.str(2 * i + 1, "message"), bad[i]);
  }
  EXPECT_EQ(h.errors(), bad.size());
  // {} is a valid (empty) record.
  h.feed1("{}");
  EXPECT_EQ(h.rec(h.size() - 1).field_count, 0u);
}

TEST(ParserJson, VectorInvalidInputsNeverCrash) {
  ParserHarness h("docker");
  h.feed({R"({"log": "Hello world", "stream": "stdout", "time": 123})",
          R"({"log": "Hello world", "stream": "stdout", "time": ""})",
          R"({"log": "Hello world", "stream": "stdout", "time": "qwerty"})"});
  ASSERT_EQ(h.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(h.keys(i), keys({"message", "_parse_error"}));
}

TEST(ParserJson, TopLevelArray) {
  ParserHarness h("json");
  h.feed1(R"([{"a":1},{"b":2}])");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.keys(1), keys({"b"}));
  // Offsets name records in deterministic ids: the objects of one line must not share one.
  EXPECT_EQ(h.rec(1).offset, h.rec(0).offset + 1);
}

TEST(ParserJson, HugeAndBinary) {
  ParserHarness h("json");
  std::string big = "{\"log\":\"" + std::string(10 * 1024 * 1024, 'y') + "\"}";
  std::string bin;
  for (int i = 0; i < 4096; ++i) bin.push_back(static_cast<char>(i * 7));
  h.feed({big, bin, "{\"log\":\"" + std::string(1000, 'z')});
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h.str(0, "log").size(), 10u * 1024 * 1024);
  EXPECT_EQ(h.keys(1), keys({"message", "_parse_error"}));
  EXPECT_EQ(h.keys(2), keys({"message", "_parse_error"}));
}

TEST(ParserJson, TypesAndNullEmptyString) {
  ParserHarness h("json", {{"types", "code:integer,size:float,ok:bool,tags:array"}, {"null_empty_string", "true"}});
  h.feed1(R"({"code":"200","size":"1.5","ok":"yes","tags":"a,b","e":""})");
  EXPECT_EQ(h.find(0, "code")->integer, 200);
  EXPECT_DOUBLE_EQ(h.find(0, "size")->real, 1.5);
  EXPECT_TRUE(h.find(0, "ok")->boolean);
  EXPECT_EQ(h.str(0, "tags"), R"(["a","b"])");
  EXPECT_EQ(h.find(0, "e")->kind, ValueKind::Null);
}

TEST(ParserDocker, VectorValidCases) {
  ParserHarness h("docker");
  h.feed1(R"({"log": "The actual log line\n", "stream": "stderr", "time": "2016-10-05T00:00:30.082640485Z"})");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.keys(0), keys({"log", "stream"}));
  EXPECT_EQ(h.str(0, "log"), "The actual log line\n");
  EXPECT_EQ(h.rec(0).time.nsec, 82640485u);
}

TEST(ParserDocker, FluentBitSplittedLine) {
  ParserHarness h("docker");
  auto lines = test::split_lines(test::read_fixture("docker/fluent-bit-tail-dockermode/dockermode_splitted_line.log"), true);
  h.feed(lines);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.str(0, "log"), "2020-03-24 Single line\n");
  EXPECT_EQ(h.str(1, "log"), "2020-03-24 Another single line\n");
  EXPECT_EQ(h.rec(1).offset, h.lines.size() > 3 ? lines[0].size() + lines[1].size() + lines[2].size() + 3 : 0);
  EXPECT_EQ(h.stream->held_from(), UINT64_MAX);
}

TEST(ParserDocker, FluentBitDockermode) {
  ParserHarness h("docker");
  h.feed(test::split_lines(test::read_fixture("docker/fluent-bit-tail-dockermode/dockermode.log"), true));
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h.str(2, "log"), "Third log\n");
}

TEST(ParserDocker, Derived40000ByteSplit) {
  ParserHarness h("docker");
  auto lines = test::split_lines(test::read_fixture("docker/derived/json-file-40000-byte-line-split.DERIVED.log"), true);
  h.feed(lines);
  ASSERT_EQ(h.size(), 2u);
  std::string log = h.str(0, "log");
  EXPECT_EQ(log.size(), 40001u);
  EXPECT_EQ(log.back(), '\n');
  EXPECT_EQ(h.str(1, "log"), "next line\n");
}

TEST(ParserDocker, PerStreamJoinAndFlush) {
  ParserHarness h("docker");
  std::vector<std::string> in = {
      R"({"log": "aa\n", "stream": "stdout", "time": "2021-02-01T16:45:03.01231z"})",
      R"({"log": "aa\n", "stream": "stderr", "time": "2021-02-01T16:45:03.01231z"})",
      R"({"log": "bb", "stream": "stdout", "time": "2021-02-01T16:45:03.01232z"})",
      R"({"log": "dd", "stream": "stderr", "time": "2021-02-01T16:45:03.01233z"})",
      R"({"log": "cc\n", "stream": "stdout", "time": "2021-02-01T16:45:03.01233z"})"};
  h.feed(in);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h.str(2, "log"), "bbcc\n");
  EXPECT_EQ(h.stream->held_from(), in[0].size() + in[1].size() + in[2].size() + 3);
  h.flush();
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h.str(3, "log"), "dd");
  EXPECT_EQ(h.str(3, "stream"), "stderr");
}

TEST(ParserDocker, Bounded) {
  ParserHarness h("docker", {{"max_partial_size", "4"}});
  h.feed({R"({"log":"abc","stream":"stdout"})", R"({"log":"def","stream":"stdout"})",
          R"({"log":"g\n","stream":"stdout"})"});
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.str(0, "log"), "abc");
  EXPECT_TRUE(h.find(0, "_partial_truncated")->boolean);
  EXPECT_EQ(h.str(1, "log"), "defg\n");
}

}  // namespace
}  // namespace sluice
