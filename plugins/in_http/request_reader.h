// One HTTP/1.x request at a time out of a connection's byte stream: the head (parsed by
// http/request_head.h) and the body, framed by Content-Length or chunked transfer coding.
// Everything is bounded: the head by max_head, the body (decoded) by max_body, chunk-size lines
// and trailers by the head limit. Resumable: feed the connection's pending bytes again as they
// grow; nothing is scanned twice.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "http/request_head.h"

namespace sluice::in_http {

struct ReaderLimits {
  size_t max_head = 32 * 1024;
  uint64_t max_body = 32ull << 20;
};

class RequestReader {
 public:
  enum class State { NeedMore, Complete, Error };

  explicit RequestReader(ReaderLimits limits) : limits_(limits) {}

  // `pending` holds the bytes received since the start of this request (the same prefix on
  // every call, growing). Complete: the request is pending[0, consumed()). Error: status() and
  // reason() say what to answer; the connection cannot be read further.
  State feed(std::string_view pending);

  const http::RequestHead& head() const { return head_; }
  bool head_complete() const { return phase_ > Phase::Head; }
  // The body, decoded from any chunked coding. Views `pending` (Content-Length) or the reader.
  std::string_view body() const { return body_; }
  size_t consumed() const { return consumed_; }
  int status() const { return status_; }
  const std::string& reason() const { return reason_; }
  // True once, right after a head with `Expect: 100-continue` whose body is still to come.
  bool take_continue() { return std::exchange(continue_due_, false); }
  // Whether the connection may carry another request after this one (HTTP/1.1 unless
  // `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`).
  bool keep_alive() const { return keep_alive_; }
  // Forgets the request, for the next one on the connection.
  void reset();

 private:
  enum class Phase { Head, FixedBody, ChunkSize, ChunkData, ChunkDataEnd, Trailer, Done };

  State fail(int status, std::string reason);
  State read_head(std::string_view pending);
  State read_chunked(std::string_view pending);
  // The line that starts at pos_ (without CRLF/LF), or false when it is not complete yet.
  bool next_line(std::string_view pending, std::string_view& line, size_t& next);

  ReaderLimits limits_;
  Phase phase_ = Phase::Head;
  http::RequestHead head_;
  size_t head_len_ = 0;
  size_t scanned_ = 0;           // head bytes already searched for the empty line
  bool request_line_checked_ = false;
  uint64_t content_length_ = 0;
  uint64_t chunk_left_ = 0;
  size_t pos_ = 0;               // next byte of pending to read, after the head
  size_t trailer_start_ = 0;
  std::string chunked_body_;
  std::string_view body_;
  size_t consumed_ = 0;
  int status_ = 0;
  std::string reason_;
  bool continue_due_ = false;
  bool keep_alive_ = true;
};

}  // namespace sluice::in_http
