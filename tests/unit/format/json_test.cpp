#include "format/json.h"
#include "format/json_shape.h"
#include "support/json_reference.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include <cctype>
#include <cmath>
#include <limits>

using namespace sluice;

namespace {

std::string str(std::string_view s, json::HexCase hex = json::HexCase::Lower) {
  std::string out;
  json::append_string(out, s, hex);
  return out;
}

std::string dbl(double d) {
  std::string out;
  json::append_double(out, d);
  return out;
}

// fluentd-observed.md §2.6.
const std::string kEdgeCase =
    "bad\xff\xfe" "bytes ctrl\x01\x1f del\x7f ls\xe2\x80\xa8 emoji\xf0\x9f\x98\x80 tab\there";

}  // namespace

TEST(Json, EdgeCaseOjLowercase) {
  EXPECT_EQ(str(kEdgeCase),
            "\"bad\xff\xfe" "bytes ctrl\\u0001\\u001f del\x7f ls\xe2\x80\xa8 "
            "emoji\xf0\x9f\x98\x80 tab\\there\"");
}

TEST(Json, EdgeCaseYajlUppercase) {
  EXPECT_EQ(str(kEdgeCase, json::HexCase::Upper),
            "\"bad\xff\xfe" "bytes ctrl\\u0001\\u001F del\x7f ls\xe2\x80\xa8 "
            "emoji\xf0\x9f\x98\x80 tab\\there\"");
}

TEST(Json, NamedEscapesAndRawPunctuation) {
  EXPECT_EQ(str("a\"b\\c\b\f\n\r\t"), R"("a\"b\\c\b\f\n\r\t")");
  EXPECT_EQ(str("</script>&/"), "\"</script>&/\"");
  EXPECT_EQ(str(std::string("\0x", 2)), "\"\\u0000x\"");
  EXPECT_EQ(str("\x1b", json::HexCase::Upper), "\"\\u001B\"");
  EXPECT_EQ(str("\x1b"), "\"\\u001b\"");
  EXPECT_EQ(str(""), "\"\"");
  EXPECT_EQ(str("h\xc3\xa9llo"), "\"h\xc3\xa9llo\"");
}

