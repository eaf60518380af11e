#include "http/response_reader.h"

#include <algorithm>
#include <cstring>

#include "http/ascii.h"

namespace sluice::http {

namespace {

constexpr size_t kMaxChunkLine = 4096;  // a chunk size with its extensions

// Whether the comma-separated list `value` holds `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    if (iequals(trim_ows(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

bool is_token_char(char c) {
  return c > ' ' && c < 0x7f && !std::strchr("()<>@,;:\\\"/[]?={}", c);
}

}  // namespace

ResponseReader::State ResponseReader::fail(std::string message) {
  error_ = std::move(message);
  phase_ = Phase::Done;
  return state_ = State::Error;
}

bool ResponseReader::read_line(std::string_view& bytes, size_t limit, bool& too_long) {
  const size_t nl = bytes.find('\n');
  const size_t take = nl == std::string_view::npos ? bytes.size() : nl + 1;
  too_long = line_.size() + take > limit;
  if (too_long) return false;
  line_.append(bytes.data(), take);
  bytes.remove_prefix(take);
  if (nl == std::string_view::npos) return false;
  line_.pop_back();
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  return true;
}

bool ResponseReader::read_head_line(std::string_view& bytes, bool& too_long) {
  const size_t before = bytes.size();
  // head_bytes_ already counts the part of the line held in line_, which read_line adds again.
  const size_t limit = kMaxHeadBytes - std::min(head_bytes_ - line_.size(), kMaxHeadBytes);
  const bool whole = read_line(bytes, limit, too_long);
  head_bytes_ += before - bytes.size();
  return whole;
}

bool ResponseReader::parse_status_line(std::string_view line) {
  // HTTP/1.x SP 3DIGIT [SP reason]
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || (line[7] != '0' && line[7] != '1') ||
      line[8] != ' ')
    return false;
  long status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return false;
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100 || (line.size() > 12 && line[12] != ' ')) return false;
  status_ = status;
  reason_ = status_line_reason(line);
  http10_ = line[7] == '0';
  return true;
}

bool ResponseReader::parse_header_line(std::string_view line) {
  const size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  const std::string_view name = line.substr(0, colon);
  if (!std::all_of(name.begin(), name.end(), is_token_char)) return false;  // also obs-fold
  const std::string_view value = trim_ows(line.substr(colon + 1));
  headers_.emplace_back(std::string(name), std::string(value));
  return true;
}

