// out_forward's frame layout (Fluentd 1.18 as observed, fluentd-observed.md §2.4) and round trips
// through in_forward's decoder.
#include <gtest/gtest.h>

#include "../in_forward/forward_decoder.h"
#include "format/json.h"
#include "format/msgpack.h"

#include "forward_frame.h"

using namespace sluice;
using namespace sluice::forward_out;

namespace {
std::string hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string o;
  for (unsigned char c : s) {
    o.push_back(d[c >> 4]);
    o.push_back(d[c & 15]);
  }
  return o;
}
}  // namespace

TEST(OutForwardFrame, LayoutAsFluentd) {
  std::string head = frame_head("test.cat", 0x49);
  EXPECT_EQ(hex(head), "93a8" + hex("test.cat") + "db00000049");
  std::string opts = frame_options(2, "text", "ZhQHn2CIoUk0BDRhAh8VNw==\n");
  EXPECT_EQ(hex(opts), "83a4" + hex("size") + "02aa" + hex("compressed") + "a4" + hex("text") + "a5" +
                           hex("chunk") + "b9" + hex("ZhQHn2CIoUk0BDRhAh8VNw==\n"));
  // Without acks there is no chunk key.
  EXPECT_EQ(hex(frame_options(3, "gzip", "")),
            "82a4" + hex("size") + "03aa" + hex("compressed") + "a4" + hex("gzip"));
  // str32 even for tiny payloads.
  EXPECT_EQ(hex(frame_head("t", 1)), "93a174db00000001");
}

TEST(OutForwardFrame, RoundTripThroughTheDecoder) {
  Batch in;
  in.tag = "kubernetes.var.log.containers.a.log";
  in.begin_record(EventTime{1714564800, 123456789, false});
  in.add_field("log", Value::of_string("hello \"world\"\n"));
  in.add_field("n", Value::of_int(-42));
  std::string nested = R"({"pod":"a","labels":{"app":"x"},"list":[1,2.5,null,true]})";
  std::string nested_mp;
  ASSERT_TRUE(msgpack::append_json(nested_mp, nested));
  in.add_field("kubernetes", Value::of_json(nested, nested_mp));
  in.begin_record(EventTime{1795779412, 0, true});
  in.add_field("msg", Value::of_string("from python"));
  in.common_fields.push_back({"stream", Value::of_string("stdout")});

  std::string entries;
  for (auto& r : in.records) msgpack::append_entry(entries, in, r);
  std::string frame = frame_head(in.tag, entries.size()) + entries +
                      frame_options(in.records.size(), "text", "AAAAAAAAAAAAAAAAAAAAAA==\n");

  forward::Limits l;
  forward::FrameScanner sc(l);
  uint64_t len = 0;
  std::string err;
  ASSERT_EQ(sc.scan(frame, len, err), forward::FrameScanner::Status::Complete);
  ASSERT_EQ(len, frame.size());
  forward::FrameDecoder dec(l);
  Batch out;
  forward::FrameInfo info;
  ASSERT_TRUE(dec.decode(frame, out, info, err)) << err;
  EXPECT_EQ(info.mode, forward::FrameInfo::Mode::PackedForward);
  EXPECT_EQ(info.tag, in.tag);
  EXPECT_EQ(info.chunk, "AAAAAAAAAAAAAAAAAAAAAA==\n");
  ASSERT_EQ(out.records.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    std::string a, b;
    json::append_record(a, in, in.records[i]);
    json::append_record(b, out, out.records[i]);
    EXPECT_EQ(a, b);
    EXPECT_EQ(in.records[i].time, out.records[i].time);
    // And the msgpack of the decoded record re-encodes byte for byte.
    std::string ma, mb;
    msgpack::append_entry(ma, in, in.records[i]);
    msgpack::append_entry(mb, out, out.records[i]);
    EXPECT_EQ(hex(ma), hex(mb));
  }
}

TEST(OutForwardAck, OnlyTheChunksOwnIdAcknowledges) {
  std::string error;
  auto ack = [](std::string_view id) {
    std::string r;
    msgpack::append_map_header(r, 1);
    msgpack::append_str(r, "ack");
    msgpack::append_str(r, id);
    return r;
  };
  EXPECT_TRUE(check_ack(ack("abc\n"), "abc\n", error)) << error;
  EXPECT_FALSE(check_ack(ack("other\n"), "abc\n", error));
  EXPECT_EQ(error, "ack in response and chunk id in sent data are different");
  std::string no_ack;
  msgpack::append_map_header(no_ack, 1);
  msgpack::append_str(no_ack, "nack");
  msgpack::append_str(no_ack, "abc\n");
  EXPECT_FALSE(check_ack(no_ack, "abc\n", error));
  EXPECT_EQ(error.rfind("the server answered without an ack", 0), 0u) << error;
  EXPECT_FALSE(check_ack("\x93", "abc\n", error));
  EXPECT_EQ(error.rfind("unexpected response", 0), 0u) << error;
}

TEST(OutForwardServers, WeightedRoundRobinThenStandbysThenDown) {
  std::vector<Server> servers(4);
  for (size_t i = 0; i < servers.size(); ++i) servers[i].host = "s" + std::to_string(i);
  servers[0].weight = 2;
  servers[1].weight = 1;
  servers[2].standby = true;
  servers[3].down_until = 100;  // believed down until t=100
  std::string firsts;
  for (int round = 0; round < 6; ++round) {
    std::vector<Server*> order = order_servers(servers, 10);
    ASSERT_EQ(order.size(), 4u);
    firsts += order[0]->host + " ";
    EXPECT_EQ(order[2]->host, "s2");  // the standby after the primaries
    EXPECT_EQ(order[3]->host, "s3");  // the one down last, still tried
  }
  EXPECT_EQ(firsts, "s0 s1 s0 s0 s1 s0 ");  // 2:1, spread out
  EXPECT_EQ(order_servers(servers, 200)[0]->host, "s3");  // back up: its turn comes (weight 60)
}
