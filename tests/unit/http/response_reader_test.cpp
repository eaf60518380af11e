// ResponseReader: HTTP/1.1 responses as a plain-HTTP transport reads them from a socket, whole, in
// pieces and byte by byte, and the malformed or oversized ones it must refuse.
#include "http/response_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

using sluice::http::HeaderList;
using sluice::http::ResponseReader;
using State = ResponseReader::State;

namespace {

constexpr size_t kMaxBody = 1 << 20;

// Everything a caller looks at once the reader is done.
struct Result {
  State state = State::Incomplete;
  long status = 0;
  HeaderList headers;
  std::string body;
  std::string error;
  bool reusable = false;
  bool started = false;
  bool too_large = false;
  size_t extra = 0;

  bool operator==(const Result& o) const {
    // After an error the reader stops where it failed, so the count of unread bytes depends on
    // how they arrived.
    const bool same_extra = state == State::Error || extra == o.extra;
    return state == o.state && status == o.status && headers == o.headers && body == o.body &&
           error == o.error && reusable == o.reusable && started == o.started &&
           too_large == o.too_large && same_extra;
  }
};

std::ostream& operator<<(std::ostream& os, const Result& r) {
  os << "state=" << static_cast<int>(r.state) << " status=" << r.status << " headers=" << r.headers.size()
     << " body=" << r.body.size() << "B error='" << r.error << "' reusable=" << r.reusable
     << " started=" << r.started << " too_large=" << r.too_large << " extra=" << r.extra;
  return os;
}

Result result_of(ResponseReader& r) {
  return {r.state(), r.status(), r.headers(), r.body(), r.error(), r.reusable(), r.started(), r.body_too_large(),
          r.extra_bytes()};
}

// The bytes fed in the given pieces, then (when `eof`) the end of the connection.
Result read_pieces(const std::vector<std::string_view>& pieces, bool eof = false, size_t max_body = kMaxBody) {
  ResponseReader r(max_body);
  for (std::string_view p : pieces) r.feed(p);
  if (eof) r.finish_at_eof();
  return result_of(r);
}

Result read(std::string_view bytes, bool eof = false, size_t max_body = kMaxBody) {
  return read_pieces({bytes}, eof, max_body);
}

// One byte per feed, and two pieces at every split point: all must be the one-shot result.
void expect_same_however_split(std::string_view bytes, bool eof, size_t max_body = kMaxBody) {
  const Result whole = read(bytes, eof, max_body);
  ResponseReader bytewise(max_body);
  for (size_t i = 0; i < bytes.size(); ++i) bytewise.feed(bytes.substr(i, 1));
  if (eof) bytewise.finish_at_eof();
  EXPECT_EQ(result_of(bytewise), whole) << "byte by byte: " << bytes;
  for (size_t at = 0; at <= bytes.size(); ++at)
    EXPECT_EQ(read_pieces({bytes.substr(0, at), bytes.substr(at)}, eof, max_body), whole)
        << "split at " << at << ": " << bytes;
}

const std::string kBulkBody = R"({"took":3,"errors":false,"items":[{"index":{"_index":"logs","status":201}}]})";

const std::string kChunked =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Transfer-Encoding: chunked\r\n"
    "\r\n"
    "19;name=value;other=\"quoted\"\r\n"
    "{\"took\":3,\"errors\":false,\r\n"
    "A \r\n"
    "\"items\":[]\r\n"
    "1\r\n"
    "}\r\n"
    "0;last\r\n"
    "X-Trailer: yes\r\n"
    "Another: one\r\n"
    "\r\n";

}  // namespace

TEST(ResponseReader, ContentLengthBody) {
  const std::string bytes = "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\ncontent-length: " +
                            std::to_string(kBulkBody.size()) + "\r\n\r\n" + kBulkBody;
  ResponseReader r(kMaxBody);
  EXPECT_FALSE(r.started());
  EXPECT_EQ(r.feed(bytes), State::Complete);
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.headers(), (HeaderList{{"Content-Type", "application/json; charset=UTF-8"},
                                     {"content-length", std::to_string(kBulkBody.size())}}));
  EXPECT_EQ(r.body(), kBulkBody);
  EXPECT_TRUE(r.started());
  EXPECT_TRUE(r.reusable());
  EXPECT_EQ(r.extra_bytes(), 0u);
  EXPECT_TRUE(r.error().empty());
  // The end of the connection after a complete response changes nothing.
  EXPECT_EQ(r.finish_at_eof(), State::Complete);
  EXPECT_TRUE(r.reusable());
}

