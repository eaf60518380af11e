#include "request_reader.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::in_http {
namespace {

using State = RequestReader::State;

// Feeds `wire` byte by byte (as a slow peer would), then returns the final state.
State feed_bytewise(RequestReader& r, const std::string& wire) {
  State s = State::NeedMore;
  for (size_t i = 1; i <= wire.size() && s == State::NeedMore; ++i)
    s = r.feed(std::string_view(wire).substr(0, i));
  return s;
}

TEST(InHttpReader, ContentLengthBodyAndPipelinedRest) {
  std::string wire =
      "POST /app.tag HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\njson={}GET / HTTP/1.1\r\n\r\n";
  RequestReader r({});
  ASSERT_EQ(r.feed(wire), State::Complete);
  EXPECT_EQ(r.head().method, "POST");
  EXPECT_EQ(r.head().path, "/app.tag");
  EXPECT_EQ(r.body(), "json={}");
  EXPECT_TRUE(r.keep_alive());
  EXPECT_EQ(wire.substr(r.consumed()), "GET / HTTP/1.1\r\n\r\n");
}

TEST(InHttpReader, ChunkedBodyByteByByte) {
  std::string wire =
      "POST /t HTTP/1.1\r\nTransfer-Encoding: "
      "chunked\r\n\r\n4;ext=1\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nX-Trailer: y\r\n\r\n";
  RequestReader r({});
  ASSERT_EQ(feed_bytewise(r, wire), State::Complete);
  EXPECT_EQ(r.body(), "{\"a\":1}");
  EXPECT_EQ(r.consumed(), wire.size());
}

TEST(InHttpReader, BodyLimitIsA413BeforeTheBodyArrives) {
  RequestReader r({.max_head = 1024, .max_body = 10});
  ASSERT_EQ(r.feed("POST /t HTTP/1.1\r\nContent-Length: 11\r\n\r\n"), State::Error);
  EXPECT_EQ(r.status(), 413);
  EXPECT_NE(r.reason().find("body_size_limit"), std::string::npos);

  RequestReader chunked({.max_head = 1024, .max_body = 10});
  EXPECT_EQ(chunked.feed("POST /t HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\n"),
            State::Error);
  EXPECT_EQ(chunked.status(), 413);
}

TEST(InHttpReader, MalformedInputIsA400WithAReason) {
  struct Case {
    std::string wire;
    int status;
  } cases[] = {
      {std::string("\x16\x03\x01\x02\x00", 5), 400},  // TLS to a plain port
      {"hello world\r\n\r\n", 400},
      {"POST /t HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400},
      {"POST /t HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", 400},
      {"POST /t HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"POST /t HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
      {"POST /t HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"POST /t HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", 400},
      {"POST /t HTTP/1.1\r\nExpect: something\r\n\r\n", 417},
  };
  for (auto& c : cases) {
    RequestReader r({});
    EXPECT_EQ(feed_bytewise(r, c.wire), State::Error) << c.wire;
    EXPECT_EQ(r.status(), c.status) << c.wire;
    EXPECT_FALSE(r.reason().empty());
    EXPECT_FALSE(r.keep_alive());
  }
}

TEST(InHttpReader, HeadLimitIsA431) {
  RequestReader r({.max_head = 64, .max_body = 100});
  std::string wire = "POST /t HTTP/1.1\r\nX-Long: " + std::string(100, 'a');
  EXPECT_EQ(r.feed(wire), State::Error);
  EXPECT_EQ(r.status(), 431);
}

TEST(InHttpReader, ExpectContinueAndConnectionRules) {
  RequestReader r({});
  EXPECT_EQ(r.feed("POST /t HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"), State::NeedMore);
  EXPECT_TRUE(r.take_continue());
  EXPECT_FALSE(r.take_continue());
  EXPECT_EQ(r.feed("POST /t HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}"),
            State::Complete);

  RequestReader close({});
  ASSERT_EQ(close.feed("POST /t HTTP/1.1\r\nConnection: close\r\n\r\n"), State::Complete);
  EXPECT_FALSE(close.keep_alive());
  EXPECT_EQ(close.body(), "");
  RequestReader old({});
  ASSERT_EQ(old.feed("GET /t HTTP/1.0\r\n\r\n"), State::Complete);
  EXPECT_FALSE(old.keep_alive());
  old.reset();
  ASSERT_EQ(old.feed("GET /t HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), State::Complete);
  EXPECT_TRUE(old.keep_alive());
}

}  // namespace
}  // namespace sluice::in_http
