#include "request_handler.h"

#include <gtest/gtest.h>

#include <zlib.h>

#include <string>

#include "format/json.h"
#include "format/msgpack.h"

namespace sluice::in_http {
namespace {

EventTime fixed_now() { return {1700000000, 5}; }

http::RequestHead head_of(std::string method, std::string target,
                          std::vector<std::pair<std::string, std::string>> headers = {}) {
  http::RequestHead h;
  h.method = std::move(method);
  h.target = std::move(target);
  h.path = h.target.substr(0, h.target.find('?'));
  h.version = "HTTP/1.1";
  h.headers = std::move(headers);
  return h;
}

struct Outcome {
  Response response;
  std::vector<std::pair<EventTime, std::string>> records;  // time, JSON
  std::string tag;
  BodyInfo info;
};

Outcome run(RequestHandler& handler, const http::RequestHead& head, std::string_view body = {}) {
  Batch batch;
  Outcome o;
  handler.now = fixed_now;
  o.response = handler.handle(head, body, "10.0.0.9", true, batch, o.info);
  o.tag = std::string(batch.tag);
  for (const Record& r : batch.records) {
    std::string json;
    json::append_record(json, batch, r);
    o.records.emplace_back(r.time, json);
  }
  return o;
}

const std::string kJsonType = "content-type";

TEST(InHttpHandler, FormJsonParameterWithTimeParameter) {
  RequestHandler h({}, nullptr);
  auto o = run(h, head_of("POST", "/app/tag", {{kJsonType, "application/x-www-form-urlencoded"}}),
               "json=%7B%22a%22%3A1%7D&time=1293974055.5");
  EXPECT_EQ(o.response.status, 200);
  EXPECT_EQ(o.tag, "app.tag");
  ASSERT_EQ(o.records.size(), 1u);
  EXPECT_EQ(o.records[0].second, R"({"a":1})");
  EXPECT_EQ(o.records[0].first, (EventTime{1293974055, 500000000}));
}

TEST(InHttpHandler, JsonArrayBodySkipsNonObjectsAndTakesTheTimeField) {
  RequestHandler h({}, nullptr);
  auto o = run(h, head_of("POST", "/t", {{kJsonType, "application/json; charset=utf-8"}}),
               R"([{"a":1,"time":1600000000},2,{"b":{"c":[1]},"time":1600000000.25}])");
  EXPECT_EQ(o.response.status, 200);
  ASSERT_EQ(o.records.size(), 2u);
  EXPECT_EQ(o.records[0].second, R"({"a":1})");
  EXPECT_EQ(o.records[0].first, (EventTime{1600000000, 0}));
  EXPECT_EQ(o.records[1].second, R"({"b":{"c":[1]}})");
  EXPECT_EQ(o.records[1].first, (EventTime{1600000000, 250000000}));
  EXPECT_EQ(o.info.skipped, 1u);
}

TEST(InHttpHandler, RecordWithoutTimeGetsNowAndTimeParamKeepsTheField) {
  RequestHandler h({}, nullptr);
  auto o = run(h, head_of("POST", "/t?time=100", {{kJsonType, "application/json"}}), R"({"time":5,"x":"y"})");
  ASSERT_EQ(o.records.size(), 1u);
  EXPECT_EQ(o.records[0].first, (EventTime{100, 0}));
  EXPECT_EQ(o.records[0].second, R"({"time":5,"x":"y"})");
  auto now = run(h, head_of("POST", "/t", {{kJsonType, "application/json"}}), R"({"x":"y"})");
  EXPECT_EQ(now.records[0].first, fixed_now());
}

TEST(InHttpHandler, MsgpackBodyAndNdjson) {
  RequestHandler h({}, nullptr);
  std::string mp;
  msgpack::append_array_header(mp, 2);
  msgpack::append_map_header(mp, 2);
  msgpack::append_str(mp, "a");
  msgpack::append_int(mp, 1);
  msgpack::append_str(mp, "m");
  msgpack::append_json(mp, R"({"k":[true,null]})");
  msgpack::append_map_header(mp, 1);
  msgpack::append_str(mp, "b");
  msgpack::append_str(mp, "two");
  auto o = run(h, head_of("POST", "/m", {{kJsonType, "application/msgpack"}}), mp);
  ASSERT_EQ(o.records.size(), 2u);
  EXPECT_EQ(o.records[0].second, R"({"a":1,"m":{"k":[true,null]}})");
  EXPECT_EQ(o.records[1].second, R"({"b":"two"})");

  auto nd =
      run(h, head_of("POST", "/n", {{kJsonType, "application/x-ndjson"}}), "{\"a\":1}\r\nnope\n{\"a\":2}\n");
  ASSERT_EQ(nd.records.size(), 2u);
  EXPECT_EQ(nd.records[1].second, R"({"a":2})");
  EXPECT_EQ(nd.info.skipped, 1u);
}

TEST(InHttpHandler, GarbageIsA400WithAReasonAndNoRecords) {
  RequestHandler h({}, nullptr);
  for (auto [type, body] : {std::pair<std::string, std::string>{"application/json", "{not json"},
                            {"application/json", "42"},
                            {"application/msgpack", "\x92\x01"},
                            {"application/x-www-form-urlencoded", "other=1"},
                            {"text/plain", "hello"}}) {
    auto o = run(h, head_of("POST", "/t", {{kJsonType, type}}), body);
    EXPECT_EQ(o.response.status, 400) << type << " " << body;
    EXPECT_TRUE(o.records.empty());
    EXPECT_GT(o.response.body.size(), std::string("400 Bad Request\n").size());
  }
  auto string_time =
      run(h, head_of("POST", "/t", {{kJsonType, "application/json"}}), R"({"time":"yesterday"})");
  EXPECT_EQ(string_time.response.status, 400);
  auto no_tag = run(h, head_of("POST", "/", {{kJsonType, "application/json"}}), "{}");
  EXPECT_EQ(no_tag.response.status, 400);
}

TEST(InHttpHandler, HealthcheckGetAnswers200AndEmitsNothing) {
  RequestHandler h({}, nullptr);
  auto o = run(h, head_of("GET", "/fluentd.healthcheck?json=%7B%22ping%22%3A+%22pong%22%7D"));
  EXPECT_EQ(o.response.status, 200);
  EXPECT_TRUE(o.response.close);
  EXPECT_TRUE(o.records.empty());  // as Fluentd 1.18: a GET is a health check, not an event
  auto plain = run(h, head_of("GET", "/"));
  EXPECT_EQ(plain.response.status, 200);
  EXPECT_TRUE(plain.records.empty());
}

TEST(InHttpHandler, RequestFieldsAndResponseOptions) {
  HandlerSettings s;
  s.add_http_headers = true;
  s.add_remote_addr = true;
  s.add_query_params = true;
  s.use_204_response = true;
  s.add_tag_prefix = "pre";
  RequestHandler h(s, nullptr);
  auto o = run(
      h,
      head_of("POST", "/t?a-b=c", {{kJsonType, "application/json"}, {"x-forwarded-for", "1.2.3.4, 5.6.7.8"}}),
      R"({"REMOTE_ADDR":"own","v":1})");
  EXPECT_EQ(o.response.status, 204);
  EXPECT_EQ(o.tag, "pre.t");
  ASSERT_EQ(o.records.size(), 1u);
  EXPECT_EQ(o.records[0].second,
            R"({"REMOTE_ADDR":"1.2.3.4","v":1,"HTTP_CONTENT_TYPE":"application/json",)"
            R"("HTTP_X_FORWARDED_FOR":"1.2.3.4, 5.6.7.8","QUERY_A_B":"c"})");
}

TEST(InHttpHandler, Cors) {
  HandlerSettings s;
  s.cors = true;
  s.cors_allow_origins = {"http://*.foo.com"};
  RequestHandler h(s, nullptr);
  auto ok =
      run(h, head_of("POST", "/t", {{kJsonType, "application/json"}, {"origin", "http://a.foo.com"}}), "{}");
  EXPECT_EQ(ok.response.status, 200);
  bool has_allow = false;
  for (auto& [k, v] : ok.response.headers)
    has_allow |= k == "Access-Control-Allow-Origin" && v == "http://a.foo.com";
  EXPECT_TRUE(has_allow);
  auto denied =
      run(h, head_of("POST", "/t", {{kJsonType, "application/json"}, {"origin", "http://bar.com"}}), "{}");
  EXPECT_EQ(denied.response.status, 403);
  EXPECT_TRUE(denied.records.empty());
  auto preflight = run(
      h,
      head_of("OPTIONS", "/t", {{"origin", "http://a.foo.com"}, {"access-control-request-method", "POST"}}));
  EXPECT_EQ(preflight.response.status, 200);
  auto bad_preflight = run(
      h,
      head_of("OPTIONS", "/t", {{"origin", "http://a.foo.com"}, {"access-control-request-method", "PUT"}}));
  EXPECT_EQ(bad_preflight.response.status, 403);
}

TEST(InHttpHandler, TimeParamFollowsRubyToF) {
  EXPECT_EQ(time_param("1.5", fixed_now()), (EventTime{1, 500000000}));
  EXPECT_EQ(time_param("12abc", fixed_now()), (EventTime{12, 0}));
  EXPECT_EQ(time_param("abc", fixed_now()), fixed_now());
  EXPECT_EQ(time_param("0", fixed_now()), fixed_now());
}

TEST(InHttpHandler, FormDecodingAsWebrickDoes) {
  FormFields f;
  decode_form("a=1+2%21;b&c=%zz&=e&a=second", f);
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[0], (std::pair<std::string, std::string>{"a", "1 2!"}));
  EXPECT_EQ(f[1], (std::pair<std::string, std::string>{"b", ""}));
  EXPECT_EQ(f[2], (std::pair<std::string, std::string>{"c", "%zz"}));
  EXPECT_EQ(f[3], (std::pair<std::string, std::string>{"", "e"}));
  EXPECT_EQ(*form_value(f, "a"), "1 2!");
}

TEST(InHttpHandler, MsgpackFormParameterWinsOverJson) {
  RequestHandler h({}, nullptr);
  // msgpack {"k":"v"} percent-encoded.
  auto o =
      run(h, head_of("POST", "/t?json=%7B%22j%22%3A1%7D", {{kJsonType, "application/x-www-form-urlencoded"}}),
          "msgpack=%81%A1k%A1v");
  ASSERT_EQ(o.records.size(), 1u);
  EXPECT_EQ(o.records[0].second, R"({"k":"v"})");
}

std::string gzip(std::string_view text) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, uLong(text.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = uInt(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(InHttpHandler, GzipBodyWithinTheDecompressionLimit) {
  HandlerSettings s;
  s.decompression_size_limit = 100;
  RequestHandler h(s, nullptr);
  auto ok = run(h, head_of("POST", "/t", {{kJsonType, "application/json"}, {"content-encoding", "gzip"}}),
                gzip(R"({"z":1})"));
  ASSERT_EQ(ok.records.size(), 1u);
  EXPECT_EQ(ok.records[0].second, R"({"z":1})");
  auto bomb = run(h, head_of("POST", "/t", {{kJsonType, "application/json"}, {"content-encoding", "gzip"}}),
                  gzip("[" + std::string(10000, ' ') + "]"));
  EXPECT_EQ(bomb.response.status, 400);
  EXPECT_NE(bomb.response.body.find("decompression_size_limit"), std::string::npos);
  auto broken = run(h, head_of("POST", "/t", {{kJsonType, "application/json"}, {"content-encoding", "gzip"}}),
                    "not gzip");
  EXPECT_EQ(broken.response.status, 400);
}

TEST(InHttpHandler, TimeFieldRules) {
  HandlerSettings s;
  s.record_time.key = "ts";
  s.record_time.keep = true;
  s.record_time.parser.emplace("%Y-%m-%d %H:%M:%S", TimeParser::Type::String, true);
  RequestHandler h(s, nullptr);
  auto o = run(h, head_of("POST", "/t", {{kJsonType, "application/json"}}),
               R"([{"ts":"2020-06-10 01:14:27","a":1},{"ts":null},{"ts":false}])");
  ASSERT_EQ(o.records.size(), 3u);
  EXPECT_EQ(o.records[0].first, (EventTime{1591751667, 0}));
  EXPECT_EQ(o.records[0].second, R"({"ts":"2020-06-10 01:14:27","a":1})");
  EXPECT_EQ(o.records[1].first, fixed_now());
  EXPECT_EQ(o.records[2].first, fixed_now());
  auto bad = run(h, head_of("POST", "/t", {{kJsonType, "application/json"}}), R"({"ts":"June"})");
  EXPECT_EQ(bad.response.status, 400);
}

TEST(InHttpHandler, SerializedResponse) {
  Response r = error_response(413, "too big");
  std::string wire = serialize(r);
  EXPECT_EQ(wire.rfind("HTTP/1.1 413 Request Entity Too Large\r\n", 0), 0u);
  EXPECT_NE(wire.find("Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n"), std::string::npos);
}

}  // namespace
}  // namespace sluice::in_http