ResponseReader::State ResponseReader::end_of_head() {
  if (status_ >= 100 && status_ < 200) {
    if (status_ == 101) return fail("unexpected 101 Switching Protocols");
    // An interim response: the final one follows.
    headers_.clear();
    status_ = 0;
    return State::Incomplete;
  }
  bool length_seen = false;
  for (const auto& [name, value] : headers_) {
    if (iequals(name, "Connection")) {
      if (has_token(value, "close")) close_ = true;
      if (has_token(value, "keep-alive")) keep_alive_ = true;
    } else if (iequals(name, "Transfer-Encoding")) {
      // Only chunked alone: another coding (gzip, chunked) would hand back a body still encoded.
      if (!iequals(trim_ows(value), "chunked")) return fail("unsupported Transfer-Encoding");
      chunked_ = true;
    } else if (iequals(name, "Content-Length")) {
      const std::string_view v = trim_ows(value);
      if (v.empty() || v.size() > 15 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return fail("invalid Content-Length");
      uint64_t n = 0;
      for (char c : v) n = n * 10 + uint64_t(c - '0');
      if (length_seen && n != remaining_) return fail("conflicting Content-Length");
      length_seen = true;
      remaining_ = n;
    }
  }
  if (http10_ && !keep_alive_) close_ = true;
  if (chunked_) {
    close_ = close_ || length_seen;  // both framings: the length is ignored, the connection not reused
    has_length_ = false;
    remaining_ = 0;
    phase_ = Phase::ChunkSize;
    return State::Incomplete;
  }
  if (status_ == 204 || status_ == 304) remaining_ = 0, length_seen = true;
  has_length_ = length_seen;
  to_eof_ = !length_seen;
  if (has_length_ && remaining_ > max_body_) {
    too_large_ = true;
    return fail("response larger than " + std::to_string(max_body_) + " bytes");
  }
  if (has_length_ && remaining_ == 0) {
    phase_ = Phase::Done;
    return state_ = State::Complete;
  }
  phase_ = Phase::Body;
  return State::Incomplete;
}

ResponseReader::State ResponseReader::take_body(std::string_view bytes, size_t n) {
  if (body_.size() + n > max_body_) {
    too_large_ = true;
    return fail("response larger than " + std::to_string(max_body_) + " bytes");
  }
  body_.append(bytes.data(), n);
  return State::Incomplete;
}

ResponseReader::State ResponseReader::feed(std::string_view bytes) {
  if (!bytes.empty()) started_ = true;
  while (!bytes.empty()) {
    bool too_long = false;
    switch (phase_) {
      case Phase::Done:
        extra_ += bytes.size();
        return state_;
      case Phase::Head: {
        const bool whole = read_head_line(bytes, too_long);
        if (too_long) return fail("response head longer than " + std::to_string(kMaxHeadBytes) + " bytes");
        if (!whole) return state_;
        std::string line = std::move(line_);
        line_.clear();
        if (status_ == 0) {
          if (!parse_status_line(line)) return fail("malformed status line");
        } else if (line.empty()) {
          end_of_head();  // Done (complete or an error) counts what follows as extra bytes
        } else if (headers_.size() == kMaxHeaders) {
          return fail("more than " + std::to_string(kMaxHeaders) + " header fields");
        } else if (!parse_header_line(line)) {
          return fail("malformed header field");
        }
        break;
      }
      case Phase::Body: {
        size_t n = bytes.size();
        if (has_length_) n = static_cast<size_t>(std::min<uint64_t>(n, remaining_));
        if (take_body(bytes, n) == State::Error) return state_;
        bytes.remove_prefix(n);
        if (has_length_ && (remaining_ -= n) == 0) {
          phase_ = Phase::Done;
          state_ = State::Complete;
        }
        break;
      }
      case Phase::ChunkSize: {
        if (!read_line(bytes, kMaxChunkLine, too_long)) {
          if (too_long) return fail("chunk size line too long");
          return state_;
        }
        std::string_view size = line_;
        size = trim_ows(size.substr(0, size.find(';')));
        if (size.empty() || size.size() > 15) return fail("malformed chunk size");
        uint64_t n = 0;
        for (char c : size) {
          int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
          if (d < 0) return fail("malformed chunk size");
          n = n * 16 + uint64_t(d);
        }
        line_.clear();
        if (n == 0) {
          phase_ = Phase::Trailers;
        } else if (body_.size() + n > max_body_) {
          too_large_ = true;
          return fail("response larger than " + std::to_string(max_body_) + " bytes");
        } else {
          remaining_ = n;
          phase_ = Phase::ChunkData;
        }
        break;
      }
      case Phase::ChunkData: {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(bytes.size(), remaining_));
        if (take_body(bytes, n) == State::Error) return state_;
        bytes.remove_prefix(n);
        if ((remaining_ -= n) == 0) phase_ = Phase::ChunkDataEnd;
        break;
      }
      case Phase::ChunkDataEnd: {
        if (!read_line(bytes, 2, too_long)) {
          if (too_long) return fail("malformed chunk end");
          return state_;
        }
        if (!line_.empty()) return fail("malformed chunk end");
        phase_ = Phase::ChunkSize;
        break;
      }
      case Phase::Trailers: {
        const bool whole = read_head_line(bytes, too_long);
        if (too_long) return fail("response trailers too long");
        if (!whole) return state_;
        const bool end = line_.empty();
        line_.clear();
        if (end) {
          phase_ = Phase::Done;
          state_ = State::Complete;
        }
        break;
      }
    }
  }
  return state_;
}

ResponseReader::State ResponseReader::finish_at_eof() {
  if (state_ != State::Incomplete) return state_;
  if (phase_ == Phase::Body && to_eof_) {
    phase_ = Phase::Done;
    return state_ = State::Complete;
  }
  return fail(started_ ? "connection closed before the end of the response"
                       : "empty reply from server");
}

bool ResponseReader::reusable() const {
  return state_ == State::Complete && !close_ && !to_eof_ && extra_ == 0;
}

}  // namespace sluice::http
