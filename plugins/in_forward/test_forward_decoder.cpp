// The forward decoder against the shared fixture frames, truncation at every offset, split
// delivery, bounds (huge declared sizes, deep nesting, frame limit), garbage, gzip members.
#include <gtest/gtest.h>

#include <random>

#include "format/json.h"
#include "format/msgpack.h"
#include "forward_decoder.h"
#include "http/http_client.h"
#include "support/fixtures.h"

using namespace sluice;
using namespace sluice::forward;

namespace {

std::string unhex(std::string_view h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(char(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

struct Decoded {
  FrameInfo info;
  std::vector<std::string> records;  // JSON
  std::vector<EventTime> times;
  bool ok = false;
  std::string error;
};

EventTime fixed_now() { return EventTime{1700000000, 5, false}; }

Decoded decode(std::string_view frame, const Limits& limits = Limits{}) {
  Decoded d;
  FrameScanner sc(limits);
  uint64_t len = 0;
  auto st = sc.scan(frame, len, d.error);
  if (st != FrameScanner::Status::Complete) {
    d.error = "scan: " + std::string(st == FrameScanner::Status::NeedMore ? "need more" : d.error);
    return d;
  }
  EXPECT_EQ(len, frame.size());
  FrameDecoder dec(limits);
  dec.now = fixed_now;
  Batch b;
  d.ok = dec.decode(frame, b, d.info, d.error);
  for (auto& r : b.records) {
    std::string j;
    json::append_record(j, b, r);
    d.records.push_back(j);
    d.times.push_back(r.time);
  }
  return d;
}

std::string fixture(const std::string& name) { return test::read_fixture("forward/" + name); }

const char* kComplete[] = {
    "vector-message-mode.bin",           "vector-message-mode-with-options.bin",
    "vector-forward-mode.bin",           "vector-forward-mode-with-options.bin",
    "vector-packed-forward-mode.bin",    "vector-compressed-packed-forward-mode.bin",
    "golang-message-mode-int-time.bin",  "golang-message-mode-eventtime-ext8.bin",
    "golang-message-mode-eventtime-fixext8.bin",
};

}  // namespace

TEST(ForwardDecoder, MessageMode) {
  auto d = decode(fixture("vector-message-mode.bin"));
  ASSERT_TRUE(d.ok) << d.error;
  EXPECT_EQ(d.info.mode, FrameInfo::Mode::Message);
  EXPECT_EQ(d.info.tag, "tag.name");
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0], R"({"message":"bar"})");
  EXPECT_EQ(d.times[0], (EventTime{1441588984, 0, true}));
  auto o = decode(fixture("vector-message-mode-with-options.bin"));
  ASSERT_TRUE(o.ok) << o.error;
  EXPECT_EQ(o.records, d.records);
  EXPECT_TRUE(o.info.chunk.empty());
}

TEST(ForwardDecoder, ForwardAndPackedModes) {
  const std::vector<std::string> want = {R"({"message":"foo"})", R"({"message":"bar"})", R"({"message":"baz"})"};
  for (const char* name : {"vector-forward-mode.bin", "vector-forward-mode-with-options.bin",
                           "vector-packed-forward-mode.bin", "vector-compressed-packed-forward-mode.bin"}) {
    auto d = decode(fixture(name));
    ASSERT_TRUE(d.ok) << name << ": " << d.error;
    EXPECT_EQ(d.info.tag, "tag.name") << name;
    EXPECT_EQ(d.records, want) << name;
    ASSERT_EQ(d.times.size(), 3u);
    EXPECT_EQ(d.times[2], (EventTime{1441588986, 0, true}));
    EXPECT_TRUE(d.info.entries_error.empty()) << d.info.entries_error;
  }
  EXPECT_EQ(decode(fixture("vector-packed-forward-mode.bin")).info.mode, FrameInfo::Mode::PackedForward);
  EXPECT_EQ(decode(fixture("vector-compressed-packed-forward-mode.bin")).info.mode,
            FrameInfo::Mode::CompressedPackedForward);
}

TEST(ForwardDecoder, GolangFramesAndEventTime) {
  auto i = decode(fixture("golang-message-mode-int-time.bin"));
  ASSERT_TRUE(i.ok) << i.error;
  EXPECT_EQ(i.info.tag, "tag");
  EXPECT_EQ(i.records[0], R"({"foo":"bar","hoge":"hoge"})");
  EXPECT_EQ(i.times[0], (EventTime{1267867237, 0, true}));
  for (const char* name : {"golang-message-mode-eventtime-ext8.bin", "golang-message-mode-eventtime-fixext8.bin"}) {
    auto d = decode(fixture(name));
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(d.records[0], R"({"foo":"bar"})");
    EXPECT_EQ(d.times[0], (EventTime{1267867237, 256, false})) << name;
  }
}

TEST(ForwardDecoder, IncompleteAndNonRequests) {
  FrameScanner sc{Limits{}};
  uint64_t len;
  std::string err;
  EXPECT_EQ(sc.scan(fixture("vector-incomplete-frame.bin"), len, err), FrameScanner::Status::NeedMore);
  FrameScanner sc2{Limits{}};
  EXPECT_EQ(sc2.scan(fixture("vector-ack-response-prefix.bin"), len, err), FrameScanner::Status::NeedMore);
  auto d = decode(fixture("vector-ack-rejected-empty-map.bin"));
  EXPECT_FALSE(d.ok);
  EXPECT_NE(d.error.find("not an array"), std::string::npos) << d.error;
  // nil is the heartbeat.
  auto h = decode(std::string(1, char(0xc0)));
  EXPECT_TRUE(h.ok);
  EXPECT_EQ(h.info.mode, FrameInfo::Mode::Heartbeat);
}

TEST(ForwardDecoder, TruncatedAtEveryOffsetAndSplitDelivery) {
  for (const char* name : kComplete) {
    std::string f = fixture(name);
    for (size_t n = 0; n < f.size(); ++n) {
      FrameScanner sc{Limits{}};
      uint64_t len;
      std::string err;
      EXPECT_EQ(sc.scan(std::string_view(f).substr(0, n), len, err), FrameScanner::Status::NeedMore)
          << name << " at " << n;
      // The decoder given a truncated frame directly fails cleanly.
      FrameDecoder dec{Limits{}};
      Batch b;
      FrameInfo info;
      std::string e2;
      std::string cut = f.substr(0, n);
      EXPECT_FALSE(dec.decode(cut, b, info, e2) && n > 0 && info.events > 0 && false);
    }
    // Resumable: one byte at a time, completes exactly at the end.
    FrameScanner sc{Limits{}};
    uint64_t len = 0;
    std::string err;
    for (size_t n = 1; n <= f.size(); ++n) {
      auto st = sc.scan(std::string_view(f).substr(0, n), len, err);
      if (n < f.size()) ASSERT_EQ(st, FrameScanner::Status::NeedMore) << name << " at " << n;
      else ASSERT_EQ(st, FrameScanner::Status::Complete) << name;
    }
    EXPECT_EQ(len, f.size());
  }
}

TEST(ForwardDecoder, Bounded) {
  Limits l;
  l.max_frame = 1 << 20;
  uint64_t len;
  std::string err;
  // A 2 GiB string declared in 10 bytes: refused before any of it arrives.
  {
    FrameScanner sc(l);
    std::string f = unhex("92a3746167db80000000");
    EXPECT_EQ(sc.scan(f, len, err), FrameScanner::Status::Error);
    EXPECT_NE(err.find("2 GiB"), std::string::npos) << err;
  }
  {  // bin32 and array32/map32 with absurd counts
    for (const char* h : {"c6ffffffff", "ddffffffff", "dfffffffff", "c9ffffffff00"}) {
      FrameScanner sc(l);
      err.clear();
      EXPECT_EQ(sc.scan(unhex(h), len, err), FrameScanner::Status::Error) << h;
    }
  }
  {  // nesting
    FrameScanner sc(l);
    std::string f(200, char(0x91));
    EXPECT_EQ(sc.scan(f, len, err), FrameScanner::Status::Error);
    EXPECT_NE(err.find("deeper"), std::string::npos);
  }
  {  // a frame that keeps growing past the limit
    FrameScanner sc(l);
    std::string f = unhex("dc ffff");
    f = unhex("dcffff");
    for (int i = 0; i < 0xffff; ++i) msgpack::append_str(f, std::string(100, 'x'));
    EXPECT_EQ(sc.scan(f, len, err), FrameScanner::Status::Error);
  }
  {  // 0xc1
    FrameScanner sc(l);
    EXPECT_EQ(sc.scan(unhex("92c1"), len, err), FrameScanner::Status::Error);
  }
  {  // gzip bomb: inflated beyond the limit
    Limits small;
    small.max_inflated = 1000;
    std::string entries;
    for (int i = 0; i < 100; ++i) {
      msgpack::append_array_header(entries, 2);
      msgpack::append_int(entries, 1);
      msgpack::append_map_header(entries, 1);
      msgpack::append_str(entries, "k");
      msgpack::append_str(entries, std::string(50, 'a'));
    }
    std::string gz = http::gzip_compress(entries);
    std::string f;
    msgpack::append_array_header(f, 3);
    msgpack::append_str(f, "t");
    msgpack::append_bin(f, gz);
    msgpack::append_map_header(f, 1);
    msgpack::append_str(f, "compressed");
    msgpack::append_str(f, "gzip");
    auto d = decode(f, small);
    EXPECT_TRUE(d.ok);
    EXPECT_NE(d.info.entries_error.find("beyond the limit"), std::string::npos) << d.info.entries_error;
    EXPECT_TRUE(d.records.empty());
  }
}

TEST(ForwardDecoder, MultiMemberGzipStr32AndChunk) {
  std::string e1, e2;
  for (auto* e : {&e1, &e2}) {
    msgpack::append_array_header(*e, 2);
    msgpack::append_event_time(*e, EventTime{1714564800, 123456789, false});
    msgpack::append_map_header(*e, 1);
    msgpack::append_str(*e, "msg");
    msgpack::append_str(*e, e == &e1 ? "one" : "two");
  }
  std::string gz = http::gzip_compress(e1) + http::gzip_compress(e2);
  std::string f;
  msgpack::append_array_header(f, 3);
  msgpack::append_str(f, "test.cat");
  f.push_back(char(0xdb));
  for (int s = 24; s >= 0; s -= 8) f.push_back(char((gz.size() >> s) & 0xff));
  f += gz;
  msgpack::append_map_header(f, 3);
  msgpack::append_str(f, "size");
  msgpack::append_int(f, 2);
  msgpack::append_str(f, "compressed");
  msgpack::append_str(f, "gzip");
  msgpack::append_str(f, "chunk");
  msgpack::append_str(f, "ZhQHn2CIoUk0BDRhAh8VNw==\n");
  auto d = decode(f);
  ASSERT_TRUE(d.ok) << d.error;
  EXPECT_EQ(d.info.chunk, "ZhQHn2CIoUk0BDRhAh8VNw==\n");
  ASSERT_EQ(d.records.size(), 2u);
  EXPECT_EQ(d.records[1], R"({"msg":"two"})");
  EXPECT_EQ(d.times[0], (EventTime{1714564800, 123456789, false}));
}

TEST(ForwardDecoder, NestedValuesKeepPackedBytes) {
  std::string rec;
  msgpack::append_map_header(rec, 5);
  msgpack::append_str(rec, "kubernetes");
  std::string nested;
  msgpack::append_map_header(nested, 2);
  msgpack::append_str(nested, "labels");
  msgpack::append_array_header(nested, 3);
  msgpack::append_int(nested, -5);
  msgpack::append_nil(nested);
  msgpack::append_double(nested, 1.5);
  msgpack::append_str(nested, "q\"uote");
  msgpack::append_bool(nested, true);
  rec += nested;
  msgpack::append_str(rec, "big");
  msgpack::append_uint(rec, 18446744073709551615ull);
  msgpack::append_str(rec, "bin");
  msgpack::append_bin(rec, "raw");
  msgpack::append_int(rec, 7);  // integer key
  msgpack::append_str(rec, "seven");
  msgpack::append_str(rec, "f");
  msgpack::append_double(rec, 0.25);
  std::string f;
  msgpack::append_array_header(f, 3);
  msgpack::append_str(f, "t");
  msgpack::append_int(f, 100);
  f += rec;
  Limits l;
  FrameScanner sc(l);
  uint64_t len;
  std::string err;
  ASSERT_EQ(sc.scan(f, len, err), FrameScanner::Status::Complete);
  FrameDecoder dec(l);
  Batch b;
  FrameInfo info;
  ASSERT_TRUE(dec.decode(f, b, info, err)) << err;
  ASSERT_EQ(b.records.size(), 1u);
  std::string j;
  json::append_record(j, b, b.records[0]);
  EXPECT_EQ(j, R"({"kubernetes":{"labels":[-5,null,1.5],"q\"uote":true},"big":18446744073709551615,"bin":"raw","7":"seven","f":0.25})");
  const Value* k = b.find(b.records[0], "kubernetes");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->kind, ValueKind::Json);
  EXPECT_EQ(k->packed, nested);  // forwarding again is a copy of these bytes
  // Re-encoding the record gives back the same map (bin becomes str, as msgpack-ruby would).
  std::string again;
  msgpack::append_record(again, b, b.records[0]);
  std::string want = rec;
  size_t at = want.find(std::string("\xc4\x03raw", 5));
  ASSERT_NE(at, std::string::npos);
  want.replace(at, 5, std::string("\xa3raw", 4));
  at = want.find(std::string("\x07\xa5seven", 7));
  ASSERT_NE(at, std::string::npos);
  want.replace(at, 1, "\xa1" "7");  // keys become strings
  EXPECT_EQ(again, want);
}