TEST(ResponseReader, IncompleteUntilTheLastByte) {
  const std::string bytes = "HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello";
  ResponseReader r(kMaxBody);
  EXPECT_EQ(r.feed(std::string_view(bytes).substr(0, bytes.size() - 1)), State::Incomplete);
  EXPECT_EQ(r.state(), State::Incomplete);
  EXPECT_EQ(r.feed("o"), State::Complete);
  EXPECT_EQ(r.status(), 201);
  EXPECT_EQ(r.body(), "hello");
}

TEST(ResponseReader, ZeroContentLength) {
  Result r = read("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r.state, State::Complete);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_TRUE(r.reusable);
}

TEST(ResponseReader, NoContentAndNotModifiedHaveNoBody) {
  for (const char* bytes : {"HTTP/1.1 204 No Content\r\nDate: today\r\n\r\n",
                            "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"}) {
    Result r = read(bytes);
    EXPECT_EQ(r.state, State::Complete) << bytes;
    EXPECT_EQ(r.body, "");
    EXPECT_TRUE(r.reusable);
    EXPECT_EQ(r.headers.size(), 1u);
  }
  EXPECT_EQ(read("HTTP/1.1 204 No Content\r\n\r\n").status, 204);
}

TEST(ResponseReader, ChunkedWithExtensionsAndTrailers) {
  Result r = read(kChunked);
  EXPECT_EQ(r.state, State::Complete) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"took":3,"errors":false,"items":[]})");
  // Trailer fields are read past, not added to the headers.
  EXPECT_EQ(r.headers, (HeaderList{{"Content-Type", "application/json"}, {"Transfer-Encoding", "chunked"}}));
  EXPECT_TRUE(r.reusable);
  EXPECT_EQ(r.extra, 0u);
}

TEST(ResponseReader, ChunkedSizesInEitherCase) {
  Result r = read("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
                  "0000a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0\r\n\r\n");
  EXPECT_EQ(r.state, State::Complete) << r.error;
  EXPECT_EQ(r.body, "0123456789abcdefghijk");
}

TEST(ResponseReader, EverySplitGivesTheOneShotResult) {
  const std::string content_length = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kBulkBody.size()) +
                                     "\r\nX-Elastic-Product: Elasticsearch\r\n\r\n" + kBulkBody;
  expect_same_however_split(kChunked, false);
  expect_same_however_split(kChunked, true);
  expect_same_however_split(content_length, false);
  expect_same_however_split("HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n" + content_length, false);
  expect_same_however_split("HTTP/1.0 200 OK\nServer: old\n\n" + kBulkBody, true);
  expect_same_however_split(content_length + "trailing", false);
  // Errors: at the same byte with the same message.
  expect_same_however_split("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n", true);
  expect_same_however_split("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n", true, 10);
  expect_same_however_split("HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nshort", true);
  expect_same_however_split("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", true);
}

TEST(ResponseReader, BodyToTheEndOfTheConnection) {
  ResponseReader r(kMaxBody);
  EXPECT_EQ(r.feed("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome "), State::Incomplete);
  EXPECT_EQ(r.feed("body"), State::Incomplete);
  EXPECT_EQ(r.finish_at_eof(), State::Complete);
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.body(), "some body");
  EXPECT_FALSE(r.reusable());

  Result empty = read("HTTP/1.1 500 Internal Server Error\r\n\r\n", true);
  EXPECT_EQ(empty.state, State::Complete);
  EXPECT_EQ(empty.status, 500);
  EXPECT_EQ(empty.body, "");
  EXPECT_FALSE(empty.reusable);
}

TEST(ResponseReader, ConnectionCloseIsNotReusable) {
  for (const char* value : {"close", "Close", "keep-alive, close", "upgrade ,CLOSE "}) {
    Result r = read(std::string("HTTP/1.1 200 OK\r\nConnection: ") + value + "\r\nContent-Length: 2\r\n\r\nok");
    EXPECT_EQ(r.state, State::Complete) << value;
    EXPECT_EQ(r.body, "ok");
    EXPECT_FALSE(r.reusable) << value;
  }
  // A token that merely contains "close" is not it.
  EXPECT_TRUE(read("HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n").reusable);
}

