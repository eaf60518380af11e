// One HTTP/1.1 response read from the bytes of a connection as they arrive: the status line, the
// header fields and the body, framed by Content-Length, the chunked transfer coding or the end of
// the connection. Interim (1xx) responses are skipped. Everything the server sends is untrusted:
// the head, a chunk-size line and the body are bounded, and anything malformed is an error, never
// a guess.
//
//   ResponseReader reader(max_body_bytes);  // a response to a request other than HEAD
//   on bytes:  if (reader.feed(bytes) != ResponseReader::State::Incomplete) ...
//   on EOF:    reader.finish_at_eof();
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/http_client.h"

namespace sluice::http {

class ResponseReader {
 public:
  enum class State { Incomplete, Complete, Error };
  static constexpr size_t kMaxHeadBytes = 64u << 10;  // status line and header fields
  static constexpr size_t kMaxHeaders = 100;

  explicit ResponseReader(size_t max_body_bytes) : max_body_(max_body_bytes) {}

  // Reads the next bytes. Once Complete or Error, further bytes are not read: bytes after a
  // complete response (none are expected: requests are not pipelined) are counted in
  // extra_bytes(), and the connection must not be reused.
  State feed(std::string_view bytes);
  // The peer closed the connection: completes a body that runs to the end of the connection;
  // anything else unfinished is an error.
  State finish_at_eof();

  State state() const { return state_; }
  // Whether any byte of a response arrived (a reused connection that closes before is retried).
  bool started() const { return started_; }
  const std::string& error() const { return error_; }
  bool body_too_large() const { return too_large_; }
  // Whether the connection may carry another request: HTTP/1.1 without `Connection: close`,
  // a framed body and nothing after it.
  bool reusable() const;
  size_t extra_bytes() const { return extra_; }

  long status() const { return status_; }
  const std::string& reason() const { return reason_; }
  HeaderList& headers() { return headers_; }
  std::string& body() { return body_; }

 private:
  enum class Phase { Head, Body, ChunkSize, ChunkData, ChunkDataEnd, Trailers, Done };
  State fail(std::string message);
  State take_body(std::string_view bytes, size_t n);
  // Reads a line (CRLF or LF ended) into line_, bounded by `limit`; false when it is not whole yet.
  bool read_line(std::string_view& bytes, size_t limit, bool& too_long);
  // The same for a line of the head or the trailers, all of which share kMaxHeadBytes.
  bool read_head_line(std::string_view& bytes, bool& too_long);
  State end_of_head();
  bool parse_status_line(std::string_view line);
  bool parse_header_line(std::string_view line);

  size_t max_body_;
  State state_ = State::Incomplete;
  Phase phase_ = Phase::Head;
  bool started_ = false;
  bool too_large_ = false;
  std::string error_;
  std::string line_;
  size_t head_bytes_ = 0;

  long status_ = 0;
  std::string reason_;
  bool http10_ = false;
  bool close_ = false;       // Connection: close (or HTTP/1.0 without keep-alive)
  bool keep_alive_ = false;  // HTTP/1.0 Connection: keep-alive
  bool chunked_ = false;
  bool has_length_ = false;
  bool to_eof_ = false;
  uint64_t remaining_ = 0;  // of the body or the current chunk
  size_t extra_ = 0;
  HeaderList headers_;
  std::string body_;
};

}  // namespace sluice::http
