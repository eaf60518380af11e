#include "request_reader.h"

#include <cstring>
#include <utility>

#include "form.h"
#include "http/ascii.h"

namespace sluice::in_http {

namespace {

constexpr size_t kMaxChunkLine = 4096;  // chunk size and extensions

// Whether the bytes so far can still begin a request line (`METHOD `): a cheap test run on every
// read, so that binary garbage is refused before a line ends.
bool plausible_method(std::string_view pending) {
  size_t i = 0;
  while (i < pending.size() && i < 16 && pending[i] >= 'A' && pending[i] <= 'Z') ++i;
  if (i == pending.size()) return i < 16;
  return i > 0 && i < 16 && pending[i] == ' ';
}

bool contains_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    if (http::iequals(http::trim_ows(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

bool parse_decimal(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 18) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + uint64_t(c - '0');
  }
  return true;
}

}  // namespace

void RequestReader::reset() {
  phase_ = Phase::Head;
  head_ = {};
  head_len_ = scanned_ = pos_ = consumed_ = trailer_start_ = 0;
  request_line_checked_ = false;
  content_length_ = chunk_left_ = 0;
  chunked_body_.clear();
  if (chunked_body_.capacity() > (1u << 20)) std::string().swap(chunked_body_);
  body_ = {};
  status_ = 0;
  reason_.clear();
  continue_due_ = false;
  keep_alive_ = true;
}

RequestReader::State RequestReader::fail(int status, std::string reason) {
  status_ = status;
  reason_ = std::move(reason);
  keep_alive_ = false;
  return State::Error;
}

RequestReader::State RequestReader::feed(std::string_view pending) {
  if (status_ != 0) return State::Error;
  if (phase_ == Phase::Done) return State::Complete;
  if (phase_ == Phase::Head) {
    State s = read_head(pending);
    if (s != State::Complete) return s;
  }
  if (phase_ == Phase::FixedBody) {
    if (pending.size() - head_len_ < content_length_) return State::NeedMore;
    body_ = pending.substr(head_len_, size_t(content_length_));
    consumed_ = head_len_ + size_t(content_length_);
    phase_ = Phase::Done;
    return State::Complete;
  }
  return read_chunked(pending);
}

RequestReader::State RequestReader::read_head(std::string_view pending) {
  if (!plausible_method(pending)) return fail(400, "not an HTTP request");
  // Look for the empty line that ends the head, from where the last read stopped.
  size_t from = scanned_ >= 2 ? scanned_ - 2 : 0;
  size_t limit = std::min(pending.size(), limits_.max_head);
  size_t end = std::string_view::npos;
  for (size_t p = from; p < limit; ++p) {
    const void* nl = std::memchr(pending.data() + p, '\n', limit - p);
    if (!nl) break;
    p = size_t(static_cast<const char*>(nl) - pending.data());
    if (!request_line_checked_) {
      // The request line is complete: check it now rather than after the whole head.
      request_line_checked_ = true;
      http::RequestHead line_only;
      size_t ignored = 0;
      if (http::parse_request_head(pending.substr(0, p + 1), limits_.max_head, line_only, ignored) ==
          http::HeadStatus::Bad)
        return fail(400, "malformed request line");
    }
    if (p + 1 < pending.size() && pending[p + 1] == '\n') { end = p + 2; break; }
    if (p + 2 < pending.size() && pending[p + 1] == '\r' && pending[p + 2] == '\n') { end = p + 3; break; }
  }
  if (end == std::string_view::npos || end > limits_.max_head) {
    scanned_ = limit;
    if (pending.size() >= limits_.max_head)
      return fail(431, "request head larger than " + std::to_string(limits_.max_head) + " bytes");
    return State::NeedMore;
  }
  switch (http::parse_request_head(pending.substr(0, end), limits_.max_head, head_, head_len_)) {
    case http::HeadStatus::Ok: break;
    case http::HeadStatus::TooLarge:
      return fail(431, "more than " + std::to_string(http::kMaxHeaderFields) + " header fields");
    default: return fail(400, "malformed request head");
  }

  const std::string* connection = head_.header("connection");
  keep_alive_ = head_.version == "HTTP/1.1" ? !(connection && contains_token(*connection, "close"))
                                            : connection && contains_token(*connection, "keep-alive");

  bool chunked = false;
  const std::string* length = nullptr;
  for (auto& [name, value] : head_.headers) {
    if (name == "transfer-encoding") {
      if (chunked || !http::iequals(value, "chunked"))
        return fail(400, "unsupported Transfer-Encoding (only chunked is accepted)");
      chunked = true;
    } else if (name == "content-length") {
      uint64_t n = 0;
      if (!parse_decimal(value, n)) return fail(400, "invalid Content-Length");
      if (length && n != content_length_) return fail(400, "conflicting Content-Length fields");
      length = &value;
      content_length_ = n;
    }
  }
  if (chunked && length) return fail(400, "both Content-Length and Transfer-Encoding");
  if (content_length_ > limits_.max_body)
    return fail(413, "body of " + std::to_string(content_length_) +
                         " bytes is larger than body_size_limit (" + std::to_string(limits_.max_body) + ")");
  if (const std::string* expect = head_.header("expect")) {
    if (!http::iequals(*expect, "100-continue")) return fail(417, "unsupported Expect");
    continue_due_ = chunked || content_length_ > pending.size() - head_len_;
  }
  pos_ = head_len_;
  phase_ = chunked ? Phase::ChunkSize : Phase::FixedBody;
  return State::Complete;
}

bool RequestReader::next_line(std::string_view pending, std::string_view& line, size_t& next) {
  size_t nl = pending.find('\n', pos_);
  if (nl == std::string_view::npos) return false;
  line = pending.substr(pos_, nl - pos_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  next = nl + 1;
  return true;
}

RequestReader::State RequestReader::read_chunked(std::string_view pending) {
  for (;;) {
    std::string_view line;
    size_t next = 0;
    switch (phase_) {
      case Phase::ChunkSize: {
        if (!next_line(pending, line, next)) {
          if (pending.size() - pos_ > kMaxChunkLine) return fail(400, "chunk-size line too long");
          return State::NeedMore;
        }
        if (line.size() > kMaxChunkLine) return fail(400, "chunk-size line too long");
        uint64_t size = 0;
        size_t digits = 0;
        for (; digits < line.size() && http::hex_digit(line[digits]) >= 0; ++digits) {
          if (digits == 15) return fail(400, "chunk size too large");
          size = size << 4 | uint64_t(http::hex_digit(line[digits]));
        }
        std::string_view rest = http::trim_ows(line.substr(digits));
        if (digits == 0 || (!rest.empty() && rest.front() != ';')) return fail(400, "malformed chunk size");
        pos_ = next;
        // Tiny chunks could make the raw request far larger than the body limit says.
        if (pos_ - head_len_ - chunked_body_.size() > chunked_body_.size() + kMaxChunkLine * 16)
          return fail(400, "too much chunk framing for the data it carries");
        if (size == 0) {
          trailer_start_ = pos_;
          phase_ = Phase::Trailer;
          break;
        }
        if (chunked_body_.size() + size > limits_.max_body)
          return fail(413,
                      "chunked body larger than body_size_limit (" + std::to_string(limits_.max_body) + ")");
        chunk_left_ = size;
        phase_ = Phase::ChunkData;
        break;
      }
      case Phase::ChunkData: {
        size_t take = size_t(std::min<uint64_t>(chunk_left_, pending.size() - pos_));
        chunked_body_.append(pending.data() + pos_, take);
        pos_ += take;
        chunk_left_ -= take;
        if (chunk_left_ > 0) return State::NeedMore;
        phase_ = Phase::ChunkDataEnd;
        break;
      }
      case Phase::ChunkDataEnd: {
        if (pending.size() - pos_ < 2) {
          if (pending.size() > pos_ && pending[pos_] != '\r' && pending[pos_] != '\n')
            return fail(400, "chunk data longer than its size");
          if (pending.size() > pos_ && pending[pos_] == '\n') {
            pos_ += 1;
            phase_ = Phase::ChunkSize;
            break;
          }
          return State::NeedMore;
        }
        if (pending.substr(pos_, 2) == "\r\n") pos_ += 2;
        else if (pending[pos_] == '\n') pos_ += 1;
        else return fail(400, "chunk data longer than its size");
        phase_ = Phase::ChunkSize;
        break;
      }
      case Phase::Trailer: {
        bool complete = next_line(pending, line, next);
        if ((complete ? next : pending.size()) - trailer_start_ > limits_.max_head)
          return fail(431, "trailer larger than " + std::to_string(limits_.max_head) + " bytes");
        if (!complete) return State::NeedMore;
        pos_ = next;
        if (!line.empty()) break;  // trailer fields are read past, not used
        body_ = chunked_body_;
        consumed_ = pos_;
        phase_ = Phase::Done;
        return State::Complete;
      }
      default: return State::Error;
    }
  }
}

}  // namespace sluice::in_http