TEST(ResponseReader, Http10ReusableOnlyWithKeepAlive) {
  Result plain = read("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_EQ(plain.state, State::Complete);
  EXPECT_EQ(plain.body, "ok");
  EXPECT_FALSE(plain.reusable);

  Result keep = read("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_EQ(keep.state, State::Complete);
  EXPECT_TRUE(keep.reusable);

  Result both = read("HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_FALSE(both.reusable);
}

TEST(ResponseReader, InterimResponsesAreSkipped) {
  ResponseReader r(kMaxBody);
  EXPECT_EQ(r.feed("HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n"), State::Incomplete);
  EXPECT_TRUE(r.started());
  EXPECT_EQ(r.feed("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"), State::Incomplete);
  EXPECT_EQ(r.feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"), State::Complete);
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.headers(), (HeaderList{{"Content-Length", "2"}}));
  EXPECT_EQ(r.body(), "{}");
  EXPECT_TRUE(r.reusable());

  // The end of the connection after an interim response only.
  Result cut = read("HTTP/1.1 100 Continue\r\n\r\n", true);
  EXPECT_EQ(cut.state, State::Error);
  EXPECT_TRUE(cut.started);
  EXPECT_EQ(cut.error, "connection closed before the end of the response");
}

TEST(ResponseReader, SwitchingProtocolsIsAnError) {
  Result r = read("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  EXPECT_EQ(r.state, State::Error);
  EXPECT_NE(r.error.find("101"), std::string::npos) << r.error;
  EXPECT_FALSE(r.reusable);
}

TEST(ResponseReader, ChunkedWinsOverContentLength) {
  Result r = read("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(r.state, State::Complete) << r.error;
  EXPECT_EQ(r.body, "hello");
  EXPECT_FALSE(r.reusable);  // the server framed it two ways: do not trust the connection
  EXPECT_EQ(r.extra, 0u);
}

TEST(ResponseReader, ContentLengths) {
  Result same = read("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 02\r\n\r\nok");
  EXPECT_EQ(same.state, State::Complete) << same.error;
  EXPECT_EQ(same.body, "ok");

  Result conflict = read("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk");
  EXPECT_EQ(conflict.state, State::Error);
  EXPECT_EQ(conflict.error, "conflicting Content-Length");
  EXPECT_EQ(conflict.body, "");
  // Even when the first is 0.
  EXPECT_EQ(read("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\nx").error,
            "conflicting Content-Length");

  for (const char* value : {"", "-1", "+1", "1.0", "0x10", "1 2", "2, 2", "1234567890123456", "abc"}) {
    Result r = read(std::string("HTTP/1.1 200 OK\r\nContent-Length: ") + value + "\r\n\r\n");
    EXPECT_EQ(r.state, State::Error) << "'" << value << "'";
    EXPECT_EQ(r.error, "invalid Content-Length") << "'" << value << "'";
  }
  // Optional whitespace around the value is not part of it.
  EXPECT_EQ(read("HTTP/1.1 200 OK\r\nContent-Length:\t 2 \t\r\n\r\nok").body, "ok");
}

TEST(ResponseReader, UnsupportedTransferEncoding) {
  for (const char* value : {"gzip", "chunked, gzip", "gzip, chunked", "identity", "", "chunkedx"}) {
    Result r = read(std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: ") + value + "\r\n\r\n0\r\n\r\n");
    EXPECT_EQ(r.state, State::Error) << "'" << value << "'";
    EXPECT_EQ(r.error, "unsupported Transfer-Encoding") << "'" << value << "'";
  }
  // A second field with another coding.
  EXPECT_EQ(read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n").error,
            "unsupported Transfer-Encoding");
}

TEST(ResponseReader, MalformedStatusLines) {
  for (const char* line : {"HTTP/2 200", "HTTP/1.1 20", "HTTP/1.1 2000", "HTTP/1.1 200OK", "garbage",
                           "HTTP/1.2 200 OK", "http/1.1 200 OK", "HTTP/1.1  200 OK", "HTTP/1.1 099 Low",
                           "HTTP/1.1 2x0 OK", " HTTP/1.1 200 OK", "", "ICY 200 OK"}) {
    Result r = read(std::string(line) + "\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(r.state, State::Error) << "'" << line << "'";
    EXPECT_EQ(r.error, "malformed status line") << "'" << line << "'";
    EXPECT_TRUE(r.started);
  }
  // The reason phrase is optional, and may be anything.
  EXPECT_EQ(read("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").state, State::Complete);
  EXPECT_EQ(read("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n").state, State::Complete);
  EXPECT_EQ(read("HTTP/1.1 599 \xff weird: reason\r\nContent-Length: 0\r\n\r\n").status, 599);
}

TEST(ResponseReader, MalformedHeaderFields) {
  for (const char* field : {"NoColon", ": empty name", " Folded: x", "\tX: y", "Bad Name: x", "Bad\x01: x",
                            "Quote\": x", "Name : x"}) {
    Result r = read(std::string("HTTP/1.1 200 OK\r\n") + field + "\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(r.state, State::Error) << "'" << field << "'";
    EXPECT_EQ(r.error, "malformed header field") << "'" << field << "'";
  }
  // An obsolete line folding: a continuation line starting with whitespace.
  Result fold = read("HTTP/1.1 200 OK\r\nX-Long: first\r\n second\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(fold.state, State::Error);
  EXPECT_EQ(fold.error, "malformed header field");

  // Empty values and colons inside values are fine.
  Result ok = read("HTTP/1.1 200 OK\r\nX-Empty:\r\nLocation: http://h:9200/x\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(ok.state, State::Complete) << ok.error;
  EXPECT_EQ(ok.headers, (HeaderList{{"X-Empty", ""}, {"Location", "http://h:9200/x"}, {"Content-Length", "0"}}));
}

TEST(ResponseReader, HeadLimit) {
  const std::string start = "HTTP/1.1 200 OK\r\n", end = "Content-Length: 0\r\n\r\n";
  auto head_of = [&](size_t total) {
    return start + "X-Big: " + std::string(total - start.size() - end.size() - 9, 'a') + "\r\n" + end;
  };
  const std::string at_limit = head_of(ResponseReader::kMaxHeadBytes);
  ASSERT_EQ(at_limit.size(), ResponseReader::kMaxHeadBytes);
  Result ok = read(at_limit);
  EXPECT_EQ(ok.state, State::Complete) << ok.error;
  EXPECT_EQ(ok.headers[0].second.size(), ResponseReader::kMaxHeadBytes - start.size() - end.size() - 9);
  // However the head arrives: as a socket would deliver it, in reads of any size.
  for (size_t piece : {1, 2, 1000, 4096, 16384, 40000}) {
    ResponseReader r(kMaxBody);
    for (size_t at = 0; at < at_limit.size(); at += piece) r.feed(std::string_view(at_limit).substr(at, piece));
    EXPECT_EQ(result_of(r), ok) << "pieces of " << piece;
  }

  const std::string over = head_of(ResponseReader::kMaxHeadBytes + 1);
  Result r = read(over);
  EXPECT_EQ(r.state, State::Error);
  EXPECT_EQ(r.error, "response head longer than 65536 bytes");
  for (size_t piece : {1, 4096, 40000}) {
    ResponseReader pieces(kMaxBody);
    for (size_t at = 0; at < over.size(); at += piece) pieces.feed(std::string_view(over).substr(at, piece));
    EXPECT_EQ(result_of(pieces), r) << "pieces of " << piece;
  }

  // A line without its end counts too, so a server cannot make the reader buffer without bound.
  ResponseReader endless(kMaxBody);
  const std::string block(4096, 'b');
  endless.feed("HTTP/1.1 200 OK\r\nX: ");
  for (int i = 0; i < 20 && endless.state() == State::Incomplete; ++i) endless.feed(block);
  EXPECT_EQ(endless.state(), State::Error);
  EXPECT_EQ(endless.error(), "response head longer than 65536 bytes");

  // Interim responses count towards the limit: a server cannot send them forever.
  ResponseReader interims(kMaxBody);
  for (int i = 0; i < 10000 && interims.state() == State::Incomplete; ++i) interims.feed("HTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_EQ(interims.state(), State::Error);
  EXPECT_EQ(interims.error(), "response head longer than 65536 bytes");
}

TEST(ResponseReader, TrailersCountTowardsTheHeadLimit) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n";
  auto with_trailer = [&](size_t value) { return head + "X-T: " + std::string(value, 't') + "\r\n\r\n"; };
  // The head (status line and fields) plus the trailer section.
  const size_t counted = head.size() - 10 + 5 + 2 + 2;
  const std::string fits = with_trailer(ResponseReader::kMaxHeadBytes - counted);
  Result ok = read(fits);
  EXPECT_EQ(ok.state, State::Complete) << ok.error;
  EXPECT_EQ(ok.body, "ok");
  for (size_t piece : {1, 4096, 40000}) {
    ResponseReader r(kMaxBody);
    for (size_t at = 0; at < fits.size(); at += piece) r.feed(std::string_view(fits).substr(at, piece));
    EXPECT_EQ(result_of(r), ok) << "pieces of " << piece;
  }
  Result over = read(with_trailer(ResponseReader::kMaxHeadBytes - counted + 1));
  EXPECT_EQ(over.state, State::Error);
  EXPECT_EQ(over.error, "response trailers too long");
}

TEST(ResponseReader, HeaderCountLimit) {
  std::string head = "HTTP/1.1 200 OK\r\n";
  for (size_t i = 0; i < ResponseReader::kMaxHeaders - 1; ++i) head += "X-H" + std::to_string(i) + ": v\r\n";
  Result ok = read(head + "Content-Length: 0\r\n\r\n");
  EXPECT_EQ(ok.state, State::Complete) << ok.error;
  EXPECT_EQ(ok.headers.size(), ResponseReader::kMaxHeaders);

  Result over = read(head + "X-One-More: v\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(over.state, State::Error);
  EXPECT_EQ(over.error, "more than 100 header fields");
}

TEST(ResponseReader, BodyLargerThanTheLimit) {
  const size_t limit = 10;
  // Announced by Content-Length: refused before any of it arrives.
  ResponseReader announced(limit);
  EXPECT_EQ(announced.feed("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n"), State::Error);
  EXPECT_TRUE(announced.body_too_large());
  EXPECT_NE(announced.error().find("larger"), std::string::npos) << announced.error();
  EXPECT_EQ(announced.error(), "response larger than 10 bytes");
  EXPECT_FALSE(announced.reusable());

  Result huge = read("HTTP/1.1 200 OK\r\nContent-Length: 999999999999999\r\n\r\n", false, limit);
  EXPECT_EQ(huge.state, State::Error);
  EXPECT_TRUE(huge.too_large);

  // In chunks: the chunk that would cross the limit.
  Result chunks = read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n123456\r\n5\r\n", false, limit);
  EXPECT_EQ(chunks.state, State::Error);
  EXPECT_TRUE(chunks.too_large);
  EXPECT_NE(chunks.error.find("larger"), std::string::npos) << chunks.error;
  Result big_chunk = read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n", false, limit);
  EXPECT_TRUE(big_chunk.too_large);

  // To the end of the connection: once more bytes arrive than fit.
  ResponseReader to_eof(limit);
  EXPECT_EQ(to_eof.feed("HTTP/1.1 200 OK\r\n\r\n123456"), State::Incomplete);
  EXPECT_EQ(to_eof.feed("78901"), State::Error);
  EXPECT_TRUE(to_eof.body_too_large());
  EXPECT_NE(to_eof.error().find("larger"), std::string::npos) << to_eof.error();
  EXPECT_EQ(to_eof.finish_at_eof(), State::Error);

  // Exactly the limit is fine, whichever way it is framed.
  EXPECT_EQ(read("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", false, limit).state, State::Complete);
  EXPECT_EQ(read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n0123\r\n6\r\n456789\r\n0\r\n\r\n",
                 false, limit).state,
            State::Complete);
  Result eof_ok = read("HTTP/1.1 200 OK\r\n\r\n0123456789", true, limit);
  EXPECT_EQ(eof_ok.state, State::Complete);
  EXPECT_FALSE(eof_ok.too_large);

  // Other errors are not "too large".
  EXPECT_FALSE(read("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", false, limit).too_large);
}

TEST(ResponseReader, EmptyReply) {
  ResponseReader r(kMaxBody);
  EXPECT_EQ(r.feed(""), State::Incomplete);
  EXPECT_FALSE(r.started());
  EXPECT_EQ(r.finish_at_eof(), State::Error);
  EXPECT_EQ(r.error(), "empty reply from server");
  EXPECT_FALSE(r.started());  // a reused connection the server had closed: the request may be retried
  EXPECT_FALSE(r.reusable());
}

TEST(ResponseReader, ConnectionClosedEarly) {
  for (const char* bytes : {"H", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
                            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhell",
                            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
                            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
                            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
                            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nTrailer: x\r\n"}) {
    Result r = read(bytes, true);
    EXPECT_EQ(r.state, State::Error) << bytes;
    EXPECT_EQ(r.error, "connection closed before the end of the response") << bytes;
    EXPECT_TRUE(r.started);
    EXPECT_FALSE(r.too_large);
    EXPECT_FALSE(r.reusable);
  }
}

TEST(ResponseReader, BytesAfterTheResponse) {
  ResponseReader r(kMaxBody);
  EXPECT_EQ(r.feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n"), State::Complete);
  EXPECT_EQ(r.body(), "ok");
  EXPECT_EQ(r.extra_bytes(), 17u);
  EXPECT_FALSE(r.reusable());
  // Later reads are counted, not parsed.
  EXPECT_EQ(r.feed("more"), State::Complete);
  EXPECT_EQ(r.extra_bytes(), 21u);
  EXPECT_EQ(r.body(), "ok");

  Result chunked = read(kChunked + "\r\n");
  EXPECT_EQ(chunked.state, State::Complete);
  EXPECT_EQ(chunked.extra, 2u);
  EXPECT_FALSE(chunked.reusable);

  Result no_content = read("HTTP/1.1 204 No Content\r\n\r\nbody");
  EXPECT_EQ(no_content.state, State::Complete);
  EXPECT_EQ(no_content.extra, 4u);
  EXPECT_FALSE(no_content.reusable);
}

TEST(ResponseReader, BareLineFeeds) {
  Result r = read("HTTP/1.1 200 OK\nContent-Type: application/json\nTransfer-Encoding: chunked\n\n"
                  "2\nok\n0\nTrailer: t\n\n");
  EXPECT_EQ(r.state, State::Complete) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers, (HeaderList{{"Content-Type", "application/json"}, {"Transfer-Encoding", "chunked"}}));
  EXPECT_EQ(r.body, "ok");
  EXPECT_TRUE(r.reusable);

  Result mixed = read("HTTP/1.1 200 OK\nContent-Length: 2\r\n\nok");
  EXPECT_EQ(mixed.state, State::Complete) << mixed.error;
  EXPECT_EQ(mixed.body, "ok");
}

TEST(ResponseReader, MalformedChunkSize) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const char* line : {"zz", "", ";ext", "-1", "0x5", "1 2", "1g", "10000000000000000", "0000000000000001"}) {
    Result r = read(head + line + "\r\nabc\r\n0\r\n\r\n", true);
    EXPECT_EQ(r.state, State::Error) << "'" << line << "'";
    EXPECT_EQ(r.error, "malformed chunk size") << "'" << line << "'";
    EXPECT_FALSE(r.too_large);
  }
  Result too_long = read(head + std::string(5000, '0') + "\r\n");
  EXPECT_EQ(too_long.state, State::Error);
  EXPECT_EQ(too_long.error, "chunk size line too long");
  // Long extensions are fine within the bound.
  Result ext = read(head + "3;" + std::string(4000, 'e') + "\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(ext.state, State::Complete) << ext.error;
  EXPECT_EQ(ext.body, "abc");
}

TEST(ResponseReader, MissingLineEndAfterChunkData) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const char* rest : {"3\r\nabcd\r\n0\r\n\r\n", "3\r\nabc0\r\n\r\n", "3\r\nabc \r\n0\r\n\r\n",
                           "3\r\nabc\r\r\n0\r\n\r\n"}) {
    Result r = read(head + rest, true);
    EXPECT_EQ(r.state, State::Error) << rest;
    EXPECT_EQ(r.error, "malformed chunk end") << rest;
    EXPECT_EQ(r.body, "abc");
  }
}

TEST(ResponseReader, NothingIsReadAfterAnError) {
  ResponseReader r(kMaxBody);
  EXPECT_EQ(r.feed("HTTP/9 200\r\n"), State::Error);
  EXPECT_EQ(r.feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), State::Error);
  EXPECT_EQ(r.error(), "malformed status line");
  EXPECT_EQ(r.status(), 0);
  EXPECT_EQ(r.finish_at_eof(), State::Error);
  EXPECT_EQ(r.error(), "malformed status line");
  EXPECT_FALSE(r.reusable());
}
