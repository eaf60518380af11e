// A bounded HTTP/1.x request-head parser for untrusted peers, shared by the servers in plugins
// (in_prometheus, in_http). Only the head: what follows it (a body, the next request) is the
// caller's business.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::http {

struct RequestHead {
  std::string method;
  std::string target;   // as sent, with any query string
  std::string path;     // target without the query string
  std::string version;  // "HTTP/1.0" or "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased, values trimmed
  // The first field of that (lowercase) name.
  const std::string* header(std::string_view lower_name) const;
};

enum class HeadStatus { NeedMore, Ok, Bad, TooLarge };

// Most header fields accepted in one head (more: TooLarge).
constexpr size_t kMaxHeaderFields = 100;

// Parses the request head at the start of `buf` (terminated by an empty line, CRLF or LF). Fails
// early (Bad) on bytes that cannot begin an HTTP request; TooLarge when no complete head fits in
// `max_head` bytes. On Ok, `head_len` is the head's length including the empty line.
HeadStatus parse_request_head(std::string_view buf, size_t max_head, RequestHead& out,
                              size_t& head_len);

}  // namespace sluice::http
