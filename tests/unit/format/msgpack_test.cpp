#include "format/msgpack.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

using namespace sluice;

namespace {

std::string hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

template <typename F>
std::string enc(F f) {
  std::string out;
  f(out);
  return hex(out);
}

std::string from_json(std::string_view j) {
  std::string out;
  EXPECT_TRUE(msgpack::append_json(out, j)) << j;
  return hex(out);
}

std::string read_fixture(const std::string& name) {
  std::ifstream f(std::string(SLUICE_FIXTURES) + "/forward/" + name, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

}  // namespace

TEST(Msgpack, Integers) {
  using namespace msgpack;
  EXPECT_EQ(enc([](auto& o) { append_int(o, 0); }), "00");
  EXPECT_EQ(enc([](auto& o) { append_int(o, 127); }), "7f");
  EXPECT_EQ(enc([](auto& o) { append_int(o, 128); }), "cc80");
  EXPECT_EQ(enc([](auto& o) { append_int(o, 256); }), "cd0100");
  EXPECT_EQ(enc([](auto& o) { append_int(o, 65536); }), "ce00010000");
  EXPECT_EQ(enc([](auto& o) { append_int(o, 1441588984); }), "ce55ece6f8");
  EXPECT_EQ(enc([](auto& o) { append_int(o, 1LL << 32); }), "cf0000000100000000");
  EXPECT_EQ(enc([](auto& o) { append_uint(o, UINT64_MAX); }), "cfffffffffffffffff");
  EXPECT_EQ(enc([](auto& o) { append_int(o, -1); }), "ff");
  EXPECT_EQ(enc([](auto& o) { append_int(o, -32); }), "e0");
  EXPECT_EQ(enc([](auto& o) { append_int(o, -33); }), "d0df");
  EXPECT_EQ(enc([](auto& o) { append_int(o, -128); }), "d080");
  EXPECT_EQ(enc([](auto& o) { append_int(o, -129); }), "d1ff7f");
  EXPECT_EQ(enc([](auto& o) { append_int(o, -32769); }), "d2ffff7fff");
  EXPECT_EQ(enc([](auto& o) { append_int(o, INT64_MIN); }), "d38000000000000000");
}

TEST(Msgpack, Scalars) {
  using namespace msgpack;
  EXPECT_EQ(enc([](auto& o) { append_nil(o); }), "c0");
  EXPECT_EQ(enc([](auto& o) { append_bool(o, true); }), "c3");
  EXPECT_EQ(enc([](auto& o) { append_bool(o, false); }), "c2");
  EXPECT_EQ(enc([](auto& o) { append_double(o, 1.5); }), "cb3ff8000000000000");
}

TEST(Msgpack, StringsBinHeaders) {
  using namespace msgpack;
  EXPECT_EQ(enc([](auto& o) { append_str(o, "bar"); }), "a3626172");
  EXPECT_EQ(enc([](auto& o) { append_str(o, std::string(31, 'x')); }).substr(0, 2), "bf");
  EXPECT_EQ(enc([](auto& o) { append_str(o, std::string(32, 'x')); }).substr(0, 4), "d920");
  EXPECT_EQ(enc([](auto& o) { append_str(o, std::string(256, 'x')); }).substr(0, 6), "da0100");
  EXPECT_EQ(enc([](auto& o) { append_str(o, std::string(70000, 'x')); }).substr(0, 10),
            "db00011170");
  EXPECT_EQ(enc([](auto& o) { append_str_header(o, 0x49); }), "d949");
  EXPECT_EQ(enc([](auto& o) { append_bin(o, "ab"); }), "c4026162");
  EXPECT_EQ(enc([](auto& o) { append_bin_header(o, 300); }), "c5012c");
  EXPECT_EQ(enc([](auto& o) { append_bin_header(o, 70000); }), "c600011170");
  EXPECT_EQ(enc([](auto& o) { append_array_header(o, 3); }), "93");
  EXPECT_EQ(enc([](auto& o) { append_array_header(o, 16); }), "dc0010");
  EXPECT_EQ(enc([](auto& o) { append_array_header(o, 70000); }), "dd00011170");
  EXPECT_EQ(enc([](auto& o) { append_map_header(o, 1); }), "81");
  EXPECT_EQ(enc([](auto& o) { append_map_header(o, 16); }), "de0010");
  EXPECT_EQ(enc([](auto& o) { append_map_header(o, 70000); }), "df00011170");
  EXPECT_EQ(enc([](auto& o) { append_ext_header(o, 0, 8); }), "d700");
  EXPECT_EQ(enc([](auto& o) { append_ext_header(o, 5, 3); }), "c70305");
}

TEST(Msgpack, EventTimeMatchesGolangFixture) {
  // forward-vectors.json: golang-message-mode-eventtime-fixext8.bin, the canonical encoding.
  std::string fixture = read_fixture("golang-message-mode-eventtime-fixext8.bin");
  ASSERT_FALSE(fixture.empty());
  std::string out;
  msgpack::append_array_header(out, 4);
  msgpack::append_str(out, "tag");
  msgpack::append_event_time(out, EventTime{1267867237, 256});
  Batch b;
  b.begin_record({1267867237, 256});
  b.add_field("foo", Value::of_string("bar"));
  msgpack::append_record(out, b, b.records[0]);
  msgpack::append_map_header(out, 0);
  EXPECT_EQ(hex(out), hex(fixture));
  EXPECT_EQ(hex(out), "94a3746167d7004b921e650000010081a3666f6fa362617280");
}

TEST(Msgpack, IntegerTimeAndForwardFixture) {
  // vector-forward-mode.bin: ["tag.name", [[1441588984, {"message": "foo"}], ...]]
  std::string fixture = read_fixture("vector-forward-mode.bin");
  ASSERT_FALSE(fixture.empty());
  Batch b;
  b.tag = "tag.name";
  const char* msgs[] = {"foo", "bar", "baz"};
  for (int i = 0; i < 3; ++i) {
    b.begin_record({1441588984 + i, 0, true});
    b.add_field("message", Value::of_string(msgs[i]));
  }
  std::string out;
  msgpack::append_array_header(out, 2);
  msgpack::append_str(out, b.tag);
  msgpack::append_array_header(out, 3);
  for (auto& r : b.records) msgpack::append_entry(out, b, r);
  EXPECT_EQ(hex(out), hex(fixture));
}

TEST(Msgpack, RecordValuesAndCommonFields) {
  Batch b;
  b.begin_record({1, 0});
  b.add_field("n", Value::null());
  b.add_field("i", Value::of_int(-1));
  b.add_field("j", Value::of_json(R"({"a":[1,"x"]})"));
  b.add_field("p", Value::of_json(R"({"ignored":1})", "\x80"));  // packed wins
  b.common_fields.push_back({"k", Value::of_json("[true,false,null]")});
  std::string out;
  msgpack::append_record(out, b, b.records[0]);
  EXPECT_EQ(hex(out),
            "85"
            "a16e" "c0"
            "a169" "ff"
            "a16a" "81a161" "9201a178"
            "a170" "80"
            "a16b" "93c3c2c0");
}

TEST(Msgpack, BadJsonValueBecomesString) {
  Batch b;
  b.begin_record({1, 0});
  b.add_field("j", Value::of_json("{bad"));
  std::string out;
  msgpack::append_record(out, b, b.records[0]);
  EXPECT_EQ(hex(out), "81a16aa47b626164");
}

TEST(Msgpack, JsonConversion) {
  EXPECT_EQ(from_json(R"( {"a" : 1 , "b":[ ] ,"c":{}} )"), "83a16101a16290a16380");
  EXPECT_EQ(from_json("-5"), "fb");
  EXPECT_EQ(from_json("18446744073709551615"), "cfffffffffffffffff");
  EXPECT_EQ(from_json("1.5"), "cb3ff8000000000000");
  EXPECT_EQ(from_json("15e-1"), "cb3ff8000000000000");
  // Beyond uint64: a float.
  EXPECT_EQ(from_json("18446744073709551616").substr(0, 2), "cb");
  std::string out;
  ASSERT_TRUE(msgpack::append_json(out, R"("a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00")"));
  EXPECT_EQ(out, std::string("\xaf" "a\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80"));
  // 16 elements: array16 header after shrinking from the placeholder.
  EXPECT_EQ(from_json("[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]"), "dc0010" + std::string(32, '0'));
}

TEST(Msgpack, JsonConversionRejectsBadInputAndDepth) {
  std::string out = "keep";
  for (std::string_view bad : {"", "{", "[1,", "{\"a\"}", "{\"a\":1,}", "tru", "\"abc", "1 2",
                               "[1]x", "\"\\x\"", "\"\\u12\"", "-", "{1:2}"}) {
    EXPECT_FALSE(msgpack::append_json(out, bad)) << bad;
    EXPECT_EQ(out, "keep");
  }
  std::string deep(200, '[');
  deep += std::string(200, ']');
  EXPECT_FALSE(msgpack::append_json(out, deep));
  EXPECT_EQ(out, "keep");
  EXPECT_TRUE(msgpack::append_json(out, deep, 256));
}