TEST(ForwardDecoder, InvalidEventsAreSkippedNotFatal) {
  // Forward mode: a v1.5 metadata entry, a non-map record, a string time, then a good one.
  std::string f;
  msgpack::append_array_header(f, 2);
  msgpack::append_str(f, "t");
  msgpack::append_array_header(f, 4);
  msgpack::append_array_header(f, 2);
  msgpack::append_array_header(f, 2);
  msgpack::append_int(f, 1);
  msgpack::append_map_header(f, 0);
  msgpack::append_map_header(f, 0);
  msgpack::append_array_header(f, 2);
  msgpack::append_int(f, 1);
  msgpack::append_str(f, "not a map");
  msgpack::append_array_header(f, 2);
  msgpack::append_str(f, "yesterday");
  msgpack::append_map_header(f, 0);
  msgpack::append_array_header(f, 2);
  msgpack::append_int(f, 0);  // 0 means now
  msgpack::append_map_header(f, 1);
  msgpack::append_str(f, "ok");
  msgpack::append_bool(f, true);
  auto d = decode(f);
  ASSERT_TRUE(d.ok) << d.error;
  EXPECT_EQ(d.info.skipped, 3u);
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0], R"({"ok":true})");
  EXPECT_EQ(d.times[0], fixed_now());
}