TEST(Json, RubyFloatToS) {
  EXPECT_EQ(dbl(1.5), "1.5");
  EXPECT_EQ(dbl(100.0), "100.0");
  EXPECT_EQ(dbl(1e20), "1.0e+20");
  EXPECT_EQ(dbl(1e-5), "1.0e-05");
  EXPECT_EQ(dbl(0.0001), "0.0001");
  EXPECT_EQ(dbl(0.1), "0.1");
  EXPECT_EQ(dbl(0.0), "0.0");
  EXPECT_EQ(dbl(-0.0), "-0.0");
  EXPECT_EQ(dbl(-2.5), "-2.5");
  EXPECT_EQ(dbl(1e15), "1000000000000000.0");
  EXPECT_EQ(dbl(1e16), "1.0e+16");
  EXPECT_EQ(dbl(1234567890123456.7), "1234567890123456.8");
  EXPECT_EQ(dbl(12345678901234567.0), "1.2345678901234568e+16");
  EXPECT_EQ(dbl(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(dbl(1.25e-7), "1.25e-07");
  EXPECT_EQ(dbl(1e100), "1.0e+100");
  EXPECT_EQ(dbl(-1.5e-300), "-1.5e-300");
  EXPECT_EQ(dbl(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
  EXPECT_EQ(dbl(5e-324), "5.0e-324");
  EXPECT_EQ(dbl(NAN), "null");
  EXPECT_EQ(dbl(INFINITY), "null");
}

TEST(Json, Values) {
  std::string out;
  json::append_value(out, Value::null());
  out += ' ';
  json::append_value(out, Value::of_bool(true));
  out += ' ';
  json::append_value(out, Value::of_bool(false));
  out += ' ';
  json::append_value(out, Value::of_int(-9223372036854775807LL - 1));
  out += ' ';
  json::append_value(out, Value::of_int(42));
  out += ' ';
  json::append_value(out, Value::of_float(2.0));
  out += ' ';
  json::append_value(out, Value::of_json(R"({"a":[1,2]})"));
  EXPECT_EQ(out, R"(null true false -9223372036854775808 42 2.0 {"a":[1,2]})");
}

TEST(Json, RecordWithCommonFieldsInOrder) {
  Batch b;
  b.tag = "t";
  b.begin_record({1, 0});
  b.add_field("msg", Value::of_string("from python"));
  b.add_field("list", Value::of_json("[1,2,3]"));
  b.add_field("f", Value::of_float(1.5));
  b.begin_record({2, 0});
  b.common_fields.push_back({"kubernetes", Value::of_json(R"({"pod_name":"p"})")});
  std::string out;
  json::append_record(out, b, b.records[0]);
  EXPECT_EQ(out, R"({"msg":"from python","list":[1,2,3],"f":1.5,"kubernetes":{"pod_name":"p"}})");
  out.clear();
  json::append_record(out, b, b.records[1]);
  EXPECT_EQ(out, R"({"kubernetes":{"pod_name":"p"}})");

  out.clear();
  bool any = json::append_record_open(out, b, b.records[0]);
  EXPECT_TRUE(any);
  bool first = !any;
  json::append_member(out, first, "tag", Value::of_string("t"));
  out += '}';
  EXPECT_EQ(out, R"({"msg":"from python","list":[1,2,3],"f":1.5,"kubernetes":{"pod_name":"p"},"tag":"t"})");

  Batch empty;
  empty.begin_record({1, 0});
  out.clear();
  any = json::append_record_open(out, empty, empty.records[0]);
  EXPECT_FALSE(any);
  first = !any;
  json::append_member(out, first, "tag", Value::of_string("t"));
  out += '}';
  EXPECT_EQ(out, R"({"tag":"t"})");
}

// The escaper stores 16 bytes at a time and strings past kEscapeStep are written in steps: compare
// with a byte-at-a-time escaper over lengths around both boundaries, escapes at every position.
namespace {
std::string reference_escape(std::string_view s) {
  return "\"" + sluice::testing::reference_json_escape(s) + "\"";
}

// Runs `check` with each escaper the CPU has (the start-up choice is restored after).
template <typename Check>
void with_each_escaper(Check check) {
  const json::Escaper best = json::escaper();
  for (auto [e, name] : {std::pair{json::Escaper::Sse2, "SSE2"}, std::pair{json::Escaper::Avx2, "AVX2"},
                         std::pair{json::Escaper::Avx512, "AVX-512"}}) {
    if (!json::use_escaper(e)) continue;
    SCOPED_TRACE(std::string("escaper ") + name);
    check();
  }
  json::use_escaper(best);
}
}  // namespace

// The escapers below the CPU's best are tested too; one it lacks cannot be, and says so.
TEST(Json, EscapersThisCpuLacks) {
  const json::Escaper best = json::escaper();
  std::string lacking;
  if (!json::use_escaper(json::Escaper::Avx2)) lacking += " AVX2";
  if (!json::use_escaper(json::Escaper::Avx512)) lacking += " AVX-512 (VBMI2)";
  json::use_escaper(best);
  if (!lacking.empty()) GTEST_SKIP() << "this CPU cannot run the" << lacking << " escaper";
}

// The 16-byte classifier under the short-string path, the SSE2 escaper and the flat JSON
// parser: every byte value at every place of a block, among plain bytes and among bytes that
// need escaping.
TEST(Json, EscapeMaskMarksExactlyControlsQuotesAndBackslashes) {
#if defined(__SSE2__)
  auto needs_escape = [](unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; };
  for (const char filler : {'a', '"', '\x1f'}) {
    for (unsigned value = 0; value < 256; ++value) {
      for (unsigned place = 0; place < 16; ++place) {
        unsigned char block[16];
        std::memset(block, filler, sizeof block);
        block[place] = static_cast<unsigned char>(value);
        unsigned expected = 0;
        for (unsigned i = 0; i < 16; ++i) expected |= needs_escape(block[i]) ? 1u << i : 0;
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block));
        ASSERT_EQ(json::detail::escape_mask(v), expected) << "byte " << value << " at " << place;
      }
    }
  }
#else
  GTEST_SKIP() << "no SSE2 on this target";
#endif
}

TEST(Json, EscapingMatchesReferenceAcrossBlockAndStepBoundaries) {
  with_each_escaper([&] {
    uint32_t seed = 12345;
    auto next = [&seed] { return seed = seed * 1103515245u + 12345u; };
    const char special[] = {'"', '\\', '\n', '\x01', '\x1f', '\t', 'a', '\xc3', '\x7f'};
    for (size_t len : {0, 1, 15, 16, 17, 31, 32, 33, 100, 4095, 4096, 4097, 8191, 8193, 12000}) {
      for (int density : {0, 1, 8, 50}) {
        std::string s;
        for (size_t i = 0; i < len; ++i)
          s += (int(next() % 100) < density) ? special[next() % sizeof special] : char('a' + next() % 26);
        std::string prefix = "{\"k\":";  // appending after existing bytes, as formatters do
        std::string out = prefix;
        json::append_string(out, s);
        EXPECT_EQ(out, prefix + reference_escape(s)) << "length " << len << " density " << density;
      }
    }
  });
}

// Every length around the short-string path, the 16- and 32-byte (AVX2) blocks and the
// several-escapes-per-block loops, through append_string and write_member, in both hex cases.
TEST(Json, EscapingMatchesReferenceAtEveryShortLength) {
  with_each_escaper([&] {
    uint32_t seed = 777;
    auto next = [&seed] { return seed = seed * 1103515245u + 12345u; };
    const char special[] = {'"', '\\', '\n', '\x01', '\x1f', '\x0b', 'a', '\xc3', '\x7f'};
    auto upper = [](std::string s) {
      for (size_t i = 0; i + 5 < s.size(); ++i)
        if (s[i] == '\\' && s[i + 1] == 'u')
          for (size_t j = i + 2; j < i + 6; ++j) s[j] = static_cast<char>(toupper(s[j]));
        else if (s[i] == '\\')
          ++i;
      return s;
    };
    std::string out = "[";
    json::append_string(out, std::string_view());  // null data()
    bool first = true;
    json::append_member(out, first, std::string_view(), Value::of_string(std::string_view()));
    EXPECT_EQ(out, "[\"\"\"\":\"\"");
    for (size_t len = 0; len <= 140; ++len) {
      for (int density : {0, 5, 30, 100}) {
        std::string s;
        for (size_t i = 0; i < len; ++i)
          s += (int(next() % 100) < density) ? special[next() % sizeof special] : char('a' + next() % 26);
        const std::string expected = reference_escape(s);
        out = "[";
        json::append_string(out, s);
        EXPECT_EQ(out, "[" + expected) << "length " << len << " density " << density;
        out = "[";
        json::append_string(out, s, json::HexCase::Upper);
        EXPECT_EQ(out, "[" + upper(expected)) << "length " << len << " density " << density;
        out.clear();
        first = false;
        json::append_member(out, first, s, Value::of_string(s));
        EXPECT_EQ(out, "," + expected + ":" + expected) << "length " << len << " density " << density;
      }
    }
  });
}

// A writable page followed by one that faults: strings placed to end at `end` catch any read
// past them.
struct PageBeforeAGuard {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  char* mem = static_cast<char*>(
      mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  char* end = mem != MAP_FAILED && mprotect(mem + page, page, PROT_NONE) == 0 ? mem + page : nullptr;
  ~PageBeforeAGuard() {
    if (mem != MAP_FAILED) munmap(mem, 2 * page);
  }
};

// Strings whose bytes to escape are all quotes and backslashes take the AVX2 escaper's shortcut;
// strings that end just before an unreadable page take its byte-at-a-time fallbacks. Both must
// match the reference, and nothing may read the unreadable page.
TEST(Json, EscapingMatchesReferenceForQuotesAndAtPageEnds) {
  with_each_escaper([&] {
    const PageBeforeAGuard guarded;
    ASSERT_NE(guarded.end, nullptr);
    char* const page_end = guarded.end;
    uint32_t seed = 4242;
    auto next = [&seed] { return seed = seed * 1103515245u + 12345u; };
    const char quotes[] = {'"', '\\'};
    const char mixed[] = {'"', '\\', '\n', '\x01'};
    for (size_t len = 0; len <= 200; ++len) {
      for (size_t gap : {0, 1, 7, 31, 32, 33, 63, 64}) {
        for (int density : {3, 20, 100}) {
          for (bool only_quotes : {true, false}) {
            std::string s;
            for (size_t i = 0; i < len; ++i) {
              if (int(next() % 100) >= density) s += char('a' + next() % 26);
              else if (only_quotes) s += quotes[next() % 2];
              else s += mixed[next() % 4];
            }
            char* at = page_end - gap - len;
            std::memcpy(at, s.data(), len);
            std::string out = "[";
            json::append_string(out, std::string_view(at, len));
            EXPECT_EQ(out, "[" + reference_escape(s))
                << "length " << len << " gap " << gap << " density " << density;
          }
        }
      }
    }
  });
}

// A value a parser marked plain is copied, not checked: the same JSON as the escaper's for any
// length, also when the string ends at a page end (the copy's 16-byte loads must not cross it),
// through every writer that takes a Value.
TEST(Json, PlainValuesAreWrittenAsTheEscaperWouldAtEveryLengthAndPageEnd) {
  const PageBeforeAGuard guarded;
  ASSERT_NE(guarded.end, nullptr);
  char* const page_end = guarded.end;
  for (size_t len = 0; len <= 100; ++len) {
    for (size_t gap : {0, 1, 15, 16, 17}) {
      std::string s;
      for (size_t i = 0; i < len; ++i) s += char('0' + i % 43);  // digits, letters, :;<=>?@
      char* at = page_end - gap - len;
      std::memcpy(at, s.data(), len);
      const Value plain = Value::of_string(std::string_view(at, len), true);
      std::string expected = "\"" + s + "\"";
      std::string value;
      json::append_value(value, plain);
      EXPECT_EQ(value, expected) << "length " << len << " gap " << gap;
      std::string member;
      bool first = true;
      StringWriter w(member);
      json::write_member(w, first, "k", plain);
      w.finish();
      EXPECT_EQ(member, "\"k\":" + expected) << "length " << len << " gap " << gap;
    }
  }
}

// Blocks dense in quotes are spread 8 bytes at a time from a table of the 256 ways 8 bytes can
// hold `"` or `\`: every way, in each 8 bytes of a 32-byte block, with the rest of the block
// plain or dense too, then a block with a control, and a tail.
TEST(Json, EscapingMatchesReferenceForEveryQuotePatternInABlock) {
  with_each_escaper([&] {
    for (unsigned mask = 0; mask < 256; ++mask) {
      for (unsigned eighth = 0; eighth < 4; ++eighth) {
        for (bool dense_rest : {false, true}) {
          std::string s;
          for (unsigned i = 0; i < 32; ++i) {
            const unsigned in_eighth = i - 8 * eighth;
            const bool quote = in_eighth < 8 ? (mask >> in_eighth & 1) != 0 : dense_rest && i % 3 == 0;
            s += quote ? (i % 2 ? '\\' : '"') : char('a' + i % 26);
          }
          s += "\"\"x\n\"\"\\\\y\"z" + std::string(21, 'w') + "\"q\"";
          std::string out = "[";
          json::append_string(out, s);
          EXPECT_EQ(out, "[" + reference_escape(s)) << "mask " << mask << " in bytes " << 8 * eighth
                                                    << "-" << 8 * eighth + 7 << " dense " << dense_rest;
        }
      }
    }
  });
}

// Record shapes: records with the same keys share one; key views are trusted by address only
// within a batch, so the same memory holding other keys in the next batch is another shape.
TEST(JsonShapes, SameKeysShareAShapeAndReusedMemoryIsComparedAgain) {
  auto classify = [](const void*, std::string_view key) -> uint32_t { return key == "special"; };
  json::JsonShapes shapes(2);
  char keys[] = "abcdef";
  auto fields = [&](std::vector<std::string_view> names) {
    std::vector<Field> f;
    for (auto n : names) f.push_back({n, Value::of_string("v")});
    return f;
  };
  std::string_view ab(keys, 2), cd(keys + 2, 2);
  shapes.begin_batch();
  auto f1 = fields({ab, cd});
  const json::JsonShape* s1 = &shapes.match(f1.data(), f1.data() + 2, {classify, nullptr});
  EXPECT_EQ(s1->keys, (std::vector<std::string>{"ab", "cd"}));
  auto prefix = [](const json::JsonShape& s, size_t i) {
    const auto& p = s.prefixes[i];
    return p.size ? std::string(p.bytes.data(), p.size) : p.long_text;
  };
  EXPECT_EQ(prefix(*s1, 0), "{\"ab\":");
  EXPECT_EQ(prefix(*s1, 1), ",\"cd\":");
  EXPECT_EQ(&shapes.match(f1.data(), f1.data() + 2, {classify, nullptr}), s1);
  EXPECT_EQ(shapes.builds(), 1u);
  // Equal keys elsewhere in memory: the same shape.
  std::string other = "abcd";
  auto f2 = fields({std::string_view(other.data(), 2), std::string_view(other.data() + 2, 2)});
  EXPECT_EQ(&shapes.match(f2.data(), f2.data() + 2, {classify, nullptr}), s1);
  EXPECT_EQ(shapes.builds(), 1u);
  EXPECT_EQ(&shapes.match(f1.data(), f1.data() + 2, {classify, nullptr}), s1);  // f1's views again
  // Next batch: the same memory now holds other keys.
  shapes.begin_batch();
  keys[0] = 'x';
  const json::JsonShape& s2 = shapes.match(f1.data(), f1.data() + 2, {classify, nullptr});
  EXPECT_EQ(s2.keys, (std::vector<std::string>{"xb", "cd"}));
  EXPECT_EQ(shapes.builds(), 2u);
  // Flags, escaped and long keys.
  const std::string long_key(40, 'k');
  auto f3 = fields({"special", "q\"", long_key});
  const json::JsonShape& s3 = shapes.match(f3.data(), f3.data() + 3, {classify, nullptr});
  EXPECT_EQ(s3.flags, 1u);
  EXPECT_EQ(prefix(s3, 1), ",\"q\\\"\":");
  EXPECT_EQ(prefix(s3, 2), ",\"" + long_key + "\":");
}

TEST(Json, StringWriterKeepsBytesAcrossGrowth) {
  std::string out = "start:";
  {
    StringWriter w(out);
    for (int i = 0; i < 1000; ++i) w.put(std::string_view("0123456789"));
    char* p = w.room(3);
    p[0] = 'e', p[1] = 'n', p[2] = 'd';
    w.advance(p + 3);
    w.finish();
    EXPECT_EQ(out.size(), 6u + 10000u + 3u);
    w.truncate(out.size() - 3);
  }
  EXPECT_EQ(out.size(), 6u + 10000u);
  EXPECT_EQ(out.substr(0, 16), "start:0123456789");
  EXPECT_EQ(out.substr(out.size() - 10), "0123456789");
}