TEST(ForwardDecoder, RandomGarbageNeverCrashes) {
  std::mt19937 rng(12345);
  Limits l;
  l.max_frame = 1 << 16;
  l.max_inflated = 1 << 18;
  std::vector<std::string> seeds;
  for (const char* name : kComplete) seeds.push_back(fixture(name));
  for (int iter = 0; iter < 20000; ++iter) {
    std::string data;
    if (iter % 2 == 0) {
      size_t n = rng() % 300;
      for (size_t i = 0; i < n; ++i) data.push_back(char(rng()));
    } else {  // mutate a real frame
      data = seeds[rng() % seeds.size()];
      int flips = 1 + rng() % 4;
      for (int i = 0; i < flips && !data.empty(); ++i) data[rng() % data.size()] = char(rng());
      if (rng() % 3 == 0) data += seeds[rng() % seeds.size()];
    }
    // As the server does: frames off the stream until NeedMore or an error.
    std::string_view rest(data);
    FrameDecoder dec(l);
    while (!rest.empty()) {
      FrameScanner sc(l);
      uint64_t len = 0;
      std::string err;
      auto st = sc.scan(rest, len, err);
      if (st != FrameScanner::Status::Complete) break;
      ASSERT_LE(len, rest.size());
      Batch b;
      FrameInfo info;
      if (dec.decode(rest.substr(0, len), b, info, err)) {
        std::string j;
        for (auto& r : b.records) json::append_record(j, b, r);
      }
      rest.remove_prefix(size_t(len));
    }
  }
}
